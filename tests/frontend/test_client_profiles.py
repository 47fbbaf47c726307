"""Client profiles: detecting the WOPI client from its discovery, and the Collabora / ONLYOFFICE conventions over
real HTTP (the save-conflict check with X-COOL-WOPI-Timestamp, LastModifiedTime in responses, save hints,
CheckFileInfo properties), which must leave Microsoft's behaviour untouched."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import jsonschema
import pytest

from tests.frontend import discovery_samples as samples
from tests.frontend.discovery_server import DiscoveryServer
from tests.frontend.servers import WopiHost
from tests.frontend.test_operations import DOCUMENT, SCHEMA_PATH, is_absolute
from tests.frontend.wopi import WopiFile, open_file
from tests.validator.proofs import proofkeys_dir
from wopi_frontend.app import create_app
from wopi_frontend.blank_documents import blank_document
from wopi_frontend.client_profiles import WopiClient, detect_client, profile_for
from wopi_frontend.discovery import parse_discovery
from wopi_frontend.settings import FrontendSettings
from wopi_frontend.storage_client import StorageClient
from wopi_frontend.types import Principal
from wopi_proto.storage_v1 import storage_pb2 as pb

# ---- detection ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "client"),
    [
        (samples.office(), WopiClient.OFFICE),
        ((proofkeys_dir() / "discovery.xml").read_bytes(), WopiClient.OFFICE),
        (samples.collabora(), WopiClient.COLLABORA),
        (samples.onlyoffice(), WopiClient.ONLYOFFICE),  # it has MIME-named apps and Capabilities too
        (
            b'<wopi-discovery><net-zone name="external-https"><app name="writer">'
            b'<action name="edit" ext="odt" urlsrc="https://cool.example/browser/1a2b/cool.html?"/></app>'
            b"</net-zone></wopi-discovery>",
            WopiClient.COLLABORA,
        ),
        (
            b'<wopi-discovery><net-zone name="external-http"><app name="writer">'
            b'<action name="edit" ext="odt" urlsrc="http://lool.example/loleaflet/1a2b/loleaflet.html?"/></app>'
            b"</net-zone></wopi-discovery>",
            WopiClient.COLLABORA,
        ),
    ],
)
def test_the_client_is_detected_from_its_discovery(document: bytes, client: WopiClient) -> None:
    discovery = parse_discovery(document)
    assert detect_client(discovery) is client
    assert profile_for("auto", discovery).client is client


def test_the_setting_wins_and_auto_without_discovery_is_office() -> None:
    collabora = parse_discovery(samples.collabora())
    assert profile_for("office", collabora).client is WopiClient.OFFICE
    assert profile_for("onlyoffice", None).client is WopiClient.ONLYOFFICE
    assert profile_for("auto", None).client is WopiClient.OFFICE
    office = profile_for("office", None)
    assert not office.last_modified_in_responses and not office.collabora_properties


# ---- Collabora over HTTP -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def collabora_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WopiHost]:
    """A front-end in "auto" mode whose discovery looks like Collabora's (without proof keys, to keep these
    tests about the profile)."""
    with DiscoveryServer(samples.collabora()) as server:
        base = Path(tmp_path_factory.mktemp("collabora-host"))
        with WopiHost(base, WOPI_DISCOVERY_URL=server.url) as host:
            yield host


def put(file: WopiFile, content: bytes, lock: str, **client_headers: str) -> httpx.Response:
    headers = {name.replace("_", "-"): value for name, value in client_headers.items()}
    return file.put_file(content, lock=lock, headers=headers)


def test_a_save_with_the_current_timestamp_succeeds_and_returns_the_new_one(
    collabora_host: WopiHost, file_name: str
) -> None:
    file = open_file(collabora_host, file_name, DOCUMENT)
    assert file.lock("cool").status_code == 200
    stamp = file.info()["LastModifiedTime"]
    response = put(file, b"saved by collabora", "cool", X_COOL_WOPI_Timestamp=stamp)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    new_stamp = response.json()["LastModifiedTime"]
    assert new_stamp == file.info()["LastModifiedTime"] != stamp
    assert response.headers["X-WOPI-ItemVersion"] == file.version()
    # The next save is based on the stamp the last one returned.
    assert put(file, b"and again", "cool", X_COOL_WOPI_Timestamp=new_stamp).status_code == 200
    assert file.contents() == b"and again"


def test_a_save_based_on_an_old_timestamp_is_refused_with_1010(collabora_host: WopiHost, file_name: str) -> None:
    file = open_file(collabora_host, file_name, DOCUMENT)
    assert file.lock("cool").status_code == 200
    old_stamp = file.info()["LastModifiedTime"]
    assert put(file, b"someone else's save", "cool").status_code == 200  # no timestamp: a forced save
    before = file.state()
    for header in ("X-COOL-WOPI-Timestamp", "X-LOOL-WOPI-Timestamp"):
        response = file.put_file(b"stale save", lock="cool", headers={header: old_stamp})
        assert response.status_code == 409, header
        assert response.json()["COOLStatusCode"] == 1010
        assert "X-WOPI-Lock" not in response.headers
    assert put(file, b"x", "cool", X_COOL_WOPI_Timestamp="not a time").status_code == 409
    assert file.state() == before
    # Collabora asks the user, who chooses to overwrite: the same save again without the timestamp.
    assert put(file, b"overwritten", "cool").status_code == 200
    assert file.contents() == b"overwritten"


def test_a_lock_mismatch_comes_before_the_timestamp_check(collabora_host: WopiHost, file_name: str) -> None:
    file = open_file(collabora_host, file_name, DOCUMENT)
    assert file.lock("theirs").status_code == 200
    response = put(file, b"x", "mine", X_COOL_WOPI_Timestamp="2001-01-01T00:00:00.0000000Z")
    assert response.status_code == 409
    assert response.headers["X-WOPI-Lock"] == "theirs"
    assert response.content == b""
    current = put(file, b"x", "mine", X_COOL_WOPI_Timestamp=file.info()["LastModifiedTime"])
    assert current.status_code == 409 and current.headers["X-WOPI-Lock"] == "theirs"
    assert file.contents() == DOCUMENT


def test_save_hints_are_logged_without_secrets(collabora_host: WopiHost, file_name: str) -> None:
    file = open_file(collabora_host, file_name, DOCUMENT)
    assert file.lock("hints").status_code == 200
    response = put(
        file,
        b"SECRET-HINT-CONTENT",
        "hints",
        X_COOL_WOPI_IsModifiedByUser="true",
        X_COOL_WOPI_IsAutosave="false",
        X_COOL_WOPI_IsExitSave="true",
    )
    assert response.status_code == 200
    log = collabora_host.log_tail()
    assert f"PutFile {file.file_id}: modified by user true, autosave false, exit save true" in log
    assert "SECRET-HINT-CONTENT" not in log and file.access_token not in log


def test_check_file_info_for_collabora(collabora_host: WopiHost, file_name: str) -> None:
    file = open_file(collabora_host, file_name, DOCUMENT, user="owner-user")
    info = file.info()
    assert info["IsAdminUser"] is False
    assert info["UserExtraInfo"] == {}
    assert info["EnableOwnerTermination"] is True  # the owner, with edit rights
    assert info["SupportsRename"] is True and info["UserCanRename"] is True
    assert "SupportsReviewing" not in info  # ONLYOFFICE's
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8-sig"))
    checker = jsonschema.FormatChecker(formats=())
    checker.checks("uri")(is_absolute)
    assert list(jsonschema.Draft4Validator(schema, format_checker=checker).iter_errors(info)) == []


def test_put_relative_file_returns_last_modified_time(collabora_host: WopiHost, file_name: str) -> None:
    file = open_file(collabora_host, file_name, DOCUMENT)
    response = file.put_relative({"X-WOPI-SuggestedTarget": ".odt"}, b"converted")
    assert response.status_code == 200
    new_file = WopiFile.from_url(collabora_host, response.json()["Url"])
    assert response.json()["LastModifiedTime"] == new_file.info()["LastModifiedTime"]


def test_rename_with_a_body_as_collabora_sends_it(collabora_host: WopiHost, file_name: str) -> None:
    """Collabora's shared upload path sends the document along with RENAME_FILE: it is ignored."""
    file = open_file(collabora_host, file_name, DOCUMENT)
    stem = "renamed-" + file_name.removesuffix(".wopitest")
    response = file.post("RENAME_FILE", {"X-WOPI-RequestedName": stem, "X-WOPI-Lock": ""}, b"the document again")
    assert response.status_code == 200 and response.json() == {"Name": stem}
    assert file.contents() == DOCUMENT


# ---- ONLYOFFICE and Office ---------------------------------------------------------------------------------


def test_onlyoffice_profile(tmp_path: Path, file_name: str) -> None:
    with WopiHost(tmp_path, WOPI_WOPI_CLIENT="onlyoffice") as host:
        file = open_file(host, file_name, DOCUMENT)
        info = file.info()
        assert info["SupportsReviewing"] is True and info["UserCanReview"] is True
        assert info["UserCanOnlyComment"] is False and "IsAdminUser" not in info
        # ONLYOFFICE sends the legacy X-LOOL-* names.
        assert file.lock("onlyoffice-doc-key").status_code == 200
        stale = put(file, b"x", "onlyoffice-doc-key", X_LOOL_WOPI_Timestamp="2001-01-01T00:00:00.0000000Z")
        assert stale.status_code == 409 and stale.json()["LOOLStatusCode"] == 1010
        response = put(file, b"saved", "onlyoffice-doc-key", X_LOOL_WOPI_Timestamp=info["LastModifiedTime"])
        assert response.status_code == 200 and response.json()["LastModifiedTime"] == file.info()["LastModifiedTime"]


@pytest.fixture(scope="module")
def office_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WopiHost]:
    """A front-end in "auto" mode whose discovery looks like Office for the web's (without proof keys)."""
    with DiscoveryServer(samples.office()) as server:
        base = Path(tmp_path_factory.mktemp("office-host"))
        with WopiHost(base, WOPI_DISCOVERY_URL=server.url) as host:
            yield host


def test_the_office_profile_keeps_microsofts_conventions(office_host: WopiHost, file_name: str) -> None:
    """Microsoft's conventions stay exactly as they were: a PutFile without the extensions' headers answers an
    empty 200, and CheckFileInfo has none of the other clients' properties."""
    file = open_file(office_host, file_name, DOCUMENT)
    assert file.lock("office").status_code == 200
    response = put(file, b"saved", "office", X_COOL_WOPI_IsAutosave="true")
    assert response.status_code == 200 and response.content == b""
    info = file.info()
    assert "IsAdminUser" not in info and "SupportsReviewing" not in info and "LastModifiedTime" in info
    relative = file.put_relative({"X-WOPI-SuggestedTarget": ".docx"}, b"copy")
    assert relative.status_code == 200 and "LastModifiedTime" not in relative.json()


def test_a_put_relative_file_with_a_timestamp_gets_last_modified_time(office_host: WopiHost, file_name: str) -> None:
    """Only Collabora / ONLYOFFICE send the timestamp header, and they keep the LastModifiedTime answered."""
    file = open_file(office_host, file_name, DOCUMENT)
    stamp = file.info()["LastModifiedTime"]
    response = file.put_relative({"X-WOPI-SuggestedTarget": ".odt", "X-COOL-WOPI-Timestamp": stamp}, b"saved as")
    assert response.status_code == 200
    new_file = WopiFile.from_url(office_host, response.json()["Url"])
    assert response.json()["LastModifiedTime"] == new_file.info()["LastModifiedTime"]


@pytest.mark.parametrize("header", ["X-COOL-WOPI-Timestamp", "X-LOOL-WOPI-Timestamp"])
def test_a_stale_timestamp_is_refused_whatever_the_client_looks_like(
    office_host: WopiHost, file_name: str, header: str
) -> None:
    """Office never sends the timestamp headers: a save that carries one is checked even when the discovery
    looks like Office's (a Collabora behind an Office-like discovery must not overwrite a newer save), and
    answered with the LastModifiedTime its next save needs."""
    file = open_file(office_host, file_name, DOCUMENT)
    assert file.lock("cool").status_code == 200
    old_stamp = file.info()["LastModifiedTime"]
    assert put(file, b"someone else's save", "cool").status_code == 200
    before = file.state()
    stale = file.put_file(b"stale save", lock="cool", headers={header: old_stamp})
    assert stale.status_code == 409
    assert stale.json()["COOLStatusCode"] == 1010
    assert file.state() == before
    assert (office_host.documents / file_name).read_bytes() == b"someone else's save"
    current = file.put_file(b"based on the newest", lock="cool", headers={header: file.info()["LastModifiedTime"]})
    assert current.status_code == 200
    assert current.json()["LastModifiedTime"] == file.info()["LastModifiedTime"]
    assert file.contents() == b"based on the newest"


# ---- the check is atomic -----------------------------------------------------------------------------------


def test_a_save_slipping_in_after_the_timestamp_check_is_caught(wopi_host: WopiHost, file_name: str) -> None:
    """Another save lands between the timestamp comparison and the write: storage's version precondition
    refuses the write, and the client gets 1010 rather than silently overwriting it."""
    file = open_file(wopi_host, file_name, DOCUMENT)
    assert file.lock("race").status_code == 200
    stamp = file.info()["LastModifiedTime"]
    settings = FrontendSettings.from_environ(wopi_host.environment, wopi_client="collabora")

    class RacingStorage(StorageClient):
        async def stat_file(self, file_id: str, principal: Principal) -> pb.FileInfo:
            info = await super().stat_file(file_id, principal)

            async def other_save():  # type: ignore[no-untyped-def]
                yield b"the other save"

            guard = pb.Preconditions(lock=pb.LockPrecondition(lock_id="race"))
            await self.write_file(file_id, guard, other_save(), principal)
            return info

    async def scenario() -> httpx.Response:
        storage = RacingStorage(settings.storage_target, settings.storage_secret)
        transport = httpx.ASGITransport(app=create_app(settings, storage))
        try:
            async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as client:
                return await client.post(
                    f"/wopi/files/{file.file_id}/contents",
                    params={"access_token": file.access_token},
                    headers={"X-WOPI-Override": "PUT", "X-WOPI-Lock": "race", "X-COOL-WOPI-Timestamp": stamp},
                    content=b"the stale save",
                )
        finally:
            await storage.close()

    response = asyncio.run(scenario())
    assert response.status_code == 409 and response.json()["COOLStatusCode"] == 1010
    assert file.contents() == b"the other save"


# ---- TemplateSource ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("extension", [".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp"])
def test_an_empty_document_gets_a_template_source_collabora_fetches(collabora_host: WopiHost, extension: str) -> None:
    file = open_file(collabora_host, f"empty-for-template{extension}")
    source = file.info()["TemplateSource"]
    assert source == f"{collabora_host.url}/blank/{extension[1:]}"
    fetched = httpx.get(source, timeout=30)  # no token: the blank documents are the same for everybody
    assert fetched.status_code == 200 and fetched.content == blank_document(extension)
    assert fetched.headers["X-Content-Type-Options"] == "nosniff"


def test_no_template_source_once_a_document_has_contents_or_for_a_viewer(collabora_host: WopiHost) -> None:
    filled = open_file(collabora_host, "filled.docx", blank_document(".docx"))
    assert "TemplateSource" not in filled.info()
    viewer = open_file(collabora_host, "viewed-empty.docx", permission="view")
    assert "TemplateSource" not in viewer.info()  # it could not save over the empty file anyway
    other = open_file(collabora_host, "notes-empty.txt")
    assert "TemplateSource" not in other.info()  # no blank document of that type


@pytest.mark.parametrize("path", ["/blank/exe", "/blank/DOCX", "/blank/..%2Fdocx", "/blank/"])
def test_only_the_blank_documents_are_served(collabora_host: WopiHost, path: str) -> None:
    assert httpx.get(f"{collabora_host.url}{path}", timeout=30).status_code == 404


def test_office_fills_an_empty_document_itself(office_host: WopiHost) -> None:
    assert "TemplateSource" not in open_file(office_host, "office-empty.docx").info()  # editnew does it

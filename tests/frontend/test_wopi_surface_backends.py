"""The WOPI operations beyond one file (containers, the ecosystem, FileUrl, AddActivities) over real HTTP on every
backend other than the filesystem (whose own tests are test_containers.py, test_ecosystem.py, test_file_url.py
and test_add_activities.py): the front-end before `wopi-storage` with sql on SQLite, sql on PostgreSQL, and s3 on
SeaweedFS. For each: the happy path, bad input answered with the right 4xx and nothing changed, and a token for
one container or file refused on any other."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.frontend.servers import WopiHost
from tests.frontend.wopi import WopiFile, http, open_file
from tests.replicas.services import backend_settings

USER = "surface-user"


@pytest.fixture(scope="module", params=["sql-sqlite", "sql-postgresql", "s3-seaweedfs"])
def host(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WopiHost]:
    base = Path(tmp_path_factory.mktemp(request.param))
    settings = backend_settings(request.param, request, base / "storage")
    with WopiHost(
        base,
        storage_backend=settings.backend,
        storage_args=tuple(settings.args),
        storage_env=settings.env,
        WOPI_DEV_USER=USER,
    ) as running:
        yield running


def pointer_url(host: WopiHost, file: WopiFile) -> str:
    """The URL (with its traded token) of the file's folder, as EnumerateAncestors gives it."""
    ancestors = http.get(f"{file.wopi_src}/ancestry", params={"access_token": file.access_token})
    assert ancestors.status_code == 200, ancestors.text
    return str(ancestors.json()["AncestorsWithRootFirst"][-1]["Url"])


def at(url: str, suffix: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}{suffix}?{parts.query}"


def post(url: str, override: str, **headers: str) -> Any:
    return http.post(url, headers={"X-WOPI-Override": override, **headers})


def names_in(url: str) -> tuple[list[str], list[str]]:
    body = http.get(at(url, "/children")).json()
    return [c["Name"] for c in body["ChildContainers"]], [f["Name"] for f in body["ChildFiles"]]


def test_containers_from_a_document(host: WopiHost) -> None:
    file = open_file(host, f"start-{id(host)}.docx", b"start", user=USER)
    root = pointer_url(host, file)
    made = post(root, "CREATE_CHILD_CONTAINER", **{"X-WOPI-RelativeTarget": "Projects"})
    assert made.status_code == 200, made.text
    folder = made.json()["ContainerPointer"]["Url"]
    assert http.get(folder).json()["Name"] == "Projects"
    # bad input: an illegal name, invalid UTF-7 (a lone surrogate), a taken name; nothing changes
    assert post(folder, "CREATE_CHILD_FILE", **{"X-WOPI-RelativeTarget": "a/b.docx"}).status_code == 400
    assert post(folder, "CREATE_CHILD_FILE", **{"X-WOPI-RelativeTarget": "ok+2AA-name.docx"}).status_code == 400
    assert names_in(folder) == ([], [])
    created = post(folder, "CREATE_CHILD_FILE", **{"X-WOPI-SuggestedTarget": ".xlsx"})
    assert created.status_code == 200 and created.json()["Name"] == "New document.xlsx"
    assert post(folder, "CREATE_CHILD_FILE", **{"X-WOPI-RelativeTarget": "New document.xlsx"}).status_code == 409
    post(folder, "CREATE_CHILD_FILE", **{"X-WOPI-RelativeTarget": "notes.txt"})
    filtered = http.get(at(folder, "/children"), headers={"X-WOPI-FileExtensionFilterList": ".xlsx"}).json()
    assert [child["Name"] for child in filtered["ChildFiles"]] == ["New document.xlsx"]
    new_file = http.get(created.json()["Url"])
    assert new_file.status_code == 200 and new_file.json()["Size"] == 0
    # a folder with children is not deleted; renamed, it keeps them
    assert post(folder, "DELETE_CONTAINER").status_code == 409
    renamed = post(folder, "RENAME_CONTAINER", **{"X-WOPI-RequestedName": "Archive"})
    assert renamed.status_code == 200 and renamed.json() == {"Name": "Archive"}
    assert names_in(folder) == ([], ["New document.xlsx", "notes.txt"])
    ancestors = http.get(at(folder, "/ancestry")).json()["AncestorsWithRootFirst"]
    assert len(ancestors) == 1 and ancestors[0]["Url"].split("?")[0] == root.split("?")[0]


def test_a_token_for_one_container_or_file_is_refused_on_any_other(host: WopiHost) -> None:
    file = open_file(host, f"scoped-{id(host)}.docx", user=USER)
    root = pointer_url(host, file)
    one = post(root, "CREATE_CHILD_CONTAINER", **{"X-WOPI-SuggestedTarget": "One"}).json()["ContainerPointer"]["Url"]
    two = post(root, "CREATE_CHILD_CONTAINER", **{"X-WOPI-SuggestedTarget": "Two"}).json()["ContainerPointer"]["Url"]
    token_of_one = one.split("access_token=")[1]
    two_with_ones_token = two.split("?")[0] + f"?access_token={token_of_one}"
    assert http.get(two_with_ones_token).status_code == 401
    assert post(two_with_ones_token, "DELETE_CONTAINER").status_code == 401
    assert http.get(file.wopi_src, params={"access_token": token_of_one}).status_code == 401
    assert http.get(one.split("?")[0], params={"access_token": file.access_token}).status_code == 401
    assert http.get(two).status_code == 200  # still there


def test_the_ecosystem_leads_to_the_root(host: WopiHost) -> None:
    file = open_file(host, f"eco-{id(host)}.docx", user=USER)
    pointer = http.get(f"{file.wopi_src}/ecosystem_pointer", params={"access_token": file.access_token})
    assert pointer.status_code == 200
    root = http.get(at(pointer.json()["Url"], "/root_container_pointer"))
    assert root.status_code == 200
    assert root.json()["ContainerPointer"]["Url"].split("?")[0] == pointer_url(host, file).split("?")[0]


def test_file_url_serves_the_saved_contents(host: WopiHost) -> None:
    file = open_file(host, f"fileurl-{id(host)}.docx", b"before", user=USER)
    url = file.info()["FileUrl"]
    assert file.lock("L").status_code == 200 and file.put_file(b"after the save", lock="L").status_code == 200
    assert http.get(url).content == b"after the save"
    other = open_file(host, f"fileurl-other-{id(host)}.docx", b"other", user=USER)
    assert http.get(url.replace(file.file_id, other.file_id)).status_code == 401
    assert http.post(url, content=b"x").status_code == 405
    assert file.contents() == b"after the save"


def test_activities_are_recorded_and_shown(host: WopiHost) -> None:
    file = open_file(host, f"activity-{id(host)}.docx", user=USER)
    assert file.info()["SupportsAddActivities"] is True
    data = {"ContentId": "c", "ContentAction": "created", "CommentText": "hi"}
    body = {"Activities": [{"Type": "comment", "Id": "a-1", "Data": data}]}
    answer = file.post("ADD_ACTIVITIES", {"Content-Type": "application/json"}, json.dumps(body).encode())
    assert answer.status_code == 200 and answer.json()["ActivityResponses"] == [{"Id": "a-1", "Status": 0}]
    assert file.post("ADD_ACTIVITIES", {}, b"{not json").status_code == 400
    page = http.get(f"{host.url}/browse/files/{file.file_id}/activity")
    assert page.status_code == 200 and page.text.count('class="activity"') == 1 and "hi" in page.text

"""CheckFileInfo's FileUrl over real HTTP (wopi_frontend/routes/file_url.py): the file's current contents without
the access token, for one file, read only, for a few minutes; and never taken for an access token."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.frontend.servers import WopiHost
from tests.frontend.wopi import WopiFile, http, open_file, settings_of
from wopi_frontend.file_url_signing import FILE_URL_TTL_SECONDS, REUSE_SECONDS, FileUrlSigner
from wopi_frontend.tokens import AccessToken
from wopi_frontend.types import PERMISSION_SETS, FileId, Principal

USER = "file-url-user"


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WopiHost]:
    with WopiHost(Path(tmp_path_factory.mktemp("file-url")), WOPI_DEV_USER=USER) as running:
        yield running


def signature_in(url: str) -> str:
    return parse_qs(urlsplit(url).query)["t"][0]


def test_the_file_url_serves_the_current_contents_without_the_token(host: WopiHost) -> None:
    file = open_file(host, "fetched.docx", b"first", user=USER)
    url = file.info()["FileUrl"]
    assert url.startswith(f"{host.url}/wopi-file/") and file.access_token not in url
    assert file.lock("L").status_code == 200 and file.put_file(b"second, saved", lock="L").status_code == 200
    answer = http.get(url)  # made before the save: it serves what GetFile serves now
    assert answer.status_code == 200 and answer.content == b"second, saved"
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["X-WOPI-ItemVersion"] == file.info()["Version"]
    assert file.access_token not in str(answer.headers)


def test_a_file_url_is_for_its_one_file_and_for_reading_only(host: WopiHost) -> None:
    mine, other = open_file(host, "mine.txt", b"mine", user=USER), open_file(host, "other.txt", b"other", user=USER)
    url = mine.info()["FileUrl"]
    other_id = other.wopi_src.rsplit("/", 1)[1]
    swapped = url.replace(mine.wopi_src.rsplit("/", 1)[1], other_id)
    assert http.get(swapped).status_code == 401
    assert http.post(url, content=b"overwritten").status_code == 405
    assert http.put(url, content=b"overwritten").status_code == 405
    assert mine.get_file().content == b"mine"


def test_a_file_url_and_an_access_token_are_never_taken_for_each_other(host: WopiHost) -> None:
    file = open_file(host, "two-keys.txt", b"x", user=USER)
    signature = signature_in(file.info()["FileUrl"])
    assert http.get(file.wopi_src, params={"access_token": signature}).status_code == 401
    assert http.get(f"{file.wopi_src}/contents", params={"access_token": signature}).status_code == 401
    file_id = file.wopi_src.rsplit("/", 1)[1]
    assert http.get(f"{host.url}/wopi-file/{file_id}", params={"t": file.access_token}).status_code == 401


def signer_of(host: WopiHost) -> FileUrlSigner:
    return FileUrlSigner(settings_of(host).token_key)


def test_an_expired_file_url_is_refused(host: WopiHost) -> None:
    file = open_file(host, "expires.txt", b"x", user=USER)
    file_id = FileId(file.wopi_src.rsplit("/", 1)[1])
    past = int(time.time() * 1000) - FILE_URL_TTL_SECONDS * 1000 - 1000
    text, _ = signer_of(host)._issuer.issue(Principal(USER, USER), file_id, PERMISSION_SETS["view"], now_ms=past)
    assert http.get(f"{host.url}/wopi-file/{file_id}", params={"t": text}).status_code == 401


def test_a_file_url_reads_as_its_user(host: WopiHost) -> None:
    """Storage decides on every download: a FileUrl signed for someone who may not read the file finds nothing."""
    theirs = open_file(host, "not-yours.txt", b"secret", user="owner-somebody")
    file_id = FileId(theirs.wopi_src.rsplit("/", 1)[1])
    stranger = AccessToken(Principal("stranger", "stranger"), file_id, PERMISSION_SETS["view"], 2**62)
    answer = http.get(f"{host.url}/wopi-file/{file_id}", params={"t": signer_of(host).signature(stranger)})
    assert answer.status_code == 404 and b"secret" not in answer.content


@pytest.mark.parametrize("query", ["", "t=", "t=1abc", "t=a&t=b"])
def test_a_missing_or_malformed_signature_is_refused(host: WopiHost, query: str) -> None:
    file = open_file(host, f"bad-signature-{len(query)}-{query[-1:]}.txt", b"x", user=USER)
    file_id = file.wopi_src.rsplit("/", 1)[1]
    assert http.get(f"{host.url}/wopi-file/{file_id}?{query}").status_code == 401


def test_a_file_url_never_outlives_its_access_token_and_is_reused_for_a_while(host: WopiHost) -> None:
    now = [1000.0 * REUSE_SECONDS]
    signer = FileUrlSigner(settings_of(host).token_key, clock=lambda: now[0])
    soon = int(time.time() * 1000) + 30_000
    token = AccessToken(Principal(USER, USER), FileId("a" * 24), PERMISSION_SETS["edit"], soon)
    first = signer.signature(token)
    signed = signer.verify(first)
    assert signed.expires_ms == soon and signed.permissions == PERMISSION_SETS["view"]
    now[0] += REUSE_SECONDS - 1
    assert signer.signature(token) == first  # reused within REUSE_SECONDS
    later = AccessToken(Principal(USER, USER), FileId("a" * 24), PERMISSION_SETS["edit"], 2**62)
    remaining = signer.verify(signer.signature(later)).expires_ms - time.time() * 1000
    assert (FILE_URL_TTL_SECONDS - REUSE_SECONDS - 5) * 1000 < remaining <= FILE_URL_TTL_SECONDS * 1000


def test_check_file_info_names_a_fresh_file_url_per_file(host: WopiHost) -> None:
    one, two = open_file(host, "one.txt", b"1", user=USER), open_file(host, "two.txt", b"2", user=USER)
    assert isinstance(one, WopiFile)
    assert http.get(one.info()["FileUrl"]).content == b"1"
    assert http.get(two.info()["FileUrl"]).content == b"2"

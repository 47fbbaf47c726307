"""Fuzz-worthy input gets a clear 4xx and changes nothing: after each case the file's bytes, Version and lock are
what they were."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.frontend.servers import WopiHost
from tests.frontend.wopi import WopiFile, http, open_file, raw_http, status_lines, token_for
from wopi_frontend.tokens import TokenIssuer
from wopi_frontend.types import PERMISSION_SETS, FileId, Principal

CONTENT = b"the original contents"
LOCK = "the-lock"


@pytest.fixture
def locked(wopi_host: WopiHost, file_name: str) -> Iterator[WopiFile]:
    """A non-empty file locked with LOCK, checked unchanged after the test."""
    file = open_file(wopi_host, file_name, CONTENT)
    assert file.lock(LOCK).status_code == 200
    before = file.state()
    yield file
    assert file.state() == before
    assert (wopi_host.documents / file_name).read_bytes() == CONTENT


def every_operation(file: WopiFile) -> Iterator[tuple[str, int]]:
    """Each WOPI operation once, with a sound request but whatever token and WOPISrc `file` has: (name, status)."""
    yield "CheckFileInfo", file.check_file_info().status_code
    yield "GetFile", file.get_file().status_code
    yield "EnumerateAncestors", file.get("/ancestry").status_code
    yield "PutFile", file.put_file(b"replaced", lock=LOCK).status_code
    yield "Lock", file.lock("intruder").status_code
    yield "UnlockAndRelock", file.unlock_and_relock("intruder", LOCK).status_code
    yield "RefreshLock", file.refresh_lock(LOCK).status_code
    yield "Unlock", file.unlock(LOCK).status_code
    yield "GetLock", file.get_lock().status_code
    yield "RenameFile", file.rename("renamed", lock=LOCK).status_code
    yield "DeleteFile", file.delete().status_code
    yield "PutRelativeFile", file.put_relative({"X-WOPI-SuggestedTarget": ".wopitestx"}, b"x").status_code
    yield "GetShareUrl", file.get_share_url("ReadOnly").status_code
    yield "PutUserInfo", file.put_user_info("x").status_code


# ---------------------------------------------------------------------------------------------------------
# File ids


@pytest.mark.parametrize(
    "file_id",
    ["..%2Fetc", "..%2F..%2Fetc%2Fpasswd", "%2E%2E", "a.b", "x" * 300, "caf%C3%A9", "a%00b", "a%20b", "a%5Cb"],
)
def test_malformed_file_id(wopi_host: WopiHost, locked: WopiFile, file_id: str) -> None:
    """A malformed file id (path-like, too long, non-ASCII, with a dot) is 404 for every operation."""
    other = WopiFile(wopi_host, f"{wopi_host.url}/wopi/files/{file_id}", locked.access_token)
    assert {name: status for name, status in every_operation(other) if status != 404} == {}


@pytest.mark.parametrize("suffix", ["/../" + "x", "/x/contents/more", "/contents/..%2F..%2F"])
def test_path_like_urls(wopi_host: WopiHost, locked: WopiFile, suffix: str) -> None:
    """Paths that try to climb out of /wopi/files/{id} or add segments are refused (401/404/405), never run."""
    for method in ("GET", "POST"):
        response = http.request(
            method, locked.wopi_src + suffix, params=locked.params(), headers={"X-WOPI-Override": "DELETE"}
        )
        assert response.status_code in (401, 404, 405), (method, response)


@pytest.mark.parametrize(
    "path",
    [
        "/wopi/files/%2e%2e%2f",
        "/wopi/files/%2E%2E",
        "/wopi/files/..",
        "/wopi/files/../",
        "/wopi/files/",
        "/wopi/files",
        "/wopi/",
        "/wopi/files/a/b",
        "/wopi/files//contents",
        "/wopi/files/" + "x" * 300,
        "/wopi/files/{id}/",
        "/wopi/files/{id}/contents/",
        "/wopi/files/{id}/ancestry/",
        "/wopi/files/{id}%2Fcontents",
        "/wopi/files/{id}%2fancestry",
        "/wopi/files/{id}%2F",
        "/wopi/files/%2F{id}",
        "/wopi/files/{id}//contents",
        "/wopi/files/%41{id}",
        "/host/{id}/",
        "/browse/download/{id}/",
        "/healthz/",
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_malformed_paths_never_redirect(wopi_host: WopiHost, locked: WopiFile, path: str, method: str) -> None:
    """Malformed ids and paths (dot segments, trailing or doubled or percent-encoded slashes, too long) are a 4xx,
    never a redirect: a redirect would copy the access token of the query into its Location header. Sent raw, as
    httpx would normalise some of these paths."""
    target = path.format(id=locked.file_id) + f"?access_token={locked.access_token}&action=edit"
    body = b"replaced"
    request = (
        f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{wopi_host.port}\r\nConnection: close\r\n"
        f"X-WOPI-Override: PUT\r\nX-WOPI-Lock: {LOCK}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    answer = raw_http(wopi_host, request)
    head = answer.partition(b"\r\n\r\n")[0]
    assert 400 <= status_lines(answer)[0] < 500, head
    header_lines = head.split(b"\r\n")[1:]
    assert not [line for line in header_lines if line.lower().startswith(b"location:")]
    assert not [line for line in header_lines if locked.access_token.encode() in line]


def test_unknown_file_id(wopi_host: WopiHost, locked: WopiFile) -> None:
    """A well-formed id of no file: 404 with a token for that id, 401 with a token for another file."""
    unknown = WopiFile(wopi_host, f"{wopi_host.url}/wopi/files/{'0' * 24}", locked.access_token)
    assert {name: status for name, status in every_operation(unknown) if status != 401} == {}
    unknown = unknown.with_token(token_for(wopi_host, unknown))
    assert {name: status for name, status in every_operation(unknown) if status != 404} == {}


# ---------------------------------------------------------------------------------------------------------
# Headers


def test_missing_override(locked: WopiFile) -> None:
    """A POST without X-WOPI-Override is 400, on the file and on its contents."""
    assert locked.post(None, {"X-WOPI-Lock": LOCK}).status_code == 400
    assert locked.post(None, {"X-WOPI-Lock": LOCK}, b"replaced", suffix="/contents").status_code == 400


@pytest.mark.parametrize("values", [("DELETE", "DELETE"), ("GET_LOCK", "DELETE"), ("UNLOCK", "LOCK")])
def test_duplicated_override(locked: WopiFile, values: tuple[str, str]) -> None:
    """X-WOPI-Override sent twice is ambiguous: 400."""
    headers = [("X-WOPI-Override", value) for value in values] + [("X-WOPI-Lock", LOCK)]
    assert locked.post(None, headers).status_code == 400
    assert locked.post(None, [("X-WOPI-Override", "PUT"), *headers[1:]], b"x", suffix="/contents").status_code == 400


def test_duplicated_lock_header(locked: WopiFile) -> None:
    """X-WOPI-Lock sent twice is ambiguous: 400, even when one of them is right."""
    headers = [("X-WOPI-Lock", LOCK), ("X-WOPI-Lock", "other")]
    assert locked.post("UNLOCK", headers).status_code == 400
    assert locked.post("PUT", headers, b"replaced", suffix="/contents").status_code == 400


@pytest.mark.parametrize(
    "lock_id",
    [b"L" * 1025, b"L" * 5000, "caf\u00e9".encode(), b"\xff\xfe", "\u00e9".encode("latin-1")],
    ids=["1025", "5000", "utf8", "bytes", "latin1"],
)
def test_bad_lock_ids(locked: WopiFile, lock_id: bytes) -> None:
    """Lock ids over 1024 characters or not ASCII: 400 for every lock operation and PutFile."""
    for override in ("LOCK", "REFRESH_LOCK", "UNLOCK"):
        assert locked.post(override, [("X-WOPI-Lock", lock_id)]).status_code == 400, override
    assert locked.post("LOCK", [("X-WOPI-Lock", lock_id), ("X-WOPI-OldLock", LOCK)]).status_code == 400
    assert locked.post("LOCK", [("X-WOPI-Lock", "new"), ("X-WOPI-OldLock", lock_id)]).status_code == 400
    assert locked.post("PUT", [("X-WOPI-Lock", lock_id)], b"replaced", suffix="/contents").status_code == 400
    assert locked.post("RENAME_FILE", [("X-WOPI-Lock", lock_id), ("X-WOPI-RequestedName", "x")]).status_code == 400


@pytest.mark.parametrize("value", ["-1", "abc", "1.5", "0x10", "1e3", "99999999999999999999999", b"\xb2", b"\xd9\xa1"])
def test_bad_max_expected_size(locked: WopiFile, value: str | bytes) -> None:
    """X-WOPI-MaxExpectedSize that is negative or not a plain decimal number: 400."""
    assert locked.get_file([("X-WOPI-MaxExpectedSize", value)]).status_code == 400


@pytest.mark.parametrize("value", ["-1", "abc", "1.5", "99999999999999999999999", b"\xb2"])
def test_bad_declared_size(wopi_host: WopiHost, locked: WopiFile, file_name: str, value: str | bytes) -> None:
    """PutRelativeFile with an X-WOPI-Size that is negative or not a number: 400, and no file is made."""
    target = "sized-" + file_name
    response = locked.put_relative([("X-WOPI-RelativeTarget", target), ("X-WOPI-Size", value)], b"x")
    assert response.status_code == 400
    assert not (wopi_host.documents / target).exists()


# ---------------------------------------------------------------------------------------------------------
# Names


@pytest.mark.parametrize("name", ["+2AA-", "ok+2AA-name", "+AAA-", "+3AA-"])
def test_rename_invalid_utf7(locked: WopiFile, name: str) -> None:
    """RenameFile with UTF-7 decoding to a lone surrogate or control character: 400 + X-WOPI-InvalidFileNameError."""
    response = locked.rename(name, lock=LOCK)
    assert response.status_code == 400
    assert response.headers.get("X-WOPI-InvalidFileNameError")


@pytest.mark.parametrize("name", ["+2AA-.wopitest", "x+AAA-.wopitest"])
def test_put_relative_invalid_utf7(wopi_host: WopiHost, locked: WopiFile, name: str) -> None:
    """PutRelativeFile with a RelativeTarget in invalid UTF-7: 400, and no file is made."""
    before = sorted(path.name for path in wopi_host.documents.iterdir())
    assert locked.put_relative({"X-WOPI-RelativeTarget": name}, b"x").status_code == 400
    assert sorted(path.name for path in wopi_host.documents.iterdir()) == before


def test_put_relative_invalid_utf7_suggested(wopi_host: WopiHost, locked: WopiFile) -> None:
    """Suggested mode never fails: invalid UTF-7 still gives 200 with a name that is valid UTF-8."""
    response = locked.put_relative({"X-WOPI-SuggestedTarget": "+2AA-.wopitestx"}, b"x")
    assert response.status_code == 200
    name = response.json()["Name"]
    assert name.endswith(".wopitestx")
    assert (wopi_host.documents / name).read_bytes() == b"x"


@pytest.mark.parametrize(
    "name", ["../escape.wopitest", "sub/dir.wopitest", "..\\escape.wopitest", "+AC8-etc+AC8-escape.wopitest", "/abs"]
)
def test_relative_target_with_path_separators(wopi_host: WopiHost, locked: WopiFile, name: str) -> None:
    """A RelativeTarget with a path separator: 400, and nothing is written anywhere."""
    before = sorted(path.name for path in wopi_host.base.rglob("*") if "escape" in path.name)
    assert locked.put_relative({"X-WOPI-RelativeTarget": name}, b"x").status_code == 400
    assert sorted(path.name for path in wopi_host.base.rglob("*") if "escape" in path.name) == before


@pytest.mark.parametrize("name", ["../escape", "a/b", "..\\escape", "+AC8-escape", ".."])
def test_requested_name_with_path_separators(locked: WopiFile, name: str) -> None:
    """A RequestedName with a path separator: 400 with X-WOPI-InvalidFileNameError."""
    response = locked.rename(name, lock=LOCK)
    assert response.status_code == 400
    assert response.headers.get("X-WOPI-InvalidFileNameError")


def test_suggested_target_with_path_separators(wopi_host: WopiHost, locked: WopiFile) -> None:
    """A SuggestedTarget with path separators still gets 200 (suggested mode never fails), inside the folder."""
    response = locked.put_relative({"X-WOPI-SuggestedTarget": "../../escape-suggested.wopitestx"}, b"x")
    assert response.status_code == 200
    name = response.json()["Name"]
    assert "/" not in name and "\\" not in name and name.endswith(".wopitestx")
    assert (wopi_host.documents / name).read_bytes() == b"x"
    assert not (wopi_host.base.parent / "escape-suggested.wopitestx").exists()


def test_names_clients_send_unencoded(wopi_host: WopiHost, file_name: str) -> None:
    """Names that are not valid UTF-7 (`C++`) or arrive as raw UTF-8 are taken as they are, not refused."""
    source = open_file(wopi_host, file_name)
    response = source.put_relative({"X-WOPI-RelativeTarget": "C++ notes.wopitest"}, b"x")
    assert response.status_code == 200 and response.json()["Name"] == "C++ notes.wopitest"
    response = source.put_relative([("X-WOPI-RelativeTarget", "Résumé.wopitest".encode())], b"y")
    assert response.status_code == 200 and response.json()["Name"] == "Résumé.wopitest"
    assert (wopi_host.documents / "Résumé.wopitest").read_bytes() == b"y"
    renamed = source.rename("C++ rename")
    assert renamed.status_code == 200 and renamed.json()["Name"] == "C++ rename"


# ---------------------------------------------------------------------------------------------------------
# Bodies


def raw_put(file: WopiFile, declared: int, body: bytes) -> bytes:
    path = f"/wopi/files/{file.file_id}/contents?access_token={file.access_token}"
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{file.host.port}\r\n"
    head += f"X-WOPI-Override: PUT\r\nX-WOPI-Lock: {LOCK}\r\n"
    return raw_http(file.host, f"{head}Content-Length: {declared}\r\n\r\n".encode() + body, half_close=True)


def test_body_shorter_than_declared(locked: WopiFile) -> None:
    """A PutFile body that ends before its Content-Length is never stored (no 200)."""
    answer = raw_put(locked, 1000, b"x" * 10)
    assert 200 not in status_lines(answer)
    time.sleep(0.2)  # the front-end has seen the disconnect; `locked` then checks nothing changed


def test_body_longer_than_declared(locked: WopiFile) -> None:
    """A PutFile body longer than its Content-Length (trailing bytes that are no request): 400, nothing stored."""
    # Trailing bytes that do form a request are HTTP pipelining: no server can tell them apart.
    answer = raw_put(locked, 5, b"0123456789")
    assert status_lines(answer) == [400]
    time.sleep(0.2)


def test_user_info_too_large_or_not_utf8(wopi_host: WopiHost, file_name: str) -> None:
    """PutUserInfo over the limit is 413 and a body that is not UTF-8 is 400; neither is stored."""
    file = open_file(wopi_host, file_name, user="userinfo-fuzz")
    assert file.put_user_info("kept").status_code == 200
    assert file.post("PUT_USER_INFO", content=b"x" * 5000).status_code == 413
    assert file.post("PUT_USER_INFO", content=b"\xff\xfe bad").status_code == 400
    assert file.info()["UserInfo"] == "kept"


# ---------------------------------------------------------------------------------------------------------
# Access tokens


def test_token_for_another_file(wopi_host: WopiHost, locked: WopiFile, file_name: str) -> None:
    """An access token for another file is 401 for every operation on this one (never access)."""
    other = open_file(wopi_host, "other-" + file_name)
    intruder = locked.with_token(other.access_token)
    assert {name: status for name, status in every_operation(intruder) if status != 401} == {}


@pytest.mark.parametrize("token", ["INVALID", "1", "1" + "A" * 3000, "1abc!", "0" + "A" * 100, "%00"])
def test_invalid_token(locked: WopiFile, token: str) -> None:
    """An invalid access token, in the query and the Bearer header as the validator sends it, is 401."""
    for name, status in every_operation(locked.with_token(token)):
        assert status == 401, name
    response = http.get(locked.wopi_src, params={"access_token": token}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_missing_or_empty_token(locked: WopiFile) -> None:
    """No access token, or an empty one, is 401."""
    assert http.get(locked.wopi_src).status_code == 401
    assert http.get(locked.wopi_src + "?access_token=").status_code == 401
    assert http.post(locked.wopi_src, headers={"X-WOPI-Override": "DELETE"}).status_code == 401
    assert http.get(locked.wopi_src, headers={"Authorization": "Bearer"}).status_code == 401
    assert http.get(locked.wopi_src, headers={"Authorization": f"Basic {locked.access_token}"}).status_code == 401


def test_expired_token(wopi_host: WopiHost, locked: WopiFile) -> None:
    """An expired access token is 401."""
    long_ago = int(time.time() * 1000) - 11 * 3600 * 1000
    expired = token_for(wopi_host, locked, now_ms=long_ago)
    assert {name: status for name, status in every_operation(locked.with_token(expired)) if status != 401} == {}
    just_expired = token_for(wopi_host, locked, not_after_ms=int(time.time() * 1000) - 1)
    assert locked.with_token(just_expired).check_file_info().status_code == 401


def test_token_signed_with_another_key(locked: WopiFile) -> None:
    """A token signed with another key (another host's) is 401, even for the right file id and user."""
    foreign, _ = TokenIssuer("another host's key, 32 chars or more", 3600).issue(
        Principal("test-user", "test-user"), FileId(locked.file_id), PERMISSION_SETS["edit"]
    )
    assert {name: status for name, status in every_operation(locked.with_token(foreign)) if status != 401} == {}


def test_token_in_bearer_header_only(wopi_host: WopiHost, file_name: str) -> None:
    """A token only in `Authorization: Bearer` (no access_token parameter) works."""
    file = open_file(wopi_host, file_name, CONTENT)
    bearer = {"Authorization": f"Bearer {file.access_token}"}
    assert http.get(file.wopi_src, headers=bearer).json()["Size"] == len(CONTENT)
    assert http.get(file.wopi_src + "/contents", headers=bearer).content == CONTENT
    assert (
        http.post(file.wopi_src, headers={**bearer, "X-WOPI-Override": "LOCK", "X-WOPI-Lock": "b"}).status_code == 200
    )
    assert file.current_lock() == "b"


def test_query_token_wins_over_bearer(locked: WopiFile) -> None:
    """The access_token parameter is the token; a different Bearer header does not override it."""
    assert locked.get("", headers={"Authorization": "Bearer INVALID"}).status_code == 200


@pytest.mark.parametrize("position", [0.25, 0.5, 0.75, 1.0])
def test_tampered_token(locked: WopiFile, position: float) -> None:
    """A token with one character changed is 401."""
    token = locked.access_token
    index = min(len(token) - 1, int(len(token) * position))
    changed = "B" if token[index] != "B" else "C"
    tampered = token[:index] + changed + token[index + 1 :]
    assert {name: status for name, status in every_operation(locked.with_token(tampered)) if status != 401} == {}


def test_view_token_cannot_change_anything(wopi_host: WopiHost, locked: WopiFile) -> None:
    """A view token reads; PutFile, lock changes, Rename, Delete get 401; PutRelativeFile 501 (CanNotWriteRelative)."""
    viewer = locked.with_token(token_for(wopi_host, locked, permission="view"))
    statuses = dict(every_operation(viewer))
    assert statuses == {
        "CheckFileInfo": 200,
        "GetFile": 200,
        "EnumerateAncestors": 200,
        "PutFile": 401,
        "Lock": 401,
        "UnlockAndRelock": 401,
        "RefreshLock": 401,
        "Unlock": 401,
        "GetLock": 200,
        "RenameFile": 401,
        "DeleteFile": 401,
        "PutRelativeFile": 501,
        "GetShareUrl": 200,
        "PutUserInfo": 200,
    }
    assert viewer.get_share_url("ReadWrite").status_code == 401


def test_token_twice(locked: WopiFile) -> None:
    """access_token appearing twice in the query is ambiguous: 401, even if both are the same valid token."""
    for second in (locked.access_token, "INVALID"):
        query = f"?access_token={locked.access_token}&access_token={second}"
        assert http.get(locked.wopi_src + query).status_code == 401
        assert http.post(locked.wopi_src + query, headers={"X-WOPI-Override": "DELETE"}).status_code == 401

"""Every WOPI operation over real HTTP, as the WOPI digest (sections 2-6 and 12) says a client relies on it."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import grpc
import httpx
import jsonschema
import pytest

from tests.frontend.counting_proxy import CountingProxy
from tests.frontend.servers import WopiHost
from tests.frontend.wopi import WopiFile, http, open_file, sha256_b64, token_for
from wopi_proto.storage_v1 import storage_pb2 as pb
from wopi_proto.storage_v1 import storage_pb2_grpc as pb_grpc

SHARED_DIR = Path(os.environ.get("WOPI_SHARED_DIR", Path(__file__).resolve().parents[2].parent / "shared"))
SCHEMA_PATH = SHARED_DIR / "wopi" / "validator" / "JsonSchemas" / "CsppCheckFileInfoSchema.json"
DOCUMENT = b"WordSimpleDocumentResources\\WordSimpleDocument.docxWordSimpleDocument.docx"  # what the validator sends
LAST_MODIFIED = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z")


def share(host: WopiHost, file: WopiFile, owner: str, grantee: str, role: pb.Role.ValueType = pb.ROLE_EDITOR) -> None:
    """The file's owner gives `grantee` a role on it, with storage's GrantAccess: storage enforces access control,
    so another user reaches someone's file only through a grant."""
    metadata = (("authorization", f"Bearer {host.storage.secret}"), ("x-wopi-principal-id", owner))
    request = pb.GrantAccessRequest(file_id=file.file_id, grantee=pb.Grantee(user_id=grantee), role=role)
    with grpc.insecure_channel(host.storage.target) as channel:
        pb_grpc.StorageServiceStub(channel).GrantAccess(request, metadata=metadata, timeout=30)


def is_absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def nulls(value: Any, path: str = "$") -> list[str]:
    if value is None:
        return [path]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in nulls(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in nulls(item, f"{path}[{index}]")]
    return []


def assert_lock_conflict(response: httpx.Response, current_lock: str) -> None:
    assert response.status_code == 409, response
    assert response.headers.get("X-WOPI-Lock") == current_lock
    assert response.headers.get("X-WOPI-LockFailureReason")


def assert_ok_without_lock(response: httpx.Response) -> None:
    assert response.status_code == 200, response
    assert "X-WOPI-Lock" not in response.headers


# ---------------------------------------------------------------------------------------------------------
# CheckFileInfo


def test_check_file_info_required_properties(wopi_host: WopiHost, file_name: str) -> None:
    """CheckFileInfo has BaseFileName, OwnerId, Size (number), UserId and Version (a non-empty string)."""
    file = open_file(wopi_host, file_name, DOCUMENT, user="cfi-user")
    response = file.check_file_info()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    info = response.json()
    assert info["BaseFileName"] == file_name
    assert isinstance(info["OwnerId"], str) and info["OwnerId"]
    assert isinstance(info["Size"], int) and not isinstance(info["Size"], bool) and info["Size"] == len(DOCUMENT)
    assert info["UserId"] == "cfi-user"
    assert isinstance(info["Version"], str) and info["Version"]
    assert info["FileExtension"] == ".wopitest"


def test_check_file_info_has_no_nulls(wopi_host: WopiHost, file_name: str) -> None:
    """CheckFileInfo never sends null anywhere: properties are omitted instead."""
    file = open_file(wopi_host, file_name)
    assert nulls(file.info()) == []
    assert file.put_file(DOCUMENT).status_code == 200
    assert nulls(file.info()) == []


def test_check_file_info_matches_the_validator_schema(wopi_host: WopiHost, file_name: str) -> None:
    """CheckFileInfo validates against the validator's CsppCheckFileInfoSchema (every test is gated on it)."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8-sig"))
    checker = jsonschema.FormatChecker(formats=())
    checker.checks("uri")(is_absolute)
    checker.checks("date-time")(lambda value: bool(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", value)))
    validator = jsonschema.Draft4Validator(schema, format_checker=checker)
    for permission in ("edit", "view"):
        file = open_file(wopi_host, f"{permission}-{file_name}", DOCUMENT, permission=permission)
        errors = [f"{list(error.path)}: {error.message}" for error in validator.iter_errors(file.info())]
        assert errors == []


def test_check_file_info_urls_are_absolute(wopi_host: WopiHost, file_name: str) -> None:
    """Every *Url property is an absolute URL (validator: format uri; Host*Url, Breadcrumb*Url absolute)."""
    info = open_file(wopi_host, file_name).info()
    urls = {key: value for key, value in info.items() if key.endswith("Url")}
    assert {"HostViewUrl", "HostEditUrl"} <= set(urls)
    assert [key for key, value in urls.items() if not is_absolute(value)] == []


def test_check_file_info_permissions_follow_the_token(wopi_host: WopiHost, file_name: str) -> None:
    """An edit token gives UserCanWrite; a view token gives ReadOnly and no write, rename or relative write."""
    edit = open_file(wopi_host, file_name).info()
    assert edit["UserCanWrite"] is True and edit["ReadOnly"] is False
    assert edit["UserCanRename"] is True and edit["UserCanNotWriteRelative"] is False
    for flag in ("SupportsLocks", "SupportsGetLock", "SupportsUpdate", "SupportsRename", "SupportsDeleteFile"):
        assert edit[flag] is True, flag
    view = WopiFile.from_session(wopi_host, wopi_host.token(file_name, create=False, permission="view")).info()
    assert view["UserCanWrite"] is False and view["ReadOnly"] is True
    assert view["UserCanRename"] is False and view["UserCanNotWriteRelative"] is True


def test_check_file_info_through_the_token_cli(wopi_host: WopiHost, file_name: str) -> None:
    """`wopi-host token --create` makes an empty file and a token that CheckFileInfo accepts, with a real ttl."""
    session = wopi_host.token(file_name, user="cli-user")
    assert session["access_token_ttl"] > time.time() * 1000 + 3600 * 1000  # absolute, in ms; hours away
    response = http.get(session["wopi_src"], params={"access_token": session["access_token"]})
    assert response.status_code == 200
    assert response.json()["UserId"] == "cli-user" and response.json()["Size"] == 0


def test_check_file_info_user_info_after_put_user_info(wopi_host: WopiHost, file_name: str) -> None:
    """UserInfo in CheckFileInfo echoes what PutUserInfo stored for this user."""
    file = open_file(wopi_host, file_name, user="userinfo-echo")
    assert file.info()["UserInfo"] == ""
    assert file.put_user_info('{"theme": "dark", "ü": 1}').status_code == 200
    assert file.info()["UserInfo"] == '{"theme": "dark", "ü": 1}'


def test_check_file_info_sha256_is_base64_of_the_contents(wopi_host: WopiHost, file_name: str) -> None:
    """SHA256 is the base64 SHA-256 of the current contents, and follows each PutFile."""
    file = open_file(wopi_host, file_name, DOCUMENT)
    assert file.info()["SHA256"] == sha256_b64(DOCUMENT)
    assert file.put_file(b"other bytes").status_code == 409  # unlocked and not empty
    assert file.lock("sha").status_code == 200
    assert file.put_file(b"other bytes", lock="sha").status_code == 200
    assert file.info()["SHA256"] == sha256_b64(b"other bytes")


def test_check_file_info_last_modified_time_format(wopi_host: WopiHost, file_name: str) -> None:
    """LastModifiedTime is UTC ISO 8601 round-trip form, e.g. 2009-06-15T13:45:30.0000000Z, and recent."""
    value = open_file(wopi_host, file_name, DOCUMENT).info()["LastModifiedTime"]
    assert LAST_MODIFIED.fullmatch(value), value
    moment = time.mktime(time.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    assert abs(moment - time.time()) < 300


def test_check_file_info_version_changes_on_every_write(wopi_host: WopiHost, file_name: str) -> None:
    """Version changes on every change and never repeats."""
    file = open_file(wopi_host, file_name)
    seen = [file.version()]
    assert file.lock("v").status_code == 200
    for content in (b"one", b"two", b"one"):
        assert file.put_file(content, lock="v").status_code == 200
        seen.append(file.version())
    assert len(set(seen)) == len(seen)


# ---------------------------------------------------------------------------------------------------------
# GetFile


def test_get_file_returns_the_exact_bytes(wopi_host: WopiHost, file_name: str) -> None:
    """GetFile returns exactly the bytes written, with X-WOPI-ItemVersion equal to CheckFileInfo Version."""
    content = bytes(range(256)) * 40 + b"\r\n\x00PK\x03\x04"
    file = open_file(wopi_host, file_name, content)
    response = file.get_file()
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["X-WOPI-ItemVersion"] == file.version()


def test_get_file_of_an_empty_file(wopi_host: WopiHost, file_name: str) -> None:
    """GetFile of a zero-byte file is 200 with an empty body."""
    response = open_file(wopi_host, file_name).get_file()
    assert response.status_code == 200 and response.content == b""


def test_get_file_max_expected_size(wopi_host: WopiHost, file_name: str) -> None:
    """X-WOPI-MaxExpectedSize smaller than the file gets 412; equal or larger gets 200 and the bytes."""
    file = open_file(wopi_host, file_name, DOCUMENT)
    assert file.get_file({"X-WOPI-MaxExpectedSize": str(len(DOCUMENT) - 1)}).status_code == 412
    for limit in (len(DOCUMENT), len(DOCUMENT) + 1, 2**31 - 1):
        response = file.get_file({"X-WOPI-MaxExpectedSize": str(limit)})
        assert response.status_code == 200 and response.content == DOCUMENT


# ---------------------------------------------------------------------------------------------------------
# PutFile


def test_put_file_with_the_lock(wopi_host: WopiHost, file_name: str) -> None:
    """PutFile with the current lock writes and answers X-WOPI-ItemVersion = the new Version."""
    file = open_file(wopi_host, file_name, DOCUMENT)
    assert file.lock("put-lock").status_code == 200
    before = file.version()
    response = file.put_file(b"new contents", lock="put-lock")
    assert_ok_without_lock(response)
    assert response.headers["X-WOPI-ItemVersion"] == file.version() != before
    assert file.contents() == b"new contents"
    assert file.info()["Size"] == len(b"new contents")


def test_put_file_on_unlocked_empty_file(wopi_host: WopiHost, file_name: str) -> None:
    """PutFile without a lock on an unlocked zero-byte file is 200 (editnew)."""
    file = open_file(wopi_host, file_name)
    response = file.put_file(DOCUMENT)
    assert_ok_without_lock(response)
    assert response.headers["X-WOPI-ItemVersion"] == file.version()
    assert file.contents() == DOCUMENT


def test_put_file_on_unlocked_non_empty_file(wopi_host: WopiHost, file_name: str) -> None:
    """PutFile without a lock on an unlocked non-empty file is 409 with X-WOPI-Lock: "" and changes nothing."""
    file = open_file(wopi_host, file_name, DOCUMENT)
    before = file.state()
    response = file.put_file(b"overwrite")
    assert_lock_conflict(response, "")
    assert file.state() == before


def test_put_file_with_a_wrong_lock(wopi_host: WopiHost, file_name: str) -> None:
    """PutFile with a lock other than the current one is 409 naming the current lock, and changes nothing."""
    file = open_file(wopi_host, file_name, DOCUMENT)
    assert file.lock("the-lock").status_code == 200
    before = file.state()
    assert_lock_conflict(file.put_file(b"overwrite", lock="not-the-lock"), "the-lock")
    assert_lock_conflict(file.put_file(b"overwrite"), "the-lock")
    assert file.state() == before


def test_put_file_same_bytes_new_version(wopi_host: WopiHost, file_name: str) -> None:
    """Version changes on every PutFile, even when the bytes are identical (validator FileVersion)."""
    file = open_file(wopi_host, file_name)
    assert file.lock("same").status_code == 200
    first = file.put_file(DOCUMENT, lock="same").headers["X-WOPI-ItemVersion"]
    second = file.put_file(DOCUMENT, lock="same").headers["X-WOPI-ItemVersion"]
    assert first != second
    assert file.version() == second
    unlocked = file.unlock("same")
    assert unlocked.headers["X-WOPI-ItemVersion"] == second == file.version()


def test_put_file_bytes_are_on_disk(wopi_host: WopiHost, file_name: str) -> None:
    """After PutFile the file in the storage folder holds exactly the bytes."""
    file = open_file(wopi_host, file_name)
    assert file.put_file(DOCUMENT).status_code == 200
    assert (wopi_host.documents / file_name).read_bytes() == DOCUMENT


def test_put_file_over_the_size_limit(limited_host: WopiHost, file_name: str) -> None:
    """A PutFile body over the configured maximum gets 413 and nothing is stored; exactly the maximum is fine."""
    file = open_file(limited_host, file_name)  # empty and unlocked: PutFile needs no lock (locks last 1 s here)
    before = file.state()
    assert file.put_file(b"x" * 1001).status_code == 413

    def chunked() -> Any:  # no Content-Length: the limit must hold while streaming
        for _ in range(20):
            yield b"y" * 100

    assert file.put_file(chunked()).status_code == 413
    assert file.state() == before
    assert (limited_host.documents / file_name).read_bytes() == b""
    assert file.put_file(b"z" * 1000).status_code == 200
    assert file.contents() == b"z" * 1000


# ---------------------------------------------------------------------------------------------------------
# Locks: the state table of digest section 4


def test_lock_unlocked_file(wopi_host: WopiHost, file_name: str) -> None:
    """Lock on an unlocked file: 200, X-WOPI-ItemVersion = Version, no X-WOPI-Lock; GetLock then names it."""
    file = open_file(wopi_host, file_name, DOCUMENT)
    response = file.lock("lock-a")
    assert_ok_without_lock(response)
    assert response.headers["X-WOPI-ItemVersion"] == file.version()
    assert file.current_lock() == "lock-a"


def test_lock_again_with_the_same_id(wopi_host: WopiHost, file_name: str) -> None:
    """Lock with the current lock id refreshes: 200."""
    file = open_file(wopi_host, file_name)
    assert file.lock("same-id").status_code == 200
    assert_ok_without_lock(file.lock("same-id"))
    assert file.current_lock() == "same-id"


def test_lock_with_another_id(wopi_host: WopiHost, file_name: str) -> None:
    """Lock on a file locked with another id: 409 with X-WOPI-Lock = current lock; the lock stays."""
    file = open_file(wopi_host, file_name)
    assert file.lock("first").status_code == 200
    assert_lock_conflict(file.lock("second"), "first")
    assert file.current_lock() == "first"


def test_lock_without_a_lock_id(wopi_host: WopiHost, file_name: str) -> None:
    """Lock, RefreshLock and Unlock with X-WOPI-Lock missing or empty get 400; so does an empty OldLock."""
    file = open_file(wopi_host, file_name)
    for override in ("LOCK", "REFRESH_LOCK", "UNLOCK"):
        assert file.post(override).status_code == 400, override
        assert file.post(override, {"X-WOPI-Lock": ""}).status_code == 400, override
    assert file.lock("held").status_code == 200
    assert file.unlock_and_relock("new", "").status_code == 400
    assert file.current_lock() == "held"


def test_refresh_lock_table(wopi_host: WopiHost, file_name: str) -> None:
    """RefreshLock: unlocked → 409 X-WOPI-Lock ""; matching → 200; other id → 409 with the current lock."""
    file = open_file(wopi_host, file_name)
    assert_lock_conflict(file.refresh_lock("nothing"), "")
    assert file.lock("refresh-me").status_code == 200
    assert_ok_without_lock(file.refresh_lock("refresh-me"))
    assert_lock_conflict(file.refresh_lock("other"), "refresh-me")
    assert file.current_lock() == "refresh-me"


def test_unlock_table(wopi_host: WopiHost, file_name: str) -> None:
    """Unlock: unlocked → 409 ""; other id → 409 with the lock; matching → 200 with ItemVersion, then unlocked."""
    file = open_file(wopi_host, file_name, DOCUMENT)
    assert_lock_conflict(file.unlock("nothing"), "")
    assert file.lock("unlock-me").status_code == 200
    assert_lock_conflict(file.unlock("other"), "unlock-me")
    response = file.unlock("unlock-me")
    assert_ok_without_lock(response)
    assert response.headers["X-WOPI-ItemVersion"] == file.version()
    assert file.current_lock() == ""


def test_unlock_and_relock_table(wopi_host: WopiHost, file_name: str) -> None:
    """UnlockAndRelock: unlocked → 409 ""; OldLock ≠ lock → 409 with the lock; OldLock = lock → replaced."""
    file = open_file(wopi_host, file_name)
    assert_lock_conflict(file.unlock_and_relock("new", "old"), "")
    assert file.lock("old").status_code == 200
    assert_lock_conflict(file.unlock_and_relock("new", "not-old"), "old")
    assert file.current_lock() == "old"
    assert_ok_without_lock(file.unlock_and_relock("new", "old"))
    assert file.current_lock() == "new"
    assert_lock_conflict(file.unlock("old"), "new")  # the old lock is really gone
    assert file.unlock("new").status_code == 200


def test_get_lock_table(wopi_host: WopiHost, file_name: str) -> None:
    """GetLock: 200 with X-WOPI-Lock "" when unlocked, the lock when locked (the header is always there)."""
    file = open_file(wopi_host, file_name)
    response = file.get_lock()
    assert response.status_code == 200 and response.headers["X-WOPI-Lock"] == ""
    assert file.lock("get-me").status_code == 200
    response = file.get_lock()
    assert response.status_code == 200 and response.headers["X-WOPI-Lock"] == "get-me"


def test_rename_lock_table(wopi_host: WopiHost, file_name: str) -> None:
    """RenameFile: unlocked → 200; locked and matching → 200; locked with another id → 409 with the lock."""
    file = open_file(wopi_host, file_name)
    assert file.rename("renamed-unlocked", lock=None).status_code == 200
    assert file.lock("rename-lock").status_code == 200
    assert_lock_conflict(file.rename("renamed-wrong", lock="wrong"), "rename-lock")
    assert_lock_conflict(file.rename("renamed-none", lock=""), "rename-lock")
    assert file.info()["BaseFileName"] == "renamed-unlocked.wopitest"
    assert_ok_without_lock(file.rename("renamed-locked", lock="rename-lock"))
    assert file.info()["BaseFileName"] == "renamed-locked.wopitest"


def test_delete_lock_table(wopi_host: WopiHost, file_name: str) -> None:
    """DeleteFile on a locked file is 409 with X-WOPI-Lock (any lock); the file stays."""
    file = open_file(wopi_host, file_name, DOCUMENT)
    assert file.lock("keep-me").status_code == 200
    assert_lock_conflict(file.delete(), "keep-me")
    assert_lock_conflict(file.post("DELETE", {"X-WOPI-Lock": "keep-me"}), "keep-me")
    assert file.contents() == DOCUMENT


@pytest.mark.parametrize(
    "lock_id",
    [
        "L" * 256,
        "X" * 1024,
        '{"S":"1f6a9c45-0000","F":4,"E":2,"M":"validator"}',
        "inner  spaces, 'quotes' and = ; , signs",
    ],
    ids=["256", "1024", "json", "spaces"],
)
def test_lock_ids_are_stored_verbatim(wopi_host: WopiHost, file_name: str, lock_id: str) -> None:
    """Lock ids of 256 and 1024 ASCII chars and JSON-like strings are stored and returned verbatim."""
    file = open_file(wopi_host, file_name)
    assert file.info()["SupportsExtendedLockLength"] is True
    assert file.lock(lock_id).status_code == 200
    assert file.current_lock() == lock_id
    assert_lock_conflict(file.lock("other"), lock_id)
    assert file.unlock(lock_id).status_code == 200


def test_locks_are_not_owned_by_users(wopi_host: WopiHost, file_name: str) -> None:
    """Any user with edit rights who presents the lock id may PutFile, RefreshLock and Unlock."""
    alice = open_file(wopi_host, file_name, DOCUMENT, user="alice")
    share(wopi_host, alice, "alice", "bob")
    bob = alice.with_token(token_for(wopi_host, alice, user="bob"))
    assert alice.lock("shared-lock").status_code == 200
    assert bob.refresh_lock("shared-lock").status_code == 200
    assert bob.put_file(b"bob's", lock="shared-lock").status_code == 200
    assert bob.unlock("shared-lock").status_code == 200
    assert alice.contents() == b"bob's" and alice.current_lock() == ""


def test_expired_lock_counts_as_unlocked(limited_host: WopiHost, file_name: str) -> None:
    """A lock expires after the lock TTL (30 min in production, 1 s here) and then counts as unlocked."""
    file = open_file(limited_host, file_name)
    assert file.lock("short").status_code == 200
    time.sleep(1.5)
    assert file.current_lock() == ""
    assert_lock_conflict(file.unlock("short"), "")
    assert file.lock("next").status_code == 200


def test_lock_flow_of_the_validator(wopi_host: WopiHost, file_name: str) -> None:
    """EditFlows: Lock → PutFile → Unlock; then PutFile of a non-empty file without a lock is 409."""
    file = open_file(wopi_host, file_name)
    assert file.lock("flow").status_code == 200
    assert file.put_file(b"", lock="flow").status_code == 200
    assert file.unlock("flow").status_code == 200
    assert file.put_file(DOCUMENT).status_code == 200  # still zero bytes: editnew
    assert file.contents() == DOCUMENT
    assert_lock_conflict(file.put_file(b"again"), "")


def test_concurrent_locks_have_one_winner(wopi_host: WopiHost, file_name: str) -> None:
    """Concurrent Lock requests with different ids: exactly one wins; every other gets 409 naming the winner."""
    file = open_file(wopi_host, file_name)
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda n: file.lock(f"racer-{n}"), range(8)))
    winners = [n for n, response in enumerate(responses) if response.status_code == 200]
    assert len(winners) == 1
    for response in responses:
        if response.status_code != 200:
            assert_lock_conflict(response, f"racer-{winners[0]}")
    assert file.current_lock() == f"racer-{winners[0]}"


def test_concurrent_unlock_and_relock_is_atomic(wopi_host: WopiHost, file_name: str) -> None:
    """Concurrent UnlockAndRelock from the same old lock: exactly one replaces it, the rest get 409."""
    file = open_file(wopi_host, file_name)
    assert file.lock("old").status_code == 200
    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(lambda n: file.unlock_and_relock(f"new-{n}", "old"), range(6)))
    winners = [n for n, response in enumerate(responses) if response.status_code == 200]
    assert len(winners) == 1
    assert all(response.status_code == 409 for response in responses if response.status_code != 200)
    assert file.current_lock() == f"new-{winners[0]}"


def test_change_on_disk_is_seen(wopi_host: WopiHost, file_name: str) -> None:
    """A change made on disk by another program gives a new Version, the new bytes, and no stale SHA256."""
    file = open_file(wopi_host, file_name, DOCUMENT)
    before = file.version()
    time.sleep(0.01)
    (wopi_host.documents / file_name).write_bytes(b"changed outside")
    info = file.info()
    assert info["Version"] != before and info["Size"] == len(b"changed outside")
    assert info.get("SHA256", sha256_b64(b"changed outside")) == sha256_b64(b"changed outside")
    response = file.get_file()
    assert response.content == b"changed outside" and response.headers["X-WOPI-ItemVersion"] == info["Version"]


# ---------------------------------------------------------------------------------------------------------
# PutRelativeFile


def assert_relative_ok(host: WopiHost, response: httpx.Response, content: bytes) -> WopiFile:
    assert response.status_code == 200, response
    body = response.json()
    assert nulls(body) == []
    for key in ("Url", "HostViewUrl", "HostEditUrl"):
        assert is_absolute(body[key]), key
    assert "access_token=" in body["Url"]
    new = WopiFile.from_url(host, body["Url"])
    info = new.info()
    assert info["BaseFileName"] == body["Name"]
    assert new.contents() == content
    return new


def test_put_relative_suggested_extension(wopi_host: WopiHost, file_name: str) -> None:
    """Suggested target `.wopitestx`: the source's name with that extension."""
    source = open_file(wopi_host, file_name, DOCUMENT)
    response = source.put_relative({"X-WOPI-SuggestedTarget": ".wopitestx"}, b"relative")
    new = assert_relative_ok(wopi_host, response, b"relative")
    assert response.json()["Name"] == file_name.removesuffix(".wopitest") + ".wopitestx"
    assert new.file_id != source.file_id
    assert source.contents() == DOCUMENT


def test_put_relative_suggested_full_name(wopi_host: WopiHost, file_name: str) -> None:
    """Suggested target that is a full name: that name."""
    source = open_file(wopi_host, file_name)
    response = source.put_relative({"X-WOPI-SuggestedTarget": "suggested-full-name.wopitest"}, DOCUMENT)
    assert_relative_ok(wopi_host, response, DOCUMENT)
    assert response.json()["Name"] == "suggested-full-name.wopitest"


def test_put_relative_suggested_conflict(wopi_host: WopiHost, file_name: str) -> None:
    """Suggested mode never fails on a taken name: 200 with a different name, same extension."""
    source = open_file(wopi_host, file_name, DOCUMENT)
    response = source.put_relative({"X-WOPI-SuggestedTarget": file_name}, b"copy")
    assert_relative_ok(wopi_host, response, b"copy")
    name = response.json()["Name"]
    assert name != file_name and name.endswith(".wopitest")
    assert source.contents() == DOCUMENT
    again = source.put_relative({"X-WOPI-SuggestedTarget": file_name}, b"copy 2")
    assert_relative_ok(wopi_host, again, b"copy 2")
    assert again.json()["Name"] not in (name, file_name)


def test_put_relative_utf7_name(wopi_host: WopiHost, file_name: str) -> None:
    """UTF-7 target `madeup+AF8-name.wopitestx` is stored and returned as `madeup_name.wopitestx`."""
    source = open_file(wopi_host, file_name)
    response = source.put_relative({"X-WOPI-RelativeTarget": "madeup+AF8-name.wopitestx"}, DOCUMENT)
    assert_relative_ok(wopi_host, response, DOCUMENT)
    assert response.json()["Name"] == "madeup_name.wopitestx"
    assert (wopi_host.documents / "madeup_name.wopitestx").read_bytes() == DOCUMENT
    suggested = source.put_relative({"X-WOPI-SuggestedTarget": "sugg+AOk-r+AOk-.wopitestx"}, b"")
    assert_relative_ok(wopi_host, suggested, b"")
    assert suggested.json()["Name"] == "suggéré.wopitestx"


def test_put_relative_suggested_long_name(wopi_host: WopiHost, file_name: str) -> None:
    """A suggested name too long to store is shortened, keeping its extension (suggested mode never fails)."""
    source = open_file(wopi_host, file_name)
    response = source.put_relative({"X-WOPI-SuggestedTarget": "long" * 150 + ".wopitestx"}, b"long")
    assert_relative_ok(wopi_host, response, b"long")
    name = response.json()["Name"]
    assert name.startswith("longlong") and name.endswith(".wopitestx") and len(name.encode()) <= 255


def test_put_relative_suggested_concurrently(wopi_host: WopiHost, file_name: str) -> None:
    """Concurrent suggested-mode PutRelativeFile calls for one name all succeed, each with its own name."""
    source = open_file(wopi_host, file_name)
    target = "concurrent-" + file_name

    def put(n: int) -> httpx.Response:
        return source.put_relative({"X-WOPI-SuggestedTarget": target}, f"copy {n}".encode())

    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(put, range(6)))
    assert [response.status_code for response in responses] == [200] * 6
    created = [response.json()["Name"] for response in responses]
    assert len(set(created)) == 6 and all(name.endswith(".wopitest") for name in created)
    for n, name in enumerate(created):
        assert (wopi_host.documents / name).read_bytes() == f"copy {n}".encode()


def test_put_relative_exact_name(wopi_host: WopiHost, file_name: str) -> None:
    """Relative target: the name exactly as given."""
    source = open_file(wopi_host, file_name)
    response = source.put_relative({"X-WOPI-RelativeTarget": "exact name (1).wopitest"}, DOCUMENT)
    assert_relative_ok(wopi_host, response, DOCUMENT)
    assert response.json()["Name"] == "exact name (1).wopitest"


def test_put_relative_exact_existing_without_overwrite(wopi_host: WopiHost, file_name: str) -> None:
    """Relative target that exists, without overwrite: 409 with a usable X-WOPI-ValidRelativeTarget."""
    source = open_file(wopi_host, file_name)
    target = open_file(wopi_host, "target-" + file_name, DOCUMENT)
    before = target.state()
    for overwrite in (None, "False", "false"):
        headers = {"X-WOPI-RelativeTarget": "target-" + file_name}
        if overwrite is not None:
            headers["X-WOPI-OverwriteRelativeTarget"] = overwrite
        response = source.put_relative(headers, b"not stored")
        assert response.status_code == 409, response
        valid = response.headers["X-WOPI-ValidRelativeTarget"].encode("ascii").decode("utf-7")
        assert valid != "target-" + file_name and valid.endswith(".wopitest")
    assert target.state() == before
    retry = source.put_relative({"X-WOPI-RelativeTarget": response.headers["X-WOPI-ValidRelativeTarget"]}, b"ok")
    assert_relative_ok(wopi_host, retry, b"ok")


def test_put_relative_exact_existing_with_overwrite(wopi_host: WopiHost, file_name: str) -> None:
    """X-WOPI-OverwriteRelativeTarget: True (capital T, as the validator sends it) overwrites the target."""
    source = open_file(wopi_host, file_name)
    target = open_file(wopi_host, "target-" + file_name, DOCUMENT)
    headers = {"X-WOPI-RelativeTarget": "target-" + file_name, "X-WOPI-OverwriteRelativeTarget": "True"}
    response = source.put_relative(headers, b"overwritten")
    assert_relative_ok(wopi_host, response, b"overwritten")
    assert response.json()["Name"] == "target-" + file_name
    assert target.contents() == b"overwritten"


def test_put_relative_does_not_overwrite_another_users_file(wopi_host: WopiHost, file_name: str) -> None:
    """The review's finding, without access control in storage: an edit token for one document could overwrite
    a sibling of another user with X-WOPI-OverwriteRelativeTarget and get an edit token for it. Only the user's
    own files may be overwritten: 409 as for a name taken, with a free name to retry, and the sibling unchanged."""
    source = open_file(wopi_host, file_name)
    target = open_file(wopi_host, "target-" + file_name, DOCUMENT, user="other-user")
    before = target.state()
    headers = {"X-WOPI-RelativeTarget": "target-" + file_name, "X-WOPI-OverwriteRelativeTarget": "True"}
    response = source.put_relative(headers, b"not stored")
    assert response.status_code == 409, response
    retry = response.headers["X-WOPI-ValidRelativeTarget"].encode("ascii").decode("utf-7")
    assert retry != "target-" + file_name
    assert target.state() == before


def test_put_relative_locked_target(wopi_host: WopiHost, file_name: str) -> None:
    """A locked target gets 409, overwrite or not, and is not changed. The 409 never carries the target's lock id
    (the token is for the source, not for the target): no X-WOPI-Lock, the lock id in no header at all."""
    source = open_file(wopi_host, file_name)
    target = open_file(wopi_host, "target-" + file_name, DOCUMENT)
    assert target.lock("target-lock-secret").status_code == 200
    before = target.state()
    for overwrite in ("True", "False"):
        headers = {"X-WOPI-RelativeTarget": "target-" + file_name, "X-WOPI-OverwriteRelativeTarget": overwrite}
        response = source.put_relative(headers, b"not stored")
        assert response.status_code == 409, (overwrite, response)
        assert "X-WOPI-Lock" not in response.headers
        assert not [value for value in response.headers.values() if "target-lock-secret" in value]
        retry = response.headers["X-WOPI-ValidRelativeTarget"].encode("ascii").decode("utf-7")
        assert retry != "target-" + file_name and retry.endswith(".wopitest")
    assert target.state() == before


@pytest.fixture(scope="module")
def counted_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WopiHost, CountingProxy]]:
    """Both services with a counting gRPC proxy between them: every storage call of the front-end is counted."""
    host = WopiHost(Path(tmp_path_factory.mktemp("wopi-counted")))
    with CountingProxy(host.storage.target) as proxy:
        host.environment["WOPI_STORAGE_TARGET"] = proxy.target
        with host:
            yield host, proxy


def test_check_file_info_is_one_storage_call(counted_host: tuple[WopiHost, CountingProxy], file_name: str) -> None:
    """CheckFileInfo asks storage once (GetFileContext: the file, the user info and, for an edit token under
    access control, the folder's permissions), with an edit token and a view token alike."""
    host, proxy = counted_host
    edit = open_file(host, file_name, DOCUMENT)
    view = edit.with_token(token_for(host, edit, permission="view"))
    edit.check_file_info()  # the front-end has read the capabilities: the counts below are the requests' own
    for file in (edit, view):
        proxy.reset()
        assert file.check_file_info().status_code == 200
        assert proxy.calls() == {"GetFileContext": 1}


def test_check_file_info_without_get_file_context(tmp_path_factory: pytest.TempPathFactory, file_name: str) -> None:
    """With an adapter that predates GetFileContext, CheckFileInfo makes the calls it replaces (StatFile and
    GetUserInfo at once, then the folder for an edit token under access control) and answers as before."""
    host = WopiHost(Path(tmp_path_factory.mktemp("wopi-older-adapter")))
    with CountingProxy(host.storage.target, hidden_capabilities=("file_context",)) as older:
        host.environment["WOPI_STORAGE_TARGET"] = older.target
        with host:
            edit = open_file(host, file_name, DOCUMENT)
            assert edit.put_user_info("kept by storage").status_code == 200
            view = edit.with_token(token_for(host, edit, permission="view"))
            stat_and_user_info = {"StatFile": 1, "GetUserInfo": 1}
            expected = [(edit, {**stat_and_user_info, "GetContainer": 1}, True), (view, stat_and_user_info, False)]
            for file, calls, writable in expected:
                older.reset()
                document = file.info()
                assert older.calls() == calls
                assert document["UserInfo"] == "kept by storage" and document["Size"] == len(DOCUMENT)
                assert document["UserCanWrite"] is writable and document["UserCanNotWriteRelative"] is not writable


def take_name_and_variants(host: WopiHost, stem: str, count: int = 100) -> None:
    """`stem.wopitest` and `stem (2).wopitest` ... `stem (count).wopitest`, put in the root folder directly."""
    for number in range(1, count + 1):
        name = f"{stem}.wopitest" if number == 1 else f"{stem} ({number}).wopitest"
        (host.documents / name).write_bytes(b"taken")


MAX_RPCS_PER_NAME_CHOICE = 6  # a StatFile, a create or write (two calls: claim, then contents), a suggestion...


def test_put_relative_name_search_costs_a_bounded_number_of_storage_calls(
    counted_host: tuple[WopiHost, CountingProxy], file_name: str
) -> None:
    """With a name and its variants (2) to (100) taken, suggested mode still gets the first free variant, and an
    exact-mode 409 still suggests it, each with a few storage calls: not one lookup per taken name."""
    host, proxy = counted_host
    source = open_file(host, file_name)
    stem = "taken-" + file_name.removesuffix(".wopitest")
    take_name_and_variants(host, stem)
    source.check_file_info()  # the front-end has read the capabilities: the counts below are the request's own

    proxy.reset()
    response = source.put_relative({"X-WOPI-SuggestedTarget": f"{stem}.wopitest"}, b"copy")
    calls = proxy.calls()
    assert_relative_ok(host, response, b"copy")
    assert response.json()["Name"] == f"{stem} (101).wopitest"
    assert sum(calls.values()) <= MAX_RPCS_PER_NAME_CHOICE and calls["LookupChild"] == 0, calls

    proxy.reset()
    response = source.put_relative({"X-WOPI-RelativeTarget": f"{stem}.wopitest"}, b"not stored")
    calls = proxy.calls()
    assert response.status_code == 409
    assert response.headers["X-WOPI-ValidRelativeTarget"].encode("ascii").decode("utf-7") == f"{stem} (102).wopitest"
    assert sum(calls.values()) <= MAX_RPCS_PER_NAME_CHOICE and calls["LookupChild"] <= 1, calls


def test_put_relative_both_target_headers(wopi_host: WopiHost, file_name: str) -> None:
    """Both X-WOPI-SuggestedTarget and X-WOPI-RelativeTarget: 400, and no file is made."""
    source = open_file(wopi_host, file_name)
    headers = {"X-WOPI-SuggestedTarget": ".wopitestx", "X-WOPI-RelativeTarget": "both-" + file_name}
    assert source.put_relative(headers, DOCUMENT).status_code == 400
    assert source.put_relative({}, DOCUMENT).status_code == 400
    assert not (wopi_host.documents / ("both-" + file_name)).exists()


def test_put_relative_url_is_usable(wopi_host: WopiHost, file_name: str) -> None:
    """The returned Url works as is for CheckFileInfo, Lock, Unlock and DeleteFile on the new file only."""
    source = open_file(wopi_host, file_name, DOCUMENT)
    assert source.lock("source-lock").status_code == 200  # the source may be locked: no X-WOPI-Lock is sent
    response = source.put_relative({"X-WOPI-SuggestedTarget": ".wopitestx"}, b"new file")
    body = response.json()
    direct = http.get(body["Url"])  # exactly as returned
    assert direct.status_code == 200 and direct.json()["BaseFileName"] == body["Name"]
    assert direct.json()["SupportsRename"] is True and direct.json()["UserCanRename"] is True
    new = WopiFile.from_url(wopi_host, body["Url"])
    assert http.post(body["Url"], headers={"X-WOPI-Override": "LOCK", "X-WOPI-Lock": "n"}).status_code == 200
    assert new.unlock("n").status_code == 200
    stolen = source.with_token(new.access_token)
    assert stolen.check_file_info().status_code == 401
    assert stolen.get_file().status_code == 401
    assert http.post(body["Url"], headers={"X-WOPI-Override": "DELETE"}).status_code == 200
    assert new.check_file_info().status_code == 404
    assert source.contents() == DOCUMENT and source.current_lock() == "source-lock"


def test_put_relative_host_urls(wopi_host: WopiHost, file_name: str) -> None:
    """HostViewUrl and HostEditUrl of the new file are absolute and lead to the host page."""
    source = open_file(wopi_host, file_name)
    body = source.put_relative({"X-WOPI-SuggestedTarget": ".wopitestx"}, b"").json()
    for key in ("HostViewUrl", "HostEditUrl"):
        assert body[key].startswith(wopi_host.url + "/host/")
        assert http.get(body[key]).status_code == 200


def test_put_relative_with_a_view_token(wopi_host: WopiHost, file_name: str) -> None:
    """A user who may not write relative (UserCanNotWriteRelative) gets 501, and nothing is made."""
    source = open_file(wopi_host, file_name, permission="view")
    response = source.put_relative({"X-WOPI-RelativeTarget": "viewer-" + file_name}, DOCUMENT)
    assert response.status_code == 501
    assert not (wopi_host.documents / ("viewer-" + file_name)).exists()


def test_put_relative_over_the_size_limit(limited_host: WopiHost, file_name: str) -> None:
    """PutRelativeFile with a body or X-WOPI-Size over the maximum gets 413 and makes no file."""
    source = open_file(limited_host, file_name)
    target = "big-" + file_name
    assert source.put_relative({"X-WOPI-RelativeTarget": target}, b"x" * 1001).status_code == 413
    assert source.put_relative({"X-WOPI-RelativeTarget": target, "X-WOPI-Size": "1001"}, b"x").status_code == 413
    assert source.put_relative({"X-WOPI-SuggestedTarget": target}, b"x" * 1001).status_code == 413
    assert sorted(path.name for path in limited_host.documents.iterdir() if "big-" in path.name) == []


# ---------------------------------------------------------------------------------------------------------
# RenameFile


def test_rename_keeps_extension_and_id(wopi_host: WopiHost, file_name: str) -> None:
    """RenameFile: the name comes without extension, the file keeps its extension, id and WOPISrc."""
    file = open_file(wopi_host, file_name, DOCUMENT)
    response = file.rename("renamed-" + file_name.removesuffix(".wopitest"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"Name": "renamed-" + file_name.removesuffix(".wopitest")}
    info = file.info()  # same WOPISrc, same token
    assert info["BaseFileName"] == "renamed-" + file_name
    assert file.contents() == DOCUMENT
    assert (wopi_host.documents / ("renamed-" + file_name)).read_bytes() == DOCUMENT


def test_rename_utf7_name(wopi_host: WopiHost, file_name: str) -> None:
    """X-WOPI-RequestedName is UTF-7: `Caf+AOk-+AF8-1` becomes `Café_1`."""
    file = open_file(wopi_host, file_name)
    response = file.rename("Caf+AOk-+AF8-1")
    assert response.status_code == 200 and response.json()["Name"] == "Café_1"
    assert file.info()["BaseFileName"] == "Café_1.wopitest"


def test_rename_to_a_taken_name(wopi_host: WopiHost, file_name: str) -> None:
    """Renaming onto a taken name picks a variant; the other file stays as it was."""
    other = open_file(wopi_host, "taken-" + file_name, DOCUMENT)
    file = open_file(wopi_host, file_name)
    response = file.rename("taken-" + file_name.removesuffix(".wopitest"))
    assert response.status_code == 200
    assert response.json()["Name"] != "taken-" + file_name.removesuffix(".wopitest")
    assert file.info()["BaseFileName"] == response.json()["Name"] + ".wopitest"
    assert other.info()["BaseFileName"] == "taken-" + file_name and other.contents() == DOCUMENT


def test_rename_to_a_taken_name_costs_one_storage_call(
    counted_host: tuple[WopiHost, CountingProxy], file_name: str
) -> None:
    """Renaming onto a name whose variants (2) to (100) are taken too gives the first free variant, with one
    RenameFile call: storage picks the variant, the front-end does not try the names one by one."""
    host, proxy = counted_host
    file = open_file(host, file_name)
    stem = "taken-" + file_name.removesuffix(".wopitest")
    take_name_and_variants(host, stem)
    file.check_file_info()
    proxy.reset()
    response = file.rename(stem)
    calls = proxy.calls()
    assert response.status_code == 200 and response.json() == {"Name": f"{stem} (101)"}
    assert calls["RenameFile"] == 1 and sum(calls.values()) <= MAX_RPCS_PER_NAME_CHOICE, calls
    assert file.info()["BaseFileName"] == f"{stem} (101).wopitest"


def test_rename_with_a_wrong_lock(wopi_host: WopiHost, file_name: str) -> None:
    """RenameFile with a wrong lock: 409 with X-WOPI-Lock, and the name stays."""
    file = open_file(wopi_host, file_name)
    assert file.lock("mine").status_code == 200
    assert_lock_conflict(file.rename("stolen", lock="yours"), "mine")
    assert file.info()["BaseFileName"] == file_name


@pytest.mark.parametrize("name", ["a/b", "back\\slash", "colon:", "star*", "", "..", "trailing.", "x" * 300])
def test_rename_invalid_name(wopi_host: WopiHost, file_name: str, name: str) -> None:
    """An invalid requested name gets 400 with X-WOPI-InvalidFileNameError, and the name stays."""
    file = open_file(wopi_host, file_name)
    response = file.rename(name)
    assert response.status_code == 400
    assert response.headers.get("X-WOPI-InvalidFileNameError")
    assert file.info()["BaseFileName"] == file_name


def test_rename_with_an_empty_lock_on_an_unlocked_file(wopi_host: WopiHost, file_name: str) -> None:
    """The validator always sends X-WOPI-Lock on RenameFile, empty when unlocked: that is 200."""
    file = open_file(wopi_host, file_name)
    assert file.rename("empty-lock-" + file_name.removesuffix(".wopitest"), lock="").status_code == 200


def test_rename_after_delete(wopi_host: WopiHost, file_name: str) -> None:
    """RenameFile of a deleted file is 404."""
    file = open_file(wopi_host, file_name)
    assert file.delete().status_code == 200
    assert file.rename("ghost").status_code == 404


# ---------------------------------------------------------------------------------------------------------
# DeleteFile


def test_delete_file(wopi_host: WopiHost, file_name: str) -> None:
    """DeleteFile of a locked file is 409 + X-WOPI-Lock; once unlocked, 200; then the file is 404 everywhere."""
    file = open_file(wopi_host, file_name, DOCUMENT)
    assert file.lock("del").status_code == 200
    assert_lock_conflict(file.delete(), "del")
    assert file.unlock("del").status_code == 200
    assert_ok_without_lock(file.delete())
    assert not (wopi_host.documents / file_name).exists()
    assert file.check_file_info().status_code == 404
    assert file.get_file().status_code == 404
    assert file.lock("late").status_code == 404
    assert file.delete().status_code == 404


# ---------------------------------------------------------------------------------------------------------
# PutUserInfo, GetShareUrl, EnumerateAncestors, unknown overrides


def test_put_user_info_is_per_user(wopi_host: WopiHost, file_name: str) -> None:
    """PutUserInfo is stored per user: the same user sees it on other files, another user does not."""
    carol = open_file(wopi_host, file_name, user="userinfo-carol")
    share(wopi_host, carol, "userinfo-carol", "userinfo-dave", pb.ROLE_VIEWER)
    dave = carol.with_token(token_for(wopi_host, carol, user="userinfo-dave", permission="view"))
    assert carol.put_user_info("carol's settings").status_code == 200
    assert dave.put_user_info("dave's settings").status_code == 200  # a viewer may store their own info
    assert carol.info()["UserInfo"] == "carol's settings"
    assert dave.info()["UserInfo"] == "dave's settings"
    elsewhere = open_file(wopi_host, "other-" + file_name, user="userinfo-carol")
    assert elsewhere.info()["UserInfo"] == "carol's settings"
    assert carol.put_user_info("").status_code == 200
    assert carol.info()["UserInfo"] == ""


@pytest.mark.parametrize("url_type", ["ReadOnly", "ReadWrite"])
def test_get_share_url(wopi_host: WopiHost, file_name: str, url_type: str) -> None:
    """GetShareUrl ReadOnly/ReadWrite: 200 with an absolute ShareUrl to the host page."""
    file = open_file(wopi_host, file_name)
    assert url_type in file.info()["SupportedShareUrlTypes"]
    response = file.get_share_url(url_type)
    assert response.status_code == 200
    share_url = response.json()["ShareUrl"]
    assert share_url.startswith(wopi_host.url + "/host/")
    assert http.get(share_url).status_code == 200


@pytest.mark.parametrize("url_type", [None, "", "Unknown", "readonly"])
def test_get_share_url_unsupported_type(wopi_host: WopiHost, file_name: str, url_type: str | None) -> None:
    """GetShareUrl with a missing or unsupported X-WOPI-UrlType: 501."""
    assert open_file(wopi_host, file_name).get_share_url(url_type).status_code == 501


def test_enumerate_ancestors(wopi_host: WopiHost, file_name: str) -> None:
    """EnumerateAncestors: 200 with AncestorsWithRootFirst, each {Name, Url} with an absolute Url."""
    response = open_file(wopi_host, file_name).get("/ancestry")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    ancestors = response.json()["AncestorsWithRootFirst"]
    assert len(ancestors) >= 1
    for ancestor in ancestors:
        assert isinstance(ancestor["Name"], str) and ancestor["Name"]
        assert is_absolute(ancestor["Url"])


@pytest.mark.parametrize("override", ["UNKNOWN", "GET_RESTRICTED_LINK", "PUT"])
def test_unknown_override(wopi_host: WopiHost, file_name: str, override: str) -> None:
    """An X-WOPI-Override the host does not implement gets 501 and changes nothing."""
    file = open_file(wopi_host, file_name, DOCUMENT)
    before = file.state()
    assert file.post(override, content=b"x").status_code == 501
    assert file.post("LOCK", content=b"x", suffix="/contents", headers={"X-WOPI-Lock": "c"}).status_code == 501
    assert file.state() == before


# ---------------------------------------------------------------------------------------------------------
# The sessions API


def sessions(host: WopiHost, body: Any, key: str | None = None, **kw: Any) -> httpx.Response:
    key = host.environment["WOPI_API_KEY"] if key is None else key
    return http.post(f"{host.url}/api/v1/sessions", headers={"Authorization": f"Bearer {key}"}, json=body, **kw)


def test_sessions_api_wrong_key(api_host: WopiHost, file_name: str) -> None:
    """POST /api/v1/sessions with a missing or wrong API key: 401."""
    file = open_file(api_host, file_name)
    body = {"file_id": file.file_id, "user_id": "someone"}
    assert sessions(api_host, body, key="wrong-key-0123456789").status_code == 401
    assert sessions(api_host, body, key="-").status_code == 401
    assert http.post(f"{api_host.url}/api/v1/sessions", json=body).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        [],
        {},
        {"file_id": "FILE"},
        {"file_id": "FILE", "user_id": ""},
        {"file_id": "FILE", "user_id": 5},
        {"file_id": "../etc", "user_id": "u"},
        {"file_id": "FILE", "user_id": "u", "permission": "admin"},
        {"file_id": "FILE", "user_id": "u", "permission": []},
        {"file_id": "FILE", "user_id": "u", "permission": ["edit"]},
        {"file_id": "FILE", "user_id": "u", "permission": {"edit": True}},
        {"file_id": "FILE", "user_id": "u", "permission": 1},
        {"file_id": "FILE", "user_id": "u", "display_name": None},
        {"file_id": "FILE", "user_id": "u", "display_name": ["a"]},
        {"file_id": "FILE", "user_id": "u", "display_name": "x" * 257},
        "[" * 5000 + "]" * 5000,
        '{"a":' * 2500 + "0" + "}" * 2500,
        '{"file_id": "FILE", "user_id": "u", "permission": ' + "[" * 5000 + "]" * 5000 + "}",
        b"\xff\xfe not UTF-8",
        "",
    ],
    ids=lambda body: repr(body) if len(repr(body)) < 80 else f"{repr(body)[:60]}...",
)
def test_sessions_api_bad_body(api_host: WopiHost, file_name: str, body: Any) -> None:
    """POST /api/v1/sessions with a body that is not a valid session request (not JSON, nested deeper than any parser
    goes, wrong types): 400 with a JSON error."""
    file = open_file(api_host, file_name)
    if isinstance(body, dict) and body.get("file_id") == "FILE":
        body = {**body, "file_id": file.file_id}
    if isinstance(body, str | bytes):
        response = http.post(
            f"{api_host.url}/api/v1/sessions",
            headers={"Authorization": f"Bearer {api_host.environment['WOPI_API_KEY']}"},
            content=body.replace("FILE", file.file_id) if isinstance(body, str) else body,
        )
    else:
        response = sessions(api_host, body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]


def test_sessions_api_body_too_large(api_host: WopiHost, file_name: str) -> None:
    """A body over 16 KiB: 413 with a JSON error, whether Content-Length says so or not."""
    file = open_file(api_host, file_name)
    body = {"file_id": file.file_id, "user_id": "u", "padding": "x" * 17000}
    assert sessions(api_host, body).status_code == 413
    chunks = iter([b'{"padding": "', b"x" * 17000, b'"}'])
    response = http.post(
        f"{api_host.url}/api/v1/sessions",
        headers={"Authorization": f"Bearer {api_host.environment['WOPI_API_KEY']}"},
        content=chunks,
    )
    assert response.status_code == 413, response.text
    assert response.json()["error"]


def test_sessions_api_cleans_the_display_name(api_host: WopiHost, file_name: str) -> None:
    """Control, bidi-control and zero-width characters (and lone surrogates) are dropped from display_name, as from
    the identity header's, so the name others see is the name it looks like."""
    file = open_file(api_host, file_name)
    share(api_host, file, "test-user", "u")
    name = "\u202e A\x00l\x1bi\x85c\u200be\u2066\u061c\ufeff\ud800 \u200f"
    body = json.dumps({"file_id": file.file_id, "user_id": "u", "display_name": name})  # ASCII: "\ud800" escaped
    response = http.post(
        f"{api_host.url}/api/v1/sessions",
        headers={"Authorization": f"Bearer {api_host.environment['WOPI_API_KEY']}"},
        content=body,
    )
    assert response.status_code == 200, response.text
    assert WopiFile.from_session(api_host, response.json()).info()["UserFriendlyName"] == "Alice"


def test_sessions_api_unknown_file(api_host: WopiHost) -> None:
    """POST /api/v1/sessions for a file that does not exist: 404."""
    assert sessions(api_host, {"file_id": "0" * 24, "user_id": "u"}).status_code == 404


def test_sessions_api_edit_session(api_host: WopiHost, file_name: str) -> None:
    """A good session request gives a WOPISrc and token that CheckFileInfo accepts, for that user."""
    file = open_file(api_host, file_name, DOCUMENT)
    share(api_host, file, "test-user", "api-user")
    body = {"file_id": file.file_id, "user_id": "api-user", "display_name": "Api Üser", "permission": "edit"}
    response = sessions(api_host, body)
    assert response.status_code == 200
    session = response.json()
    assert session["wopi_src"] == file.wopi_src
    assert session["access_token_ttl"] > time.time() * 1000
    assert is_absolute(session["host_page_url"])
    info = WopiFile.from_session(api_host, session).info()
    assert info["UserId"] == "api-user" and info["UserFriendlyName"] == "Api Üser"
    assert info["UserCanWrite"] is True


def test_sessions_api_view_session(api_host: WopiHost, file_name: str) -> None:
    """A view session gives UserCanWrite false, and its token cannot lock."""
    file = open_file(api_host, file_name)
    share(api_host, file, "test-user", "viewer", pb.ROLE_VIEWER)
    response = sessions(api_host, {"file_id": file.file_id, "user_id": "viewer", "permission": "view"})
    assert response.status_code == 200
    viewer = WopiFile.from_session(api_host, response.json())
    assert viewer.info()["UserCanWrite"] is False
    assert viewer.lock("no").status_code == 401


def test_sessions_api_disabled_without_key(wopi_host: WopiHost) -> None:
    """Without WOPI_API_KEY the sessions API does not exist (404), whatever key is sent."""
    response = http.post(
        f"{wopi_host.url}/api/v1/sessions", headers={"Authorization": "Bearer x"}, json={"file_id": "x"}
    )
    assert response.status_code == 404

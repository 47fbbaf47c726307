"""Locks: the WOPI lock state table, expiry enforced by storage, lock ids stored verbatim, and TTL limits.

Every cell of the table in the proto (Lock, RefreshLock, Unlock, UnlockAndRelock, GetLock against an
unlocked file, a file locked with the same id and a file locked with another id) has its own test. Expiry is
proven with TTLs of a few hundred milliseconds given through the API, never with long sleeps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from tests.contract.client import (
    StorageClient,
    assert_bad_request,
    conflicting_lock,
    expect_error,
    file_state,
    lock_precondition,
    share_if_enforced,
    ttl,
    unknown_id,
)
from tests.contract.conftest import Workspace
from wopi_proto.storage_v1 import storage_pb2 as pb

CONFLICT = grpc.StatusCode.FAILED_PRECONDITION
INVALID = grpc.StatusCode.INVALID_ARGUMENT
# Expiry tests: a lock this short, and a wait comfortably longer than it.
SHORT_TTL = 0.3
PAST_SHORT_TTL = 0.6
# How far the adapter's clock may be from ours when we compare expiry times (a remote adapter has its own).
CLOCK_SLACK = timedelta(seconds=60)
CONTENTS = b"locked contents"


def new_file(
    client: StorageClient, workspace: Workspace, suffix: str = "doc.docx", data: bytes = CONTENTS
) -> pb.FileInfo:
    return client.create_file(workspace.container_id, workspace.name(suffix), data)


def long_ttl(caps: pb.Capabilities) -> float:
    """WOPI's 30 minutes, or the adapter's maximum if that is shorter."""
    return min(1800.0, caps.max_lock_ttl.ToTimedelta().total_seconds())


def expires(info: pb.LockInfo) -> datetime:
    return info.expires_time.ToDatetime(tzinfo=UTC)


def assert_expires_in(info: pb.LockInfo, seconds: float) -> None:
    expected = datetime.now(UTC) + timedelta(seconds=seconds)
    assert info.HasField("expires_time"), "a held lock must report when it expires"
    assert expected - CLOCK_SLACK <= expires(info) <= expected + CLOCK_SLACK, (
        f"expected the lock to expire about {seconds}s from now ({expected}), got {expires(info)}"
    )


def assert_unlocked(info: pb.LockInfo) -> None:
    """An empty LockInfo: no id, no expiry, nobody."""
    assert info.lock_id == "", f"expected no lock, got {info.lock_id!r}"
    assert info.expires_time.seconds == 0 and info.expires_time.nanos == 0, "an unlocked file has no lock expiry"
    assert not info.locked_by.user_id, "an unlocked file has no lock holder"


def get_lock(client: StorageClient, file_id: str) -> pb.LockInfo:
    return client.call("GetLock", pb.GetLockRequest(file_id=file_id))  # type: ignore[return-value]


def lock(client: StorageClient, file_id: str, lock_id: str, seconds: float = 1800.0) -> pb.FileInfo:
    return client.call("Lock", pb.LockRequest(file_id=file_id, lock_id=lock_id, ttl=ttl(seconds))).file  # type: ignore[attr-defined,no-any-return]


def refresh(client: StorageClient, file_id: str, lock_id: str, seconds: float = 1800.0) -> pb.FileInfo:
    request = pb.RefreshLockRequest(file_id=file_id, lock_id=lock_id, ttl=ttl(seconds))
    return client.call("RefreshLock", request).file  # type: ignore[attr-defined,no-any-return]


def unlock(client: StorageClient, file_id: str, lock_id: str) -> pb.FileInfo:
    return client.call("Unlock", pb.UnlockRequest(file_id=file_id, lock_id=lock_id)).file  # type: ignore[attr-defined,no-any-return]


def relock(client: StorageClient, file_id: str, old_lock_id: str, lock_id: str, seconds: float = 1800.0) -> pb.FileInfo:
    request = pb.UnlockAndRelockRequest(file_id=file_id, old_lock_id=old_lock_id, lock_id=lock_id, ttl=ttl(seconds))
    return client.call("UnlockAndRelock", request).file  # type: ignore[attr-defined,no-any-return]


def assert_lock_unchanged(client: StorageClient, file_id: str, before: pb.LockInfo) -> None:
    after = get_lock(client, file_id)
    assert after.lock_id == before.lock_id
    assert after.expires_time == before.expires_time, "a refused lock operation must not touch the expiry"


# ---------------------------------------------------------------------------------------------------------
# GetLock


def test_getlock_on_unlocked_file_is_empty_not_an_error(client: StorageClient, workspace: Workspace) -> None:
    """GetLock on an unlocked file answers an empty LockInfo ("not locked" is never an error)."""
    file = new_file(client, workspace)
    assert_unlocked(get_lock(client, file.file_id))
    assert client.stat(file.file_id).lock.lock_id == ""


def test_getlock_returns_the_held_lock(client: StorageClient, workspace: Workspace, caps: pb.Capabilities) -> None:
    """GetLock on a locked file returns the lock id verbatim and its expiry, as StatFile does."""
    file = new_file(client, workspace)
    locked = lock(client, file.file_id, "held-lock", long_ttl(caps))
    current = get_lock(client, file.file_id)
    assert current.lock_id == "held-lock"
    assert current.expires_time == locked.lock.expires_time
    stat = client.stat(file.file_id)
    assert stat.lock.lock_id == "held-lock"
    assert stat.lock.expires_time == locked.lock.expires_time


# ---------------------------------------------------------------------------------------------------------
# Lock


def test_lock_on_unlocked_file_takes_the_lock(
    client: StorageClient, workspace: Workspace, caps: pb.Capabilities
) -> None:
    """Lock on an unlocked file sets the lock, with an expiry one TTL from now, and returns the file."""
    file = new_file(client, workspace)
    seconds = long_ttl(caps)
    locked = lock(client, file.file_id, "lock-a", seconds)
    assert locked.file_id == file.file_id
    assert locked.name == file.name
    assert locked.size == len(CONTENTS)
    assert locked.lock.lock_id == "lock-a"
    assert_expires_in(locked.lock, seconds)
    assert get_lock(client, file.file_id).lock_id == "lock-a"


def test_lock_with_same_id_refreshes(client: StorageClient, workspace: Workspace, caps: pb.Capabilities) -> None:
    """Lock with the id already held succeeds and restarts the expiry from now with the new TTL."""
    file = new_file(client, workspace)
    seconds = long_ttl(caps)
    first = lock(client, file.file_id, "lock-a", seconds / 3)
    again = lock(client, file.file_id, "lock-a", seconds)
    assert again.lock.lock_id == "lock-a"
    assert_expires_in(again.lock, seconds)
    assert expires(again.lock) > expires(first.lock)
    assert get_lock(client, file.file_id).expires_time == again.lock.expires_time


def test_lock_with_other_id_conflicts_naming_current(
    client: StorageClient, workspace: Workspace, caps: pb.Capabilities
) -> None:
    """Lock with another id than the held one is FAILED_PRECONDITION + LockConflict carrying the held lock."""
    file = new_file(client, workspace)
    held = lock(client, file.file_id, "lock-a", long_ttl(caps)).lock
    with expect_error(CONFLICT) as error:
        lock(client, file.file_id, "lock-b")
    current = conflicting_lock(error)
    assert current.lock_id == "lock-a"
    assert current.expires_time == held.expires_time
    assert_lock_unchanged(client, file.file_id, held)


def test_lock_ids_are_compared_exactly(client: StorageClient, workspace: Workspace, caps: pb.Capabilities) -> None:
    """Lock ids that differ only in case or surrounding spaces are different locks."""
    file = new_file(client, workspace)
    held = lock(client, file.file_id, "Lock-A", long_ttl(caps)).lock
    for other in ("lock-a", "LOCK-A", " Lock-A", "Lock-A "):
        with expect_error(CONFLICT) as error:
            lock(client, file.file_id, other)
        assert conflicting_lock(error).lock_id == "Lock-A"
    assert_lock_unchanged(client, file.file_id, held)


# ---------------------------------------------------------------------------------------------------------
# RefreshLock


def test_refresh_on_unlocked_file_conflicts_with_empty_lock(client: StorageClient, workspace: Workspace) -> None:
    """RefreshLock on an unlocked file is FAILED_PRECONDITION + LockConflict with an empty lock."""
    file = new_file(client, workspace)
    with expect_error(CONFLICT) as error:
        refresh(client, file.file_id, "lock-a")
    assert_unlocked(conflicting_lock(error))
    assert_unlocked(get_lock(client, file.file_id))


def test_refresh_with_held_id_restarts_expiry(
    client: StorageClient, workspace: Workspace, caps: pb.Capabilities
) -> None:
    """RefreshLock with the held id restarts the expiry from now with the given TTL (longer or shorter)."""
    file = new_file(client, workspace)
    seconds = long_ttl(caps)
    first = lock(client, file.file_id, "lock-a", seconds / 3)
    longer = refresh(client, file.file_id, "lock-a", seconds)
    assert longer.lock.lock_id == "lock-a"
    assert_expires_in(longer.lock, seconds)
    assert expires(longer.lock) > expires(first.lock)
    shorter = refresh(client, file.file_id, "lock-a", seconds / 6)
    assert_expires_in(shorter.lock, seconds / 6)
    assert get_lock(client, file.file_id).expires_time == shorter.lock.expires_time


def test_refresh_with_other_id_conflicts_naming_current(
    client: StorageClient, workspace: Workspace, caps: pb.Capabilities
) -> None:
    """RefreshLock with another id is FAILED_PRECONDITION + LockConflict carrying the held lock, which stays."""
    file = new_file(client, workspace)
    held = lock(client, file.file_id, "lock-a", long_ttl(caps)).lock
    with expect_error(CONFLICT) as error:
        refresh(client, file.file_id, "lock-b")
    assert conflicting_lock(error).lock_id == "lock-a"
    assert_lock_unchanged(client, file.file_id, held)


# ---------------------------------------------------------------------------------------------------------
# Unlock


def test_unlock_on_unlocked_file_conflicts_with_empty_lock(client: StorageClient, workspace: Workspace) -> None:
    """Unlock on an unlocked file is FAILED_PRECONDITION + LockConflict with an empty lock."""
    file = new_file(client, workspace)
    with expect_error(CONFLICT) as error:
        unlock(client, file.file_id, "lock-a")
    assert_unlocked(conflicting_lock(error))


def test_unlock_with_held_id_removes_lock(client: StorageClient, workspace: Workspace) -> None:
    """Unlock with the held id removes the lock; GetLock and StatFile then report no lock."""
    file = new_file(client, workspace)
    lock(client, file.file_id, "lock-a")
    unlocked = unlock(client, file.file_id, "lock-a")
    assert unlocked.file_id == file.file_id
    assert unlocked.lock.lock_id == ""
    assert_unlocked(get_lock(client, file.file_id))
    assert client.stat(file.file_id).lock.lock_id == ""
    lock(client, file.file_id, "lock-b")  # the file can be locked again, with any id
    assert get_lock(client, file.file_id).lock_id == "lock-b"


def test_unlock_with_other_id_conflicts_naming_current(client: StorageClient, workspace: Workspace) -> None:
    """Unlock with another id is FAILED_PRECONDITION + LockConflict carrying the held lock, which stays."""
    file = new_file(client, workspace)
    held = lock(client, file.file_id, "lock-a").lock
    with expect_error(CONFLICT) as error:
        unlock(client, file.file_id, "lock-b")
    assert conflicting_lock(error).lock_id == "lock-a"
    assert_lock_unchanged(client, file.file_id, held)


def test_locks_are_not_owned_by_users(client: StorageClient, caps: pb.Capabilities, workspace: Workspace) -> None:
    """Whoever presents the lock id holds the lock: another principal (allowed to lock) may refresh and remove it."""
    file = new_file(client, workspace)
    share_if_enforced(client, caps, "contract-other-user", file_id=file.file_id)
    lock(client, file.file_id, "shared-lock")
    other = client.metadata(user_id="contract-other-user")
    request = pb.RefreshLockRequest(file_id=file.file_id, lock_id="shared-lock", ttl=ttl(600))
    assert client.call("RefreshLock", request, metadata=other).file.lock.lock_id == "shared-lock"  # type: ignore[attr-defined]
    client.call("Unlock", pb.UnlockRequest(file_id=file.file_id, lock_id="shared-lock"), metadata=other)
    assert_unlocked(get_lock(client, file.file_id))


# ---------------------------------------------------------------------------------------------------------
# UnlockAndRelock


def test_relock_on_unlocked_file_conflicts_with_empty_lock(client: StorageClient, workspace: Workspace) -> None:
    """UnlockAndRelock on an unlocked file is FAILED_PRECONDITION + LockConflict with an empty lock."""
    file = new_file(client, workspace)
    with expect_error(CONFLICT) as error:
        relock(client, file.file_id, "lock-a", "lock-b")
    assert_unlocked(conflicting_lock(error))
    assert_unlocked(get_lock(client, file.file_id))


def test_relock_with_held_old_id_replaces_lock(
    client: StorageClient, workspace: Workspace, caps: pb.Capabilities
) -> None:
    """UnlockAndRelock from the held id sets the new lock in one step; the old id no longer works."""
    file = new_file(client, workspace)
    seconds = long_ttl(caps)
    lock(client, file.file_id, "lock-old", seconds / 3)
    relocked = relock(client, file.file_id, "lock-old", "lock-new", seconds)
    assert relocked.lock.lock_id == "lock-new"
    assert_expires_in(relocked.lock, seconds)
    assert get_lock(client, file.file_id).lock_id == "lock-new"
    with expect_error(CONFLICT) as error:
        unlock(client, file.file_id, "lock-old")
    assert conflicting_lock(error).lock_id == "lock-new"
    with expect_error(CONFLICT) as error:
        refresh(client, file.file_id, "lock-old")
    assert conflicting_lock(error).lock_id == "lock-new"
    assert get_lock(client, file.file_id).lock_id == "lock-new"


def test_relock_with_other_old_id_conflicts_naming_current(client: StorageClient, workspace: Workspace) -> None:
    """UnlockAndRelock from an id that is not held is FAILED_PRECONDITION + LockConflict; the lock stays."""
    file = new_file(client, workspace)
    held = lock(client, file.file_id, "lock-a").lock
    with expect_error(CONFLICT) as error:
        relock(client, file.file_id, "lock-b", "lock-c")
    assert conflicting_lock(error).lock_id == "lock-a"
    # Relocking to the held id from a wrong old id is refused too.
    with expect_error(CONFLICT) as error:
        relock(client, file.file_id, "lock-b", "lock-a")
    assert conflicting_lock(error).lock_id == "lock-a"
    assert_lock_unchanged(client, file.file_id, held)


def test_relock_to_same_id_refreshes(client: StorageClient, workspace: Workspace, caps: pb.Capabilities) -> None:
    """UnlockAndRelock whose old and new ids are the held id keeps the lock and restarts its expiry."""
    file = new_file(client, workspace)
    seconds = long_ttl(caps)
    first = lock(client, file.file_id, "lock-a", seconds / 3)
    relocked = relock(client, file.file_id, "lock-a", "lock-a", seconds)
    assert relocked.lock.lock_id == "lock-a"
    assert expires(relocked.lock) > expires(first.lock)


# ---------------------------------------------------------------------------------------------------------
# What every lock operation leaves alone, and unknown files


def test_lock_operations_keep_version_and_contents(client: StorageClient, workspace: Workspace) -> None:
    """Lock changes return the file's metadata and never change its version, contents or name."""
    file = new_file(client, workspace)
    responses = [
        lock(client, file.file_id, "lock-a"),
        lock(client, file.file_id, "lock-a"),
        refresh(client, file.file_id, "lock-a"),
        relock(client, file.file_id, "lock-a", "lock-b"),
        unlock(client, file.file_id, "lock-b"),
    ]
    for response in responses:
        assert response.file_id == file.file_id
        assert response.name == file.name
        assert response.size == file.size
        assert response.version == file.version, "a lock change must not change the version"
        assert response.parent_container_id == file.parent_container_id
    info, data = client.read_file(file.file_id)
    assert data == CONTENTS
    assert info.version == file.version
    assert client.stat(file.file_id).modified_time == file.modified_time


def test_lock_response_version_is_the_current_version(client: StorageClient, workspace: Workspace) -> None:
    """The metadata in a lock response is current: after a write, Lock reports the new version."""
    file = new_file(client, workspace)
    written = client.write_file(file.file_id, b"new contents")
    locked = lock(client, file.file_id, "lock-a")
    assert locked.version == written.version
    assert locked.size == len(b"new contents")


LOCK_CALLS: dict[str, Callable[[StorageClient, str], object]] = {
    "Lock": lambda client, file_id: lock(client, file_id, "lock-a"),
    "RefreshLock": lambda client, file_id: refresh(client, file_id, "lock-a"),
    "Unlock": lambda client, file_id: unlock(client, file_id, "lock-a"),
    "UnlockAndRelock": lambda client, file_id: relock(client, file_id, "lock-a", "lock-b"),
    "GetLock": get_lock,
}


@pytest.mark.parametrize("rpc", list(LOCK_CALLS))
def test_lock_rpcs_on_missing_file_are_not_found(client: StorageClient, workspace: Workspace, rpc: str) -> None:
    """Every lock RPC answers NOT_FOUND for a file that does not exist: deleted, or never handed out."""
    file = new_file(client, workspace)
    lock(client, file.file_id, "lock-a")
    client.call("DeleteFile", pb.DeleteFileRequest(file_id=file.file_id, preconditions=lock_precondition("lock-a")))
    for missing in (file.file_id, unknown_id()):
        with expect_error(grpc.StatusCode.NOT_FOUND):
            LOCK_CALLS[rpc](client, missing)


# ---------------------------------------------------------------------------------------------------------
# Expiry, enforced by storage


def lock_briefly(client: StorageClient, file_id: str, lock_id: str) -> None:
    """Take a lock with a very short TTL, and wait until it has expired."""
    locked = lock(client, file_id, lock_id, SHORT_TTL)
    assert locked.lock.lock_id == lock_id
    assert_expires_in(locked.lock, SHORT_TTL)
    time.sleep(PAST_SHORT_TTL)


def test_expired_lock_is_reported_nowhere(client: StorageClient, workspace: Workspace) -> None:
    """From its expiry on, a lock is gone: GetLock is empty and StatFile and ReadFile show no lock."""
    file = new_file(client, workspace)
    lock_briefly(client, file.file_id, "lock-a")
    assert_unlocked(get_lock(client, file.file_id))
    assert client.stat(file.file_id).lock.lock_id == ""
    info, _ = client.read_file(file.file_id)
    assert info.lock.lock_id == ""


def test_expired_lock_lets_another_id_lock(client: StorageClient, workspace: Workspace) -> None:
    """Lock with another id succeeds once the held lock has expired."""
    file = new_file(client, workspace)
    lock_briefly(client, file.file_id, "lock-a")
    locked = lock(client, file.file_id, "lock-b")
    assert locked.lock.lock_id == "lock-b"
    assert get_lock(client, file.file_id).lock_id == "lock-b"


def test_expired_lock_id_no_longer_unlocks_or_refreshes(client: StorageClient, workspace: Workspace) -> None:
    """RefreshLock, Unlock and UnlockAndRelock with an expired lock's id conflict with an empty lock."""
    file = new_file(client, workspace)
    lock_briefly(client, file.file_id, "lock-a")
    with expect_error(CONFLICT) as error:
        refresh(client, file.file_id, "lock-a")
    assert_unlocked(conflicting_lock(error))
    with expect_error(CONFLICT) as error:
        unlock(client, file.file_id, "lock-a")
    assert_unlocked(conflicting_lock(error))
    with expect_error(CONFLICT) as error:
        relock(client, file.file_id, "lock-a", "lock-b")
    assert_unlocked(conflicting_lock(error))
    assert_unlocked(get_lock(client, file.file_id))


def test_expired_lock_counts_as_unlocked_for_writes(client: StorageClient, workspace: Workspace) -> None:
    """After expiry a write that requires a lock is refused as unlocked, and one without a lock goes ahead."""
    file = new_file(client, workspace)
    lock_briefly(client, file.file_id, "lock-a")
    for presented in ("lock-a", ""):
        with expect_error(CONFLICT) as error:
            client.write_file(file.file_id, b"refused", lock_precondition(presented, pb.WHEN_UNLOCKED_REJECT))
        assert_unlocked(conflicting_lock(error))
    assert client.read_file(file.file_id)[1] == CONTENTS
    written = client.write_file(file.file_id, b"no lock needed", lock_precondition())
    assert written.size == len(b"no lock needed")
    assert client.read_file(file.file_id)[1] == b"no lock needed"


def test_refresh_with_short_ttl_expires_from_now(client: StorageClient, workspace: Workspace) -> None:
    """RefreshLock restarts the expiry from now: a long lock refreshed with a short TTL expires soon."""
    file = new_file(client, workspace)
    lock(client, file.file_id, "lock-a", 1800)
    refreshed = refresh(client, file.file_id, "lock-a", SHORT_TTL)
    assert_expires_in(refreshed.lock, SHORT_TTL)
    time.sleep(PAST_SHORT_TTL)
    assert_unlocked(get_lock(client, file.file_id))


def test_refreshed_lock_outlives_its_first_expiry(client: StorageClient, workspace: Workspace) -> None:
    """Lock with the same id and RefreshLock keep a short lock alive past its first expiry."""
    # The two refreshing calls must arrive before the short locks end. On a loaded machine or a slow adapter they
    # may not: then the round is inconclusive and runs again with fresh files and a lock twice as long, so the
    # outcome never depends on the machine's speed (only the test's duration does).
    for attempt, brief in enumerate((1.0, 2.0, 4.0, 8.0, 16.0)):
        first = new_file(client, workspace, f"first-{attempt}.docx")
        second = new_file(client, workspace, f"second-{attempt}.docx")
        started = time.monotonic()
        lock(client, first.file_id, "lock-a", brief)
        lock(client, second.file_id, "lock-b", brief)
        lock(client, first.file_id, "lock-a", 60)
        refresh(client, second.file_id, "lock-b", 60)
        if time.monotonic() - started < brief:
            break
    else:
        pytest.fail("the adapter took over 16 s for four lock calls")
    time.sleep(max(0.0, started + brief + 0.3 - time.monotonic()))
    assert get_lock(client, first.file_id).lock_id == "lock-a"
    assert get_lock(client, second.file_id).lock_id == "lock-b"
    with expect_error(CONFLICT) as error:
        lock(client, first.file_id, "lock-other")
    assert conflicting_lock(error).lock_id == "lock-a"


# ---------------------------------------------------------------------------------------------------------
# Lock ids


def printable_id(length: int) -> str:
    """A lock id of `length` characters cycling through every printable ASCII character."""
    return "".join(chr(0x20 + index % 95) for index in range(length))


def test_longest_lock_id_is_stored_verbatim(client: StorageClient, workspace: Workspace, caps: pb.Capabilities) -> None:
    """A lock id of exactly max_lock_id_length printable characters is accepted, returned and usable verbatim."""
    assert 256 <= caps.max_lock_id_length <= 1024
    file = new_file(client, workspace)
    longest = printable_id(caps.max_lock_id_length)
    assert lock(client, file.file_id, longest).lock.lock_id == longest
    assert get_lock(client, file.file_id).lock_id == longest
    assert client.stat(file.file_id).lock.lock_id == longest
    assert refresh(client, file.file_id, longest).lock.lock_id == longest
    client.write_file(file.file_id, b"written under the longest lock", lock_precondition(longest))
    other = "x" + longest[1:]
    with expect_error(CONFLICT) as error:
        lock(client, file.file_id, other)
    assert conflicting_lock(error).lock_id == longest
    assert relock(client, file.file_id, longest, other).lock.lock_id == other
    unlock(client, file.file_id, other)
    assert_unlocked(get_lock(client, file.file_id))


VERBATIM_LOCK_IDS = {
    "json": '{"S":"abc","F":4,"E":2}',
    "quotes": "with \"double\" and 'single' quotes",
    "spaces": "with spaces  and  double  gaps",
    "backslashes": "back\\slash\\\\es\\",
    "query": "a=1&b=2&c=%20",
    "edge-spaces": " leading and trailing spaces ",
    "punctuation": "<>#{}^[]`|~!@$*()+;:,.?/",
    "256-chars": "0123456789" * 25 + "abcdef",  # the least every adapter accepts
}


def test_lock_id_is_stored_verbatim(client: StorageClient, workspace: Workspace, subtests: pytest.Subtests) -> None:
    """Any printable ASCII lock id (WOPI sends JSON-like ones) is stored and returned exactly as given."""
    for kind, lock_id in VERBATIM_LOCK_IDS.items():
        with subtests.test(lock_id=kind):
            file = new_file(client, workspace, f"verbatim-{kind}.docx")
            assert lock(client, file.file_id, lock_id).lock.lock_id == lock_id
            assert get_lock(client, file.file_id).lock_id == lock_id
            assert client.stat(file.file_id).lock.lock_id == lock_id
            with expect_error(CONFLICT) as error:
                lock(client, file.file_id, "some-other-lock")
            assert conflicting_lock(error).lock_id == lock_id
            client.write_file(file.file_id, b"written", lock_precondition(lock_id))
            unlock(client, file.file_id, lock_id)


MALFORMED_LOCK_IDS = {
    "empty": "",
    "non-ascii": "verrouillé",
    "emoji": "lock-\U0001f512",
    "newline": "lock\nid",
    "tab": "lock\tid",
    "nul": "lock\x00id",
    "del": "lock\x7fid",
    "escape": "\x1b[31m",
}


def malformed_lock_ids(caps: pb.Capabilities) -> dict[str, str]:
    return {**MALFORMED_LOCK_IDS, "too-long": printable_id(caps.max_lock_id_length + 1)}


def test_malformed_lock_id_is_invalid_argument(
    client: StorageClient, workspace: Workspace, caps: pb.Capabilities, subtests: pytest.Subtests
) -> None:
    """Lock with an empty, too long, non-ASCII or control-character id is INVALID_ARGUMENT naming lock_id."""
    file = new_file(client, workspace)
    for kind, bad in malformed_lock_ids(caps).items():
        with subtests.test(lock_id=kind):
            with expect_error(INVALID) as error:
                lock(client, file.file_id, bad)
            assert_bad_request(error, "lock_id")
            assert_unlocked(get_lock(client, file.file_id))
    lock(client, file.file_id, "lock-a")  # the refused requests left the file lockable


def test_malformed_lock_id_leaves_held_lock_alone(
    client: StorageClient, workspace: Workspace, caps: pb.Capabilities, subtests: pytest.Subtests
) -> None:
    """RefreshLock, Unlock and UnlockAndRelock with a malformed id are INVALID_ARGUMENT and change nothing."""
    file = new_file(client, workspace)
    held = lock(client, file.file_id, "lock-a").lock
    before = file_state(client, file.file_id)
    for kind, bad in malformed_lock_ids(caps).items():
        calls: dict[str, tuple[Callable[[], object], str]] = {
            "Lock": (lambda bad=bad: lock(client, file.file_id, bad), "lock_id"),
            "RefreshLock": (lambda bad=bad: refresh(client, file.file_id, bad), "lock_id"),
            "Unlock": (lambda bad=bad: unlock(client, file.file_id, bad), "lock_id"),
            "UnlockAndRelock.lock_id": (lambda bad=bad: relock(client, file.file_id, "lock-a", bad), "lock_id"),
            "UnlockAndRelock.old_lock_id": (lambda bad=bad: relock(client, file.file_id, bad, "lock-b"), "old_lock_id"),
        }
        for rpc, (call, field) in calls.items():
            with subtests.test(lock_id=kind, rpc=rpc):
                with expect_error(INVALID) as error:
                    call()
                assert_bad_request(error, field)
    assert_lock_unchanged(client, file.file_id, held)
    assert file_state(client, file.file_id) == before


# ---------------------------------------------------------------------------------------------------------
# TTL


def bad_ttls(caps: pb.Capabilities) -> dict[str, object | None]:
    over = caps.max_lock_ttl.ToTimedelta() + timedelta(seconds=1)
    return {
        "missing": None,
        "zero": ttl(0),
        "negative": ttl(-1),
        "negative-nanos": ttl(-0.5),
        "over-max": ttl(over.total_seconds()),
    }


def test_bad_ttl_is_invalid_argument(
    client: StorageClient, workspace: Workspace, caps: pb.Capabilities, subtests: pytest.Subtests
) -> None:
    """A lock TTL that is missing, not more than 0 or over max_lock_ttl is INVALID_ARGUMENT, changing nothing."""
    assert caps.max_lock_ttl.ToTimedelta() >= timedelta(minutes=30), "WOPI locks last 30 minutes"
    unlocked = new_file(client, workspace, "unlocked.docx")
    locked = new_file(client, workspace, "locked.docx")
    held = lock(client, locked.file_id, "lock-a").lock
    for kind, bad in bad_ttls(caps).items():
        requests: dict[str, tuple[str, object]] = {
            "Lock on unlocked": ("Lock", pb.LockRequest(file_id=unlocked.file_id, lock_id="lock-a", ttl=bad)),
            "Lock on locked": ("Lock", pb.LockRequest(file_id=locked.file_id, lock_id="lock-a", ttl=bad)),
            "RefreshLock": ("RefreshLock", pb.RefreshLockRequest(file_id=locked.file_id, lock_id="lock-a", ttl=bad)),
            "UnlockAndRelock": (
                "UnlockAndRelock",
                pb.UnlockAndRelockRequest(file_id=locked.file_id, old_lock_id="lock-a", lock_id="lock-b", ttl=bad),
            ),
        }
        for case, (rpc, request) in requests.items():
            with subtests.test(ttl=kind, call=case):
                with expect_error(INVALID) as error:
                    client.call(rpc, request)  # type: ignore[arg-type]
                assert_bad_request(error, "ttl")
    assert_unlocked(get_lock(client, unlocked.file_id))
    assert_lock_unchanged(client, locked.file_id, held)


def test_longest_ttl_is_accepted(client: StorageClient, workspace: Workspace, caps: pb.Capabilities) -> None:
    """A TTL of exactly max_lock_ttl is accepted."""
    file = new_file(client, workspace)
    seconds = caps.max_lock_ttl.ToTimedelta().total_seconds()
    locked = lock(client, file.file_id, "lock-a", seconds)
    assert_expires_in(locked.lock, seconds)

"""Preconditions: the same lock and version rules on every change to a file (write, rename, delete, restore).

A locked file changes only for the caller presenting its lock id, and no field can bypass that; on an
unlocked file `when_unlocked` decides; `if_version` guards against lost updates. Every refused change leaves
the file exactly as it was: contents, version, name, lock and the container's listing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import grpc
import pytest

from tests.contract.client import (
    FileState,
    StorageClient,
    assert_bad_request,
    conflicting_lock,
    expect_error,
    file_state,
    lock_precondition,
    ttl,
)
from tests.contract.conftest import Workspace, requires
from wopi_proto.storage_v1 import storage_pb2 as pb

CONFLICT = grpc.StatusCode.FAILED_PRECONDITION
EARLIER = b"the earlier contents"
CURRENT = b"the current contents"
# Large enough to travel in several chunks, so a refused write really had data in flight.
NEW_CONTENTS = bytes(range(256)) * 2048
WHEN_UNLOCKED = {
    "unspecified": pb.WHEN_UNLOCKED_UNSPECIFIED,
    "allow": pb.WHEN_UNLOCKED_ALLOW,
    "require-empty": pb.WHEN_UNLOCKED_REQUIRE_EMPTY,
    "reject": pb.WHEN_UNLOCKED_REJECT,
}


def preconditions(
    lock_id: str = "", when_unlocked: int = pb.WHEN_UNLOCKED_ALLOW, if_version: str = ""
) -> pb.Preconditions:
    return pb.Preconditions(
        lock=pb.LockPrecondition(lock_id=lock_id, when_unlocked=when_unlocked), if_version=if_version
    )


# ---------------------------------------------------------------------------------------------------------
# The changes under test, each with how to make it and how to see that it happened.


@dataclass(frozen=True)
class Change:
    name: str
    # A capability the change needs, if any.
    capability: str | None
    apply: Callable[[StorageClient, pb.FileInfo, pb.Preconditions | None], object]
    assert_applied: Callable[[StorageClient, FileState], None]


def renamed(name: str) -> str:
    stem, dot, extension = name.rpartition(".")
    return f"{stem}-renamed{dot}{extension}"


def _write(client: StorageClient, file: pb.FileInfo, given: pb.Preconditions | None) -> object:
    return client.write_file(file.file_id, NEW_CONTENTS, given)


def _write_applied(client: StorageClient, before: FileState) -> None:
    after = file_state(client, before.stat.file_id)
    assert after.contents == NEW_CONTENTS
    assert after.stat.version != before.stat.version


def _rename(client: StorageClient, file: pb.FileInfo, given: pb.Preconditions | None) -> object:
    request = pb.RenameFileRequest(file_id=file.file_id, new_name=renamed(file.name), preconditions=given)
    return client.call("RenameFile", request)


def _rename_applied(client: StorageClient, before: FileState) -> None:
    after = file_state(client, before.stat.file_id)
    assert after.stat.name == renamed(before.stat.name)
    assert after.stat.version == before.stat.version, "a rename does not change the version"
    assert after.contents == before.contents


def _delete(client: StorageClient, file: pb.FileInfo, given: pb.Preconditions | None) -> object:
    return client.call("DeleteFile", pb.DeleteFileRequest(file_id=file.file_id, preconditions=given))


def _delete_applied(client: StorageClient, before: FileState) -> None:
    with expect_error(grpc.StatusCode.NOT_FOUND):
        client.stat(before.stat.file_id)
    request = pb.LookupChildRequest(container_id=before.stat.parent_container_id, name=before.stat.name)
    with expect_error(grpc.StatusCode.NOT_FOUND):
        client.call("LookupChild", request)


def _restore(client: StorageClient, file: pb.FileInfo, given: pb.Preconditions | None) -> object:
    history = client.call("ListVersions", pb.ListVersionsRequest(file_id=file.file_id)).versions  # type: ignore[attr-defined]
    earliest = history[-1].version
    return client.call(
        "RestoreVersion", pb.RestoreVersionRequest(file_id=file.file_id, version=earliest, preconditions=given)
    )


def _restore_applied(client: StorageClient, before: FileState) -> None:
    after = file_state(client, before.stat.file_id)
    assert after.contents == EARLIER
    assert after.stat.version != before.stat.version


CHANGES = [
    Change("WriteFile", None, _write, _write_applied),
    Change("RenameFile", None, _rename, _rename_applied),
    Change("DeleteFile", None, _delete, _delete_applied),
    Change("RestoreVersion", "version_history", _restore, _restore_applied),
]


@pytest.fixture(params=CHANGES, ids=[change.name for change in CHANGES])
def change(request: pytest.FixtureRequest, caps: pb.Capabilities) -> Change:
    chosen: Change = request.param
    if chosen.capability:
        requires(caps, chosen.capability)
    return chosen


class Files:
    """Makes the files a test changes: each has an earlier version (for RestoreVersion) and given contents."""

    def __init__(self, client: StorageClient, workspace: Workspace) -> None:
        self.client = client
        self.workspace = workspace
        self.count = 0

    def make(self, contents: bytes = CURRENT, lock_id: str = "") -> pb.FileInfo:
        self.count += 1
        name = self.workspace.name(f"file-{self.count}.docx")
        created = self.client.create_file(self.workspace.container_id, name, EARLIER)
        file = self.client.write_file(created.file_id, contents)
        if lock_id:
            request = pb.LockRequest(file_id=file.file_id, lock_id=lock_id, ttl=ttl(1800))
            file = self.client.call("Lock", request).file  # type: ignore[attr-defined]
        return file

    def listing(self) -> list[tuple[str, str]]:
        """The names and ids in the workspace (only this test's items when sharing the root)."""
        items = []
        for item in self.client.children(self.workspace.container_id):
            kind = item.WhichOneof("item")
            info = item.file if kind == "file" else item.container
            item_id = info.file_id if kind == "file" else info.container_id  # type: ignore[union-attr]
            if info.name.startswith(self.workspace.prefix):
                items.append((info.name, item_id))
        return sorted(items)


@pytest.fixture
def files(client: StorageClient, workspace: Workspace) -> Files:
    return Files(client, workspace)


@dataclass
class Observed:
    """A file and its workspace as seen before a change, to prove that a refused change changed nothing."""

    state: FileState
    listing: list[tuple[str, str]]


def observe(client: StorageClient, files: Files, file: pb.FileInfo) -> Observed:
    return Observed(file_state(client, file.file_id), files.listing())


def assert_unchanged(client: StorageClient, files: Files, before: Observed) -> None:
    after = observe(client, files, before.state.stat)
    assert after.state.contents == before.state.contents, "a refused change must leave the contents"
    assert after.state.stat == before.state.stat, "a refused change must leave the metadata and lock"
    assert after.state.read_info == before.state.read_info
    assert after.listing == before.listing, "a refused change must leave the name"


def assert_refused(
    client: StorageClient, files: Files, change: Change, file: pb.FileInfo, given: pb.Preconditions | None
) -> pb.LockInfo:
    """The change is FAILED_PRECONDITION + LockConflict and leaves everything as it was; returns the lock."""
    before = observe(client, files, file)
    with expect_error(CONFLICT) as error:
        change.apply(client, file, given)
    assert_unchanged(client, files, before)
    return conflicting_lock(error)


def assert_goes_ahead(client: StorageClient, change: Change, file: pb.FileInfo, given: pb.Preconditions | None) -> None:
    before = file_state(client, file.file_id)
    change.apply(client, file, given)
    change.assert_applied(client, before)


# ---------------------------------------------------------------------------------------------------------
# A locked file


def test_locked_file_refuses_change_without_lock_id(client: StorageClient, files: Files, change: Change) -> None:
    """A change to a locked file without a lock id is FAILED_PRECONDITION + LockConflict naming the lock."""
    file = files.make(lock_id="held-lock")
    current = assert_refused(client, files, change, file, lock_precondition())
    assert current.lock_id == "held-lock"
    assert current.expires_time == file.lock.expires_time


def test_locked_file_refuses_change_with_wrong_lock_id(client: StorageClient, files: Files, change: Change) -> None:
    """A change to a locked file with another lock id (even one differing only in case) is refused."""
    file = files.make(lock_id="held-lock")
    for wrong in ("other-lock", "HELD-LOCK", "held-lock ", "held"):
        assert assert_refused(client, files, change, file, lock_precondition(wrong)).lock_id == "held-lock"


def test_no_field_bypasses_a_lock(
    client: StorageClient, files: Files, change: Change, subtests: pytest.Subtests
) -> None:
    """Whatever when_unlocked and if_version say, a locked file is refused without its lock id."""
    file = files.make(lock_id="held-lock")
    for when_unlocked, value in WHEN_UNLOCKED.items():
        attempts = {
            "no lock id": preconditions("", value),
            "wrong lock id": preconditions("other-lock", value),
            "matching if_version": preconditions("", value, if_version=file.version),
        }
        for attempt, given in attempts.items():
            with subtests.test(when_unlocked=when_unlocked, attempt=attempt):
                assert assert_refused(client, files, change, file, given).lock_id == "held-lock"


def test_locked_file_refuses_change_without_preconditions(client: StorageClient, files: Files, change: Change) -> None:
    """Unset preconditions mean "no lock id": a locked file is refused."""
    file = files.make(lock_id="held-lock")
    assert assert_refused(client, files, change, file, None).lock_id == "held-lock"
    assert assert_refused(client, files, change, file, pb.Preconditions()).lock_id == "held-lock"


def test_locked_file_allows_change_with_its_lock_id(
    client: StorageClient, files: Files, change: Change, subtests: pytest.Subtests
) -> None:
    """A change presenting the held lock id goes ahead, whatever when_unlocked says (it applies only unlocked)."""
    for when_unlocked, value in WHEN_UNLOCKED.items():
        with subtests.test(when_unlocked=when_unlocked):
            file = files.make(lock_id="held-lock")
            assert_goes_ahead(client, change, file, preconditions("held-lock", value))
            if change.name != "DeleteFile":
                assert client.stat(file.file_id).lock.lock_id == "held-lock", "a change under a lock keeps the lock"


def test_delete_with_lock_id_removes_locked_file(client: StorageClient, files: Files, workspace: Workspace) -> None:
    """DeleteFile of a locked file presenting its lock deletes it, and the name becomes free."""
    file = files.make(lock_id="held-lock")
    client.call("DeleteFile", pb.DeleteFileRequest(file_id=file.file_id, preconditions=lock_precondition("held-lock")))
    with expect_error(grpc.StatusCode.NOT_FOUND):
        client.stat(file.file_id)
    with expect_error(grpc.StatusCode.NOT_FOUND):
        client.call("GetLock", pb.GetLockRequest(file_id=file.file_id))
    again = client.create_file(workspace.container_id, file.name, b"new file, same name")
    assert again.file_id != file.file_id
    assert again.lock.lock_id == ""


# ---------------------------------------------------------------------------------------------------------
# An unlocked file


def test_unlocked_file_allows_change(
    client: StorageClient, files: Files, change: Change, subtests: pytest.Subtests
) -> None:
    """On an unlocked file, WHEN_UNLOCKED_ALLOW and UNSPECIFIED go ahead, with or without a lock id."""
    for when_unlocked in ("unspecified", "allow"):
        for lock_id in ("", "stale-lock"):
            with subtests.test(when_unlocked=when_unlocked, lock_id=lock_id):
                assert_goes_ahead(client, change, files.make(), preconditions(lock_id, WHEN_UNLOCKED[when_unlocked]))


def test_unlocked_file_allows_change_without_preconditions(client: StorageClient, files: Files, change: Change) -> None:
    """Unset preconditions on an unlocked file go ahead (no lock id, WHEN_UNLOCKED_ALLOW)."""
    assert_goes_ahead(client, change, files.make(), None)


def test_unlocked_file_refuses_change_when_rejected(client: StorageClient, files: Files, change: Change) -> None:
    """WHEN_UNLOCKED_REJECT on an unlocked file is FAILED_PRECONDITION + LockConflict with an empty lock."""
    file = files.make()
    for lock_id in ("", "stale-lock"):
        current = assert_refused(client, files, change, file, preconditions(lock_id, pb.WHEN_UNLOCKED_REJECT))
        assert current.lock_id == ""


def test_require_empty_allows_change_to_empty_file(client: StorageClient, files: Files, change: Change) -> None:
    """WHEN_UNLOCKED_REQUIRE_EMPTY goes ahead on an unlocked 0-byte file (WOPI PutFile on a new file)."""
    file = files.make(contents=b"")
    assert file.size == 0
    assert_goes_ahead(client, change, file, preconditions("", pb.WHEN_UNLOCKED_REQUIRE_EMPTY))


def test_require_empty_refuses_change_to_non_empty_file(client: StorageClient, files: Files, change: Change) -> None:
    """WHEN_UNLOCKED_REQUIRE_EMPTY on an unlocked non-empty file is FAILED_PRECONDITION with an empty lock."""
    file = files.make(contents=b"x")
    for lock_id in ("", "stale-lock"):
        current = assert_refused(client, files, change, file, preconditions(lock_id, pb.WHEN_UNLOCKED_REQUIRE_EMPTY))
        assert current.lock_id == ""


def test_require_empty_write_creates_contents_of_new_file(client: StorageClient, workspace: Workspace) -> None:
    """The WOPI new-file flow: create an empty file, then the first unlocked write with REQUIRE_EMPTY lands."""
    file = client.create_file(workspace.container_id, workspace.name("new.docx"))
    written = client.write_file(file.file_id, CURRENT, preconditions("", pb.WHEN_UNLOCKED_REQUIRE_EMPTY))
    assert written.size == len(CURRENT)
    with expect_error(CONFLICT) as error:
        client.write_file(file.file_id, b"second", preconditions("", pb.WHEN_UNLOCKED_REQUIRE_EMPTY))
    assert conflicting_lock(error).lock_id == ""
    assert client.read_file(file.file_id)[1] == CURRENT


# ---------------------------------------------------------------------------------------------------------
# Versions


def test_matching_if_version_allows_change(client: StorageClient, files: Files, change: Change) -> None:
    """A change whose if_version equals the current version goes ahead (also together with the held lock)."""
    file = files.make()
    assert_goes_ahead(client, change, file, preconditions(if_version=file.version))
    locked = files.make(lock_id="held-lock")
    assert_goes_ahead(client, change, locked, preconditions("held-lock", if_version=locked.version))


def test_stale_if_version_is_aborted(client: StorageClient, files: Files, change: Change) -> None:
    """A change whose if_version is not current is ABORTED + VersionConflict with the current version."""
    file = files.make()
    locked = files.make(lock_id="held-lock")
    attempts = [
        (file, preconditions(if_version="not-a-version-of-this-file")),
        (locked, preconditions("held-lock", if_version="not-a-version-of-this-file")),
    ]
    for target, given in attempts:
        before = observe(client, files, target)
        with expect_error(grpc.StatusCode.ABORTED) as error:
            change.apply(client, target, given)
        assert error.detail(pb.VersionConflict).current_version == target.version  # type: ignore[attr-defined]
        assert_unchanged(client, files, before)


def test_version_of_earlier_contents_is_aborted(client: StorageClient, files: Files, change: Change) -> None:
    """if_version naming the file's previous version (a lost update) is ABORTED with the current version."""
    file = files.make()
    stale = client.write_file(file.file_id, b"an intermediate write").version
    file = client.write_file(file.file_id, CURRENT)
    before = observe(client, files, file)
    with expect_error(grpc.StatusCode.ABORTED) as error:
        change.apply(client, file, preconditions(if_version=stale))
    assert error.detail(pb.VersionConflict).current_version == file.version  # type: ignore[attr-defined]
    assert_unchanged(client, files, before)


# ---------------------------------------------------------------------------------------------------------
# Malformed preconditions


def test_malformed_precondition_lock_id_is_invalid_argument(
    client: StorageClient, files: Files, change: Change, caps: pb.Capabilities, subtests: pytest.Subtests
) -> None:
    """A lock id in preconditions that is too long, non-ASCII or has control characters is INVALID_ARGUMENT."""
    malformed = {"too-long": "L" * (caps.max_lock_id_length + 1), "non-ascii": "verrouillé", "control": "lock\nid"}
    targets = {"unlocked": files.make(), "locked": files.make(lock_id="held-lock")}
    for kind, bad in malformed.items():
        for state, file in targets.items():
            with subtests.test(lock_id=kind, file=state):
                before = observe(client, files, file)
                with expect_error(grpc.StatusCode.INVALID_ARGUMENT) as error:
                    change.apply(client, file, preconditions(bad))
                assert_bad_request(error, "lock_id")
                assert_unchanged(client, files, before)


def test_longest_precondition_lock_id_is_accepted(
    client: StorageClient, files: Files, change: Change, caps: pb.Capabilities
) -> None:
    """A lock id of exactly max_lock_id_length characters works in preconditions."""
    longest = "L" * caps.max_lock_id_length
    file = files.make(lock_id=longest)
    assert assert_refused(client, files, change, file, lock_precondition("L" * 256)).lock_id == longest
    assert_goes_ahead(client, change, file, lock_precondition(longest))

"""The audit trail (`Capabilities.audit_trail`: ListAuditEvents) and lock administration
(`Capabilities.lock_administration`: ListLockedFiles, BreakLock).

Each kind of change is recorded once, by the principal of the call, with its details and never a lock id; a
refresh, a change that changes nothing and a refused change record nothing; pages walk a trail newest first and
refuse what they did not hand out; reading a trail needs read, and a container's trail shows a child's deletion
only to those who could read the child; only an administrator lists the locked files, expired locks are never
listed, and a broken lock is gone, recorded with its reason.

Each test makes a few dozen calls at most, so that the file stays fast on every backend variant.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import grpc
import pytest

from tests.contract.client import (
    StorageClient,
    assert_bad_request,
    expect_error,
    expect_on_each,
    lock_precondition,
    ttl,
    unknown_id,
)
from tests.contract.conftest import AdapterAddress, Workspace, requires
from wopi_proto.storage_v1 import storage_pb2 as pb

Metadata = list[tuple[str, str | bytes]]
A = pb.AuditAction
INVALID = grpc.StatusCode.INVALID_ARGUMENT
CONFLICT = grpc.StatusCode.FAILED_PRECONDITION
DENIED = grpc.StatusCode.PERMISSION_DENIED
LONG = ttl(1800)


@pytest.fixture
def audited(caps: pb.Capabilities) -> None:
    requires(caps, "audit_trail")


def someone(role: str) -> str:
    """A principal id unique to this test."""
    return f"contract-{role}-{uuid.uuid4().hex[:10]}"


def trail(
    client: StorageClient, size: int = 0, token: str = "", metadata: Metadata | None = None, **item: str
) -> pb.ListAuditEventsResponse:
    """One page of the trail of `file_id=` or `container_id=`."""
    request = pb.ListAuditEventsRequest(page_size=size, page_token=token, **item)  # type: ignore[arg-type]
    return client.call("ListAuditEvents", request, metadata=metadata or client.metadata())  # type: ignore[return-value]


def every_event(client: StorageClient, metadata: Metadata | None = None, **item: str) -> list[pb.AuditEvent]:
    """Every page of the item's trail until the last, at most 100 of them."""
    pages = [trail(client, 200, metadata=metadata, **item)]
    while pages[-1].next_page_token:
        assert len(pages) < 100, "the pages never end"
        pages.append(trail(client, 200, pages[-1].next_page_token, metadata, **item))
    return [event for page in pages for event in page.events]


def actions(events: list[pb.AuditEvent]) -> list[int]:
    return [event.action for event in events]


def call(client: StorageClient, rpc: str, request: object, metadata: Metadata | None = None) -> pb.FileInfo:
    """A lock RPC or a rename, answered with the file."""
    answer = client.call(rpc, request, metadata=metadata or client.metadata())  # type: ignore[arg-type]
    return answer.file if isinstance(answer, pb.LockResponse) else answer  # type: ignore[return-value]


def locked_files(client: StorageClient, metadata: Metadata, size: int = 1000) -> list[pb.FileInfo]:
    """Every page of ListLockedFiles, at most 1,000 of them."""
    files: list[pb.FileInfo] = []
    token = ""
    for _ in range(1000):
        request = pb.ListLockedFilesRequest(page_size=size, page_token=token)
        page = client.call("ListLockedFiles", request, metadata=metadata)
        files += page.files  # type: ignore[attr-defined]
        token = page.next_page_token  # type: ignore[attr-defined]
        if not token:
            return files
    raise AssertionError("the pages never end")


def break_lock(client: StorageClient, file_id: str, reason: str, metadata: Metadata) -> pb.FileInfo:
    return client.call("BreakLock", pb.BreakLockRequest(file_id=file_id, reason=reason), metadata=metadata).file  # type: ignore[attr-defined,no-any-return]


def admin_of(adapter_address: AdapterAddress, client: StorageClient) -> Metadata:
    if adapter_address.admin_principal is None:
        pytest.skip("no administrator of the adapter is known (--storage-admin-principal)")
    return client.metadata(user_id=adapter_address.admin_principal, display_name="The Operator")


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll until `condition` holds (a state reached, not a duration assumed); fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.05)


@pytest.mark.also_without_access_control
def test_each_change_is_recorded_once_by_its_principal(
    client: StorageClient, workspace: Workspace, caps: pb.Capabilities, audited: None
) -> None:
    """Create, write, rename, lock, relock, unlock and restore each record one event, newest first, by the caller,
    with their details; a refresh and a rename to the same name record nothing, and no event names a lock id. A
    delete takes the file's trail with it and is recorded in its container's."""
    assert caps.max_audit_events_per_item >= 100
    ada = client.metadata(display_name="Ada Lovelace")
    name, new_name = workspace.name("audited.docx"), workspace.name("renamed.docx")
    file = client.create_file(workspace.container_id, name, b"one", metadata=ada)
    written = client.write_file(file.file_id, b"two", metadata=ada)
    renamed = call(client, "RenameFile", pb.RenameFileRequest(file_id=file.file_id, new_name=new_name), ada)
    call(client, "RenameFile", pb.RenameFileRequest(file_id=file.file_id, new_name=new_name), ada)  # no change
    locked = call(client, "Lock", pb.LockRequest(file_id=file.file_id, lock_id="lock-one", ttl=LONG), ada)
    call(client, "Lock", pb.LockRequest(file_id=file.file_id, lock_id="lock-one", ttl=LONG), ada)  # a refresh
    call(client, "RefreshLock", pb.RefreshLockRequest(file_id=file.file_id, lock_id="lock-one", ttl=LONG), ada)
    relock = pb.UnlockAndRelockRequest(file_id=file.file_id, old_lock_id="lock-one", lock_id="lock-two", ttl=LONG)
    relocked = call(client, "UnlockAndRelock", relock, ada)
    call(client, "Unlock", pb.UnlockRequest(file_id=file.file_id, lock_id="lock-two"), ada)
    expected = [A.AUDIT_ACTION_UNLOCKED, A.AUDIT_ACTION_RELOCKED, A.AUDIT_ACTION_LOCKED, A.AUDIT_ACTION_RENAMED]
    expected += [A.AUDIT_ACTION_WRITTEN, A.AUDIT_ACTION_CREATED]
    if caps.version_history:
        restore = pb.RestoreVersionRequest(file_id=file.file_id, version=file.version)
        restored = client.call("RestoreVersion", restore, metadata=ada)
        expected.insert(0, A.AUDIT_ACTION_VERSION_RESTORED)

    events = every_event(client, file_id=file.file_id)
    assert actions(events) == expected
    for event in events:
        assert event.actor == pb.Principal(user_id=client.user_id, display_name="Ada Lovelace")
        assert event.file_id == file.file_id and event.HasField("time")
        assert "lock-one" not in str(event) and "lock-two" not in str(event)  # lock ids are never recorded
    times = [event.time.ToDatetime() for event in events]
    assert times == sorted(times, reverse=True)
    by_action = {event.action: event for event in events}
    assert by_action[A.AUDIT_ACTION_CREATED].name == name
    assert by_action[A.AUDIT_ACTION_CREATED].version == file.version
    assert by_action[A.AUDIT_ACTION_WRITTEN].version == written.version
    rename = by_action[A.AUDIT_ACTION_RENAMED]
    assert (rename.old_name, rename.name) == (name, renamed.name)
    assert by_action[A.AUDIT_ACTION_LOCKED].lock_expires_time == locked.lock.expires_time
    assert by_action[A.AUDIT_ACTION_RELOCKED].lock_expires_time == relocked.lock.expires_time
    assert not by_action[A.AUDIT_ACTION_UNLOCKED].HasField("lock_expires_time")
    if caps.version_history:
        restore_event = by_action[A.AUDIT_ACTION_VERSION_RESTORED]
        assert (restore_event.restored_version, restore_event.version) == (file.version, restored.version)  # type: ignore[attr-defined]

    client.call("DeleteFile", pb.DeleteFileRequest(file_id=file.file_id), metadata=ada)
    with expect_error(grpc.StatusCode.NOT_FOUND):
        trail(client, file_id=file.file_id)  # the file's trail went with it
    [deletion] = trail(client, 1, container_id=workspace.container_id).events
    assert deletion.action == A.AUDIT_ACTION_DELETED and deletion.file_id == file.file_id
    assert deletion.name == new_name and deletion.actor.display_name == "Ada Lovelace"
    if caps.containers:  # the workspace: made by the fixture, the oldest event of its trail
        oldest = every_event(client, container_id=workspace.container_id)[-1]
        assert oldest.action == A.AUDIT_ACTION_CREATED and oldest.container_id == workspace.container_id


def test_share_changes_are_recorded_when_they_change_something(
    client: StorageClient, workspace: Workspace, caps: pb.Capabilities, audited: None
) -> None:
    """GrantAccess records the grantee and the role when it gives or changes one; granting the same role again, or
    revoking a grant that does not exist, records nothing. Container renames are recorded on the container."""
    requires(caps, "access_control")
    file = client.create_file(workspace.container_id, workspace.name("shared.docx"), b"")
    bob = someone("bob")

    def grant(role: int) -> None:
        request = pb.GrantAccessRequest(file_id=file.file_id, grantee=pb.Grantee(user_id=bob), role=role)  # type: ignore[arg-type]
        client.call("GrantAccess", request)

    def revoke() -> None:
        client.call("RevokeAccess", pb.RevokeAccessRequest(file_id=file.file_id, grantee=pb.Grantee(user_id=bob)))

    grant(pb.ROLE_VIEWER)
    grant(pb.ROLE_VIEWER)  # the same: nothing changes
    grant(pb.ROLE_EDITOR)
    revoke()
    revoke()  # no grant any more: nothing changes
    events = every_event(client, file_id=file.file_id)
    assert actions(events) == [
        A.AUDIT_ACTION_REVOKED,
        A.AUDIT_ACTION_GRANTED,
        A.AUDIT_ACTION_GRANTED,
        A.AUDIT_ACTION_CREATED,
    ]
    assert all(event.grantee == pb.Grantee(user_id=bob) for event in events[:3])
    assert [event.role for event in events[1:3]] == [pb.ROLE_EDITOR, pb.ROLE_VIEWER]
    assert events[0].role == pb.ROLE_UNSPECIFIED

    if caps.containers:
        folder = client.call(
            "CreateContainer", pb.CreateContainerRequest(parent_container_id=workspace.container_id, name="old")
        )
        client.call("RenameContainer", pb.RenameContainerRequest(container_id=folder.container_id, new_name="new"))  # type: ignore[attr-defined]
        events = every_event(client, container_id=folder.container_id)  # type: ignore[attr-defined]
        assert actions(events) == [A.AUDIT_ACTION_RENAMED, A.AUDIT_ACTION_CREATED]
        assert (events[0].old_name, events[0].name, events[1].name) == ("old", "new", "old")


def test_a_refused_change_records_nothing(
    client: StorageClient, workspace: Workspace, caps: pb.Capabilities, adapter_address: AdapterAddress, audited: None
) -> None:
    """A failed lock, version or name precondition, a missing permission, a BreakLock of an unlocked file: each is
    refused and leaves the trails of the file and of its container exactly as they were."""
    file = client.create_file(workspace.container_id, workspace.name("guarded.docx"), b"")
    other = client.create_file(workspace.container_id, workspace.name("taken.docx"), b"")
    call(client, "Lock", pb.LockRequest(file_id=file.file_id, lock_id="held", ttl=LONG))
    before = every_event(client, file_id=file.file_id), every_event(client, container_id=workspace.container_id)
    held = lock_precondition("held")
    expect_on_each(
        {
            "WriteFile without the lock": lambda: client.write_file(file.file_id, b"x"),
            "Lock with another id": lambda: client.lock(file.file_id, "other"),
            "Unlock with another id": lambda: client.call(
                "Unlock", pb.UnlockRequest(file_id=file.file_id, lock_id="other")
            ),
            "UnlockAndRelock from another id": lambda: client.call(
                "UnlockAndRelock",
                pb.UnlockAndRelockRequest(file_id=file.file_id, old_lock_id="other", lock_id="new", ttl=LONG),
            ),
            "DeleteFile without the lock": lambda: client.call(
                "DeleteFile", pb.DeleteFileRequest(file_id=file.file_id)
            ),
        },
        CONFLICT,
    )
    if caps.lock_administration and (caps.access_control or adapter_address.admin_principal):
        with expect_error(CONFLICT):
            break_lock(client, other.file_id, "stuck", _admin_or_self(adapter_address, client))
    with expect_error(grpc.StatusCode.ABORTED):
        client.write_file(file.file_id, b"x", pb.Preconditions(lock=held.lock, if_version="not-the-version"))
    with expect_error(grpc.StatusCode.ALREADY_EXISTS):
        client.call("RenameFile", pb.RenameFileRequest(file_id=file.file_id, new_name=other.name, preconditions=held))
    if caps.access_control:
        viewer = someone("viewer")
        grant = pb.GrantAccessRequest(file_id=file.file_id, grantee=pb.Grantee(user_id=viewer), role=pb.ROLE_VIEWER)
        client.call("GrantAccess", grant)
        before = every_event(client, file_id=file.file_id), before[1]
        with expect_error(DENIED):
            client.write_file(file.file_id, b"x", held, metadata=client.metadata(viewer))
        with expect_error(DENIED) as denied:
            break_lock(client, file.file_id, "mine now", client.metadata(viewer))
        assert denied.detail(pb.PermissionDenied).permission == "manage_sharing"  # type: ignore[attr-defined]
    after = every_event(client, file_id=file.file_id), every_event(client, container_id=workspace.container_id)
    assert after == before
    assert client.get_lock(file.file_id) == "held"


def _admin_or_self(adapter_address: AdapterAddress, client: StorageClient) -> Metadata:
    """An administrator where one is known (who may break any lock), else the caller (the owner, where access
    control lets an owner break locks)."""
    admin = adapter_address.admin_principal
    return client.metadata(user_id=admin) if admin else client.metadata()


def test_pages_walk_a_trail_once_newest_first(client: StorageClient, workspace: Workspace, audited: None) -> None:
    """Pages of 3 of a trail of 7 events: 3, 3, 1, the same events as one big page; bad page sizes, tokens not
    handed out for this item, and a request naming no item are INVALID_ARGUMENT; an unknown item NOT_FOUND."""
    file = client.create_file(workspace.container_id, workspace.name("paged-0.docx"), b"")
    for number in range(1, 7):
        client.call(
            "RenameFile", pb.RenameFileRequest(file_id=file.file_id, new_name=workspace.name(f"paged-{number}.docx"))
        )
    pages = [trail(client, 3, file_id=file.file_id)]
    while pages[-1].next_page_token:
        assert len(pages) < 10
        pages.append(trail(client, 3, pages[-1].next_page_token, file_id=file.file_id))
    assert [len(page.events) for page in pages] == [3, 3, 1]
    walked = [event for page in pages for event in page.events]
    assert walked == every_event(client, file_id=file.file_id)
    assert [event.name for event in walked[:6]] == [workspace.name(f"paged-{n}.docx") for n in range(6, 0, -1)]
    assert walked[-1].action == A.AUDIT_ACTION_CREATED

    with expect_error(INVALID) as error:
        trail(client, 201, file_id=file.file_id)
    assert_bad_request(error, "page_size")
    second = client.create_file(workspace.container_id, workspace.name("second.docx"), b"")
    client.write_file(second.file_id, b"changed")
    other = trail(client, 1, file_id=second.file_id).next_page_token  # another item's token
    assert other
    for token in ("not-a-token", "A" * 1025, other):
        with expect_error(INVALID) as error:
            trail(client, 3, token, file_id=file.file_id)
        assert_bad_request(error, "page_token")
    with expect_error(INVALID) as error:
        client.call("ListAuditEvents", pb.ListAuditEventsRequest())
    assert_bad_request(error, "item")
    with expect_error(grpc.StatusCode.NOT_FOUND):
        trail(client, file_id=unknown_id())


def test_reading_a_trail_needs_read_and_a_deletion_shows_only_to_who_could_read_the_item(
    client: StorageClient,
    workspace: Workspace,
    caps: pb.Capabilities,
    root: pb.ContainerInfo,
    adapter_address: AdapterAddress,
    audited: None,
) -> None:
    """A stranger gets NOT_FOUND, a viewer lists. A folder's viewer sees its children's deletions (it could read
    them); in the root, which every principal reads, a deletion shows to the one who deleted and to an
    administrator, not to others, who never learn the name."""
    requires(caps, "access_control")
    file = client.create_file(workspace.container_id, workspace.name("private.docx"), b"")
    stranger, viewer = client.metadata(someone("stranger")), someone("viewer")
    with expect_error(grpc.StatusCode.NOT_FOUND):
        trail(client, file_id=file.file_id, metadata=stranger)
    with expect_error(grpc.StatusCode.NOT_FOUND):
        trail(client, container_id=workspace.container_id, metadata=stranger)
    grant = pb.GrantAccessRequest(
        container_id=workspace.container_id, grantee=pb.Grantee(user_id=viewer), role=pb.ROLE_VIEWER
    )
    client.call("GrantAccess", grant)
    assert trail(client, file_id=file.file_id, metadata=client.metadata(viewer)).events  # inherited read
    client.call("DeleteFile", pb.DeleteFileRequest(file_id=file.file_id))
    [newest] = trail(client, 1, container_id=workspace.container_id, metadata=client.metadata(viewer)).events
    assert newest.action == A.AUDIT_ACTION_DELETED and newest.file_id == file.file_id

    if not caps.containers:
        return
    secret_name = f"contract-secret-{uuid.uuid4().hex[:10]}"
    folder = client.call(
        "CreateContainer", pb.CreateContainerRequest(parent_container_id=root.container_id, name=secret_name)
    )
    client.call("DeleteContainer", pb.DeleteContainerRequest(container_id=folder.container_id))  # type: ignore[attr-defined]
    [mine] = trail(client, 1, container_id=root.container_id).events
    assert mine.action == A.AUDIT_ACTION_DELETED and mine.container_id == folder.container_id  # type: ignore[attr-defined]
    assert secret_name not in str(every_event(client, container_id=root.container_id, metadata=stranger))
    if adapter_address.admin_principal:
        admin = client.metadata(user_id=adapter_address.admin_principal)
        assert trail(client, 1, container_id=root.container_id, metadata=admin).events[0] == mine


@pytest.mark.also_without_access_control
def test_only_an_administrator_lists_the_locked_files_and_breaks_a_lock(
    client: StorageClient, workspace: Workspace, caps: pb.Capabilities, adapter_address: AdapterAddress, audited: None
) -> None:
    """ListLockedFiles and (without access control) BreakLock are PERMISSION_DENIED naming "administrator" for
    anyone else. The administrator finds the file, who locked it and since when; a bad reason is INVALID_ARGUMENT;
    the broken lock is gone, listed nowhere, recorded once with its reason and holder; the holder's next save is a
    lock mismatch; breaking it again is FAILED_PRECONDITION and records nothing."""
    requires(caps, "lock_administration")
    file = client.create_file(workspace.container_id, workspace.name("stuck.docx"), b"")
    editor = someone("editor")
    if caps.access_control:
        client.call(
            "GrantAccess",
            pb.GrantAccessRequest(file_id=file.file_id, grantee=pb.Grantee(user_id=editor), role=pb.ROLE_EDITOR),
        )
    crashed = client.metadata(editor, display_name="Eve Editor")
    locked = call(client, "Lock", pb.LockRequest(file_id=file.file_id, lock_id="crashed-session", ttl=LONG), crashed)
    assert locked.lock.HasField("locked_time")
    assert locked.lock.locked_time.ToDatetime() <= locked.lock.expires_time.ToDatetime()

    for metadata in (client.metadata(), crashed):
        with expect_error(DENIED) as denied:
            locked_files(client, metadata)
        assert denied.detail(pb.PermissionDenied).permission == "administrator"  # type: ignore[attr-defined]
    with expect_error(INVALID) as error:
        locked_files(client, client.metadata(user_id=""))
    assert_bad_request(error, "x-wopi-principal-id")
    with expect_error(DENIED) as denied:
        break_lock(client, file.file_id, "not my lock", crashed)  # an editor: no manage_sharing, not an administrator
    expected = "manage_sharing" if caps.access_control else "administrator"
    assert denied.detail(pb.PermissionDenied).permission == expected  # type: ignore[attr-defined]

    admin = admin_of(adapter_address, client)
    [listed] = [info for info in locked_files(client, admin) if info.file_id == file.file_id]
    assert listed.lock.locked_by == pb.Principal(user_id=editor, display_name="Eve Editor")
    assert (listed.lock.locked_time, listed.lock.expires_time) == (locked.lock.locked_time, locked.lock.expires_time)
    for reason in ("", "   ", "x" * 501, "line\nbreak"):
        with expect_error(INVALID) as error:
            break_lock(client, file.file_id, reason, admin)
        assert_bad_request(error, "reason")
    assert client.get_lock(file.file_id) == "crashed-session"

    broken = break_lock(client, file.file_id, "Eve's editor crashed; unlocking ☃", admin)
    assert not broken.lock.lock_id and broken.version == locked.version
    assert client.get_lock(file.file_id) == ""
    assert file.file_id not in {info.file_id for info in locked_files(client, admin)}
    [event] = trail(client, 1, file_id=file.file_id).events
    assert event.action == A.AUDIT_ACTION_LOCK_BROKEN and event.reason == "Eve's editor crashed; unlocking ☃"
    assert event.lock_holder == pb.Principal(user_id=editor, display_name="Eve Editor")
    assert event.actor == pb.Principal(user_id=adapter_address.admin_principal, display_name="The Operator")
    with expect_error(CONFLICT):
        client.write_file(
            file.file_id, b"late save", lock_precondition("crashed-session", pb.WHEN_UNLOCKED_REJECT), metadata=crashed
        )
    before = every_event(client, file_id=file.file_id)
    with expect_error(CONFLICT) as conflict:
        break_lock(client, file.file_id, "again", admin)
    assert not conflict.detail(pb.LockConflict).current_lock.lock_id  # type: ignore[attr-defined]
    assert every_event(client, file_id=file.file_id) == before

    if caps.access_control:  # the owner manages the file's sharing: it may break the lock an editor took
        call(client, "Lock", pb.LockRequest(file_id=file.file_id, lock_id="second-session", ttl=LONG), crashed)
        assert not break_lock(client, file.file_id, "I need my document back", client.metadata()).lock.lock_id


def test_locked_files_are_paged_by_expiry_and_an_expired_lock_is_listed_nowhere(
    client: StorageClient, workspace: Workspace, caps: pb.Capabilities, adapter_address: AdapterAddress, audited: None
) -> None:
    """Three locks, soonest expiry first, one a page; a lock left by a crashed editor (never unlocked) expires on
    its own and then shows nowhere: not in GetLock, StatFile, the folder's listing or ListLockedFiles, and its
    expiry records nothing (it is not a change)."""
    requires(caps, "lock_administration")
    admin = admin_of(adapter_address, client)
    files = [client.create_file(workspace.container_id, workspace.name(f"locked-{n}.docx"), b"") for n in range(3)]
    for seconds, file in zip((900, 600, 1200), files, strict=True):
        client.lock(file.file_id, f"lock-{file.file_id}", ttl(seconds))
    ours = {file.file_id for file in files}
    in_order = [info.file_id for info in locked_files(client, admin, size=1) if info.file_id in ours]
    assert in_order == [files[1].file_id, files[0].file_id, files[2].file_id]
    with expect_error(INVALID) as error:
        client.call("ListLockedFiles", pb.ListLockedFilesRequest(page_size=1001), metadata=admin)
    assert_bad_request(error, "page_size")
    with expect_error(INVALID) as error:
        client.call("ListLockedFiles", pb.ListLockedFilesRequest(page_token="not-a-token"), metadata=admin)
    assert_bad_request(error, "page_token")

    crashed = client.create_file(workspace.container_id, workspace.name("crashed.docx"), b"")
    client.lock(crashed.file_id, "never-unlocked", ttl(0.3))
    assert crashed.file_id in {info.file_id for info in locked_files(client, admin)}
    wait_until(lambda: client.get_lock(crashed.file_id) == "")
    assert not client.stat(crashed.file_id).lock.lock_id
    listing = pb.ListChildrenPageRequest(container_id=workspace.container_id, page_size=1000)
    shown = {item.file.file_id: item.file for item in client.call("ListChildrenPage", listing).items}  # type: ignore[attr-defined]
    assert not shown[crashed.file_id].lock.lock_id
    assert crashed.file_id not in {info.file_id for info in locked_files(client, admin)}
    assert actions(every_event(client, file_id=crashed.file_id)) == [A.AUDIT_ACTION_LOCKED, A.AUDIT_ACTION_CREATED]

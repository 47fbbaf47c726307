"""Access control (proto "Access control"): permissions in answers, NOT_FOUND for what the principal may not
read, PERMISSION_DENIED naming the missing permission (with nothing changed), roles, inheritance, groups,
revocation, the sharing RPCs, fail-closed, administrators; and, for adapters without the capability, what they
report instead.

Every principal but the client's own is made unique to the test, so that tests never see each other's grants
on a remote adapter.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from tests.contract.client import (
    StorageClient,
    assert_bad_request,
    expect_error,
    expect_on_each,
    file_state,
    ttl,
    unknown_id,
)
from tests.contract.conftest import AdapterAddress, Workspace, requires
from wopi_proto.storage_v1 import storage_pb2 as pb

ALL_FILE = pb.Permissions(read=True, write=True, lock=True, rename=True, delete=True, manage_sharing=True)
ALL_CONTAINER = pb.Permissions(
    read=True, write=True, lock=True, rename=True, delete=True, create_children=True, manage_sharing=True
)
VIEWER_FILE = pb.Permissions(read=True)
EDITOR_FILE = pb.Permissions(read=True, write=True, lock=True, rename=True, delete=True)

Metadata = list[tuple[str, str | bytes]]


@pytest.fixture
def enforced(caps: pb.Capabilities) -> None:
    requires(caps, "access_control")


def someone(role: str) -> str:
    """A principal id unique to this test."""
    return f"contract-{role}-{uuid.uuid4().hex[:10]}"


def grant(client: StorageClient, user_or_group: str, role: int, *, group: bool = False, **item: str) -> pb.Grant:
    grantee = pb.Grantee(group_id=user_or_group) if group else pb.Grantee(user_id=user_or_group)
    return client.call("GrantAccess", pb.GrantAccessRequest(grantee=grantee, role=role, **item))  # type: ignore[arg-type,return-value]


def revoke(client: StorageClient, user_id: str, **item: str) -> None:
    client.call("RevokeAccess", pb.RevokeAccessRequest(grantee=pb.Grantee(user_id=user_id), **item))  # type: ignore[arg-type]


def grants_of(client: StorageClient, metadata: Metadata | None = None, **item: str) -> list[pb.Grant]:
    request = pb.ListGrantsRequest(**item)  # type: ignore[arg-type]
    return list(client.call("ListGrants", request, metadata=metadata or client.metadata()).grants)  # type: ignore[attr-defined]


def new_file(client: StorageClient, workspace: Workspace, name: str = "shared.docx") -> pb.FileInfo:
    return client.create_file(workspace.container_id, workspace.name(name), b"original bytes")


def new_container(client: StorageClient, parent_id: str, name: str) -> pb.ContainerInfo:
    request = pb.CreateContainerRequest(parent_container_id=parent_id, name=name)
    return client.call("CreateContainer", request)  # type: ignore[return-value]


def write(client: StorageClient, file_id: str, data: bytes, metadata: Metadata) -> pb.FileInfo:
    return client.write_file(file_id, data, metadata=metadata)


def file_calls(client: StorageClient, file_id: str, metadata: Metadata) -> dict[str, Callable[[], object]]:
    """Every RPC that names a file, as `metadata`'s principal would call it."""

    def call(rpc: str, request: object) -> Callable[[], object]:
        return lambda: client.call(rpc, request, metadata=metadata)  # type: ignore[arg-type]

    def read() -> object:
        return list(client.call("ReadFile", pb.ReadFileRequest(file_id=file_id), metadata=metadata))  # type: ignore[call-overload]

    return {
        "StatFile": call("StatFile", pb.StatFileRequest(file_id=file_id)),
        "ReadFile": read,
        "GetLock": call("GetLock", pb.GetLockRequest(file_id=file_id)),
        "GetAncestors": call("GetAncestors", pb.GetAncestorsRequest(file_id=file_id)),
        "ListGrants": call("ListGrants", pb.ListGrantsRequest(file_id=file_id)),
        **file_change_calls(client, file_id, metadata),
    }


def file_change_calls(client: StorageClient, file_id: str, metadata: Metadata) -> dict[str, Callable[[], object]]:
    """Every RPC that changes a file, each labelled with the permission it needs."""

    def call(rpc: str, request: object) -> Callable[[], object]:
        return lambda: client.call(rpc, request, metadata=metadata)  # type: ignore[arg-type]

    grantee = pb.Grantee(user_id=someone("third"))
    return {
        "WriteFile:write": lambda: write(client, file_id, b"forbidden", metadata),
        "RenameFile:rename": call("RenameFile", pb.RenameFileRequest(file_id=file_id, new_name="renamed.docx")),
        "DeleteFile:delete": call("DeleteFile", pb.DeleteFileRequest(file_id=file_id)),
        "Lock:lock": call("Lock", pb.LockRequest(file_id=file_id, lock_id="intruder", ttl=ttl(600))),
        "RefreshLock:lock": call("RefreshLock", pb.RefreshLockRequest(file_id=file_id, lock_id="held", ttl=ttl(600))),
        "Unlock:lock": call("Unlock", pb.UnlockRequest(file_id=file_id, lock_id="held")),
        "UnlockAndRelock:lock": call(
            "UnlockAndRelock", pb.UnlockAndRelockRequest(file_id=file_id, old_lock_id="held", lock_id="x", ttl=ttl(60))
        ),
        "GrantAccess:manage_sharing": call(
            "GrantAccess", pb.GrantAccessRequest(file_id=file_id, grantee=grantee, role=pb.ROLE_VIEWER)
        ),
        "RevokeAccess:manage_sharing": call("RevokeAccess", pb.RevokeAccessRequest(file_id=file_id, grantee=grantee)),
    }


def container_calls(client: StorageClient, container_id: str, metadata: Metadata) -> dict[str, Callable[[], object]]:
    """Every RPC that names a container, each labelled with the permission it needs."""

    def call(rpc: str, request: object) -> Callable[[], object]:
        return lambda: client.call(rpc, request, metadata=metadata)  # type: ignore[arg-type]

    def listing() -> object:
        return list(client.call("ListChildren", pb.ListChildrenRequest(container_id=container_id), metadata=metadata))  # type: ignore[call-overload]

    return {
        "GetContainer:read": call("GetContainer", pb.GetContainerRequest(container_id=container_id)),
        "ListChildren:read": listing,
        "LookupChild:read": call("LookupChild", pb.LookupChildRequest(container_id=container_id, name="child.docx")),
        "GetAncestors:read": call("GetAncestors", pb.GetAncestorsRequest(container_id=container_id)),
        "ListGrants:read": call("ListGrants", pb.ListGrantsRequest(container_id=container_id)),
        "CreateFile:create_children": lambda: client.create_file(container_id, "new.docx", b"x", metadata=metadata),
        "CreateContainer:create_children": call(
            "CreateContainer", pb.CreateContainerRequest(parent_container_id=container_id, name="new folder")
        ),
        "RenameContainer:rename": call(
            "RenameContainer", pb.RenameContainerRequest(container_id=container_id, new_name="renamed folder")
        ),
        "DeleteContainer:delete": call("DeleteContainer", pb.DeleteContainerRequest(container_id=container_id)),
    }


def expect_denied_on_each(calls: dict[str, Callable[[], object]]) -> None:
    """Each call, labelled "Rpc:permission", is PERMISSION_DENIED with a detail naming that permission."""
    failures = []
    for label, call in calls.items():
        permission = label.rsplit(":", 1)[1]
        try:
            with expect_error(grpc.StatusCode.PERMISSION_DENIED) as error:
                call()
            assert error.detail(pb.PermissionDenied).permission == permission  # type: ignore[attr-defined]
        except AssertionError as failure:
            failures.append(f"{label}: {failure}")
    assert not failures, "\n".join(failures)


# ---- owners and strangers ----


def test_owner_has_every_permission(client: StorageClient, enforced: None, workspace: Workspace) -> None:
    """The creator owns what it creates and holds every permission; every answer says so."""
    folder = new_container(client, workspace.container_id, "owned")
    assert folder.owner.user_id == client.user_id
    assert folder.permissions == ALL_CONTAINER
    file = client.create_file(folder.container_id, "owned.docx", b"x")
    assert file.owner.user_id == client.user_id
    assert file.permissions == ALL_FILE  # create_children is always false on a file
    assert client.stat(file.file_id).permissions == ALL_FILE
    assert (
        client.call("GetContainer", pb.GetContainerRequest(container_id=folder.container_id)).permissions
        == ALL_CONTAINER
    )  # type: ignore[attr-defined]
    listed = list(client.call("ListChildren", pb.ListChildrenRequest(container_id=folder.container_id)))  # type: ignore[call-overload]
    assert [item.file.permissions for item in listed] == [ALL_FILE]


def test_an_item_the_principal_may_not_read_is_not_found_everywhere(
    client: StorageClient, caps: pb.Capabilities, enforced: None, workspace: Workspace
) -> None:
    """A stranger gets NOT_FOUND, as for an item that does not exist, on every RPC that names a file or a
    container of someone else's; nothing changes."""
    file = new_file(client, workspace)
    client.lock(file.file_id, "held")
    before = file_state(client, file.file_id)
    stranger = client.metadata(user_id=someone("stranger"))
    calls = {label.split(":")[0]: call for label, call in file_calls(client, file.file_id, stranger).items()}
    calls |= {
        f"{label} (container)": call
        for label, call in container_calls(client, workspace.container_id, stranger).items()
    }
    if caps.version_history:
        calls["ListVersions"] = lambda: client.call(
            "ListVersions", pb.ListVersionsRequest(file_id=file.file_id), metadata=stranger
        )
        request = pb.RestoreVersionRequest(file_id=file.file_id, version="v")
        calls["RestoreVersion"] = lambda: client.call("RestoreVersion", request, metadata=stranger)
    if caps.free_name_variants:
        request_free = pb.FindFreeNameRequest(container_id=workspace.container_id, name="x.docx")
        calls["FindFreeName"] = lambda: client.call("FindFreeName", request_free, metadata=stranger)
    expect_on_each(calls, grpc.StatusCode.NOT_FOUND)
    assert file_state(client, file.file_id) == before


def test_unknown_and_unreadable_answer_alike(client: StorageClient, enforced: None, workspace: Workspace) -> None:
    """NOT_FOUND for an item one may not read is the same answer as for an id that names nothing."""
    file = new_file(client, workspace)
    stranger = client.metadata(user_id=someone("stranger"))
    with expect_error(grpc.StatusCode.NOT_FOUND) as unreadable:
        client.call("StatFile", pb.StatFileRequest(file_id=file.file_id), metadata=stranger)
    with expect_error(grpc.StatusCode.NOT_FOUND) as unknown:
        client.call("StatFile", pb.StatFileRequest(file_id=unknown_id()), metadata=stranger)
    assert (unreadable.message, unreadable.details) == (unknown.message, unknown.details)


def test_root_lists_only_what_the_principal_may_read(
    client: StorageClient, enforced: None, root: pb.ContainerInfo, workspace: Workspace
) -> None:
    """Everyone reads the root and may create in it, but sees there only the children it may read."""
    stranger = client.metadata(user_id=someone("stranger"))
    seen_root = client.call("GetRootContainer", pb.GetRootContainerRequest(), metadata=stranger)
    assert seen_root.permissions.read and seen_root.permissions.create_children  # type: ignore[attr-defined]
    assert not seen_root.permissions.manage_sharing  # type: ignore[attr-defined]
    name = client.call("GetContainer", pb.GetContainerRequest(container_id=workspace.container_id)).name  # type: ignore[attr-defined]
    with expect_error(grpc.StatusCode.NOT_FOUND):
        client.call("LookupChild", pb.LookupChildRequest(container_id=root.container_id, name=name), metadata=stranger)
    mine = new_container(client, root.container_id, f"contract-mine-{uuid.uuid4().hex[:10]}")
    try:
        listed = client.call("ListChildren", pb.ListChildrenRequest(container_id=root.container_id), metadata=stranger)
        ids = {item.container.container_id for item in listed}  # type: ignore[attr-defined]
        assert workspace.container_id not in ids and mine.container_id not in ids
    finally:
        client.call("DeleteContainer", pb.DeleteContainerRequest(container_id=mine.container_id))


def test_name_conflict_does_not_reveal_an_unreadable_item(
    client: StorageClient, enforced: None, root: pb.ContainerInfo
) -> None:
    """ALREADY_EXISTS for a name held by an item the principal may not read tells only the item's kind."""
    name = f"contract-taken-{uuid.uuid4().hex[:10]}.docx"
    taken = client.create_file(root.container_id, name, b"secret")
    try:
        with expect_error(grpc.StatusCode.ALREADY_EXISTS) as error:
            client.create_file(root.container_id, name, b"x", metadata=client.metadata(user_id=someone("stranger")))
        existing = error.detail(pb.NameConflict).existing  # type: ignore[attr-defined]
        assert existing.HasField("file") and existing.file == pb.FileInfo()
    finally:
        client.call("DeleteFile", pb.DeleteFileRequest(file_id=taken.file_id))


# ---- roles ----


def test_viewer_reads_and_every_change_is_denied_naming_the_permission(
    client: StorageClient, caps: pb.Capabilities, enforced: None, workspace: Workspace
) -> None:
    """A viewer reads the file (and sees read-only permissions); each change is PERMISSION_DENIED naming the
    permission it lacks, checked before the lock, and the file's bytes, version, lock and name stay as they were."""
    file = new_file(client, workspace)
    client.lock(file.file_id, "held")
    viewer_id = someone("viewer")
    grant(client, viewer_id, pb.ROLE_VIEWER, file_id=file.file_id)
    before = file_state(client, file.file_id)
    viewer = client.metadata(user_id=viewer_id)
    seen = client.call("StatFile", pb.StatFileRequest(file_id=file.file_id), metadata=viewer)
    assert seen.permissions == VIEWER_FILE  # type: ignore[attr-defined]
    data = b"".join(
        message.data for message in client.call("ReadFile", pb.ReadFileRequest(file_id=file.file_id), metadata=viewer)
    )  # type: ignore[attr-defined]
    assert data == b"original bytes"
    assert client.call("GetLock", pb.GetLockRequest(file_id=file.file_id), metadata=viewer).lock_id == "held"  # type: ignore[attr-defined]
    calls = file_change_calls(client, file.file_id, viewer)
    if caps.version_history:
        version_request = pb.RestoreVersionRequest(file_id=file.file_id, version=file.version)
        calls["RestoreVersion:write"] = lambda: client.call("RestoreVersion", version_request, metadata=viewer)
    expect_denied_on_each(calls)
    assert file_state(client, file.file_id) == before


def test_viewer_of_a_container_cannot_change_it(client: StorageClient, enforced: None, workspace: Workspace) -> None:
    """A viewer of a container lists it, and is denied creating in, renaming, deleting or sharing it."""
    folder = new_container(client, workspace.container_id, "viewed")
    viewer_id = someone("viewer")
    grant(client, viewer_id, pb.ROLE_VIEWER, container_id=folder.container_id)
    viewer = client.metadata(user_id=viewer_id)
    calls = container_calls(client, folder.container_id, viewer)
    changes = {label: call for label, call in calls.items() if not label.endswith(":read")}
    expect_denied_on_each(changes)
    calls["GetContainer:read"]()
    calls["ListChildren:read"]()
    assert client.call("GetContainer", pb.GetContainerRequest(container_id=folder.container_id)).name == "viewed"  # type: ignore[attr-defined]
    assert list(client.call("ListChildren", pb.ListChildrenRequest(container_id=folder.container_id))) == []  # type: ignore[call-overload]


def test_editor_changes_but_does_not_share(client: StorageClient, enforced: None, workspace: Workspace) -> None:
    """An editor writes, locks, unlocks, renames and deletes; sharing is PERMISSION_DENIED (manage_sharing)."""
    file = new_file(client, workspace)
    editor_id = someone("editor")
    grant(client, editor_id, pb.ROLE_EDITOR, file_id=file.file_id)
    editor = client.metadata(user_id=editor_id)
    written = write(client, file.file_id, b"edited", editor)
    assert written.permissions == EDITOR_FILE
    assert written.modified_by.user_id == editor_id and written.owner.user_id == client.user_id
    client.call("Lock", pb.LockRequest(file_id=file.file_id, lock_id="editor-lock", ttl=ttl(600)), metadata=editor)
    client.call("Unlock", pb.UnlockRequest(file_id=file.file_id, lock_id="editor-lock"), metadata=editor)
    client.call("RenameFile", pb.RenameFileRequest(file_id=file.file_id, new_name="edited.docx"), metadata=editor)
    request = pb.GrantAccessRequest(
        file_id=file.file_id, grantee=pb.Grantee(user_id=someone("third")), role=pb.ROLE_VIEWER
    )
    with expect_error(grpc.StatusCode.PERMISSION_DENIED) as error:
        client.call("GrantAccess", request, metadata=editor)
    assert error.detail(pb.PermissionDenied).permission == "manage_sharing"  # type: ignore[attr-defined]
    assert [g.grantee.user_id for g in grants_of(client, file_id=file.file_id)] == [editor_id]
    client.call("DeleteFile", pb.DeleteFileRequest(file_id=file.file_id), metadata=editor)
    with expect_error(grpc.StatusCode.NOT_FOUND):
        client.stat(file.file_id)


def test_manager_shares_and_cannot_grant_ownership(client: StorageClient, enforced: None, workspace: Workspace) -> None:
    """A manager grants and revokes; no grant can name the owner; ROLE_UNSPECIFIED is refused."""
    file = new_file(client, workspace)
    manager_id, third_id = someone("manager"), someone("third")
    grant(client, manager_id, pb.ROLE_MANAGER, file_id=file.file_id)
    manager = client.metadata(user_id=manager_id)
    assert client.call("StatFile", pb.StatFileRequest(file_id=file.file_id), metadata=manager).permissions == ALL_FILE  # type: ignore[attr-defined]
    shared = client.call(
        "GrantAccess",
        pb.GrantAccessRequest(file_id=file.file_id, grantee=pb.Grantee(user_id=third_id), role=pb.ROLE_VIEWER),
        metadata=manager,
    )
    assert shared.granted_by.user_id == manager_id and shared.file_id == file.file_id  # type: ignore[attr-defined]
    client.call("StatFile", pb.StatFileRequest(file_id=file.file_id), metadata=client.metadata(user_id=third_id))
    for grantee, role, field in (
        (pb.Grantee(user_id=client.user_id), pb.ROLE_VIEWER, "grantee"),
        (pb.Grantee(user_id=third_id), pb.ROLE_UNSPECIFIED, "role"),
        (pb.Grantee(group_id="bad,group"), pb.ROLE_VIEWER, "grantee"),
        (pb.Grantee(), pb.ROLE_VIEWER, "grantee"),
    ):
        with expect_error(grpc.StatusCode.INVALID_ARGUMENT) as error:
            client.call(
                "GrantAccess", pb.GrantAccessRequest(file_id=file.file_id, grantee=grantee, role=role), metadata=manager
            )
        assert_bad_request(error, field)
    client.call(
        "RevokeAccess",
        pb.RevokeAccessRequest(file_id=file.file_id, grantee=pb.Grantee(user_id=third_id)),
        metadata=manager,
    )
    with expect_error(grpc.StatusCode.NOT_FOUND):
        client.call("StatFile", pb.StatFileRequest(file_id=file.file_id), metadata=client.metadata(user_id=third_id))


def test_grant_is_idempotent_and_one_per_grantee(client: StorageClient, enforced: None, workspace: Workspace) -> None:
    """Granting the same role again changes nothing; another role replaces it; revoking nothing succeeds."""
    file = new_file(client, workspace)
    user = someone("grantee")
    first = grant(client, user, pb.ROLE_VIEWER, file_id=file.file_id)
    assert grant(client, user, pb.ROLE_VIEWER, file_id=file.file_id) == first
    changed = grant(client, user, pb.ROLE_EDITOR, file_id=file.file_id)
    assert changed.role == pb.ROLE_EDITOR
    assert grants_of(client, file_id=file.file_id) == [changed]
    revoke(client, someone("nobody"), file_id=file.file_id)
    assert grants_of(client, file_id=file.file_id) == [changed]


# ---- inheritance, groups, revocation ----


def test_container_grant_applies_to_everything_below(
    client: StorageClient, enforced: None, workspace: Workspace
) -> None:
    """A role on a container holds on its sub-containers and files at any depth; ListGrants tells where each
    grant comes from, nearest first; a grant lower down adds to what is inherited."""
    top = new_container(client, workspace.container_id, "team")
    sub = new_container(client, top.container_id, "drafts")
    file = client.create_file(sub.container_id, "plan.docx", b"plan")
    bob_id = someone("bob")
    bob = client.metadata(user_id=bob_id)
    grant(client, bob_id, pb.ROLE_VIEWER, container_id=top.container_id)
    assert client.call("StatFile", pb.StatFileRequest(file_id=file.file_id), metadata=bob).permissions == VIEWER_FILE  # type: ignore[attr-defined]
    listed = client.call("ListChildren", pb.ListChildrenRequest(container_id=top.container_id), metadata=bob)
    assert [item.container.container_id for item in listed] == [sub.container_id]  # type: ignore[attr-defined]
    with expect_error(grpc.StatusCode.PERMISSION_DENIED) as error:
        client.create_file(sub.container_id, "bob.docx", b"x", metadata=bob)
    assert error.detail(pb.PermissionDenied).permission == "create_children"  # type: ignore[attr-defined]
    grant(client, bob_id, pb.ROLE_EDITOR, container_id=sub.container_id)
    created = client.create_file(sub.container_id, "bob.docx", b"x", metadata=bob)
    assert created.owner.user_id == bob_id and created.permissions == ALL_FILE
    write(client, file.file_id, b"bob was here", bob)
    where = [(g.WhichOneof("item"), g.container_id, g.role) for g in grants_of(client, file_id=file.file_id)]
    assert where == [
        ("container_id", sub.container_id, pb.ROLE_EDITOR),
        ("container_id", top.container_id, pb.ROLE_VIEWER),
    ]
    # The owner of a container holds every permission on what others create in it.
    assert client.stat(created.file_id).permissions == ALL_FILE
    # Ancestors the principal may not read are left out.
    ancestors = client.call("GetAncestors", pb.GetAncestorsRequest(file_id=file.file_id), metadata=bob)
    assert [c.container_id for c in ancestors.ancestors][-2:] == [top.container_id, sub.container_id]  # type: ignore[attr-defined]
    assert workspace.container_id not in [c.container_id for c in ancestors.ancestors]  # type: ignore[attr-defined]


def test_group_grants_apply_to_members_named_in_metadata(
    client: StorageClient, enforced: None, workspace: Workspace
) -> None:
    """A grant to a group applies to a principal whose `x-wopi-principal-groups` names it, and to no other."""
    file = new_file(client, workspace)
    group = f"contract-group-{uuid.uuid4().hex[:10]}"
    grant(client, group, pb.ROLE_EDITOR, group=True, file_id=file.file_id)
    member_id = someone("member")
    with expect_error(grpc.StatusCode.NOT_FOUND):
        write(client, file.file_id, b"no group", client.metadata(user_id=member_id))
    with expect_error(grpc.StatusCode.NOT_FOUND):
        write(client, file.file_id, b"other group", client.metadata(user_id=member_id, groups="contract-elsewhere"))
    member = client.metadata(user_id=member_id, groups=f"contract-elsewhere,{group}")
    assert write(client, file.file_id, b"by a member", member).permissions == EDITOR_FILE
    assert client.read_file(file.file_id)[1] == b"by a member"
    listed = grants_of(client, file_id=file.file_id)
    assert [(g.grantee.group_id, g.role) for g in listed] == [(group, pb.ROLE_EDITOR)]


@pytest.mark.parametrize("groups", ["has space", "a,,b", ",a", "a,", ",".join(f"g{n}" for n in range(257)), "x" * 257])
def test_malformed_groups_are_invalid_argument(
    client: StorageClient, enforced: None, workspace: Workspace, groups: str
) -> None:
    """`x-wopi-principal-groups` is comma-separated ids of printable ASCII without spaces, at most 256."""
    file = new_file(client, workspace)
    with expect_error(grpc.StatusCode.INVALID_ARGUMENT) as error:
        client.call("StatFile", pb.StatFileRequest(file_id=file.file_id), metadata=client.metadata(groups=groups))
    assert_bad_request(error, "x-wopi-principal-groups")


def test_revocation_is_effective_on_the_next_call(client: StorageClient, enforced: None, workspace: Workspace) -> None:
    """A lowered role and a revoked grant stop the next write of a principal that could write before."""
    file = new_file(client, workspace)
    editor_id = someone("editor")
    editor = client.metadata(user_id=editor_id)
    grant(client, editor_id, pb.ROLE_EDITOR, file_id=file.file_id)
    write(client, file.file_id, b"first save", editor)
    grant(client, editor_id, pb.ROLE_VIEWER, file_id=file.file_id)
    with expect_error(grpc.StatusCode.PERMISSION_DENIED):
        write(client, file.file_id, b"second save", editor)
    revoke(client, editor_id, file_id=file.file_id)
    before = file_state(client, file.file_id)
    with expect_error(grpc.StatusCode.NOT_FOUND):
        write(client, file.file_id, b"third save", editor)
    assert file_state(client, file.file_id) == before
    assert before.contents == b"first save"


def test_concurrent_grants_and_revokes_leave_a_consistent_grant_list(
    client: StorageClient, enforced: None, workspace: Workspace
) -> None:
    """16 concurrent GrantAccess and RevokeAccess calls on one file: the grant list is exactly what they asked for,
    each grantee once."""
    file = new_file(client, workspace)
    kept = [someone(f"new{n}") for n in range(8)]
    dropped = [someone(f"old{n}") for n in range(8)]
    for user in dropped:
        grant(client, user, pb.ROLE_VIEWER, file_id=file.file_id)
    start = threading.Barrier(16)

    def change(user: str, add: bool) -> None:
        start.wait(timeout=30)
        if add:
            grant(client, user, pb.ROLE_EDITOR, file_id=file.file_id)
        else:
            revoke(client, user, file_id=file.file_id)

    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = [pool.submit(change, user, True) for user in kept] + [pool.submit(change, u, False) for u in dropped]
        for future in futures:
            future.result(timeout=60)
    listed = grants_of(client, file_id=file.file_id)
    assert sorted(g.grantee.user_id for g in listed) == sorted(kept)
    assert {g.role for g in listed} == {pb.ROLE_EDITOR}


# ---- ListSharedWithMe ----


def test_shared_with_me_pages_without_duplicates_or_gaps(
    client: StorageClient, enforced: None, workspace: Workspace
) -> None:
    """Five items shared with a principal, in pages of 2: 2 + 2 + 1 entries, each once, with who shared them."""
    bob_id = someone("bob")
    bob = client.metadata(user_id=bob_id)
    shared = set()
    for n in range(4):
        shared.add(
            grant(client, bob_id, pb.ROLE_VIEWER, file_id=new_file(client, workspace, f"f{n}.docx").file_id).file_id
        )
    folder = new_container(client, workspace.container_id, "shared folder")
    shared.add(grant(client, bob_id, pb.ROLE_EDITOR, container_id=folder.container_id).container_id)
    pages, token = [], ""
    while True:
        answer = client.call(
            "ListSharedWithMe", pb.ListSharedWithMeRequest(page_size=2, page_token=token), metadata=bob
        )
        pages.append(list(answer.items))  # type: ignore[attr-defined]
        token = answer.next_page_token  # type: ignore[attr-defined]
        if not token:
            break
        assert len(pages) < 10, "the pages do not end"
    assert [len(page) for page in pages] == [2, 2, 1]
    entries = [entry for page in pages for entry in page]
    ids = [entry.grant.file_id or entry.grant.container_id for entry in entries]
    assert sorted(ids) == sorted(shared)
    for entry in entries:
        assert entry.grant.granted_by.user_id == client.user_id
        assert entry.grant.grantee.user_id == bob_id
        item = entry.item.file if entry.item.HasField("file") else entry.item.container
        assert item.permissions.read
    owner_view = client.call("ListSharedWithMe", pb.ListSharedWithMeRequest())
    assert not set(ids) & {e.grant.file_id or e.grant.container_id for e in owner_view.items}  # type: ignore[attr-defined]


def test_shared_with_me_refuses_bad_paging(client: StorageClient, enforced: None) -> None:
    """A negative page size or a page token the adapter did not hand out is INVALID_ARGUMENT."""
    for request, field in (
        (pb.ListSharedWithMeRequest(page_size=-1), "page_size"),
        (pb.ListSharedWithMeRequest(page_token="not-a-token"), "page_token"),
    ):
        with expect_error(grpc.StatusCode.INVALID_ARGUMENT) as error:
            client.call("ListSharedWithMe", request)
        assert_bad_request(error, field)


# ---- fail closed, administrators ----


def test_a_call_without_principal_is_refused(
    client: StorageClient, enforced: None, root: pb.ContainerInfo, workspace: Workspace
) -> None:
    """With access control, every RPC that names an item needs the principal: INVALID_ARGUMENT without it."""
    file = new_file(client, workspace)
    anonymous = client.metadata(user_id="")
    calls: dict[str, object] = {
        "StatFile": lambda: client.call("StatFile", pb.StatFileRequest(file_id=file.file_id), metadata=anonymous),
        "GetRootContainer": lambda: client.call("GetRootContainer", pb.GetRootContainerRequest(), metadata=anonymous),
        "GetContainer": lambda: client.call(
            "GetContainer", pb.GetContainerRequest(container_id=workspace.container_id), metadata=anonymous
        ),
        "ListChildren": lambda: list(
            client.call("ListChildren", pb.ListChildrenRequest(container_id=root.container_id), metadata=anonymous)  # type: ignore[call-overload]
        ),
        "WriteFile": lambda: write(client, file.file_id, b"anonymous", anonymous),
        "ListSharedWithMe": lambda: client.call("ListSharedWithMe", pb.ListSharedWithMeRequest(), metadata=anonymous),
    }
    expect_on_each(calls, grpc.StatusCode.INVALID_ARGUMENT, "x-wopi-principal-id")
    assert client.read_file(file.file_id)[1] == b"original bytes"


def test_administrator_holds_every_permission(
    client: StorageClient, enforced: None, adapter_address: AdapterAddress, workspace: Workspace
) -> None:
    """A principal the adapter treats as an administrator reads, changes and shares what others own."""
    if adapter_address.admin_principal is None:
        pytest.skip("no administrator principal known for this adapter (--storage-admin-principal)")
    file = new_file(client, workspace)
    admin = client.metadata(user_id=adapter_address.admin_principal)
    assert client.call("StatFile", pb.StatFileRequest(file_id=file.file_id), metadata=admin).permissions == ALL_FILE  # type: ignore[attr-defined]
    write(client, file.file_id, b"by the operator", admin)
    user = someone("helped")
    client.call(
        "GrantAccess",
        pb.GrantAccessRequest(file_id=file.file_id, grantee=pb.Grantee(user_id=user), role=pb.ROLE_VIEWER),
        metadata=admin,
    )
    assert (
        client.call(
            "StatFile", pb.StatFileRequest(file_id=file.file_id), metadata=client.metadata(user_id=user)
        ).permissions
        == VIEWER_FILE
    )  # type: ignore[attr-defined]


# ---- adapters without access control ----


@pytest.mark.also_without_access_control
def test_without_access_control_sharing_is_unimplemented_and_everything_allowed(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """An adapter without `access_control` reports every permission that can apply (not create_children on a
    file, not manage_sharing) to any principal, and answers the sharing RPCs UNIMPLEMENTED."""
    if caps.access_control:
        pytest.skip("the adapter advertises 'access_control'")
    file = new_file(client, workspace)
    other = client.metadata(user_id=someone("anyone"))
    unrestricted_file = pb.Permissions(read=True, write=True, lock=True, rename=True, delete=True)
    unrestricted_container = pb.Permissions(
        read=True, write=True, lock=True, rename=True, delete=True, create_children=True
    )
    seen = client.call("StatFile", pb.StatFileRequest(file_id=file.file_id), metadata=other)
    assert seen.permissions in (unrestricted_file, pb.Permissions())  # type: ignore[attr-defined]
    container = client.call("GetContainer", pb.GetContainerRequest(container_id=workspace.container_id), metadata=other)
    assert container.permissions in (unrestricted_container, pb.Permissions())  # type: ignore[attr-defined]
    grantee = pb.Grantee(user_id=someone("anyone"))
    expect_on_each(
        {
            "ListGrants": lambda: client.call("ListGrants", pb.ListGrantsRequest(file_id=file.file_id)),
            "GrantAccess": lambda: client.call(
                "GrantAccess", pb.GrantAccessRequest(file_id=file.file_id, grantee=grantee, role=pb.ROLE_VIEWER)
            ),
            "RevokeAccess": lambda: client.call(
                "RevokeAccess", pb.RevokeAccessRequest(file_id=file.file_id, grantee=grantee)
            ),
            "ListSharedWithMe": lambda: client.call("ListSharedWithMe", pb.ListSharedWithMeRequest()),
        },
        grpc.StatusCode.UNIMPLEMENTED,
    )

"""GetFileContext (`Capabilities.file_context`): the answers of StatFile, GetUserInfo and GetContainer on the file's
container, for the same principal, in one call; with StatFile's errors and access rules, and nothing told about a
container the principal may not read."""

from __future__ import annotations

import grpc
import pytest

from tests.contract.client import (
    StorageClient,
    comparable,
    expect_error,
    expect_on_each,
    share_if_enforced,
    unknown_id,
)
from tests.contract.conftest import Workspace, requires
from tests.contract.test_access_control import someone
from tests.contract.test_files import MALFORMED_IDS
from wopi_proto.storage_v1 import storage_pb2 as pb

Metadata = list[tuple[str, str | bytes]]


@pytest.fixture
def offered(caps: pb.Capabilities) -> None:
    requires(caps, "file_context")


def file_context(
    client: StorageClient, file_id: str, metadata: Metadata | None = None, *, container: bool = True
) -> pb.FileContext:
    request = pb.GetFileContextRequest(file_id=file_id, include_container_permissions=container)
    return client.call("GetFileContext", request, metadata=metadata or client.metadata())  # type: ignore[return-value]


def answered_separately(client: StorageClient, file_id: str, metadata: Metadata) -> pb.FileContext:
    """What StatFile, GetUserInfo and GetContainer (on the file's container) answer `metadata`'s principal."""
    stat = client.call("StatFile", pb.StatFileRequest(file_id=file_id), metadata=metadata)
    user_info = client.call("GetUserInfo", pb.GetUserInfoRequest(), metadata=metadata).user_info  # type: ignore[attr-defined]
    request = pb.GetContainerRequest(container_id=stat.parent_container_id)  # type: ignore[attr-defined]
    container = client.call("GetContainer", request, metadata=metadata)
    return pb.FileContext(file=stat, user_info=user_info, container_permissions=container.permissions)  # type: ignore[attr-defined]


def comparable_context(answer: pb.FileContext) -> pb.FileContext:
    """A copy whose file has one form of "unlocked" (`comparable`)."""
    copy = pb.FileContext()
    copy.CopyFrom(answer)
    copy.file.CopyFrom(comparable(answer.file))
    return copy


def grant(client: StorageClient, user_id: str, role: int, **item: str) -> None:
    client.call("GrantAccess", pb.GrantAccessRequest(grantee=pb.Grantee(user_id=user_id), role=role, **item))  # type: ignore[arg-type]


@pytest.mark.also_without_access_control
def test_the_answer_is_stat_file_user_info_and_container_permissions(
    client: StorageClient, caps: pb.Capabilities, offered: None, workspace: Workspace
) -> None:
    """For the owner of a locked file with user info stored (an editor of the container): what the three RPCs
    answer, field for field."""
    user = someone("owner")
    share_if_enforced(client, caps, user, container_id=workspace.container_id)
    metadata = client.metadata(user_id=user, display_name="Owner Ö")
    client.call("SetUserInfo", pb.SetUserInfoRequest(user_info='{"theme": "dark ✓"}'), metadata=metadata)
    file = client.create_file(workspace.container_id, workspace.name("context.docx"), b"some bytes", metadata=metadata)
    client.call("Lock", pb.LockRequest(file_id=file.file_id, lock_id="held", ttl={"seconds": 600}), metadata=metadata)
    answer = file_context(client, file.file_id, metadata)
    assert answer.user_info == '{"theme": "dark ✓"}'
    assert answer.file.lock.lock_id == "held"
    assert comparable_context(answer) == comparable_context(answered_separately(client, file.file_id, metadata))


@pytest.mark.also_without_access_control
def test_container_permissions_only_when_asked_for(
    client: StorageClient, caps: pb.Capabilities, offered: None, workspace: Workspace
) -> None:
    """Without `include_container_permissions` the answer has no container permissions, and the rest is the
    same; a user who stored nothing has empty user info."""
    file = client.create_file(workspace.container_id, workspace.name("plain.docx"), b"x")
    metadata = client.metadata()
    asked = file_context(client, file.file_id, metadata)
    not_asked = file_context(client, file.file_id, metadata, container=False)
    assert asked.HasField("container_permissions")
    assert not not_asked.HasField("container_permissions")
    assert comparable(not_asked.file) == comparable(asked.file)
    assert not_asked.user_info == asked.user_info
    newcomer = someone("new")
    share_if_enforced(client, caps, newcomer, role=pb.ROLE_VIEWER, file_id=file.file_id)
    assert file_context(client, file.file_id, client.metadata(user_id=newcomer)).user_info == ""


def test_each_principal_gets_its_own_answer(
    client: StorageClient, caps: pb.Capabilities, offered: None, workspace: Workspace
) -> None:
    """A viewer of the container sees its own permissions on the file and on the container, as StatFile and
    GetContainer tell it, and its own user info."""
    requires(caps, "access_control")
    viewer = someone("viewer")
    metadata = client.metadata(user_id=viewer)
    grant(client, viewer, pb.ROLE_VIEWER, container_id=workspace.container_id)
    client.call("SetUserInfo", pb.SetUserInfoRequest(user_info="the viewer's"), metadata=metadata)
    file = client.create_file(workspace.container_id, workspace.name("viewed.docx"), b"x")
    answer = file_context(client, file.file_id, metadata)
    assert answer.file.permissions == pb.Permissions(read=True)
    assert answer.container_permissions == pb.Permissions(read=True)
    assert answer.user_info == "the viewer's"
    assert comparable_context(answer) == comparable_context(answered_separately(client, file.file_id, metadata))


def test_a_container_the_principal_may_not_read_is_not_told(
    client: StorageClient, caps: pb.Capabilities, offered: None, workspace: Workspace
) -> None:
    """A file shared on its own: the principal gets the file, and no container permissions, nothing else about
    the container (which GetContainer refuses it as NOT_FOUND)."""
    requires(caps, "access_control")
    editor = someone("editor")
    metadata = client.metadata(user_id=editor)
    file = client.create_file(workspace.container_id, workspace.name("shared alone.docx"), b"x")
    grant(client, editor, pb.ROLE_EDITOR, file_id=file.file_id)
    with expect_error(grpc.StatusCode.NOT_FOUND):
        client.call("GetContainer", pb.GetContainerRequest(container_id=workspace.container_id), metadata=metadata)
    answer = file_context(client, file.file_id, metadata)
    assert not answer.HasField("container_permissions")
    assert {field.name for field, _value in answer.ListFields()} <= {"file", "user_info"}
    stat = client.call("StatFile", pb.StatFileRequest(file_id=file.file_id), metadata=metadata)
    assert comparable(answer.file) == comparable(stat)  # type: ignore[arg-type]


def test_a_file_the_principal_may_not_read_is_not_found_as_by_stat_file(
    client: StorageClient, caps: pb.Capabilities, offered: None, workspace: Workspace
) -> None:
    """NOT_FOUND, with the same message and details as for an id that names nothing."""
    requires(caps, "access_control")
    file = client.create_file(workspace.container_id, workspace.name("private.docx"), b"x")
    stranger = client.metadata(user_id=someone("stranger"))
    with expect_error(grpc.StatusCode.NOT_FOUND) as unreadable:
        file_context(client, file.file_id, stranger)
    with expect_error(grpc.StatusCode.NOT_FOUND) as unknown:
        file_context(client, unknown_id(), stranger)
    assert (unreadable.message, unreadable.details) == (unknown.message, unknown.details)


@pytest.mark.also_without_access_control
def test_without_principal_as_stat_file(
    client: StorageClient, caps: pb.Capabilities, offered: None, workspace: Workspace
) -> None:
    """With access control: INVALID_ARGUMENT naming `x-wopi-principal-id`, as StatFile. Without: the file as
    StatFile answers it, and empty user info (nobody's)."""
    file = client.create_file(workspace.container_id, workspace.name("anonymous.docx"), b"x")
    anonymous = client.metadata(user_id="")
    if caps.access_control:
        calls = {
            "StatFile": lambda: client.call("StatFile", pb.StatFileRequest(file_id=file.file_id), metadata=anonymous),
            "GetFileContext": lambda: file_context(client, file.file_id, anonymous),
        }
        expect_on_each(calls, grpc.StatusCode.INVALID_ARGUMENT, "x-wopi-principal-id")
        return
    answer = file_context(client, file.file_id, anonymous)
    stat = client.call("StatFile", pb.StatFileRequest(file_id=file.file_id), metadata=anonymous)
    assert comparable(answer.file) == comparable(stat)  # type: ignore[arg-type]
    assert answer.user_info == ""


@pytest.mark.also_without_access_control
def test_unknown_deleted_and_malformed_ids_as_stat_file(
    client: StorageClient, offered: None, workspace: Workspace
) -> None:
    """NOT_FOUND for an id that names no file (never was, or deleted); INVALID_ARGUMENT naming `file_id` for a
    malformed one."""
    gone = client.create_file(workspace.container_id, workspace.name("gone.docx"), b"x")
    client.call("DeleteFile", pb.DeleteFileRequest(file_id=gone.file_id))
    missing = {"unknown": unknown_id(), "deleted": gone.file_id}
    expect_on_each(
        {label: lambda file_id=file_id: file_context(client, file_id) for label, file_id in missing.items()},
        grpc.StatusCode.NOT_FOUND,
    )
    expect_on_each(
        {label: lambda file_id=file_id: file_context(client, file_id) for label, file_id in MALFORMED_IDS.items()},
        grpc.StatusCode.INVALID_ARGUMENT,
        "file_id",
    )


@pytest.mark.also_without_access_control
def test_a_container_id_is_not_a_file_id(client: StorageClient, offered: None, workspace: Workspace) -> None:
    """GetFileContext names a file: a container's id is NOT_FOUND, as for StatFile."""
    with expect_error(grpc.StatusCode.NOT_FOUND):
        client.stat(workspace.container_id)
    with expect_error(grpc.StatusCode.NOT_FOUND):
        file_context(client, workspace.container_id)

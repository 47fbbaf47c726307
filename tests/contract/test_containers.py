"""Containers: GetRootContainer, GetContainer, ListChildren, CreateContainer, RenameContainer, DeleteContainer and
GetAncestors."""

from __future__ import annotations

import itertools

import grpc
import pytest
from google.rpc import error_details_pb2

from tests.contract.client import (
    StorageClient,
    assert_bad_request,
    comparable,
    expect_error,
    expect_on_each,
    file_state,
    is_valid_id,
    unknown_id,
)
from tests.contract.conftest import Workspace, requires
from wopi_proto.storage_v1 import storage_pb2 as pb

MALFORMED_IDS = ("../etc", "a/b", "", "a" * 300, "dossier-é")


def create_container(client: StorageClient, parent_id: str, name: str) -> pb.ContainerInfo:
    request = pb.CreateContainerRequest(parent_container_id=parent_id, name=name)
    return client.call("CreateContainer", request)  # type: ignore[return-value]


def get_container(client: StorageClient, container_id: str) -> pb.ContainerInfo:
    return client.call("GetContainer", pb.GetContainerRequest(container_id=container_id))  # type: ignore[return-value]


def ancestors(client: StorageClient, **item: str) -> list[pb.ContainerInfo]:
    return list(client.call("GetAncestors", pb.GetAncestorsRequest(**item)).ancestors)  # type: ignore[attr-defined]


def lookup(client: StorageClient, container_id: str, name: str) -> pb.Item:
    return client.call("LookupChild", pb.LookupChildRequest(container_id=container_id, name=name))  # type: ignore[return-value]


def item_key(item: pb.Item) -> tuple[str, str]:
    return ("file", item.file.file_id) if item.HasField("file") else ("container", item.container.container_id)


# ---- the root container and GetContainer ----


def test_root_container_is_stable_and_has_no_parent(client: StorageClient, root: pb.ContainerInfo) -> None:
    """Every adapter has exactly one root container: its id never changes, its name and parent are empty."""
    assert is_valid_id(root.container_id)
    assert root.parent_container_id == ""
    assert root.name == ""
    for _ in range(3):
        assert client.call("GetRootContainer", pb.GetRootContainerRequest()) == root


def test_get_container_of_root_equals_get_root_container(client: StorageClient, root: pb.ContainerInfo) -> None:
    """GetContainer with the root's id returns the root container."""
    assert get_container(client, root.container_id) == root


def test_create_container_returns_metadata(client: StorageClient, caps: pb.Capabilities, workspace: Workspace) -> None:
    """CreateContainer answers the new container (URL-safe id, name, parent, owner); GetContainer agrees."""
    requires(caps, "containers")
    created = create_container(client, workspace.container_id, "Quarterly reports")
    assert is_valid_id(created.container_id)
    assert created.name == "Quarterly reports"
    assert created.parent_container_id == workspace.container_id
    assert created.owner.user_id == client.user_id
    assert get_container(client, created.container_id) == created


def test_unknown_container_is_not_found(client: StorageClient, caps: pb.Capabilities) -> None:
    """A well-formed id that names no container is NOT_FOUND on every RPC that takes a container."""
    missing = unknown_id()
    calls: dict[str, object] = {
        "GetContainer": lambda: get_container(client, missing),
        "ListChildren": lambda: client.children(missing),
        "LookupChild": lambda: lookup(client, missing, "a.txt"),
        "CreateFile": lambda: client.create_file(missing, "a.txt", b"x"),
        "GetAncestors": lambda: ancestors(client, container_id=missing),
    }
    if caps.containers:
        calls["CreateContainer"] = lambda: create_container(client, missing, "x")
        calls["RenameContainer"] = lambda: client.call(
            "RenameContainer", pb.RenameContainerRequest(container_id=missing, new_name="x")
        )
        calls["DeleteContainer"] = lambda: client.call(
            "DeleteContainer", pb.DeleteContainerRequest(container_id=missing)
        )
    expect_on_each(calls, grpc.StatusCode.NOT_FOUND)


def test_malformed_container_id_is_invalid_argument(client: StorageClient, caps: pb.Capabilities) -> None:
    """A container id outside 1-256 characters of [A-Za-z0-9_-] is INVALID_ARGUMENT + BadRequest naming the field."""
    calls: dict[str, object] = {}
    parent_calls: dict[str, object] = {}
    for bad in MALFORMED_IDS:
        calls[f"GetContainer({bad!r})"] = lambda bad=bad: get_container(client, bad)
        calls[f"ListChildren({bad!r})"] = lambda bad=bad: client.children(bad)
        calls[f"LookupChild({bad!r})"] = lambda bad=bad: lookup(client, bad, "a.txt")
        calls[f"CreateFile({bad!r})"] = lambda bad=bad: client.create_file(bad, "a.txt", b"x")
        calls[f"GetAncestors({bad!r})"] = lambda bad=bad: ancestors(client, container_id=bad)
        if caps.containers:
            calls[f"RenameContainer({bad!r})"] = lambda bad=bad: client.call(
                "RenameContainer", pb.RenameContainerRequest(container_id=bad, new_name="x")
            )
            calls[f"DeleteContainer({bad!r})"] = lambda bad=bad: client.call(
                "DeleteContainer", pb.DeleteContainerRequest(container_id=bad)
            )
            parent_calls[f"CreateContainer({bad!r})"] = lambda bad=bad: create_container(client, bad, "x")
    expect_on_each(calls, grpc.StatusCode.INVALID_ARGUMENT, "container_id")
    expect_on_each(parent_calls, grpc.StatusCode.INVALID_ARGUMENT, "parent_container_id")


# ---- ListChildren ----


def test_list_children_lists_each_item_once_with_metadata(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """ListChildren lists every direct child once: files with their full metadata, containers with theirs."""
    files = [client.create_file(workspace.container_id, workspace.name(f"file-{i}.docx"), b"x" * i) for i in range(4)]
    client.write_file(files[0].file_id, b"rewritten")
    expected: dict[tuple[str, str], object] = {
        ("file", info.file_id): comparable(client.stat(info.file_id)) for info in files
    }
    if caps.containers:
        for i in range(3):
            folder = create_container(client, workspace.container_id, f"folder-{i}")
            create_container(client, folder.container_id, "grandchild, not listed")
            expected[("container", folder.container_id)] = folder
    listed = client.children(workspace.container_id)
    keys = [item_key(item) for item in listed]
    ours = [key for key in keys if key in expected]
    assert sorted(ours) == sorted(expected), "each child must be listed exactly once"
    if caps.containers:  # the workspace is a fresh container: nothing else is in it
        assert sorted(keys) == sorted(expected)
    for item in listed:
        key = item_key(item)
        if key in expected:
            assert (comparable(item.file) if key[0] == "file" else item.container) == expected[key]


def test_list_children_follows_renames_and_deletes(client: StorageClient, workspace: Workspace) -> None:
    """ListChildren reflects the container's current state: a renamed file under its new name, a deleted one gone."""
    kept = client.create_file(workspace.container_id, workspace.name("kept.txt"), b"x")
    deleted = client.create_file(workspace.container_id, workspace.name("deleted.txt"), b"x")
    new_name = workspace.name("renamed.txt")
    client.call("RenameFile", pb.RenameFileRequest(file_id=kept.file_id, new_name=new_name))
    client.call("DeleteFile", pb.DeleteFileRequest(file_id=deleted.file_id))
    listed = {item.file.file_id: item.file.name for item in client.children(workspace.container_id)}
    assert listed.get(kept.file_id) == new_name
    assert deleted.file_id not in listed


def test_extension_filter_lists_matching_files_and_all_containers(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """file_extensions keeps files whose name ends with one of them, case-insensitively; containers always listed."""
    names = ["a.docx", "B.DOCX", "c.Docx", "d.xlsx", "e.docx.txt", "docx", "f.pptx"]
    ids = {name: client.create_file(workspace.container_id, workspace.name(name), b"x").file_id for name in names}
    folders = set()
    if caps.containers:
        folders = {create_container(client, workspace.container_id, name).container_id for name in ("g", "h.xlsx")}

    def listed(*extensions: str) -> tuple[set[str], set[str]]:
        items = client.children(workspace.container_id, *extensions)
        files = {item.file.file_id for item in items if item.HasField("file")} & set(ids.values())
        containers = {item.container.container_id for item in items if item.HasField("container")}
        return files, containers

    docx = {ids["a.docx"], ids["B.DOCX"], ids["c.Docx"]}
    for extensions, expected in [
        ((".docx",), docx),
        ((".DOCX",), docx),
        ((".docx", ".xlsx"), docx | {ids["d.xlsx"]}),
        ((".txt",), {ids["e.docx.txt"]}),
        ((".odt",), set()),
        ((), set(ids.values())),
    ]:
        files, containers = listed(*extensions)
        assert files == expected, f"filter {extensions}"
        assert folders <= containers, f"filter {extensions} must still list every container"


@pytest.mark.parametrize("extension", ["docx", "", "a.docx", "*.docx"])
def test_malformed_extension_filter_is_invalid_argument(
    client: StorageClient, workspace: Workspace, extension: str
) -> None:
    """An extension filter that does not look like '.docx' (leading dot) is INVALID_ARGUMENT naming the field."""
    with expect_error(grpc.StatusCode.INVALID_ARGUMENT) as error:
        client.children(workspace.container_id, ".docx", extension)
    assert_bad_request(error, "file_extensions")


# ---- CreateContainer ----


def test_create_container_is_exclusive(client: StorageClient, caps: pb.Capabilities, workspace: Workspace) -> None:
    """CreateContainer on a taken name is ALREADY_EXISTS + NameConflict naming the existing container."""
    requires(caps, "containers")
    first = create_container(client, workspace.container_id, "taken")
    create_container(client, first.container_id, "inside")
    with expect_error(grpc.StatusCode.ALREADY_EXISTS) as error:
        create_container(client, workspace.container_id, "taken")
    conflict = error.detail(pb.NameConflict)
    assert conflict.container_id == workspace.container_id
    assert conflict.name == "taken"
    assert conflict.existing.container == first
    assert lookup(client, workspace.container_id, "taken").container == first
    assert lookup(client, first.container_id, "inside").HasField("container")  # the first one was not replaced


def test_create_container_on_a_file_name_is_already_exists(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """CreateContainer on a name a file holds is ALREADY_EXISTS + NameConflict naming the file; the file stays."""
    requires(caps, "containers")
    info = client.create_file(workspace.container_id, "report.docx", b"contents")
    before = file_state(client, info.file_id)
    with expect_error(grpc.StatusCode.ALREADY_EXISTS) as error:
        create_container(client, workspace.container_id, "report.docx")
    assert error.detail(pb.NameConflict).existing.file.file_id == info.file_id
    assert file_state(client, info.file_id) == before


def test_create_file_on_a_container_name_is_already_exists(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """CreateFile on a name a container holds is ALREADY_EXISTS + NameConflict naming the container."""
    requires(caps, "containers")
    folder = create_container(client, workspace.container_id, "folder.docx")
    with expect_error(grpc.StatusCode.ALREADY_EXISTS) as error:
        client.create_file(workspace.container_id, "folder.docx", b"x")
    assert error.detail(pb.NameConflict).existing.container.container_id == folder.container_id
    assert lookup(client, workspace.container_id, "folder.docx").container == folder


def test_create_container_in_missing_parent_is_not_found(client: StorageClient, caps: pb.Capabilities) -> None:
    """CreateContainer in a parent that does not exist is NOT_FOUND."""
    requires(caps, "containers")
    with expect_error(grpc.StatusCode.NOT_FOUND):
        create_container(client, unknown_id(), "orphan")


def test_container_rpcs_are_unimplemented_without_capability(
    client: StorageClient, caps: pb.Capabilities, root: pb.ContainerInfo
) -> None:
    """Without Capabilities.containers, CreateContainer, RenameContainer and DeleteContainer are UNIMPLEMENTED."""
    if caps.containers:
        pytest.skip("the adapter advertises 'containers'")
    with expect_error(grpc.StatusCode.UNIMPLEMENTED):
        create_container(client, root.container_id, "contract-unimplemented")
    with expect_error(grpc.StatusCode.UNIMPLEMENTED):
        client.call("RenameContainer", pb.RenameContainerRequest(container_id=root.container_id, new_name="x"))
    with expect_error(grpc.StatusCode.UNIMPLEMENTED):
        client.call("DeleteContainer", pb.DeleteContainerRequest(container_id=root.container_id))


# ---- RenameContainer ----


def test_rename_container_keeps_every_id(client: StorageClient, caps: pb.Capabilities, workspace: Workspace) -> None:
    """RenameContainer changes the name only: the container's id and the ids (and versions) inside do not change."""
    requires(caps, "containers")
    folder = create_container(client, workspace.container_id, "before")
    sub = create_container(client, folder.container_id, "sub")
    info = client.create_file(sub.container_id, "deep.docx", b"deep")
    before = file_state(client, info.file_id)
    renamed = client.call(
        "RenameContainer", pb.RenameContainerRequest(container_id=folder.container_id, new_name="after")
    )
    assert renamed.container_id == folder.container_id  # type: ignore[attr-defined]
    assert renamed.name == "after"  # type: ignore[attr-defined]
    assert renamed.parent_container_id == workspace.container_id  # type: ignore[attr-defined]
    assert get_container(client, folder.container_id) == renamed
    assert get_container(client, sub.container_id) == sub
    assert file_state(client, info.file_id) == before
    assert lookup(client, workspace.container_id, "after").container.container_id == folder.container_id
    with expect_error(grpc.StatusCode.NOT_FOUND):
        lookup(client, workspace.container_id, "before")
    assert lookup(client, sub.container_id, "deep.docx").file.file_id == info.file_id


@pytest.mark.parametrize("holder", ["container", "file"])
def test_rename_container_to_taken_name_is_already_exists(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace, holder: str
) -> None:
    """RenameContainer to a name another item has is ALREADY_EXISTS + NameConflict naming it; nothing changes."""
    requires(caps, "containers")
    folder = create_container(client, workspace.container_id, "moving")
    if holder == "container":
        taken_id = create_container(client, workspace.container_id, "taken").container_id
    else:
        taken_id = client.create_file(workspace.container_id, "taken", b"x").file_id
    with expect_error(grpc.StatusCode.ALREADY_EXISTS) as error:
        client.call("RenameContainer", pb.RenameContainerRequest(container_id=folder.container_id, new_name="taken"))
    existing = error.detail(pb.NameConflict).existing
    assert (existing.container.container_id if holder == "container" else existing.file.file_id) == taken_id
    assert get_container(client, folder.container_id) == folder


def test_rename_container_in_missing_container_is_not_found(client: StorageClient, caps: pb.Capabilities) -> None:
    """RenameContainer and DeleteContainer of a container that does not exist are NOT_FOUND."""
    requires(caps, "containers")
    with expect_error(grpc.StatusCode.NOT_FOUND):
        client.call("RenameContainer", pb.RenameContainerRequest(container_id=unknown_id(), new_name="x"))
    with expect_error(grpc.StatusCode.NOT_FOUND):
        client.call("DeleteContainer", pb.DeleteContainerRequest(container_id=unknown_id()))


def test_root_cannot_be_renamed_or_deleted(
    client: StorageClient, caps: pb.Capabilities, root: pb.ContainerInfo
) -> None:
    """RenameContainer and DeleteContainer of the root container are INVALID_ARGUMENT; the root stays."""
    requires(caps, "containers")
    with expect_error(grpc.StatusCode.INVALID_ARGUMENT) as error:
        client.call("RenameContainer", pb.RenameContainerRequest(container_id=root.container_id, new_name="root"))
    assert_bad_request(error, "container_id")
    with expect_error(grpc.StatusCode.INVALID_ARGUMENT) as error:
        client.call("DeleteContainer", pb.DeleteContainerRequest(container_id=root.container_id))
    assert_bad_request(error, "container_id")
    assert client.call("GetRootContainer", pb.GetRootContainerRequest()) == root


# ---- DeleteContainer ----


@pytest.mark.parametrize("child", ["file", "container"])
def test_delete_non_empty_container_is_failed_precondition(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace, child: str
) -> None:
    """DeleteContainer of a container with children is FAILED_PRECONDITION + ContainerNotEmpty; nothing is deleted."""
    requires(caps, "containers")
    folder = create_container(client, workspace.container_id, "full")
    if child == "file":
        child_key = ("file", client.create_file(folder.container_id, "inside.txt", b"x").file_id)
    else:
        child_key = ("container", create_container(client, folder.container_id, "inside").container_id)
    with expect_error(grpc.StatusCode.FAILED_PRECONDITION) as error:
        client.call("DeleteContainer", pb.DeleteContainerRequest(container_id=folder.container_id))
    assert error.detail(pb.ContainerNotEmpty).container_id == folder.container_id
    assert get_container(client, folder.container_id) == folder
    assert [item_key(item) for item in client.children(folder.container_id)] == [child_key]


def test_delete_empty_container(client: StorageClient, caps: pb.Capabilities, workspace: Workspace) -> None:
    """DeleteContainer of an empty container deletes it: then NOT_FOUND, and its name is free again."""
    requires(caps, "containers")
    folder = create_container(client, workspace.container_id, "empty")
    info = client.create_file(folder.container_id, "temporary.txt", b"x")
    client.call("DeleteFile", pb.DeleteFileRequest(file_id=info.file_id))
    client.call("DeleteContainer", pb.DeleteContainerRequest(container_id=folder.container_id))
    with expect_error(grpc.StatusCode.NOT_FOUND):
        get_container(client, folder.container_id)
    with expect_error(grpc.StatusCode.NOT_FOUND):
        lookup(client, workspace.container_id, "empty")
    with expect_error(grpc.StatusCode.NOT_FOUND):
        client.children(folder.container_id)
    with expect_error(grpc.StatusCode.NOT_FOUND):
        client.call("DeleteContainer", pb.DeleteContainerRequest(container_id=folder.container_id))
    again = create_container(client, workspace.container_id, "empty")
    assert again.container_id != folder.container_id  # ids are never reused


# ---- GetAncestors ----


def test_ancestors_of_a_deep_file_are_root_first(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """GetAncestors of a file two levels down lists its containers, the root first and the direct parent last."""
    requires(caps, "containers")
    child = create_container(client, workspace.container_id, "child")
    grandchild = create_container(client, child.container_id, "grandchild")
    info = client.create_file(grandchild.container_id, "deep.docx", b"x")
    above_workspace = ancestors(client, container_id=workspace.container_id)
    expected = [*above_workspace, get_container(client, workspace.container_id), child, grandchild]
    assert ancestors(client, file_id=info.file_id) == expected
    assert expected[0] == client.call("GetRootContainer", pb.GetRootContainerRequest())
    assert ancestors(client, container_id=grandchild.container_id) == expected[:-1]


def test_containers_deeper_than_the_limit_are_resource_exhausted(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """Containers can be created down to max_container_depth (the root is at depth 0) and no deeper: the next
    CreateContainer is RESOURCE_EXHAUSTED and creates nothing. A file may still go in the deepest container."""
    requires(caps, "containers")
    requires(caps, "max_container_depth")
    depth = len(ancestors(client, container_id=workspace.container_id))  # the workspace's
    if caps.max_container_depth - depth > 256:
        pytest.skip("the adapter's depth limit is too deep to reach in a test")
    deepest = get_container(client, workspace.container_id)
    while depth < caps.max_container_depth:
        deepest, depth = create_container(client, deepest.container_id, f"level-{depth + 1}"), depth + 1
    assert len(ancestors(client, container_id=deepest.container_id)) == caps.max_container_depth
    with expect_error(grpc.StatusCode.RESOURCE_EXHAUSTED):
        create_container(client, deepest.container_id, "too-deep")
    assert client.children(deepest.container_id) == []
    with expect_error(grpc.StatusCode.NOT_FOUND):
        lookup(client, deepest.container_id, "too-deep")
    info = client.create_file(deepest.container_id, "at-the-bottom.txt", b"x")
    assert ancestors(client, file_id=info.file_id)[-1] == deepest


def test_ancestors_of_a_file_end_with_its_container(client: StorageClient, workspace: Workspace) -> None:
    """GetAncestors of a file ends with the container it is in and starts with the root."""
    info = client.create_file(workspace.container_id, workspace.name("here.txt"), b"x")
    chain = ancestors(client, file_id=info.file_id)
    assert chain[-1] == get_container(client, workspace.container_id)
    assert chain[0] == client.call("GetRootContainer", pb.GetRootContainerRequest())
    assert chain[0].parent_container_id == ""
    for parent, child in itertools.pairwise(chain):
        assert child.parent_container_id == parent.container_id


def test_ancestors_of_root_are_empty(client: StorageClient, root: pb.ContainerInfo) -> None:
    """GetAncestors of the root container is empty."""
    assert ancestors(client, container_id=root.container_id) == []


def test_ancestors_without_an_item_is_invalid_argument(client: StorageClient) -> None:
    """GetAncestors with neither file_id nor container_id is INVALID_ARGUMENT."""
    with expect_error(grpc.StatusCode.INVALID_ARGUMENT) as error:
        client.call("GetAncestors", pb.GetAncestorsRequest())
    assert error.detail(error_details_pb2.BadRequest).field_violations


def test_ancestors_of_unknown_items_are_not_found(client: StorageClient) -> None:
    """GetAncestors of a file or container that does not exist is NOT_FOUND."""
    with expect_error(grpc.StatusCode.NOT_FOUND):
        ancestors(client, file_id=unknown_id())
    with expect_error(grpc.StatusCode.NOT_FOUND):
        ancestors(client, container_id=unknown_id())

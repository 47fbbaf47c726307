"""Version history (optional, Capabilities.version_history): ListVersions, ReadFile of a version, RestoreVersion."""

from __future__ import annotations

import hashlib

import grpc
import pytest

from tests.contract.client import (
    StorageClient,
    assert_bad_request,
    comparable,
    expect_error,
    file_state,
    lock_precondition,
    share_if_enforced,
    unknown_id,
)
from tests.contract.conftest import Workspace, requires
from wopi_proto.storage_v1 import storage_pb2 as pb

CONTENTS = [b"one", b"second", b"the third"]


def list_versions(client: StorageClient, file_id: str) -> list[pb.FileVersion]:
    return list(client.call("ListVersions", pb.ListVersionsRequest(file_id=file_id)).versions)  # type: ignore[attr-defined]


def restore(client: StorageClient, file_id: str, version: str, **kwargs: object) -> pb.FileInfo:
    request = pb.RestoreVersionRequest(file_id=file_id, version=version, **kwargs)  # type: ignore[arg-type]
    return client.call("RestoreVersion", request)  # type: ignore[return-value]


def file_with_history(client: StorageClient, workspace: Workspace, name: str = "history.docx") -> list[pb.FileInfo]:
    """A file written len(CONTENTS) times; the metadata after each write, oldest first (the last is current)."""
    infos = [client.create_file(workspace.container_id, workspace.name(name), CONTENTS[0])]
    for data in CONTENTS[1:]:
        infos.append(client.write_file(infos[0].file_id, data))
    return infos


def kept(caps: pb.Capabilities, versions: list[str]) -> list[str]:
    """The newest-first `versions` that a history bounded by max_versions_kept still holds."""
    return versions[: caps.max_versions_kept] if caps.max_versions_kept else versions


def test_list_versions_is_newest_first_without_the_current_one(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """ListVersions lists the earlier versions newest first, with their size; the current version is not included."""
    requires(caps, "version_history")
    infos = file_with_history(client, workspace)
    versions = list_versions(client, infos[0].file_id)
    assert [v.version for v in versions] == kept(caps, [infos[1].version, infos[0].version])
    for listed, info, data in zip(versions, [infos[1], infos[0]], [CONTENTS[1], CONTENTS[0]], strict=False):
        assert listed.size == len(data)
        assert listed.modified_by.user_id == client.user_id
        assert listed.modified_time == info.modified_time
        if caps.sha256:
            assert listed.sha256 == hashlib.sha256(data).digest()


def test_list_versions_of_a_new_file_is_empty(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """A file that was never rewritten has no earlier versions."""
    requires(caps, "version_history")
    info = client.create_file(workspace.container_id, workspace.name("fresh.txt"), b"x")
    assert list_versions(client, info.file_id) == []


def test_read_an_earlier_version(client: StorageClient, caps: pb.Capabilities, workspace: Workspace) -> None:
    """ReadFile with `version` streams that version's bytes, and its first message's metadata names that version."""
    requires(caps, "version_history")
    infos = file_with_history(client, workspace)
    earlier = kept(caps, [infos[1].version, infos[0].version])
    for info, data in zip(infos, CONTENTS, strict=True):
        if info.version in earlier:
            read_info, read = client.read_file(infos[0].file_id, version=info.version)
            assert read == data
            assert read_info.version == info.version
            assert read_info.size == len(data)
    read_info, read = client.read_file(infos[0].file_id, version=infos[1].version, offset=1, length=3)
    assert read == CONTENTS[1][1:4]
    assert read_info.version == infos[1].version
    assert client.stat(infos[0].file_id).version == infos[-1].version  # reading changed nothing


def test_read_an_unknown_version_is_not_found(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """ReadFile of a version the file never had is NOT_FOUND."""
    requires(caps, "version_history")
    infos = file_with_history(client, workspace)
    with expect_error(grpc.StatusCode.NOT_FOUND):
        client.read_file(infos[0].file_id, version="contract-no-such-version")


def test_restore_version_makes_old_bytes_current_with_a_new_version(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """RestoreVersion is a write: the old bytes become current under a new version; the old one stays in history."""
    requires(caps, "version_history")
    infos = file_with_history(client, workspace)
    file_id, oldest = infos[0].file_id, infos[0]
    share_if_enforced(client, caps, "contract-restorer", file_id=file_id)
    restorer = client.metadata(user_id="contract-restorer")
    request = pb.RestoreVersionRequest(file_id=file_id, version=oldest.version)
    restored: pb.FileInfo = client.call("RestoreVersion", request, metadata=restorer)  # type: ignore[assignment]
    assert restored.file_id == file_id
    assert restored.version not in {info.version for info in infos}
    assert restored.size == len(CONTENTS[0])
    assert restored.modified_by.user_id == "contract-restorer"
    # As the restorer sees it: permissions are the calling principal's (the owner's may be more).
    stat = client.call("StatFile", pb.StatFileRequest(file_id=file_id), metadata=restorer)
    assert comparable(stat) == comparable(restored)  # type: ignore[arg-type]
    read_info, data = client.read_file(file_id)
    assert data == CONTENTS[0]
    assert read_info.version == restored.version
    newest_first = [info.version for info in infos[::-1]]  # the version current before the restore comes first
    assert [v.version for v in list_versions(client, file_id)] == kept(caps, newest_first)


def test_restore_unknown_version_is_not_found(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """RestoreVersion of a version the file never had is NOT_FOUND, and the file is unchanged."""
    requires(caps, "version_history")
    infos = file_with_history(client, workspace)
    before = file_state(client, infos[0].file_id)
    with expect_error(grpc.StatusCode.NOT_FOUND):
        restore(client, infos[0].file_id, "contract-no-such-version")
    assert file_state(client, infos[0].file_id) == before


def test_history_is_bounded_by_max_versions_kept(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """At most max_versions_kept earlier versions are kept (the newest ones); older ones no longer exist."""
    requires(caps, "version_history")
    if caps.max_versions_kept <= 0:
        pytest.skip("the adapter advertises no max_versions_kept bound")
    info = client.create_file(workspace.container_id, workspace.name("bounded.txt"), b"0")
    versions = [info.version]
    for index in range(1, caps.max_versions_kept + 3):
        versions.append(client.write_file(info.file_id, str(index).encode()).version)
    earlier_newest_first = versions[-2::-1]
    assert [v.version for v in list_versions(client, info.file_id)] == earlier_newest_first[: caps.max_versions_kept]
    with expect_error(grpc.StatusCode.NOT_FOUND):
        client.read_file(info.file_id, version=versions[0])
    with expect_error(grpc.StatusCode.NOT_FOUND):
        restore(client, info.file_id, versions[0])


def test_restore_version_respects_the_lock(client: StorageClient, caps: pb.Capabilities, workspace: Workspace) -> None:
    """RestoreVersion of a locked file without its lock id is FAILED_PRECONDITION + LockConflict; with it, it works."""
    requires(caps, "version_history")
    infos = file_with_history(client, workspace)
    file_id = infos[0].file_id
    client.lock(file_id, "contract-restore-lock")
    before = file_state(client, file_id)
    with expect_error(grpc.StatusCode.FAILED_PRECONDITION) as error:
        restore(client, file_id, infos[0].version)
    assert error.detail(pb.LockConflict).current_lock.lock_id == "contract-restore-lock"
    with expect_error(grpc.StatusCode.FAILED_PRECONDITION):
        restore(client, file_id, infos[0].version, preconditions=lock_precondition("another-lock"))
    assert file_state(client, file_id) == before
    restored = restore(client, file_id, infos[0].version, preconditions=lock_precondition("contract-restore-lock"))
    assert client.read_file(file_id)[1] == CONTENTS[0]
    assert restored.lock.lock_id == "contract-restore-lock"  # a write keeps the lock


def test_restore_version_respects_if_version(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """RestoreVersion with a stale if_version is ABORTED + VersionConflict carrying the current version."""
    requires(caps, "version_history")
    infos = file_with_history(client, workspace)
    file_id = infos[0].file_id
    before = file_state(client, file_id)
    stale = pb.Preconditions(if_version=infos[1].version)
    with expect_error(grpc.StatusCode.ABORTED) as error:
        restore(client, file_id, infos[0].version, preconditions=stale)
    assert error.detail(pb.VersionConflict).current_version == infos[-1].version
    assert file_state(client, file_id) == before
    current = pb.Preconditions(if_version=infos[-1].version)
    assert restore(client, file_id, infos[0].version, preconditions=current).size == len(CONTENTS[0])


def test_delete_file_deletes_its_history(client: StorageClient, caps: pb.Capabilities, workspace: Workspace) -> None:
    """DeleteFile deletes the version history: a new file of the same name starts with none."""
    requires(caps, "version_history")
    infos = file_with_history(client, workspace, "reborn.txt")
    client.call("DeleteFile", pb.DeleteFileRequest(file_id=infos[0].file_id))
    with expect_error(grpc.StatusCode.NOT_FOUND):
        list_versions(client, infos[0].file_id)
    again = client.create_file(workspace.container_id, infos[0].name, b"new")
    assert list_versions(client, again.file_id) == []
    with expect_error(grpc.StatusCode.NOT_FOUND):
        client.read_file(again.file_id, version=infos[0].version)


def test_version_rpcs_on_unknown_or_malformed_file(client: StorageClient, caps: pb.Capabilities) -> None:
    """ListVersions and RestoreVersion are NOT_FOUND for an unknown file and INVALID_ARGUMENT for a malformed id."""
    requires(caps, "version_history")
    with expect_error(grpc.StatusCode.NOT_FOUND):
        list_versions(client, unknown_id())
    with expect_error(grpc.StatusCode.NOT_FOUND):
        restore(client, unknown_id(), "v1")
    with expect_error(grpc.StatusCode.INVALID_ARGUMENT) as error:
        list_versions(client, "../etc")
    assert_bad_request(error, "file_id")
    with expect_error(grpc.StatusCode.INVALID_ARGUMENT) as error:
        restore(client, "a/b", "v1")
    assert_bad_request(error, "file_id")


def test_version_rpcs_are_unimplemented_without_capability(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """Without version_history, ListVersions, RestoreVersion and ReadFile of a version are UNIMPLEMENTED."""
    if caps.version_history:
        pytest.skip("the adapter advertises 'version_history'")
    info = client.create_file(workspace.container_id, workspace.name("no-history.txt"), b"one")
    old = info.version
    client.write_file(info.file_id, b"two")
    with expect_error(grpc.StatusCode.UNIMPLEMENTED):
        list_versions(client, info.file_id)
    with expect_error(grpc.StatusCode.UNIMPLEMENTED):
        restore(client, info.file_id, old)
    with expect_error(grpc.StatusCode.UNIMPLEMENTED):
        client.read_file(info.file_id, version=old)

"""Files: CreateFile, StatFile, ReadFile, WriteFile, RenameFile, DeleteFile and LookupChild."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator

import grpc
import pytest

from tests.contract.client import (
    StorageClient,
    assert_bad_request,
    comparable,
    expect_error,
    expect_on_each,
    file_state,
    is_valid_id,
    read_summary,
    share_if_enforced,
    unknown_id,
)
from tests.contract.conftest import Workspace, requires
from wopi_proto.storage_v1 import storage_pb2 as pb

MIB = 1024 * 1024
CONTENTS = bytes(range(256)) * 4  # 1024 bytes, every byte value, so an offset error shows

MALFORMED_IDS = {
    "path-traversal": "../etc",
    "slash": "a/b",
    "empty": "",
    "300-characters": "a" * 300,
    "non-ascii": "fichié",
    "space": "a b",
    "dot": "a.b",
}


def file_rpcs(client: StorageClient, file_id: str) -> dict[str, object]:
    """Every file RPC that names one file, called on `file_id` with otherwise valid arguments."""
    return {
        "StatFile": lambda: client.stat(file_id),
        "ReadFile": lambda: client.read_messages(file_id),
        "WriteFile": lambda: client.write_file(file_id, b"new contents"),
        "RenameFile": lambda: client.call("RenameFile", pb.RenameFileRequest(file_id=file_id, new_name="x.txt")),
        "DeleteFile": lambda: client.call("DeleteFile", pb.DeleteFileRequest(file_id=file_id)),
    }


def is_version(value: str) -> bool:
    return 1 <= len(value) <= 256 and all(" " <= character <= "~" for character in value)


# ---- CreateFile and StatFile ----


def test_create_file_returns_full_metadata(client: StorageClient, workspace: Workspace) -> None:
    """CreateFile answers the new file's metadata: name, size, version, owner (the principal), parent, no lock."""
    name = workspace.name("report.docx")
    info = client.create_file(workspace.container_id, name, CONTENTS)
    assert is_valid_id(info.file_id)
    assert info.name == name
    assert info.size == len(CONTENTS)
    assert is_version(info.version)
    assert info.owner.user_id == client.user_id
    assert info.parent_container_id == workspace.container_id
    assert info.HasField("modified_time") and info.modified_time.ToNanoseconds() > 0
    assert not info.lock.lock_id


def test_stat_file_equals_create_result(client: StorageClient, workspace: Workspace) -> None:
    """StatFile returns the same metadata that CreateFile answered, as long as nothing changed."""
    created = client.create_file(workspace.container_id, workspace.name("stat.txt"), CONTENTS)
    assert comparable(client.stat(created.file_id)) == comparable(created)


def test_create_file_records_the_principal_as_author(client: StorageClient, workspace: Workspace) -> None:
    """Storage records the principal as the author of what it creates: modified_by is the creator."""
    info = client.create_file(workspace.container_id, workspace.name("authored.txt"), b"x")
    assert info.modified_by.user_id == client.user_id
    assert client.stat(info.file_id).modified_by.user_id == client.user_id


def test_file_id_is_url_safe(client: StorageClient, workspace: Workspace) -> None:
    """Ids are at most 256 characters from [A-Za-z0-9_-], never a path, even for names with path-like text."""
    for suffix in ("plain.txt", "..dots..txt", "Привет 文件 %2F &?#.txt"):
        info = client.create_file(workspace.container_id, workspace.name(suffix), b"x")
        assert is_valid_id(info.file_id), info.file_id


def test_create_file_on_existing_name_is_already_exists(client: StorageClient, workspace: Workspace) -> None:
    """CreateFile is exclusive: a taken name is ALREADY_EXISTS + NameConflict naming the existing file."""
    name = workspace.name("taken.txt")
    first = client.create_file(workspace.container_id, name, b"first")
    with expect_error(grpc.StatusCode.ALREADY_EXISTS) as error:
        client.create_file(workspace.container_id, name, b"second")
    conflict = error.detail(pb.NameConflict)
    assert conflict.container_id == workspace.container_id
    assert conflict.name == name
    assert conflict.existing.WhichOneof("item") == "file"
    assert conflict.existing.file.file_id == first.file_id
    assert client.read_file(first.file_id)[1] == b"first"
    assert client.stat(first.file_id).version == first.version


def test_create_file_in_missing_container_is_not_found(client: StorageClient, workspace: Workspace) -> None:
    """CreateFile in a container that does not exist is NOT_FOUND."""
    with expect_error(grpc.StatusCode.NOT_FOUND):
        client.create_file(unknown_id(), workspace.name("orphan.txt"), b"x")


def test_create_file_without_principal_is_invalid_argument(client: StorageClient, workspace: Workspace) -> None:
    """CreateFile requires the principal; without x-wopi-principal-id it is INVALID_ARGUMENT and creates nothing."""
    name = workspace.name("anonymous.txt")
    with expect_error(grpc.StatusCode.INVALID_ARGUMENT) as error:
        client.create_file(workspace.container_id, name, b"x", metadata=client.metadata(user_id=""))
    assert_bad_request(error, "x-wopi-principal-id")
    with expect_error(grpc.StatusCode.NOT_FOUND):
        client.call("LookupChild", pb.LookupChildRequest(container_id=workspace.container_id, name=name))


# ---- ids: unknown, deleted and malformed ----


def test_unknown_file_id_is_not_found(client: StorageClient) -> None:
    """A well-formed id that names no file is NOT_FOUND on every file RPC."""
    expect_on_each(file_rpcs(client, unknown_id()), grpc.StatusCode.NOT_FOUND)


def test_deleted_file_is_not_found_everywhere(client: StorageClient, workspace: Workspace) -> None:
    """After DeleteFile, the id names no file: every file RPC on it is NOT_FOUND."""
    info = client.create_file(workspace.container_id, workspace.name("gone.txt"), b"x")
    client.call("DeleteFile", pb.DeleteFileRequest(file_id=info.file_id))
    expect_on_each(file_rpcs(client, info.file_id), grpc.StatusCode.NOT_FOUND)


def test_malformed_file_id_is_invalid_argument(client: StorageClient) -> None:
    """An id outside 1-256 characters of [A-Za-z0-9_-] is INVALID_ARGUMENT + BadRequest naming the id field."""
    calls = {
        f"{rpc} with {label} id": call
        for label, file_id in MALFORMED_IDS.items()
        for rpc, call in file_rpcs(client, file_id).items()
    }
    expect_on_each(calls, grpc.StatusCode.INVALID_ARGUMENT, "file_id")


# ---- WriteFile and versions ----


def test_write_file_returns_new_metadata(client: StorageClient, workspace: Workspace) -> None:
    """WriteFile answers the new metadata (same id and name, new size and version) and StatFile agrees."""
    created = client.create_file(workspace.container_id, workspace.name("write.txt"), b"old")
    written = client.write_file(created.file_id, CONTENTS)
    assert written.file_id == created.file_id
    assert written.name == created.name
    assert written.size == len(CONTENTS)
    assert is_version(written.version) and written.version != created.version
    assert written.modified_time.ToNanoseconds() >= created.modified_time.ToNanoseconds()
    assert written.parent_container_id == workspace.container_id
    assert comparable(client.stat(created.file_id)) == comparable(written)
    assert client.read_file(created.file_id)[1] == CONTENTS


def test_version_changes_on_every_write_even_with_identical_bytes(client: StorageClient, workspace: Workspace) -> None:
    """A file's version changes on every successful write, even when the new bytes equal the old ones."""
    info = client.create_file(workspace.container_id, workspace.name("same.txt"), b"same")
    versions = [info.version]
    for _ in range(3):
        versions.append(client.write_file(info.file_id, b"same").version)
        assert client.stat(info.file_id).version == versions[-1]
    assert len(set(versions)) == len(versions), versions


def test_version_does_not_change_on_rename_or_lock(client: StorageClient, workspace: Workspace) -> None:
    """Renames and lock changes do not change the version."""
    info = client.create_file(workspace.container_id, workspace.name("stable.txt"), b"x")
    renamed = client.call("RenameFile", pb.RenameFileRequest(file_id=info.file_id, new_name=workspace.name("b.txt")))
    assert renamed.version == info.version  # type: ignore[attr-defined]
    locked = client.lock(info.file_id, "contract-lock")
    assert locked.version == info.version
    unlocked = client.call("Unlock", pb.UnlockRequest(file_id=info.file_id, lock_id="contract-lock"))
    assert unlocked.file.version == info.version  # type: ignore[attr-defined]
    assert client.stat(info.file_id).version == info.version


def test_file_id_is_stable_across_write_and_rename(client: StorageClient, workspace: Workspace) -> None:
    """Writes and renames never change a file's id: the old id keeps naming the file."""
    info = client.create_file(workspace.container_id, workspace.name("keep-id.txt"), b"one")
    assert client.write_file(info.file_id, b"two").file_id == info.file_id
    new_name = workspace.name("keep-id renamed.txt")
    request = pb.RenameFileRequest(file_id=info.file_id, new_name=new_name)
    assert client.call("RenameFile", request).file_id == info.file_id  # type: ignore[attr-defined]
    assert client.stat(info.file_id).name == new_name
    found = client.call("LookupChild", pb.LookupChildRequest(container_id=workspace.container_id, name=new_name))
    assert found.file.file_id == info.file_id  # type: ignore[attr-defined]
    assert client.read_file(info.file_id)[1] == b"two"


def test_write_records_the_writer_as_modified_by(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """Storage records the principal of a write as modified_by; the owner stays the creator."""
    info = client.create_file(workspace.container_id, workspace.name("authors.txt"), b"x")
    share_if_enforced(client, caps, "contract-writer", file_id=info.file_id)
    writer = client.metadata(user_id="contract-writer", display_name="Ødegård Writer ✓")
    written = client.write_file(info.file_id, b"y", metadata=writer)
    for current in (written, client.stat(info.file_id)):
        assert current.modified_by.user_id == "contract-writer"
        assert current.modified_by.display_name == "Ødegård Writer ✓"
        assert current.owner.user_id == client.user_id


def test_sha256_is_the_digest_of_the_contents(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """With Capabilities.sha256, FileInfo.sha256 is the SHA-256 of the current contents, everywhere it appears."""
    requires(caps, "sha256")
    info = client.create_file(workspace.container_id, workspace.name("digest.bin"), CONTENTS)
    assert info.sha256 == hashlib.sha256(CONTENTS).digest()
    assert client.stat(info.file_id).sha256 == hashlib.sha256(CONTENTS).digest()
    written = client.write_file(info.file_id, b"other")
    assert written.sha256 == hashlib.sha256(b"other").digest()
    assert client.stat(info.file_id).sha256 == hashlib.sha256(b"other").digest()
    assert client.read_file(info.file_id)[0].sha256 == hashlib.sha256(b"other").digest()


# ---- ReadFile ----


def test_read_first_message_carries_current_metadata(client: StorageClient, workspace: Workspace) -> None:
    """ReadFile's first message carries the file's metadata, whose version is StatFile's; later ones carry none."""
    info = client.create_file(workspace.container_id, workspace.name("read.txt"), b"v1")
    client.write_file(info.file_id, CONTENTS)
    messages = client.read_messages(info.file_id)
    assert messages[0].HasField("file")
    assert all(not message.HasField("file") for message in messages[1:])
    assert comparable(messages[0].file) == comparable(client.stat(info.file_id))
    assert b"".join(message.data for message in messages) == CONTENTS


RANGES = {  # (offset, length): expected bytes
    (0, 0): CONTENTS,
    (0, 10): CONTENTS[:10],
    (100, 50): CONTENTS[100:150],
    (100, 0): CONTENTS[100:],  # length 0 reads to the end
    (1000, 100): CONTENTS[1000:],  # cut at the end
    (1023, 1): CONTENTS[1023:],
    (1023, 0): CONTENTS[1023:],
}


def test_ranged_read(client: StorageClient, workspace: Workspace) -> None:
    """ReadFile returns bytes [offset, offset+length), length 0 meaning to the end, cut at the end of the file."""
    info = client.create_file(workspace.container_id, workspace.name("ranged.bin"), CONTENTS)
    for (offset, length), expected in RANGES.items():
        read_info, data = client.read_file(info.file_id, offset=offset, length=length)
        assert data == expected, f"offset={offset} length={length}: got {len(data)} bytes"
        assert read_info.size == len(CONTENTS)
        assert read_info.version == info.version


def test_read_at_offset_equal_to_size_gives_no_data(client: StorageClient, workspace: Workspace) -> None:
    """An offset equal to the size is not an error: one message with the metadata and no data."""
    info = client.create_file(workspace.container_id, workspace.name("end.bin"), CONTENTS)
    messages = client.read_messages(info.file_id, offset=len(CONTENTS))
    assert messages[0].HasField("file")
    assert b"".join(message.data for message in messages) == b""


def test_read_offset_past_end_is_out_of_range(client: StorageClient, workspace: Workspace) -> None:
    """A read range that starts past the end of the file is OUT_OF_RANGE."""
    info = client.create_file(workspace.container_id, workspace.name("short.bin"), CONTENTS)
    with expect_error(grpc.StatusCode.OUT_OF_RANGE):
        client.read_messages(info.file_id, offset=len(CONTENTS) + 1)
    with expect_error(grpc.StatusCode.OUT_OF_RANGE):
        client.read_messages(info.file_id, offset=len(CONTENTS) + 1, length=10)


def test_negative_offset_or_length_is_invalid_argument(client: StorageClient, workspace: Workspace) -> None:
    """A negative offset or length is INVALID_ARGUMENT + BadRequest naming that field."""
    info = client.create_file(workspace.container_id, workspace.name("negative.bin"), CONTENTS)
    for field in ("offset", "length"):
        with expect_error(grpc.StatusCode.INVALID_ARGUMENT) as error:
            client.read_messages(info.file_id, **{field: -1})
        assert_bad_request(error, field)


def test_read_chunks_are_at_most_max_chunk_size(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """Storage sends contents in chunks of at most Capabilities.max_chunk_size bytes."""
    size = caps.max_chunk_size * 2 + 12345
    if caps.max_file_size and caps.max_file_size < size:
        pytest.skip(f"max_file_size {caps.max_file_size} is below {size} bytes")
    data = random.Random(7).randbytes(size)
    info = client.create_file(workspace.container_id, workspace.name("chunks.bin"), _chunks(data, caps.max_chunk_size))
    summary = read_summary(client, info.file_id)
    assert summary.largest_chunk <= caps.max_chunk_size
    assert summary.size == size
    assert summary.sha256 == hashlib.sha256(data).digest()


def test_many_small_chunks_are_joined_in_order(client: StorageClient, workspace: Workspace) -> None:
    """Chunks are parts of one contents: a write in many small chunks reads back as their concatenation."""
    pieces = [bytes([index % 251]) * (index % 7 + 1) for index in range(500)]
    info = client.create_file(workspace.container_id, workspace.name("pieces.bin"), iter(pieces))
    assert client.read_file(info.file_id)[1] == b"".join(pieces)
    client.write_file(info.file_id, iter(pieces[::-1]))
    assert client.read_file(info.file_id)[1] == b"".join(pieces[::-1])


# ---- 0-byte files ----


def test_create_empty_file(client: StorageClient, caps: pb.Capabilities, workspace: Workspace) -> None:
    """A file created with no data has size 0, and reading it gives exactly one message: metadata, no data."""
    info = client.create_file(workspace.container_id, workspace.name("empty.docx"), b"")
    assert info.size == 0
    assert is_version(info.version)
    messages = client.read_messages(info.file_id)
    assert len(messages) == 1
    assert messages[0].HasField("file") and messages[0].data == b""
    assert messages[0].file.size == 0
    if caps.sha256:
        assert info.sha256 == hashlib.sha256(b"").digest()


def test_write_zero_bytes_empties_the_file(client: StorageClient, workspace: Workspace) -> None:
    """A WriteFile with a header and no data makes the file empty, with a new version."""
    info = client.create_file(workspace.container_id, workspace.name("to-empty.txt"), CONTENTS)
    written = client.write_file(info.file_id, b"")
    assert written.size == 0
    assert written.version != info.version
    messages = client.read_messages(info.file_id)
    assert len(messages) == 1
    assert messages[0].HasField("file") and messages[0].data == b""


# ---- large files ----


def test_100_mb_round_trip_is_byte_exact(client: StorageClient, caps: pb.Capabilities, workspace: Workspace) -> None:
    """A 100 MB file streams in and out byte for byte, in chunks of at most max_chunk_size."""
    size = 100 * MIB + 4321
    if caps.max_file_size and caps.max_file_size < size:
        pytest.skip(f"max_file_size {caps.max_file_size} is below {size} bytes")
    written = hashlib.sha256()

    def generate() -> Iterator[bytes]:
        rng = random.Random(20240601)
        remaining = size
        while remaining:
            piece = rng.randbytes(min(caps.max_chunk_size, remaining))
            written.update(piece)
            remaining -= len(piece)
            yield piece

    info = client.create_file(workspace.container_id, workspace.name("large.bin"), generate(), timeout=300)
    assert info.size == size
    if caps.sha256:
        assert info.sha256 == written.digest()
    summary = read_summary(client, info.file_id, timeout=300)
    assert summary.size == size
    assert summary.sha256 == written.digest()
    assert summary.largest_chunk <= caps.max_chunk_size
    assert summary.file.version == info.version


# ---- RenameFile ----


def test_rename_file(client: StorageClient, workspace: Workspace) -> None:
    """RenameFile changes the name only: the new name finds the file, the old one finds nothing."""
    old_name, new_name = workspace.name("before.txt"), workspace.name("after.docx")
    info = client.create_file(workspace.container_id, old_name, b"x")
    renamed = client.call("RenameFile", pb.RenameFileRequest(file_id=info.file_id, new_name=new_name))
    assert renamed.name == new_name  # type: ignore[attr-defined]
    assert renamed.file_id == info.file_id  # type: ignore[attr-defined]
    assert renamed.size == info.size  # type: ignore[attr-defined]
    assert comparable(client.stat(info.file_id)) == comparable(renamed)  # type: ignore[arg-type]
    assert _lookup(client, workspace.container_id, new_name).file.file_id == info.file_id
    with expect_error(grpc.StatusCode.NOT_FOUND):
        _lookup(client, workspace.container_id, old_name)


def test_rename_to_taken_name_is_already_exists(client: StorageClient, workspace: Workspace) -> None:
    """RenameFile to a name another file has is ALREADY_EXISTS + NameConflict naming that file; nothing changes."""
    moving = client.create_file(workspace.container_id, workspace.name("moving.txt"), b"moving")
    taken = client.create_file(workspace.container_id, workspace.name("taken.txt"), b"taken")
    with expect_error(grpc.StatusCode.ALREADY_EXISTS) as error:
        client.call("RenameFile", pb.RenameFileRequest(file_id=moving.file_id, new_name=taken.name))
    conflict = error.detail(pb.NameConflict)
    assert conflict.container_id == workspace.container_id
    assert conflict.name == taken.name
    assert conflict.existing.file.file_id == taken.file_id
    assert comparable(client.stat(moving.file_id)) == comparable(moving)
    assert comparable(client.stat(taken.file_id)) == comparable(taken)
    assert client.read_file(taken.file_id)[1] == b"taken"


def test_rename_to_container_name_is_already_exists(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """RenameFile to a name a container has is ALREADY_EXISTS + NameConflict naming that container."""
    requires(caps, "containers")
    name = workspace.name("folder")
    folder = client.call(
        "CreateContainer", pb.CreateContainerRequest(parent_container_id=workspace.container_id, name=name)
    )
    moving = client.create_file(workspace.container_id, workspace.name("moving.txt"), b"x")
    with expect_error(grpc.StatusCode.ALREADY_EXISTS) as error:
        client.call("RenameFile", pb.RenameFileRequest(file_id=moving.file_id, new_name=name))
    assert error.detail(pb.NameConflict).existing.container.container_id == folder.container_id  # type: ignore[attr-defined]
    assert client.stat(moving.file_id).name == moving.name


def test_rename_to_the_same_name_succeeds(client: StorageClient, workspace: Workspace) -> None:
    """Renaming a file to its current name succeeds and changes nothing."""
    info = client.create_file(workspace.container_id, workspace.name("same-name.txt"), b"x")
    renamed = client.call("RenameFile", pb.RenameFileRequest(file_id=info.file_id, new_name=info.name))
    assert renamed.name == info.name  # type: ignore[attr-defined]
    assert renamed.version == info.version  # type: ignore[attr-defined]
    assert comparable(client.stat(info.file_id)) == comparable(info)


# ---- DeleteFile ----


def test_delete_file_frees_the_name(client: StorageClient, workspace: Workspace) -> None:
    """DeleteFile removes the file: StatFile is NOT_FOUND, the name is free, and a new file gets a new id."""
    name = workspace.name("delete-me.txt")
    info = client.create_file(workspace.container_id, name, b"old")
    client.call("DeleteFile", pb.DeleteFileRequest(file_id=info.file_id))
    with expect_error(grpc.StatusCode.NOT_FOUND):
        client.stat(info.file_id)
    with expect_error(grpc.StatusCode.NOT_FOUND):
        _lookup(client, workspace.container_id, name)
    listed = [item.file.file_id for item in client.children(workspace.container_id) if item.HasField("file")]
    assert info.file_id not in listed
    again = client.create_file(workspace.container_id, name, b"new")
    assert again.file_id != info.file_id  # ids are never reused
    assert client.read_file(again.file_id)[1] == b"new"
    with expect_error(grpc.StatusCode.NOT_FOUND):
        client.stat(info.file_id)


def test_delete_file_twice_is_not_found(client: StorageClient, workspace: Workspace) -> None:
    """A second DeleteFile of the same id is NOT_FOUND: the file no longer exists."""
    info = client.create_file(workspace.container_id, workspace.name("twice.txt"), b"x")
    client.call("DeleteFile", pb.DeleteFileRequest(file_id=info.file_id))
    with expect_error(grpc.StatusCode.NOT_FOUND):
        client.call("DeleteFile", pb.DeleteFileRequest(file_id=info.file_id))


def test_delete_file_leaves_its_neighbours(client: StorageClient, workspace: Workspace) -> None:
    """DeleteFile deletes only the named file."""
    kept = client.create_file(workspace.container_id, workspace.name("kept.txt"), b"kept")
    before = file_state(client, kept.file_id)
    deleted = client.create_file(workspace.container_id, workspace.name("deleted.txt"), b"deleted")
    client.call("DeleteFile", pb.DeleteFileRequest(file_id=deleted.file_id))
    assert file_state(client, kept.file_id) == before


# ---- LookupChild ----


def _lookup(client: StorageClient, container_id: str, name: str) -> pb.Item:
    return client.call("LookupChild", pb.LookupChildRequest(container_id=container_id, name=name))  # type: ignore[return-value]


def test_lookup_child_finds_a_file_by_exact_name(client: StorageClient, workspace: Workspace) -> None:
    """LookupChild finds the file with exactly this name, with the same metadata as StatFile."""
    info = client.create_file(workspace.container_id, workspace.name("lookup.docx"), CONTENTS)
    item = _lookup(client, workspace.container_id, info.name)
    assert item.WhichOneof("item") == "file"
    assert comparable(item.file) == comparable(client.stat(info.file_id))


def test_lookup_child_finds_a_container(client: StorageClient, caps: pb.Capabilities, workspace: Workspace) -> None:
    """LookupChild finds a container by its name, with the same metadata as GetContainer."""
    requires(caps, "containers")
    request = pb.CreateContainerRequest(parent_container_id=workspace.container_id, name="sub folder")
    folder = client.call("CreateContainer", request)
    item = _lookup(client, workspace.container_id, "sub folder")
    assert item.WhichOneof("item") == "container"
    assert item.container == folder


def test_lookup_child_without_exact_match_is_not_found(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """LookupChild matches the whole name exactly: a prefix, a longer name or an unknown name is NOT_FOUND."""
    name = workspace.name("exact.docx")
    client.create_file(workspace.container_id, name, b"x")
    misses = [name[:-1], name + "x", "x" + name, workspace.name("absent.docx")]
    if not caps.case_insensitive_names:
        misses.append(name.upper())
    for miss in misses:
        with expect_error(grpc.StatusCode.NOT_FOUND):
            _lookup(client, workspace.container_id, miss)


def test_lookup_child_in_missing_container_is_not_found(client: StorageClient, workspace: Workspace) -> None:
    """LookupChild in a container that does not exist is NOT_FOUND."""
    with expect_error(grpc.StatusCode.NOT_FOUND):
        _lookup(client, unknown_id(), workspace.name("anything.txt"))


def _chunks(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]

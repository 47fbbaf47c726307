"""The filesystem backend's own behaviour: what the contract suite cannot see from outside.

The contract suite proves the backend keeps the storage contract; these tests prove it keeps it while the
folder is a real folder: changed by other programs, restarted, crashed into, and too large for memory.
Each test is a plain function that runs its own event loop (`run`).
"""

from __future__ import annotations

import asyncio
import gc
import os
import sqlite3
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from storage_adapter import access, locks
from storage_adapter.access import AccessPolicy, Grantee, GranteeKind, Role, UnownedAccess
from storage_adapter.backends.filesystem import FilesystemBackend
from storage_adapter.backends.filesystem.catalogue import MIGRATIONS
from storage_adapter.backends.filesystem.streams import WRITE_BATCH_BYTES
from storage_adapter.errors import (
    ContainerNotEmpty,
    InvalidArgument,
    LockConflict,
    NameConflict,
    NotFound,
    OutOfRange,
    PermissionDenied,
    TooLarge,
)
from storage_adapter.types import (
    ContainerId,
    ContainerMeta,
    FileId,
    FileMeta,
    LockId,
    Permissions,
    Preconditions,
    Principal,
    Version,
    WhenUnlocked,
)

T = TypeVar("T")

ALICE = Principal("alice", "Alice")
BOB = Principal("bob", "Bob")
MiB = 1024 * 1024


def run(test: Callable[[FilesystemBackend], Awaitable[T]], root: Path, **options: Any) -> T:
    """Start a backend on `root`, run `test` with it, and close it whatever happens."""

    async def main() -> T:
        backend = FilesystemBackend(root, **options)
        await backend.start()
        try:
            return await test(backend)
        finally:
            await backend.close()

    return asyncio.run(main())


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def read(backend: FilesystemBackend, file_id: str, version: str | None = None) -> bytes:
    reader = await backend.open_file(FileId(file_id), 0, 0, Version(version) if version else None)
    return b"".join([chunk async for chunk in reader.chunks])


async def create(backend: FilesystemBackend, name: str, data: bytes = b"", container: str | None = None) -> FileMeta:
    parent = ContainerId(container) if container else (await backend.root_container()).container_id
    return await backend.create_file(parent, name, chunks(data), ALICE)


async def write(backend: FilesystemBackend, file_id: str, data: bytes, lock_id: str = "") -> FileMeta:
    return await backend.write_file(FileId(file_id), Preconditions(lock_id=lock_id), chunks(data), BOB)


async def children(backend: FilesystemBackend, container_id: str | None = None) -> dict[str, FileMeta | ContainerMeta]:
    container = ContainerId(container_id) if container_id else (await backend.root_container()).container_id
    return {item.name: item async for item in backend.list_children(container, frozenset())}


def leftovers(root: Path) -> list[str]:
    return os.listdir(root / ".wopi-storage" / "tmp")


# ---- plain files and folders ----


def test_files_and_containers_are_plain_files_and_directories(tmp_path: Path) -> None:
    async def test(backend: FilesystemBackend) -> None:
        folder = await backend.create_container((await backend.root_container()).container_id, "Reports", ALICE)
        meta = await create(backend, "Q1 résumé.docx", b"hello", folder.container_id)
        assert (tmp_path / "Reports" / "Q1 résumé.docx").read_bytes() == b"hello"
        assert meta.owner == ALICE and meta.modified_by == ALICE and len(meta.sha256) == 32
        assert set(await children(backend)) == {"Reports"}  # the state directory is never listed
        renamed = await backend.rename_container(folder.container_id, "Archive")
        assert renamed.container_id == folder.container_id
        assert (tmp_path / "Archive" / "Q1 résumé.docx").is_file() and not (tmp_path / "Reports").exists()
        assert (await backend.stat_file(meta.file_id)).version == meta.version  # ids inside stay stable
        ancestors = await backend.ancestors(meta.file_id, True)
        assert [a.name for a in ancestors] == ["", "Archive"]

    run(test, tmp_path)


def test_write_replaces_contents_with_a_new_version_and_keeps_the_id(tmp_path: Path) -> None:
    async def test(backend: FilesystemBackend) -> None:
        meta = await create(backend, "a.txt", b"one")
        second = await write(backend, meta.file_id, b"one")
        assert second.file_id == meta.file_id and second.version != meta.version  # identical bytes, new version
        assert second.modified_by == BOB and second.owner == ALICE
        renamed = await backend.rename_file(meta.file_id, "b.txt", Preconditions(), BOB)
        assert renamed.version == second.version and (tmp_path / "b.txt").read_bytes() == b"one"
        assert await backend.rename_file(meta.file_id, "b.txt", Preconditions(), BOB) == renamed

    run(test, tmp_path)


def test_read_ranges(tmp_path: Path) -> None:
    async def test(backend: FilesystemBackend) -> None:
        meta = await create(backend, "r.bin", b"0123456789")
        reader = await backend.open_file(meta.file_id, 2, 3, None)
        assert b"".join([c async for c in reader.chunks]) == b"234"
        reader = await backend.open_file(meta.file_id, 8, 100, None)
        assert b"".join([c async for c in reader.chunks]) == b"89"
        reader = await backend.open_file(meta.file_id, 10, 0, None)
        assert [c async for c in reader.chunks] == []
        with pytest.raises(OutOfRange):
            await backend.open_file(meta.file_id, 11, 0, None)

    run(test, tmp_path)


def test_a_read_keeps_streaming_the_version_it_started_with(tmp_path: Path) -> None:
    async def test(backend: FilesystemBackend) -> None:
        meta = await create(backend, "r.bin", b"old contents")
        reader = await backend.open_file(meta.file_id, 0, 0, None)
        await write(backend, meta.file_id, b"new")
        assert reader.meta.version == meta.version
        assert b"".join([c async for c in reader.chunks]) == b"old contents"

    run(test, tmp_path)


def test_deleting_things(tmp_path: Path) -> None:
    async def test(backend: FilesystemBackend) -> None:
        folder = await backend.create_container((await backend.root_container()).container_id, "F", ALICE)
        meta = await create(backend, "x.txt", b"1", folder.container_id)
        await write(backend, meta.file_id, b"2")
        with pytest.raises(ContainerNotEmpty):
            await backend.delete_container(folder.container_id)
        await backend.delete_file(meta.file_id, Preconditions())
        assert not (tmp_path / "F" / "x.txt").exists()
        assert os.listdir(tmp_path / ".wopi-storage" / "versions") == []  # its history went with it
        await backend.delete_container(folder.container_id)
        assert not (tmp_path / "F").exists()
        with pytest.raises(NotFound):
            await backend.get_container(folder.container_id)
        root = await backend.root_container()
        with pytest.raises(InvalidArgument):
            await backend.delete_container(root.container_id)

    run(test, tmp_path)


def test_readers_release_their_file_descriptor(tmp_path: Path) -> None:
    def open_fds() -> int:
        """Descriptors of this process open on files under the backend's root (other tests' sockets and
        threads may open and close descriptors meanwhile, so only these count)."""
        count = 0
        for fd in os.listdir("/proc/self/fd"):
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                continue
            count += target.startswith(str(tmp_path))
        return count

    async def test(backend: FilesystemBackend) -> None:
        meta = await create(backend, "a.bin", b"x" * (3 * MiB))
        before = open_fds()
        await read(backend, meta.file_id)  # exhausted
        reader = await backend.open_file(meta.file_id, 0, 0, None)
        await anext(reader.chunks)
        await reader.chunks.aclose()  # type: ignore[attr-defined]  # closed part-way
        assert open_fds() == before
        reader = await backend.open_file(meta.file_id, 0, 0, None)
        del reader  # never iterated: closed when collected (the worker thread may hold it a moment longer)
        for _ in range(100):
            gc.collect()
            if open_fds() == before:
                break
            await asyncio.sleep(0.01)
        assert open_fds() == before

    run(test, tmp_path)


def test_contents_over_the_limit_are_refused_and_nothing_is_left(tmp_path: Path) -> None:
    async def test(backend: FilesystemBackend) -> None:
        meta = await create(backend, "a.txt", b"small")
        with pytest.raises(TooLarge):
            await write(backend, meta.file_id, b"x" * 11)
        with pytest.raises(TooLarge):
            await create(backend, "b.txt", b"x" * 11)
        assert (tmp_path / "a.txt").read_bytes() == b"small" and not (tmp_path / "b.txt").exists()
        assert leftovers(tmp_path) == []

    run(test, tmp_path, max_file_size=10)


# ---- changes made by other programs ----


def test_a_file_edited_outside_gets_a_new_version(tmp_path: Path) -> None:
    async def test(backend: FilesystemBackend) -> None:
        meta = await create(backend, "doc.txt", b"ours")
        (tmp_path / "doc.txt").write_bytes(b"edited by someone else")
        stat = await backend.stat_file(meta.file_id)
        assert stat.file_id == meta.file_id and stat.version != meta.version
        assert stat.size == len(b"edited by someone else") and stat.sha256 == b""
        assert await read(backend, meta.file_id) == b"edited by someone else"
        assert (await backend.stat_file(meta.file_id)).version == stat.version  # noticed once, not on every look

        replacement = tmp_path / "doc.txt.new"  # an editor saving by rename: same size, new inode
        replacement.write_bytes(b"EDITED BY SOMEONE ELSE")
        os.replace(replacement, tmp_path / "doc.txt")
        listed = (await children(backend))["doc.txt"]
        assert isinstance(listed, FileMeta) and listed.file_id == meta.file_id and listed.version != stat.version

    run(test, tmp_path)


def test_a_version_made_outside_is_kept_in_the_history_when_overwritten(tmp_path: Path) -> None:
    async def test(backend: FilesystemBackend) -> None:
        meta = await create(backend, "doc.txt", b"ours")
        (tmp_path / "doc.txt").write_bytes(b"theirs")
        outside = await backend.stat_file(meta.file_id)
        await write(backend, meta.file_id, b"ours again")
        versions = await backend.list_versions(meta.file_id)
        # "ours" was overwritten in place by the other program: its bytes are gone, so is the version.
        assert [v.version for v in versions] == [outside.version]
        assert await read(backend, meta.file_id, outside.version) == b"theirs"

    run(test, tmp_path)


def test_items_added_outside_get_ids_by_listing_and_by_lookup(tmp_path: Path) -> None:
    async def test(backend: FilesystemBackend) -> None:
        root = await backend.root_container()
        (tmp_path / "listed.txt").write_bytes(b"abc")
        (tmp_path / "Folder").mkdir()
        (tmp_path / "Folder" / "looked-up.txt").write_bytes(b"xyz")
        listing = await children(backend)
        assert set(listing) == {"listed.txt", "Folder"}
        listed = listing["listed.txt"]
        assert isinstance(listed, FileMeta) and listed.size == 3 and listed.version
        assert await read(backend, listed.file_id) == b"abc"
        folder = listing["Folder"]
        assert isinstance(folder, ContainerMeta) and folder.parent_id == root.container_id
        found = await backend.lookup_child(folder.container_id, "looked-up.txt")
        assert isinstance(found, FileMeta) and found.parent_id == folder.container_id
        assert (await children(backend, folder.container_id))["looked-up.txt"].file_id == found.file_id  # type: ignore[union-attr]
        again = await backend.lookup_child(root.container_id, "listed.txt")
        assert isinstance(again, FileMeta) and again.file_id == listed.file_id
        (tmp_path / "late").mkdir()
        late = await backend.lookup_child(root.container_id, "late")
        assert isinstance(late, ContainerMeta)
        with pytest.raises(NameConflict) as conflict:
            await create(backend, "late")
        assert conflict.value.existing == late

    run(test, tmp_path)


def test_a_decomposed_name_made_outside_is_found_by_its_composed_spelling(tmp_path: Path) -> None:
    """Programs on macOS spell names decomposed (NFD); storage is given names in NFC (validation normalizes them).
    A lookup by the NFC spelling finds the NFD entry, and its NFC twin cannot be made beside it."""
    composed, decomposed = "caf\u00e9.docx", "cafe\u0301.docx"
    (tmp_path / decomposed).write_bytes(b"from a mac")

    async def test(backend: FilesystemBackend) -> None:
        root = await backend.root_container()
        found = await backend.lookup_child(root.container_id, composed)
        assert isinstance(found, FileMeta) and found.name == decomposed  # as spelled on disk
        assert await read(backend, found.file_id) == b"from a mac"
        assert (await children(backend))[decomposed].file_id == found.file_id  # type: ignore[union-attr]
        with pytest.raises(NameConflict) as conflict:
            await create(backend, composed, b"twin")
        assert conflict.value.existing == found
        other = await create(backend, "other.docx")
        with pytest.raises(NameConflict):
            await backend.rename_file(other.file_id, composed, Preconditions(), ALICE)
        with pytest.raises(NameConflict):
            await backend.create_container(root.container_id, composed, ALICE)

    run(test, tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir() if not path.name.startswith(".")) == [
        decomposed,
        "other.docx",
    ]
    assert (tmp_path / decomposed).read_bytes() == b"from a mac"


def test_names_made_outside_with_invisible_characters_are_not_served(tmp_path: Path) -> None:
    """A name storage would refuse (here with a right-to-left override: `invoice` RLO `xcod.exe` displays as
    `invoiceexe.docx`) is not served when another program makes it: not listed, not found."""
    deceptive = "invoice\u202excod.exe"
    (tmp_path / deceptive).write_bytes(b"MZ")

    async def test(backend: FilesystemBackend) -> None:
        root = await backend.root_container()
        assert await children(backend) == {}
        with pytest.raises(NotFound):
            await backend.lookup_child(root.container_id, deceptive)

    run(test, tmp_path)


def test_items_removed_outside_are_gone(tmp_path: Path) -> None:
    async def test(backend: FilesystemBackend) -> None:
        meta = await create(backend, "gone.txt", b"1")
        await write(backend, meta.file_id, b"2")
        kept = await create(backend, "kept.txt")
        (tmp_path / "gone.txt").unlink()
        with pytest.raises(NotFound):
            await backend.stat_file(meta.file_id)
        with pytest.raises(NotFound):
            await backend.open_file(meta.file_id, 0, 0, None)
        assert set(await children(backend)) == {"kept.txt"}
        assert os.listdir(tmp_path / ".wopi-storage" / "versions") == []

        folder = await backend.create_container((await backend.root_container()).container_id, "D", ALICE)
        inside = await create(backend, "in.txt", b"", folder.container_id)
        (tmp_path / "D" / "in.txt").unlink()
        (tmp_path / "D").rmdir()
        assert set(await children(backend)) == {"kept.txt"}
        with pytest.raises(NotFound):
            await backend.get_container(folder.container_id)
        with pytest.raises(NotFound):
            await backend.stat_file(inside.file_id)
        with pytest.raises(NotFound):
            await backend.lookup_child((await backend.root_container()).container_id, "D")
        assert (await backend.stat_file(kept.file_id)).name == "kept.txt"

    run(test, tmp_path)


def test_items_moved_outside_keep_their_ids(tmp_path: Path) -> None:
    async def test(backend: FilesystemBackend) -> None:
        root = await backend.root_container()
        meta = await create(backend, "before.txt", b"contents")
        folder = await backend.create_container(root.container_id, "Old", ALICE)
        inside = await create(backend, "inside.txt", b"x", folder.container_id)
        os.rename(tmp_path / "before.txt", tmp_path / "after.txt")
        os.rename(tmp_path / "Old", tmp_path / "New")
        listing = await children(backend)
        assert set(listing) == {"after.txt", "New"}
        assert listing["after.txt"].file_id == meta.file_id  # type: ignore[union-attr]
        assert listing["after.txt"].version == meta.version  # type: ignore[union-attr]
        assert listing["New"].container_id == folder.container_id  # type: ignore[union-attr]
        assert (await backend.stat_file(inside.file_id)).parent_id == folder.container_id

        os.rename(tmp_path / "after.txt", tmp_path / "New" / "moved.txt")
        found = await backend.lookup_child(folder.container_id, "moved.txt")
        assert found.file_id == meta.file_id  # type: ignore[union-attr]

    run(test, tmp_path)


def test_a_new_file_on_a_deleted_files_inode_is_not_that_file_moved(tmp_path: Path) -> None:
    """ext4 gives a freed inode number to the next file created: a document deleted outside and a new file
    created before the host looked must not look like one item moved (old id, old tokens, old history)."""
    catalogue = tmp_path / ".wopi-storage" / "catalogue.sqlite3"

    async def before(backend: FilesystemBackend) -> tuple[FileMeta, FileMeta]:
        deleted = await create(backend, "secret.docx", b"first draft")
        await write(backend, deleted.file_id, b"second draft")
        moved = await create(backend, "kept.docx", b"one")
        return deleted, await write(backend, moved.file_id, b"two")

    deleted, moved = run(before, tmp_path)
    (tmp_path / "secret.docx").unlink()  # while the host is not looking
    (tmp_path / "unrelated.docx").write_bytes(b"someone else's new file")
    os.rename(tmp_path / "kept.docx", tmp_path / "renamed.docx")  # a real move, for comparison
    # Make the inode reuse certain (ext4 usually does it by itself): the catalogue remembers the deleted file
    # as having the inode that the new file now has.
    new_inode = os.stat(tmp_path / "unrelated.docx")
    with sqlite3.connect(catalogue) as db:
        db.execute(
            "UPDATE nodes SET st_dev = ?, st_ino = ? WHERE id = ?",
            (new_inode.st_dev, new_inode.st_ino, deleted.file_id),
        )
    db.close()

    async def after(backend: FilesystemBackend) -> None:
        listing = await children(backend)
        assert set(listing) == {"unrelated.docx", "renamed.docx"}
        unrelated = listing["unrelated.docx"]
        assert isinstance(unrelated, FileMeta) and unrelated.file_id != deleted.file_id
        assert await backend.list_versions(unrelated.file_id) == []
        with pytest.raises(NotFound):
            await backend.stat_file(deleted.file_id)
        with pytest.raises(NotFound):
            await backend.list_versions(deleted.file_id)
        assert not deleted_blobs & set(os.listdir(tmp_path / ".wopi-storage" / "versions"))  # its history is gone
        renamed = listing["renamed.docx"]
        assert isinstance(renamed, FileMeta) and (renamed.file_id, renamed.version) == (moved.file_id, moved.version)
        [earlier] = await backend.list_versions(moved.file_id)
        assert await read(backend, moved.file_id, earlier.version) == b"one"

    with sqlite3.connect(catalogue) as db:
        deleted_blobs = {
            blob for (blob,) in db.execute("SELECT blob FROM versions WHERE file_id = ?", (deleted.file_id,))
        }
    db.close()
    assert len(deleted_blobs) == 1
    run(after, tmp_path)
    # The same through a lookup by name rather than a listing.
    (tmp_path / "unrelated.docx").unlink()
    (tmp_path / "looked-up.docx").write_bytes(b"another new file")
    looked_up_inode = os.stat(tmp_path / "looked-up.docx")
    with sqlite3.connect(catalogue) as db:
        db.execute(
            "UPDATE nodes SET st_dev = ?, st_ino = ? WHERE id = ?",
            (looked_up_inode.st_dev, looked_up_inode.st_ino, moved.file_id),
        )
    db.close()
    os.unlink(tmp_path / "renamed.docx")

    async def lookup(backend: FilesystemBackend) -> None:
        root = await backend.root_container()
        found = await backend.lookup_child(root.container_id, "looked-up.docx")
        assert isinstance(found, FileMeta) and found.file_id != moved.file_id
        assert await backend.list_versions(found.file_id) == []

    run(lookup, tmp_path)


def test_finding_an_item_costs_the_same_at_any_depth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every request resolves its item's path from the catalogue and checks it crosses no symbolic link. That
    took one catalogue query and one lstat per level above the item (quadratic to build a deep tree); it is now
    the same work at depth 1 and at depth 40, counted in statements and system calls rather than timed."""
    lstats: list[object] = []
    real_lstat = os.lstat

    def counted_lstat(path: object, *args: object, **kwargs: object) -> os.stat_result:
        lstats.append(path)
        return real_lstat(path, *args, **kwargs)  # type: ignore[arg-type]

    async def work(backend: FilesystemBackend, call: Callable[[], Awaitable[object]]) -> tuple[int, int]:
        statements: list[str] = []
        backend._sections.catalogue._db.set_trace_callback(statements.append)  # every statement it runs
        lstats.clear()
        await call()
        backend._sections.catalogue._db.set_trace_callback(None)
        return len(statements), len(lstats)

    async def test(backend: FilesystemBackend) -> None:
        container = (await backend.root_container()).container_id
        files = {}
        for depth in range(1, 41):
            container = (await backend.create_container(container, "level", ALICE)).container_id
            if depth in (1, 40):
                files[depth] = await create(backend, "file.txt", b"x", container)
        monkeypatch.setattr(os, "lstat", counted_lstat)
        shallow, deep = files[1].file_id, files[40].file_id
        assert await work(backend, lambda: backend.stat_file(shallow)) == await work(
            backend, lambda: backend.stat_file(deep)
        )
        assert await work(backend, lambda: read(backend, shallow)) == await work(backend, lambda: read(backend, deep))

    run(test, tmp_path)


def test_symlinks_are_never_served(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")

    async def test(backend: FilesystemBackend) -> None:
        container = (await backend.root_container()).container_id
        (root / "link.txt").symlink_to(outside / "secret.txt")
        (root / "linkdir").symlink_to(outside)
        assert await children(backend) == {}
        for name in ("link.txt", "linkdir"):
            with pytest.raises(NotFound):
                await backend.lookup_child(container, name)
        with pytest.raises(InvalidArgument):  # the name is taken on disk, by something we do not serve
            await create(backend, "link.txt", b"overwrite?")
        assert (outside / "secret.txt").read_bytes() == b"secret"

        # A served folder swapped for a link to outside is gone, and never followed.
        folder = await backend.create_container(container, "Docs", ALICE)
        doc = await create(backend, "secret.txt", b"mine", folder.container_id)
        (root / "Docs" / "secret.txt").unlink()
        (root / "Docs").rmdir()
        (root / "Docs").symlink_to(outside)
        with pytest.raises(NotFound):
            await backend.stat_file(doc.file_id)
        with pytest.raises(NotFound):
            await backend.get_container(folder.container_id)

    run(test, root)


# ---- atomic writes ----


class Broken(Exception):
    pass


async def broken_chunks() -> AsyncIterator[bytes]:
    yield b"new contents that never "
    raise Broken


def test_a_failed_write_leaves_the_old_contents_and_no_temp_file(tmp_path: Path) -> None:
    async def test(backend: FilesystemBackend) -> None:
        meta = await create(backend, "a.txt", b"old")
        with pytest.raises(Broken):
            await backend.write_file(meta.file_id, Preconditions(), broken_chunks(), BOB)
        with pytest.raises(Broken):
            await backend.create_file(meta.parent_id, "b.txt", broken_chunks(), BOB)
        assert (tmp_path / "a.txt").read_bytes() == b"old" and not (tmp_path / "b.txt").exists()
        assert await backend.stat_file(meta.file_id) == meta
        assert leftovers(tmp_path) == []
        assert await backend.list_versions(meta.file_id) == []

    run(test, tmp_path)


def test_a_wrong_lock_fails_before_a_long_upload_and_changes_nothing(tmp_path: Path) -> None:
    """A save that fits in one batch is checked once, at its commit; a longer one is refused before more than
    that first batch is received (WRITE_BATCH_BYTES), so a refused 100 MiB upload is not read to its end."""

    async def test(backend: FilesystemBackend) -> None:
        meta = await create(backend, "a.txt", b"old")
        await backend.lock(meta.file_id, LockId("L1"), timedelta(minutes=30), ALICE)
        consumed: list[int] = []

        async def tracked(size: int) -> AsyncIterator[bytes]:
            piece = b"x" * (64 * 1024)
            for _ in range(size // len(piece)):
                consumed.append(len(piece))
                yield piece

        short, long = 64 * 1024, 16 * WRITE_BATCH_BYTES
        for size in (short, long):
            consumed.clear()
            with pytest.raises(LockConflict):
                await backend.write_file(meta.file_id, Preconditions(lock_id="L2"), tracked(size), BOB)
            assert sum(consumed) <= WRITE_BATCH_BYTES + 64 * 1024
        unlocked_only = Preconditions(when_unlocked=WhenUnlocked.REQUIRE_EMPTY)
        await backend.unlock(meta.file_id, LockId("L1"))
        for size in (short, long):
            with pytest.raises(LockConflict):
                await backend.write_file(meta.file_id, unlocked_only, tracked(size), BOB)
        assert (tmp_path / "a.txt").read_bytes() == b"old" and leftovers(tmp_path) == []

    run(test, tmp_path)


def test_leftover_temp_files_are_removed_at_start(tmp_path: Path) -> None:
    run(lambda backend: create(backend, "a.txt", b"x"), tmp_path)
    (tmp_path / ".wopi-storage" / "tmp" / "half-written").write_bytes(b"partial")
    (tmp_path / ".wopi-storage" / "versions" / "never-recorded").write_bytes(b"orphan")

    async def test(backend: FilesystemBackend) -> None:
        assert leftovers(tmp_path) == []
        assert os.listdir(tmp_path / ".wopi-storage" / "versions") == []

    run(test, tmp_path)


# ---- version history ----


def test_history_is_bounded_readable_and_restorable(tmp_path: Path) -> None:
    async def test(backend: FilesystemBackend) -> None:
        meta = await create(backend, "h.txt", b"v0")
        metas = [meta]
        for n in range(1, 6):
            metas.append(await write(backend, meta.file_id, f"v{n}".encode()))
        versions = await backend.list_versions(meta.file_id)
        assert [v.version for v in versions] == [m.version for m in reversed(metas[2:5])]  # newest first, 3 kept
        assert len(os.listdir(tmp_path / ".wopi-storage" / "versions")) == 3
        assert await read(backend, meta.file_id, metas[3].version) == b"v3"
        with pytest.raises(NotFound):
            await read(backend, meta.file_id, metas[0].version)
        restored = await backend.restore_version(meta.file_id, metas[2].version, Preconditions(), ALICE)
        assert restored.version not in {m.version for m in metas} and restored.sha256 == versions[-1].sha256
        assert await read(backend, meta.file_id) == b"v2"
        assert (await backend.list_versions(meta.file_id))[0].version == metas[5].version

    run(test, tmp_path, max_versions_kept=3)


# ---- reserved name, ownership, restart ----


def test_the_state_directory_name_is_reserved_in_the_root(tmp_path: Path) -> None:
    async def test(backend: FilesystemBackend) -> None:
        root = (await backend.root_container()).container_id
        meta = await create(backend, "a.txt")
        folder = await backend.create_container(root, "F", ALICE)
        attempts: list[Awaitable[object]] = [
            create(backend, ".wopi-storage"),
            backend.create_container(root, ".wopi-storage", ALICE),
            backend.rename_file(meta.file_id, ".wopi-storage", Preconditions(), ALICE),
            backend.rename_container(folder.container_id, ".wopi-storage"),
        ]
        for attempt in attempts:
            with pytest.raises(InvalidArgument) as refused:
                await attempt
            assert refused.value.field == "name"
        with pytest.raises(NotFound):
            await backend.lookup_child(root, ".wopi-storage")
        assert (await create(backend, ".wopi-storage", b"", folder.container_id)).name == ".wopi-storage"

    run(test, tmp_path)


def test_a_second_process_cannot_serve_the_same_root(tmp_path: Path) -> None:
    async def test(backend: FilesystemBackend) -> None:
        second = FilesystemBackend(tmp_path)
        with pytest.raises(RuntimeError, match="another wopi-storage process"):
            await second.start()

    run(test, tmp_path)
    run(lambda backend: backend.root_container(), tmp_path)  # released on close


def test_a_restart_keeps_ids_versions_locks_and_user_info(tmp_path: Path) -> None:
    async def before(backend: FilesystemBackend) -> tuple[ContainerMeta, FileMeta]:
        folder = await backend.create_container((await backend.root_container()).container_id, "F", ALICE)
        meta = await create(backend, "a.txt", b"1", folder.container_id)
        await write(backend, meta.file_id, b"2")
        locked = await backend.lock(meta.file_id, LockId("L" * 1024), timedelta(hours=1), ALICE)
        await backend.set_user_info("alice", "préférences")
        return folder, locked

    async def after(backend: FilesystemBackend) -> None:
        assert (await backend.root_container()).container_id == root_before
        assert await backend.get_container(folder.container_id) == folder
        assert await backend.stat_file(locked.file_id) == locked
        assert len(await backend.list_versions(locked.file_id)) == 1
        assert await backend.get_user_info("alice") == "préférences"
        assert await backend.get_user_info("bob") == ""

    root_before = run(lambda backend: backend.root_container(), tmp_path).container_id
    folder, locked = run(before, tmp_path)
    assert locked.lock is not None
    run(after, tmp_path)
    with sqlite3.connect(tmp_path / ".wopi-storage" / "catalogue.sqlite3") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


# ---- access control (the setting `access_control` on) ----

EVERY_FILE_PERMISSION = access.as_permissions(access.EVERY_PERMISSION, is_file=True)


def test_an_item_made_by_another_program_is_unowned_and_follows_the_unowned_policy(tmp_path: Path) -> None:
    (tmp_path / "outside.txt").write_bytes(b"theirs")
    (tmp_path / "Outside").mkdir()

    async def as_viewers(backend: FilesystemBackend) -> None:
        access.bind_principal(ALICE)
        mine = await create(backend, "mine.txt", b"alice's")
        access.bind_principal(BOB)
        listing = await children(backend)
        assert set(listing) == {"outside.txt", "Outside"}  # alice's own file is not bob's to see
        outside, folder = listing["outside.txt"], listing["Outside"]
        assert isinstance(outside, FileMeta) and isinstance(folder, ContainerMeta)
        assert outside.owner.user_id == "" and folder.owner.user_id == ""  # nobody owns them
        assert outside.permissions == folder.permissions == Permissions(read=True)
        assert await read(backend, outside.file_id) == b"theirs"
        with pytest.raises(PermissionDenied) as denied:
            await write(backend, outside.file_id, b"bob's")
        assert denied.value.permission == "write"
        with pytest.raises(PermissionDenied):
            await backend.create_file(folder.container_id, "new.txt", chunks(b""), BOB)
        with pytest.raises(NotFound):
            await backend.stat_file(mine.file_id)
        assert (tmp_path / "outside.txt").read_bytes() == b"theirs" and os.listdir(tmp_path / "Outside") == []

    async def as_nobody(backend: FilesystemBackend) -> None:
        access.bind_principal(BOB)
        assert await children(backend) == {}
        access.bind_principal(Principal("operator"))  # an administrator still sees everything
        assert set(await children(backend)) == {"outside.txt", "Outside", "mine.txt"}

    run(as_viewers, tmp_path, access_control=True, policy=AccessPolicy(unowned=UnownedAccess.VIEWER))
    nobody = AccessPolicy(admins=frozenset({"operator"}), unowned=UnownedAccess.NONE)
    run(as_nobody, tmp_path, access_control=True, policy=nobody)


def test_a_catalogue_from_before_access_control_upgrades_and_stays_everyones(tmp_path: Path) -> None:
    """What was made before access control has no owner after the upgrade: every identified user edits it, as
    before (the default unowned-access); with `none` only grants (made by an administrator) reach it."""

    async def before(backend: FilesystemBackend) -> tuple[ContainerMeta, FileMeta]:
        folder = await backend.create_container((await backend.root_container()).container_id, "F", ALICE)
        return folder, await create(backend, "a.txt", b"alice's", folder.container_id)

    folder, meta = run(before, tmp_path)
    catalogue = tmp_path / ".wopi-storage" / "catalogue.sqlite3"
    db = sqlite3.connect(catalogue, isolation_level=None)
    # Exactly the schema of the adapter before access control: the first migration only.
    db.executescript("DROP TABLE IF EXISTS grants; PRAGMA user_version = 1;")
    db.close()

    async def upgraded(backend: FilesystemBackend) -> FileMeta:
        access.bind_principal(BOB)
        seen = await backend.stat_file(meta.file_id)
        assert seen.owner == Principal() and seen.permissions.write and not seen.permissions.manage_sharing
        assert (await backend.get_container(folder.container_id)).owner == Principal()
        access.bind_principal(ALICE)
        new = await create(backend, "b.txt", b"after", folder.container_id)
        assert new.owner == ALICE
        access.bind_principal(BOB)
        with pytest.raises(NotFound):
            await backend.stat_file(new.file_id)
        return new

    new = run(upgraded, tmp_path, access_control=True)
    with sqlite3.connect(catalogue) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    db.close()
    only_grants = AccessPolicy(admins=frozenset({"operator"}), unowned=UnownedAccess.NONE)

    async def restarted(backend: FilesystemBackend) -> None:  # the upgrade ran once: the new file is still alice's
        access.bind_principal(BOB)
        with pytest.raises(NotFound):
            await backend.stat_file(meta.file_id)
        access.bind_principal(Principal("operator"))
        await backend.grant_access(meta.file_id, True, Grantee(GranteeKind.USER, "bob"), Role.VIEWER, ALICE)
        access.bind_principal(BOB)
        assert (await backend.stat_file(meta.file_id)).permissions == Permissions(read=True)
        access.bind_principal(ALICE)
        assert (await backend.stat_file(new.file_id)).owner == ALICE

    run(restarted, tmp_path, access_control=True, policy=only_grants)


def test_an_item_deleted_outside_takes_its_grants_with_it(tmp_path: Path) -> None:
    async def test(backend: FilesystemBackend) -> None:
        access.bind_principal(ALICE)
        kept, gone = await create(backend, "kept.txt"), await create(backend, "gone.txt")
        for meta in (kept, gone):
            await backend.grant_access(meta.file_id, True, Grantee(GranteeKind.USER, "bob"), Role.VIEWER, ALICE)
        (tmp_path / "gone.txt").unlink()
        access.bind_principal(BOB)
        page, token = await backend.list_shared_with_me(1, "")
        assert [item.name for item, _ in page] == ["kept.txt"] and token == ""
        with sqlite3.connect(tmp_path / ".wopi-storage" / "catalogue.sqlite3") as db:
            assert db.execute("SELECT item_id FROM grants").fetchall() == [(kept.file_id,)]
        db.close()

    run(test, tmp_path, access_control=True)


# ---- concurrency ----


def test_concurrent_locks_and_creates_have_exactly_one_winner(tmp_path: Path) -> None:
    async def test(backend: FilesystemBackend) -> None:
        meta = await create(backend, "contended.txt")
        outcomes = await asyncio.gather(
            *(backend.lock(meta.file_id, LockId(f"lock-{n}"), timedelta(minutes=5), ALICE) for n in range(16)),
            return_exceptions=True,
        )
        assert sum(isinstance(o, FileMeta) for o in outcomes) == 1
        assert all(isinstance(o, FileMeta | LockConflict) for o in outcomes)

        created = await asyncio.gather(
            *(create(backend, "race.txt", f"writer {n}".encode()) for n in range(16)), return_exceptions=True
        )
        winners = [o for o in created if isinstance(o, FileMeta)]
        assert len(winners) == 1
        conflicts = [o for o in created if isinstance(o, NameConflict)]
        assert len(conflicts) == 15 and all(c.existing.file_id == winners[0].file_id for c in conflicts)  # type: ignore[union-attr]
        assert leftovers(tmp_path) == []

    run(test, tmp_path)


def test_concurrent_writes_under_a_lock_never_interleave(tmp_path: Path) -> None:
    async def test(backend: FilesystemBackend) -> None:
        meta = await create(backend, "w.bin")
        await backend.lock(meta.file_id, LockId("L"), timedelta(minutes=5), ALICE)
        payloads = [bytes([n]) * 100_000 for n in range(16)]

        async def slow(payload: bytes) -> AsyncIterator[bytes]:
            for i in range(0, len(payload), 10_000):
                await asyncio.sleep(0)
                yield payload[i : i + 10_000]

        results = await asyncio.gather(
            *(backend.write_file(meta.file_id, Preconditions(lock_id="L"), slow(p), BOB) for p in payloads)
        )
        assert len({r.version for r in results}) == 16
        assert await read(backend, meta.file_id) in payloads
        for version in await backend.list_versions(meta.file_id):
            assert await read(backend, meta.file_id, version.version) in [*payloads, b""]

    run(test, tmp_path, max_versions_kept=20)


# ---- bounded memory ----


def test_a_64_mib_write_and_read_keep_memory_bounded(tmp_path: Path) -> None:
    async def test(backend: FilesystemBackend) -> None:
        async def generated(count: int) -> AsyncIterator[bytes]:
            for n in range(count):
                yield bytes([n % 256]) * MiB

        tracemalloc.start()
        try:
            meta = await backend.create_file(
                (await backend.root_container()).container_id, "big.bin", generated(64), ALICE
            )
            written = await backend.write_file(meta.file_id, Preconditions(), generated(64), BOB)
            reader = await backend.open_file(meta.file_id, 0, 0, None)
            total = 0
            async for chunk in reader.chunks:
                assert len(chunk) <= MiB and chunk == bytes([total // MiB % 256]) * len(chunk)
                total += len(chunk)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert total == written.size == 64 * MiB
        assert peak < 16 * MiB, f"peak traced allocation {peak / MiB:.1f} MiB"

    run(test, tmp_path)


# ---- lock expiry with an injected clock ----


def test_expired_locks_are_no_locks(tmp_path: Path) -> None:
    now = [datetime(2030, 1, 1, tzinfo=UTC)]

    async def main() -> None:
        backend = FilesystemBackend(tmp_path, clock=lambda: now[0])
        await backend.start()
        try:
            meta = await create(backend, "a.txt", b"x")
            await backend.lock(meta.file_id, LockId("L"), timedelta(minutes=30), ALICE)
            now[0] += timedelta(minutes=31)
            assert (await backend.stat_file(meta.file_id)).lock is None
            relocked = await backend.update_lock(meta.file_id, locks.lock(LockId("M"), timedelta(minutes=1), BOB))
            assert relocked.lock is not None and relocked.lock.expires_at == now[0] + timedelta(minutes=1)
        finally:
            await backend.close()

    asyncio.run(main())


# ---- listings in pages: the whole directory is read again only when it changed ----


async def page_names(backend: FilesystemBackend, container_id: str, size: int = 2) -> list[str]:
    """Every name, read through pages of `size` (ListChildrenPage)."""
    listed: list[str] = []
    token = ""
    while True:
        page = await backend.list_children_page(ContainerId(container_id), frozenset(), size, token)
        listed += [item.name for item in page.items]
        if not page.next_token:
            return listed
        token = page.next_token


def test_pages_see_files_added_and_removed_by_another_program(tmp_path: Path) -> None:
    """A file another program adds appears in a later listing, one it removes disappears, even right after a
    listing (within the same timestamp tick: the racy-ctime rule keeps such a directory untrusted)."""

    async def test(backend: FilesystemBackend) -> None:
        root = (await backend.root_container()).container_id
        for name in ("a.txt", "b.txt", "c.txt"):
            (tmp_path / name).write_bytes(b"x")
        assert await page_names(backend, root) == ["a.txt", "b.txt", "c.txt"]
        (tmp_path / "d.txt").write_bytes(b"x")  # at once: most likely the ctime tick of the listing's scan
        assert await page_names(backend, root) == ["a.txt", "b.txt", "c.txt", "d.txt"]
        (tmp_path / "b.txt").unlink()
        assert await page_names(backend, root) == ["a.txt", "c.txt", "d.txt"]
        os.rename(tmp_path / "c.txt", tmp_path / "e.txt")
        assert await page_names(backend, root, size=1) == ["a.txt", "d.txt", "e.txt"]

    run(test, tmp_path)


def test_an_unchanged_folder_is_listed_from_the_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once a directory's ctime is trusted, a page costs one lstat per child on it, not a scan of the directory;
    an edit inside a file (which leaves the directory alone) is still seen by that lstat."""
    from storage_adapter.backends.filesystem import racy, tree

    monkeypatch.setattr(racy, "window_ns", lambda root, probe_dir: -(10**18))  # every ctime trusted at once
    scans: list[str] = []
    real_scan = tree.Tree.scan

    def counted_scan(self: tree.Tree, parent: Any) -> Any:
        scans.append(parent.name)
        return real_scan(self, parent)

    monkeypatch.setattr(tree.Tree, "scan", counted_scan)
    (tmp_path / "F").mkdir()
    for number in range(5):
        (tmp_path / "F" / f"{number}.txt").write_bytes(b"x")

    async def test(backend: FilesystemBackend) -> None:
        folder = (await children(backend))["F"]
        assert isinstance(folder, ContainerMeta)
        scans.clear()
        assert await page_names(backend, folder.container_id) == [f"{number}.txt" for number in range(5)]
        assert scans == ["F"]  # the first listing since the directory was adopted reads it whole
        (tmp_path / "F" / "3.txt").write_bytes(b"edited")
        page = await backend.list_children_page(folder.container_id, frozenset(), 10, "")
        assert scans == ["F"], "an unchanged directory was scanned again"
        assert {item.name: item for item in page.items}["3.txt"].size == len(b"edited")  # type: ignore[union-attr]

    run(test, tmp_path)


def test_a_directory_changed_within_the_racy_window_is_scanned_again(tmp_path: Path) -> None:
    """A ctime as recent as the scan is recorded as unknown: the next listing reads the directory again, so a
    change made in the same timestamp tick as that scan is not missed."""

    async def test(backend: FilesystemBackend) -> None:
        folder = await backend.create_container((await backend.root_container()).container_id, "R", ALICE)
        await page_names(backend, folder.container_id)
        sections = backend._opened
        assert sections is not None
        assert sections.catalogue.get(folder.container_id).mtime_ns == 0  # type: ignore[union-attr]
        (tmp_path / "R" / "same-tick.txt").write_bytes(b"x")
        assert await page_names(backend, folder.container_id) == ["same-tick.txt"]

    run(test, tmp_path)

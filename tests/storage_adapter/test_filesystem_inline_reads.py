"""The filesystem backend answers metadata reads without waiting for its lock, and never with a half-done write.

A save holds the backend's lock while it fsyncs; CheckFileInfo of other documents must not queue behind it
(ARCHITECTURE rule 10). And a read that meets a save in the middle (new contents on disk, catalogue not yet
committed) must wait for the save and answer its result, never the new bytes under the old version.
The saves are held at a real point of their work: the fsync of the document's directory.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from storage_adapter import locks
from storage_adapter.backends.filesystem import FilesystemBackend, sections
from storage_adapter.errors import NotFound
from storage_adapter.types import FileId, LockId, Preconditions
from tests.storage_adapter.test_filesystem_backend import ALICE, create, read, run, write

# Every wait of these tests is bounded: a read that should answer at once fails the test instead of hanging it.
PATIENCE = 10.0


class HeldFsync:
    """Holds the first directory fsync of `directory` made after `arm()` until `release()`: a save stopped
    after its new contents are in place on disk and before its catalogue transaction commits."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.reached = threading.Event()
        self.released = threading.Event()
        self._armed = False
        self._real = sections._fsync_dir

    def arm(self) -> None:
        self._armed = True

    def __call__(self, path: Path) -> None:
        if self._armed and path == self.directory:
            self._armed = False
            self.reached.set()
            self.released.wait(PATIENCE)
        self._real(path)

    def release(self) -> None:
        self.released.set()


@pytest.fixture
def held_fsync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldFsync]:
    held = HeldFsync(tmp_path)
    monkeypatch.setattr(sections, "_fsync_dir", held)
    yield held
    held.release()  # never leave a worker thread waiting


async def save_held_at_its_fsync(backend: FilesystemBackend, held: HeldFsync, file_id: str) -> asyncio.Task:
    held.arm()
    saving = asyncio.create_task(write(backend, file_id, b"the new contents"))
    assert await asyncio.to_thread(held.reached.wait, PATIENCE), "the save never reached its fsync"
    return saving


def test_reads_of_other_documents_do_not_wait_for_a_save(tmp_path: Path, held_fsync: HeldFsync) -> None:
    async def test(backend: FilesystemBackend) -> None:
        other = await create(backend, "other.docx", b"other")
        saved = await create(backend, "saved.docx", b"old")
        saving = await save_held_at_its_fsync(backend, held_fsync, saved.file_id)
        # The save holds the lock, in the middle of its section; every read of another item answers meanwhile.
        async with asyncio.timeout(PATIENCE):
            assert (await backend.stat_file(other.file_id)).version == other.version
            context = await backend.file_context(other.file_id, ALICE.user_id, with_container=True)
            assert context.file.version == other.version and context.container_permissions is not None
            root = await backend.root_container()
            assert (await backend.get_container(root.container_id)).container_id == root.container_id
            assert await read(backend, other.file_id) == b"other"
            assert [c.name for c in await backend.ancestors(other.file_id, True)] == [""]
        assert not saving.done()
        held_fsync.release()
        await saving

    run(test, tmp_path)


def test_a_read_meeting_a_save_halfway_answers_the_saved_version(tmp_path: Path, held_fsync: HeldFsync) -> None:
    async def test(backend: FilesystemBackend) -> None:
        saved = await create(backend, "saved.docx", b"old")
        saving = await save_held_at_its_fsync(backend, held_fsync, saved.file_id)
        # On disk the new contents are in place; the catalogue still says the old version. Neither is the
        # answer yet: the reads wait for the save (the locked path) instead of mixing the two.
        stat = asyncio.create_task(backend.stat_file(saved.file_id))
        contents = asyncio.create_task(read(backend, saved.file_id))
        await asyncio.sleep(0.05)
        assert not stat.done() and not contents.done()
        held_fsync.release()
        new = await saving
        async with asyncio.timeout(PATIENCE):
            answered = await stat
            assert (answered.version, answered.size, answered.sha256) == (new.version, new.size, new.sha256)
            assert answered.modified_by == new.modified_by  # the save's author, not a change made outside
            assert await contents == b"the new contents"

    run(test, tmp_path)


def test_inline_reads_see_each_committed_change_at_once(tmp_path: Path) -> None:
    async def test(backend: FilesystemBackend) -> None:
        meta = await create(backend, "a.docx", b"one")
        await backend.update_lock(meta.file_id, locks.lock(LockId("L"), timedelta(minutes=1), ALICE))
        locked = await backend.stat_file(meta.file_id)
        assert locked.lock is not None and locked.lock.lock_id == "L"
        new = await write(backend, meta.file_id, b"two", lock_id="L")
        assert (await backend.stat_file(meta.file_id)).version == new.version
        await backend.update_lock(meta.file_id, locks.unlock(LockId("L")))
        assert (await backend.stat_file(meta.file_id)).lock is None
        renamed = await backend.rename_file(meta.file_id, "b.docx", Preconditions(), ALICE)
        assert (await backend.stat_file(meta.file_id)).name == renamed.name == "b.docx"
        await backend.delete_file(meta.file_id, Preconditions())
        with pytest.raises(NotFound):
            await backend.stat_file(meta.file_id)

    run(test, tmp_path)


def test_an_inline_read_notices_a_file_edited_outside(tmp_path: Path) -> None:
    async def test(backend: FilesystemBackend) -> None:
        meta = await create(backend, "a.docx", b"one")
        (tmp_path / "a.docx").write_bytes(b"edited by another program")
        changed = await backend.stat_file(FileId(meta.file_id))
        assert changed.version != meta.version and changed.size == len(b"edited by another program")
        assert (await backend.stat_file(FileId(meta.file_id))).version == changed.version  # recorded once

    run(test, tmp_path)

"""The filesystem backend's contents in motion (streams.py): reads give exactly the bytes asked for, whether they
come from the page cache on the loop or from a thread; writes in batches keep every byte, in order, and leave no
temp file behind when the upload fails or is cancelled."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage_adapter.backends.filesystem import streams
from storage_adapter.backends.filesystem.streams import WRITE_BATCH_BYTES, FileChunks, StagedFile

MIB = 1024 * 1024


async def collected(chunks: FileChunks) -> list[bytes]:
    return [bytes(chunk) async for chunk in chunks]


@pytest.mark.parametrize("nowait_reads", [True, False])
def test_a_range_is_read_exactly_in_chunks_of_at_most_the_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nowait_reads: bool
) -> None:
    monkeypatch.setattr(streams, "_nowait_reads", nowait_reads and streams._nowait_reads)
    contents = os.urandom(3 * MIB + 123)
    path = tmp_path / "file"
    path.write_bytes(contents)
    fd = os.open(path, os.O_RDONLY)
    chunks = asyncio.run(collected(FileChunks(fd, 10, len(contents) - 5, MIB)))
    assert b"".join(chunks) == contents[10:-5]
    assert max(len(chunk) for chunk in chunks) <= MIB
    with pytest.raises(OSError):
        os.fstat(fd)  # closed at the end


def test_a_file_shortened_while_read_ends_the_stream(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"x" * (2 * MIB))
    fd = os.open(path, os.O_RDONLY)
    os.truncate(path, MIB // 2)
    chunks = asyncio.run(collected(FileChunks(fd, 0, 2 * MIB, MIB)))
    assert b"".join(chunks) == b"x" * (MIB // 2)


async def pieces(contents: bytes, size: int, fail_after: int | None = None) -> AsyncIterator[bytes]:
    for start in range(0, len(contents), size):
        if fail_after is not None and start >= fail_after:
            raise RuntimeError("the caller went away")
        yield contents[start : start + size]
        await asyncio.sleep(0)


@pytest.mark.parametrize("piece", [1000, 64 * 1024, MIB])
def test_a_write_in_batches_keeps_every_byte_in_order(tmp_path: Path, piece: int) -> None:
    contents = os.urandom(2 * WRITE_BATCH_BYTES + 12_345)
    staged = asyncio.run(StagedFile.receive(tmp_path, pieces(contents, piece), 0))
    assert staged.path.read_bytes() == contents
    assert (staged.size, staged.sha256) == (len(contents), hashlib.sha256(contents).digest())
    assert staged.fingerprint.size == len(contents)


def test_a_failed_upload_leaves_no_temp_file(tmp_path: Path) -> None:
    contents = os.urandom(3 * WRITE_BATCH_BYTES)
    with pytest.raises(RuntimeError):
        asyncio.run(StagedFile.receive(tmp_path, pieces(contents, MIB, fail_after=WRITE_BATCH_BYTES + MIB), 0))
    assert list(tmp_path.iterdir()) == []


def test_a_cancelled_upload_leaves_no_temp_file_once_its_thread_is_done(tmp_path: Path) -> None:
    async def cancel_mid_upload() -> None:
        far_enough = asyncio.Event()  # two batches handed to the thread: one may still be being written

        async def endless() -> AsyncIterator[bytes]:
            chunk, sent = os.urandom(MIB), 0
            while True:
                yield chunk
                sent += len(chunk)
                if sent >= 2 * WRITE_BATCH_BYTES + MIB:
                    far_enough.set()
                await asyncio.sleep(0)

        upload = asyncio.ensure_future(StagedFile.receive(tmp_path, endless(), 0))
        await far_enough.wait()
        upload.cancel()
        with pytest.raises(asyncio.CancelledError):
            await upload
        await asyncio.get_running_loop().shutdown_default_executor()  # the thread's batch is done...
        for _ in range(3):
            await asyncio.sleep(0)  # ...and its completion, which removes the temp file, has run

    asyncio.run(cancel_mid_upload())
    assert list(tmp_path.iterdir()) == []


def test_over_the_limit_is_too_large_and_leaves_nothing(tmp_path: Path) -> None:
    from storage_adapter.errors import TooLarge

    with pytest.raises(TooLarge):
        asyncio.run(StagedFile.receive(tmp_path, pieces(os.urandom(3 * WRITE_BATCH_BYTES), MIB), WRITE_BATCH_BYTES))
    assert list(tmp_path.iterdir()) == []


def test_an_upload_of_one_batch_is_written_in_one_thread_hop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hops: list[str] = []
    to_thread = asyncio.to_thread

    async def counted(function, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        hops.append(function.__name__)
        return await to_thread(function, *args, **kwargs)

    monkeypatch.setattr(streams.asyncio, "to_thread", counted)
    contents = os.urandom(WRITE_BATCH_BYTES - 1)
    staged = asyncio.run(StagedFile.receive(tmp_path, pieces(contents, 64 * 1024), 0))
    assert hops == ["_finish"] and staged.path.read_bytes() == contents

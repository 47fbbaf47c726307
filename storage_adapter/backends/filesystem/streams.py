"""Contents in motion: a write being received into a temp file, and an open read of one version.

Both hold a bounded amount in memory (a read, one chunk; a write, the batch a thread is writing and at most
WRITE_BATCH_BYTES more). Blocking calls run in threads (`asyncio.to_thread`) so the event loop keeps serving
other requests, but not one hop per chunk: a read whose bytes the page cache holds (asked with RWF_NOWAIT)
copies them on the loop, and a write hands a thread what has arrived, which it writes and hashes while the
next chunks arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import os
import secrets
import weakref
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from storage_adapter.errors import TooLarge

# The most an upload gathers while a thread writes what came before (the HTTP body reaches storage in pieces of
# 64 KiB-1 MiB; a thread hop for each cost more than its write).
WRITE_BATCH_BYTES = 2 * 1024 * 1024
# Whether preadv(RWF_NOWAIT) works here (Linux 4.14+, and the file system must support it); found on first use.
# Without it every read takes a thread hop, as before.
_nowait_reads = hasattr(os, "RWF_NOWAIT")


@dataclass(frozen=True)
class Fingerprint:
    """What the file system says about a file's contents; a change means someone changed the contents."""

    dev: int
    ino: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> Fingerprint:
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class StagedFile:
    """New contents received into `tmp/`, fsync'd, waiting to be moved (or linked) into the tree."""

    def __init__(self, path: Path) -> None:
        self.path = path  # created by the first batch's thread: nothing is on disk before
        self._fd: int | None = None
        self._digest = hashlib.sha256()
        self.size = 0
        self.sha256 = b""
        self.fingerprint = Fingerprint(0, 0, 0, 0)
        self.claimed = False  # set when a commit takes it over (and will remove what is left of it)

    @classmethod
    async def receive(cls, tmp_dir: Path, chunks: AsyncIterator[bytes], max_size: int) -> StagedFile:
        """Stream `chunks` into a new temp file. If the chunks raise (or the limit is passed), the temp file is
        removed and the error propagates: nothing is left behind.

        The first batch is gathered whole (WRITE_BATCH_BYTES, or the upload if it is smaller): an upload that
        fits in it is created, written, hashed and fsync'd in one thread hop, which is what an editor's save is.
        From then on a thread writes (and hashes) while the next chunks arrive: a chunk goes to the thread at
        once when it is idle, else waits with those that came meanwhile for the thread's next hop (at most
        WRITE_BATCH_BYTES gathered). So a slow upload is written as it comes, and a fast one takes few hops."""
        staged = cls(tmp_dir / secrets.token_hex(16))
        started = False  # a batch was handed to a thread (which creates the file with it)
        # The thread's work in progress. Awaited through a shield: a cancelled upload must not close the descriptor
        # while a thread still writes to it (the temp file is removed once the thread is done).
        writing: asyncio.Future[None] | None = None
        try:
            batch: list[bytes] = []
            batched = received = 0  # in this batch; in all (staged.size counts only what a thread has written)
            async for chunk in chunks:
                received += len(chunk)
                if max_size and received > max_size:
                    raise TooLarge(f"the contents are larger than {max_size} bytes")
                batch.append(chunk)
                batched += len(chunk)
                if not started:
                    if batched < WRITE_BATCH_BYTES:
                        continue
                    started = True
                if writing is not None and (writing.done() or batched >= WRITE_BATCH_BYTES):
                    await asyncio.shield(writing)  # its error, if any, is raised here
                    writing = None
                if writing is None:
                    writing = asyncio.ensure_future(asyncio.to_thread(staged._write, batch))
                    batch, batched = [], 0
            if writing is not None:
                await asyncio.shield(writing)
            writing = asyncio.ensure_future(asyncio.to_thread(staged._finish, batch))
            await asyncio.shield(writing)
        except BaseException as error:

            def discard(done: asyncio.Future[None] | None = None) -> None:
                if done is not None and not done.cancelled():
                    done.exception()  # retrieved (it may be the error being raised), so asyncio does not warn
                staged.discard()

            if writing is not None and not writing.done():
                if isinstance(error, asyncio.CancelledError):  # a cancelled task must not wait: the thread removes it
                    writing.add_done_callback(discard)
                    raise
                try:  # the thread's last batch (a few MiB): then nothing is left behind once the error is raised
                    await asyncio.wait([writing])
                except asyncio.CancelledError:
                    writing.add_done_callback(discard)
                    raise
            discard(writing)
            raise
        return staged

    def _write(self, batch: Sequence[bytes]) -> None:
        if self._fd is None:  # the first batch: 0o666 & umask, as any program would create a document
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
        for chunk in batch:
            self._digest.update(chunk)
            view = memoryview(chunk)
            while view:
                view = view[os.write(self._fd, view) :]
            self.size += len(chunk)

    def _finish(self, batch: Sequence[bytes]) -> None:
        self._write(batch)
        assert self._fd is not None
        os.fsync(self._fd)  # the bytes are on disk before any rename makes them visible
        self.fingerprint = Fingerprint.of(os.fstat(self._fd))
        self.sha256 = self._digest.digest()
        os.close(self._fd)
        self._fd = None

    def discard(self) -> None:
        """Close and remove the temp file if it is still there (idempotent; a no-op once moved)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


class FileChunks:
    """The bytes [start, end) of an open file descriptor, in chunks of at most `chunk_size`.

    The descriptor was opened inside the atomic section, so it names one version's inode whatever happens to
    the path afterwards. It is closed when the iteration ends, on `aclose()`, or at the latest when this object
    is collected (a reader that is never iterated must not leak it).
    """

    def __init__(self, fd: int, start: int, end: int, chunk_size: int) -> None:
        self._fd = fd
        self._position = start
        self._end = end
        self._chunk_size = chunk_size
        self._probe = bytearray(1)
        self._close = weakref.finalize(self, os.close, fd)

    def __aiter__(self) -> FileChunks:
        return self

    async def __anext__(self) -> bytes:
        if self._position >= self._end or not self._close.alive:
            self._close()
            raise StopAsyncIteration
        size = min(self._chunk_size, self._end - self._position)
        try:
            if self._cached(size):  # a copy from memory: cheaper than a thread hop
                data = os.pread(self._fd, size, self._position)
            else:  # the disk may take a while: off the event loop
                data = await asyncio.to_thread(os.pread, self._fd, size, self._position)
        except BaseException:
            self._close()
            raise
        if not data:  # shortened behind our back by another program: end here rather than loop
            self._close()
            raise StopAsyncIteration
        self._position += len(data)
        return data

    def _cached(self, size: int) -> bool:
        """Whether the page cache holds the last byte of the next `size` bytes, asked without blocking
        (preadv RWF_NOWAIT of that one byte). Reads are sequential, and the kernel's readahead fills the cache in
        order, so then it holds the bytes before it too. (RWF_NOWAIT over the whole chunk would be exact, but it
        needs a zeroed buffer per chunk, and measured slower than this probe plus `pread`.)"""
        global _nowait_reads
        if not _nowait_reads:
            return False
        try:
            return os.preadv(self._fd, [self._probe], self._position + size - 1, os.RWF_NOWAIT) == 1
        except BlockingIOError:
            return False
        except OSError as error:
            if error.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                raise
            _nowait_reads = False  # this kernel or file system cannot: threads from now on
            return False

    async def aclose(self) -> None:
        self._close()

"""Contents in motion: a write being received into a temp file, and an open read of one version.

Both hold at most one chunk in memory. Blocking calls run in threads (`asyncio.to_thread`) so the event loop
keeps serving other requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from storage_adapter.errors import TooLarge


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

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd
        self._digest = hashlib.sha256()
        self.size = 0
        self.sha256 = b""
        self.fingerprint = Fingerprint(0, 0, 0, 0)
        self.claimed = False  # set when a commit takes it over (and will remove what is left of it)

    @classmethod
    async def receive(cls, tmp_dir: Path, chunks: AsyncIterator[bytes], max_size: int) -> StagedFile:
        """Stream `chunks` into a new temp file. If the chunks raise (or the limit is passed), the temp file is
        removed and the error propagates: nothing is left behind."""
        staged = await asyncio.to_thread(cls._create, tmp_dir)
        try:
            async for chunk in chunks:
                if max_size and staged.size + len(chunk) > max_size:
                    raise TooLarge(f"the contents are larger than {max_size} bytes")
                await asyncio.to_thread(staged._write, chunk)
            await asyncio.to_thread(staged._finish)
        except BaseException:
            staged.discard()
            raise
        return staged

    @classmethod
    def _create(cls, tmp_dir: Path) -> StagedFile:
        path = tmp_dir / secrets.token_hex(16)
        # 0o666 & umask, as any program would create a document (mkstemp's 0o600 would hide it from others).
        return cls(path, os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666))

    def _write(self, chunk: bytes) -> None:
        assert self._fd is not None
        self._digest.update(chunk)
        view = memoryview(chunk)
        while view:
            view = view[os.write(self._fd, view) :]
        self.size += len(chunk)

    def _finish(self) -> None:
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
        self._close = weakref.finalize(self, os.close, fd)

    def __aiter__(self) -> FileChunks:
        return self

    async def __anext__(self) -> bytes:
        if self._position >= self._end or not self._close.alive:
            self._close()
            raise StopAsyncIteration
        size = min(self._chunk_size, self._end - self._position)
        try:
            data = await asyncio.to_thread(os.pread, self._fd, size, self._position)
        except BaseException:
            self._close()
            raise
        if not data:  # shortened behind our back by another program: end here rather than loop
            self._close()
            raise StopAsyncIteration
        self._position += len(data)
        return data

    async def aclose(self) -> None:
        self._close()

"""The upload gate: how many uploads (WriteFile, CreateFile) one adapter process receives at once.

Each upload holds a temp file (a descriptor) or a buffer until it commits or fails, so many uploads that stall
could use up the process's descriptors and fail every read and write for everyone. The gate bounds that: at
most `max_uploads` at a time. A caller that finds no place waits up to `wait` seconds, then gets UNAVAILABLE
("retry shortly"). The gate is passed before the backend sees the upload, so a refused caller holds no
descriptor and changes nothing. (Stalled uploads also end on their own: see the idle timeout in streams.py.)

Concurrent writes of one file are not serialised here: they race, and the version and lock preconditions
decide atomically which land (the contract suite's races). The front-end sends at most one save per file at
a time (its own write gate).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from storage_adapter.errors import Unavailable

DEFAULT_WAIT = 2.0  # seconds: well inside the front-end's per-step storage timeout (10 s)
DEFAULT_MAX_UPLOADS = 256


class UploadGate:
    def __init__(self, *, max_uploads: int = DEFAULT_MAX_UPLOADS, wait: float = DEFAULT_WAIT) -> None:
        self._places = asyncio.Semaphore(max_uploads)
        self._max_uploads = max_uploads
        self._wait = wait

    @asynccontextmanager
    async def upload(self) -> AsyncIterator[None]:
        """One upload's place, held until it commits or fails."""
        try:
            async with asyncio.timeout(self._wait):
                await self._places.acquire()
        except TimeoutError:
            raise Unavailable(
                f"the storage service is receiving its limit of {self._max_uploads} uploads; retry shortly"
            ) from None
        try:
            yield
        finally:
            self._places.release()

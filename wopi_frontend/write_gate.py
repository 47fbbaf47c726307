"""At most one upload per file at a time from this front-end process: PutFile bodies queue here, not in storage.

A save streams its body to storage as it arrives, and storage holds a temp file for it meanwhile. Two saves of
one file at once are never useful (the second only overwrites the first), while many stalled ones (one edit
token is enough) would each hold a storage descriptor. So a save waits up to `wait` seconds for the file's
previous save to finish, then gets UNAVAILABLE, which the WOPI layer answers 503 + Retry-After. Nothing is sent
to storage before the gate is passed, so a refused save changes nothing.

The gate is per process; storage bounds uploads in all (its own `write_gate.py`), and locks and version
preconditions, evaluated by storage, still decide what a save may do.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

DEFAULT_WAIT = 2.0  # seconds


class FileBusy(Exception):
    """Another upload of the file did not finish within the wait."""


class WriteGate:
    def __init__(self, wait: float = DEFAULT_WAIT) -> None:
        self._wait = wait
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}  # holders and waiters per file, so that unused locks are forgotten

    @asynccontextmanager
    async def hold(self, file_id: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(file_id, asyncio.Lock())
        self._users[file_id] = self._users.get(file_id, 0) + 1
        try:
            try:
                async with asyncio.timeout(self._wait):
                    await lock.acquire()
            except TimeoutError:
                raise FileBusy(f"another upload of this file did not finish within {self._wait:g} s") from None
            try:
                yield
            finally:
                lock.release()
        finally:
            self._users[file_id] -= 1
            if not self._users[file_id]:
                del self._users[file_id], self._locks[file_id]

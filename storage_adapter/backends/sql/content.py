"""`DatabaseContentStore`: file contents as immutable blobs in the metadata's own database, in rows of 1 MiB.

Why the database by default: SQLite stays one file to run and back up, PostgreSQL one service, and a blob is
written, committed and collected with the same connections and transactions as the metadata that points to it.
Rows of at most 1 MiB (`blob_chunks(blob_id, seq, data)`) keep every statement, transaction and buffer small,
whatever the file's size; a deployment with very large files can give `SqlBackend` an object-store
`ContentStore` instead.

Writing (`put`): the `blobs` row is committed first, then each 1 MiB chunk in a short transaction of its own
(touching the blob, so that the garbage collector's grace period counts from the upload's latest progress; a
thread stores one chunk while the next arrives), then the size and digest. At most about three chunks are in
memory. If the chunks raise, the blob is deleted.
None of these commits waits for the disk (`Durability.LATER_COMMIT`): the commit that makes the blob a file's
contents does, and its flush of the database's log carries every chunk written before it.

Reading (`read`): one pooled connection holds a SNAPSHOT transaction for the whole read and fetches one chunk
row per query. The bytes therefore come from one snapshot, even if the blob is deleted meanwhile (its version
pruned from the history, or its file deleted).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
from collections.abc import AsyncIterator, Iterable
from datetime import datetime

from storage_adapter.backends.base import Clock, utc_now
from storage_adapter.backends.content_store import ContentStore, StoredBlob
from storage_adapter.backends.sql.database import Database, Durability, Mode, RowLock, Session, Tx
from storage_adapter.errors import NotFound
from storage_adapter.timestamps import to_us

CHUNK_SIZE = 1024 * 1024


class DatabaseContentStore(ContentStore):
    def __init__(self, database: Database, *, chunk_size: int = CHUNK_SIZE, clock: Clock = utc_now) -> None:
        self._database = database
        self._chunk_size = chunk_size
        self._clock = clock

    async def put(self, chunks: AsyncIterator[bytes]) -> StoredBlob:
        blob_id = secrets.token_hex(16)
        await self._database.run(
            lambda tx: tx.execute(
                "INSERT INTO blobs (blob_id, chunk_size, touched_us) VALUES (?, ?, ?)",
                (blob_id, self._chunk_size, to_us(self._clock())),
            ),
            durability=Durability.LATER_COMMIT,
        )
        # The chunk being stored while the next one arrives: a thread writes one while the loop receives the
        # next, so the upload never waits on both in turn.
        storing: asyncio.Future[None] | None = None

        async def store(seq: int, data: bytes) -> None:
            nonlocal storing
            if storing is not None:
                await storing  # its error, if any, is raised here
            storing = asyncio.ensure_future(self._append(blob_id, seq, data))

        try:
            digest = hashlib.sha256()
            size = seq = 0
            pending = bytearray()
            async for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                if not pending and len(chunk) == self._chunk_size:  # the usual case: stored as it came, no copy
                    await store(seq, chunk)
                    seq += 1
                    continue
                pending += chunk
                while len(pending) >= self._chunk_size:
                    await store(seq, bytes(memoryview(pending)[: self._chunk_size]))
                    del pending[: self._chunk_size]
                    seq += 1
            if pending:
                await store(seq, bytes(pending))
            if storing is not None:
                await storing
            blob = StoredBlob(blob_id, size, digest.digest())
            await self._database.run(
                lambda tx: tx.execute(
                    "UPDATE blobs SET size = ?, sha256 = ?, touched_us = ? WHERE blob_id = ?",
                    (blob.size, blob.sha256, to_us(self._clock()), blob_id),
                ),
                durability=Durability.LATER_COMMIT,
            )
        except BaseException:
            if storing is not None:  # its transaction (one chunk) ends before the blob is deleted
                with contextlib.suppress(BaseException):
                    await asyncio.wait([storing])
                if not storing.cancelled():
                    storing.exception()  # retrieved, so asyncio does not warn: the error raised is the first one
            with contextlib.suppress(Exception):  # what is left is the garbage collector's
                await asyncio.shield(self.delete([blob_id]))
            raise
        return blob

    async def _append(self, blob_id: str, seq: int, data: bytes) -> None:
        def transaction(tx: Tx) -> None:
            tx.insert_with_blob("blob_chunks", ("blob_id", "seq"), (blob_id, seq), "data", data)
            tx.execute("UPDATE blobs SET touched_us = ? WHERE blob_id = ?", (to_us(self._clock()), blob_id))

        await self._database.run(transaction, durability=Durability.LATER_COMMIT)

    def read(self, blob_id: str, offset: int, length: int, chunk_size: int) -> AsyncIterator[bytes]:
        return BlobChunks(self._database, blob_id, offset, length, chunk_size)

    async def delete(self, blob_ids: Iterable[str]) -> None:
        for blob_id in blob_ids:
            await self._database.run(lambda tx, blob_id=blob_id: _delete(tx, blob_id, None))

    async def collect_garbage(self, referenced: Iterable[str], older_than: datetime) -> int:
        cutoff = to_us(older_than)
        rows = await self._database.run(
            lambda tx: tx.all("SELECT blob_id FROM blobs WHERE touched_us < ?", (cutoff,)), Mode.AUTOCOMMIT
        )
        keep = set(referenced)
        removed = 0
        for (blob_id,) in rows:
            if blob_id not in keep:
                removed += await self._database.run(lambda tx, blob_id=blob_id: _delete(tx, blob_id, cutoff))
        return removed


def _delete(tx: Tx, blob_id: str, untouched_since_us: int | None) -> int:
    """Delete one blob (only if not touched since the given time, when given); 1 if it was deleted."""
    condition = "" if untouched_since_us is None else " AND touched_us < ?"
    params = (blob_id,) if untouched_since_us is None else (blob_id, untouched_since_us)
    if tx.one(f"SELECT 1 FROM blobs WHERE blob_id = ?{condition}{tx.lock(RowLock.UPDATE)}", params) is None:
        return 0
    tx.execute("DELETE FROM blob_chunks WHERE blob_id = ?", (blob_id,))
    tx.execute("DELETE FROM blobs WHERE blob_id = ?", (blob_id,))
    return 1


class BlobChunks:
    """The bytes [offset, offset + length) of one blob (length 0: to its end), in pieces of at most
    `chunk_size`, read from one snapshot. The connection goes back to the pool when the iteration ends, fails,
    or is closed (`aclose`)."""

    def __init__(self, database: Database, blob_id: str, offset: int, length: int, chunk_size: int) -> None:
        self._database = database
        self._blob_id = blob_id
        self._offset = offset
        self._length = length
        self._chunk_size = chunk_size
        self._session: Session | None = None
        self._finished = False
        self._position = offset
        self._end = 0
        self._seq = 0
        self._row = memoryview(b"")

    def __aiter__(self) -> BlobChunks:
        return self

    async def __anext__(self) -> bytes:
        if self._finished:
            raise StopAsyncIteration
        try:
            if self._session is None:
                await self._open()
            if self._position >= self._end:
                raise StopAsyncIteration
            if not self._row:
                await self._fetch_row()
            piece = self._row[: min(self._chunk_size, self._end - self._position)]
            self._row = self._row[len(piece) :]
            self._position += len(piece)
            whole_row = piece.obj
            if isinstance(whole_row, bytes) and len(piece) == len(whole_row):
                return whole_row  # the usual case, a read from a row's start to its end: no copy
            return bytes(piece)
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        self._finished = True
        self._row = memoryview(b"")
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def _open(self) -> None:
        self._session = await self._database.session()
        row = await self._session.call(
            lambda tx: tx.one("SELECT chunk_size, size FROM blobs WHERE blob_id = ?", (self._blob_id,))
        )
        if row is None or row[1] is None:
            raise NotFound("the contents are gone: the file or version was deleted")
        stored_chunk_size, size = row
        self._end = size if self._length == 0 else min(size, self._offset + self._length)
        self._seq, skip = divmod(self._offset, stored_chunk_size)
        if self._position < self._end:
            await self._fetch_row()
            self._row = self._row[skip:]

    async def _fetch_row(self) -> None:
        assert self._session is not None
        query = "SELECT data FROM blob_chunks WHERE blob_id = ? AND seq = ?"
        params = (self._blob_id, self._seq)
        row = await self._session.call(lambda tx: tx.one(query, params, binary=True))
        if row is None:
            raise NotFound("the contents are incomplete: a chunk is missing")
        self._row = memoryview(row[0])
        self._seq += 1

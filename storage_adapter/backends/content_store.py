"""Where a metadata backend keeps file contents: immutable blobs, written once, read by range, deleted by id.

The `sql` backend keeps metadata (files, versions, locks, containers, user info) in a database and contents in
a ContentStore: chunked rows in the same database (`sql`), or objects in an S3-compatible store (`s3`).
Blobs are immutable and get a fresh id on every write, so a file's contents change only when the database
swaps the file's blob pointer, in the same transaction that checks the lock and the version. An upload that
dies half-way leaves a blob nobody points to; `collect_garbage` removes such blobs later.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class StoredBlob:
    blob_id: str
    size: int
    sha256: bytes


class ContentStore(abc.ABC):
    async def start(self) -> None:  # noqa: B027 - optional hook
        """Connect, create buckets or tables. Called once before the first request."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    @abc.abstractmethod
    async def put(self, chunks: AsyncIterator[bytes]) -> StoredBlob:
        """Store the chunks as a new blob, in bounded memory, and return its id, size and SHA-256. If `chunks`
        raises, nothing stays visible under a returned id (partial data is removed, or left for the garbage
        collector) and the exception propagates."""

    @abc.abstractmethod
    def read(self, blob_id: str, offset: int, length: int, chunk_size: int) -> AsyncIterator[bytes]:
        """`length` bytes from `offset` (0: to the end), in chunks of at most `chunk_size`."""

    @abc.abstractmethod
    async def delete(self, blob_ids: Iterable[str]) -> None:
        """Remove blobs; ids that do not exist are ignored."""

    @abc.abstractmethod
    async def collect_garbage(self, referenced: Iterable[str], older_than: datetime) -> int:
        """Remove blobs that are not in `referenced` and were created before `older_than` (a grace period
        keeps uploads in flight). Returns how many were removed."""

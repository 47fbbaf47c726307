"""The `sql` backend: metadata in SQLite or PostgreSQL tables, contents in a `ContentStore`.

One implementation for both databases (`database.py` holds their differences). Every check-and-change is one
transaction of `metadata.py`, run in a worker thread, that locks the rows it depends on: several adapter
processes on one PostgreSQL database ("replicas") stay correct together, and so do several processes on one
SQLite file (whose write lock serializes them).

A write streams its chunks into a new blob first, outside any metadata transaction (committing as it goes, so
transactions stay small), then in one short transaction locks the file's row, checks the preconditions, swaps
the blob pointer, records the old version in the history and prunes it. The blobs a commit stops referencing
are deleted after it commits; a blob that no commit took (a failed or lost upload) is deleted at once, and
whatever a crash leaves behind is removed by the garbage collector, at start and then periodically.

With `access_control`, every transaction also checks the principal of the call (`access.current_principal()`)
against the item's facts, read in that same transaction (`guard.py`), and the sharing RPCs work (`sharing.py`).
Without it, the backend behaves as before access control: every principal may do everything. Activities are rows
of their own table, recorded and read in one transaction each (`activity_log.py`); so are the audit trail's events,
each recorded by the transaction of its change (`audit_log.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import timedelta
from typing import TypeVar

from storage_adapter import access, activities, audit, listing, locked_files, locks
from storage_adapter.access import AccessPolicy, Grant, Grantee, Role
from storage_adapter.backends.base import Clock, FileContext, FileReader, StorageBackend, file_context_of, utc_now
from storage_adapter.backends.content_store import ContentStore, StoredBlob
from storage_adapter.backends.sql import activity_log, audit_log, metadata, sharing
from storage_adapter.backends.sql.content import CHUNK_SIZE, DatabaseContentStore
from storage_adapter.backends.sql.database import Database, Durability, Mode, Tx
from storage_adapter.backends.sql.guard import Guard
from storage_adapter.backends.sql.migrations import migrate
from storage_adapter.backends.uploads import checked_when_long
from storage_adapter.errors import OutOfRange, TooLarge
from storage_adapter.types import (
    Activity,
    Capabilities,
    ContainerId,
    ContainerMeta,
    FileId,
    FileMeta,
    Item,
    Preconditions,
    Principal,
    Version,
    VersionMeta,
)

T = TypeVar("T")
logger = logging.getLogger("storage_adapter.sql")

GC_GRACE = timedelta(hours=1)
GC_INTERVAL = timedelta(minutes=10)


class SqlBackend(StorageBackend):
    def __init__(
        self,
        database_url: str,
        *,
        content_store: ContentStore | None = None,
        max_versions_kept: int = 10,
        max_file_size: int = 0,
        clock: Clock = utc_now,
        pool_size: int = 10,
        gc_grace: timedelta = GC_GRACE,
        gc_interval: timedelta = GC_INTERVAL,
        access_control: bool = False,
        policy: AccessPolicy = access.DEFAULT_POLICY,
    ) -> None:
        """`gc_grace`: how long an unreferenced blob is kept (an upload in progress, or one about to be
        committed, must never be older than this). `gc_interval`: time between collections after start.
        `access_control`: enforce the proto's access control, with `policy` (administrators, unowned items)."""
        capabilities = Capabilities(
            adapter_name="sql",
            adapter_version="1",
            max_file_size=max_file_size,
            max_chunk_size=CHUNK_SIZE,
            max_lock_id_length=1024,
            max_lock_ttl=timedelta(hours=24),
            max_name_length=255,  # UTF-8 bytes
            containers=True,
            version_history=True,
            max_versions_kept=max_versions_kept,  # 0: no limit
            sha256=True,
            free_name_variants=True,
            access_control=access_control,
            activities=True,
            max_activities_per_file=activities.MAX_PER_FILE,
            audit_trail=True,
            max_audit_events_per_item=audit.MAX_PER_ITEM,  # what audit_log.record keeps
            lock_administration=True,
        )
        super().__init__(capabilities, clock)
        self.policy = policy
        self._database = Database(database_url, pool_size=pool_size)
        self._content = content_store or DatabaseContentStore(self._database, clock=clock)
        self._gc_grace = gc_grace
        self._gc_interval = gc_interval
        self._gc_task: asyncio.Task[None] | None = None
        self._root: ContainerMeta | None = None

    async def start(self) -> None:
        """Apply the migrations this database lacks, then collect garbage once and every `gc_interval`."""
        try:
            applied = await migrate(self._database)
            if applied:
                logger.info("applied schema migrations %s", applied)
            self._root = await self._run(metadata.root, Mode.AUTOCOMMIT)
            await self._content.start()
        except BaseException:
            await self._database.close()
            raise
        await self._collect_quietly()
        self._gc_task = asyncio.create_task(self._collect_periodically(), name="sql-backend-gc")

    async def close(self) -> None:
        task, self._gc_task = self._gc_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._content.close()
        await self._database.close()

    async def collect_garbage(self) -> int:
        """Remove the blobs no file or version uses, once older than the grace period; how many were removed."""
        referenced = await self._run(metadata.referenced_blobs, Mode.SNAPSHOT)
        removed = await self._content.collect_garbage(referenced, self.clock() - self._gc_grace)
        if removed:
            logger.info("removed %d unreferenced blobs", removed)
        return removed

    # ---- containers ----

    async def root_container(self) -> ContainerMeta:
        if self._root is None:
            raise RuntimeError("the sql backend is not started")
        if not self.capabilities.access_control:
            return self._root
        root_id, guard = self._root.container_id, self._guard()
        return await self._run(lambda tx: metadata.root_container(tx, root_id, guard), Mode.SNAPSHOT)

    async def get_container(self, container_id: ContainerId) -> ContainerMeta:
        guard = self._guard()
        return await self._run(lambda tx: metadata.get_container(tx, container_id, guard), Mode.AUTOCOMMIT)

    async def container_depth(self, container_id: ContainerId) -> int:
        if not self.capabilities.access_control:
            return await super().container_depth(container_id)
        guard = self._guard()  # with access control, ancestors leaves out unreadable ones: count them all here
        return await self._run(lambda tx: metadata.container_depth(tx, container_id, guard), Mode.SNAPSHOT)

    async def list_children_page(
        self, container_id: ContainerId, extensions: frozenset[str], size: int, token: str
    ) -> listing.Page:
        guard = self._guard()
        return await self._run(
            lambda tx: metadata.list_children_page(tx, container_id, extensions, size, token, self.clock(), guard),
            Mode.SNAPSHOT,
        )

    async def lookup_child(self, container_id: ContainerId, name: str) -> Item:
        guard = self._guard()
        return await self._run(
            lambda tx: metadata.lookup_child(tx, container_id, name, self.clock(), guard), Mode.SNAPSHOT
        )

    async def find_free_name(self, container_id: ContainerId, name: str) -> str:
        max_length, guard = self.capabilities.max_name_length, self._guard()
        return await self._run(
            lambda tx: metadata.find_free_name(tx, container_id, name, max_length, self.clock(), guard), Mode.SNAPSHOT
        )

    async def create_container(self, parent_id: ContainerId, name: str, principal: Principal) -> ContainerMeta:
        guard = self._guard()
        return await self._run(
            lambda tx: metadata.create_container(tx, parent_id, name, principal, self.clock(), guard)
        )

    async def rename_container(self, container_id: ContainerId, new_name: str) -> ContainerMeta:
        guard = self._guard()
        return await self._run(lambda tx: metadata.rename_container(tx, container_id, new_name, self.clock(), guard))

    async def delete_container(self, container_id: ContainerId) -> None:
        guard = self._guard()
        await self._run(lambda tx: metadata.delete_container(tx, container_id, self.clock(), guard))

    async def ancestors(self, item: FileId | ContainerId, is_file: bool) -> list[ContainerMeta]:
        guard = self._guard()
        return await self._run(lambda tx: metadata.ancestors(tx, item, is_file, guard), Mode.SNAPSHOT)

    # ---- files ----

    async def stat_file(self, file_id: FileId) -> FileMeta:
        guard = self._guard()
        return await self._run(lambda tx: metadata.stat_file(tx, file_id, self.clock(), guard), Mode.AUTOCOMMIT)

    async def file_context(self, file_id: FileId, user_id: str, *, with_container: bool) -> FileContext:
        """The three reads of CheckFileInfo on one connection, one after the other: one pool checkout, no
        transaction to open or close (the answer need not be one snapshot, as the interface says)."""
        guard = self._guard()

        def read(tx: Tx) -> FileContext:
            meta = metadata.stat_file(tx, file_id, self.clock(), guard)
            user_info = metadata.get_user_info(tx, user_id) if user_id else ""

            def container(container_id: ContainerId) -> ContainerMeta:
                return metadata.get_container(tx, container_id, guard)

            return file_context_of(meta, user_info, container if with_container else None)

        return await self._run(read, Mode.AUTOCOMMIT)

    async def open_file(self, file_id: FileId, offset: int, length: int, version: Version | None) -> FileReader:
        guard = self._guard()
        meta, blob_id = await self._run(
            lambda tx: metadata.locate(tx, file_id, version, self.clock(), guard), Mode.SNAPSHOT
        )
        if offset > meta.size:
            raise OutOfRange("the offset is past the end of the file")
        end = meta.size if length == 0 else min(meta.size, offset + length)
        if end == offset:
            return FileReader(meta, _nothing())
        return FileReader(meta, self._content.read(blob_id, offset, end - offset, self.capabilities.max_chunk_size))

    async def write_file(
        self, file_id: FileId, preconditions: Preconditions, chunks: AsyncIterator[bytes], principal: Principal
    ) -> FileMeta:
        guard = self._guard()

        async def check() -> None:  # before a long upload (uploads.py), for lack of the write permission too
            current = await self._run(
                lambda tx: metadata.stat_file(tx, file_id, self.clock(), guard, "WriteFile"), Mode.AUTOCOMMIT
            )
            locks.check_preconditions(current, preconditions, self.clock())

        blob = await self._content.put(self._limited(checked_when_long(chunks, check)))
        max_kept = self.capabilities.max_versions_kept
        return await self._commit(
            blob,
            lambda tx: metadata.write_file(tx, file_id, preconditions, blob, principal, self.clock(), max_kept, guard),
        )

    async def create_file(
        self,
        container_id: ContainerId,
        name: str,
        chunks: AsyncIterator[bytes],
        principal: Principal,
        *,
        use_free_variant: bool = False,
    ) -> FileMeta:
        variants_up_to = self.capabilities.max_name_length if use_free_variant else None
        guard = self._guard()

        def check(tx: Tx) -> None:  # before a long upload (uploads.py); a free variant is chosen only at the commit
            guard.container(tx, container_id, "CreateFile")
            if variants_up_to is None:
                metadata.require_free(tx, container_id, name, self.clock(), guard)

        upload = checked_when_long(chunks, functools.partial(self._run, check, Mode.SNAPSHOT))
        blob = await self._content.put(self._limited(upload))
        meta = await self._commit(
            blob,
            lambda tx: (
                metadata.create_file(tx, container_id, name, blob, principal, self.clock(), guard, variants_up_to),
                [],
            ),
        )
        return meta

    async def rename_file(
        self,
        file_id: FileId,
        new_name: str,
        preconditions: Preconditions,
        principal: Principal,
        *,
        use_free_variant: bool = False,
    ) -> FileMeta:
        variants_up_to = self.capabilities.max_name_length if use_free_variant else None
        guard = self._guard()
        return await self._run(
            lambda tx: metadata.rename_file(tx, file_id, new_name, preconditions, self.clock(), guard, variants_up_to)
        )

    async def delete_file(self, file_id: FileId, preconditions: Preconditions) -> None:
        guard = self._guard()
        dropped = await self._run(lambda tx: metadata.delete_file(tx, file_id, preconditions, self.clock(), guard))
        await self._discard(dropped)

    # ---- locks ----

    async def update_lock(
        self, file_id: FileId, transition: locks.LockTransition, *, breaking: str | None = None
    ) -> FileMeta:
        """A lock change survives any process crash at once but does not wait for the disk (SQLite: no fsync):
        a power loss may lose the latest ones, never a save, whose durable commit carries them to disk too. An
        operator's BreakLock (`breaking`) waits for the disk, as a save does."""
        guard = self._guard()
        return await self._run(
            lambda tx: metadata.update_lock(tx, file_id, transition, self.clock(), guard, breaking),
            durability=Durability.PROCESS_CRASH if breaking is None else Durability.POWER_LOSS,
        )

    # ---- per-user info ----

    async def get_user_info(self, user_id: str) -> str:
        return await self._run(lambda tx: metadata.get_user_info(tx, user_id), Mode.AUTOCOMMIT)

    async def set_user_info(self, user_id: str, user_info: str) -> None:
        await self._run(lambda tx: metadata.set_user_info(tx, user_id, user_info))

    # ---- version history ----

    async def list_versions(self, file_id: FileId) -> list[VersionMeta]:
        guard = self._guard()
        return await self._run(lambda tx: metadata.list_versions(tx, file_id, guard), Mode.SNAPSHOT)

    async def restore_version(
        self, file_id: FileId, version: Version, preconditions: Preconditions, principal: Principal
    ) -> FileMeta:
        max_kept, guard, now = self.capabilities.max_versions_kept, self._guard(), self.clock()
        meta, dropped = await self._run(
            lambda tx: metadata.restore_version(tx, file_id, version, preconditions, principal, now, max_kept, guard)
        )
        await self._discard(dropped)
        return meta

    # ---- activities ----

    async def add_activities(self, file_id: FileId, requested: list[Activity], principal: Principal) -> list[Activity]:
        keep, guard = self.capabilities.max_activities_per_file, self._guard()
        return await self._run(
            lambda tx: activity_log.add_activities(tx, file_id, requested, principal, self.clock(), keep, guard)
        )

    async def list_activities(self, file_id: FileId, size: int, before: int | None) -> activities.Page:
        guard = self._guard()
        return await self._run(lambda tx: activity_log.list_activities(tx, file_id, size, before, guard), Mode.SNAPSHOT)

    # ---- audit trail and lock administration ----

    async def list_audit_events(
        self, item: FileId | ContainerId, is_file: bool, size: int, before: int | None
    ) -> audit.Page:
        guard = self._guard()
        return await self._run(
            lambda tx: audit_log.list_audit_events(tx, item, is_file, size, before, guard), Mode.SNAPSHOT
        )

    async def list_locked_files(self, size: int, after: locked_files.Key | None) -> locked_files.Page:
        guard, now = self._guard(), self.clock()
        return await self._run(lambda tx: audit_log.list_locked_files(tx, size, after, now, guard), Mode.SNAPSHOT)

    # ---- sharing (with access control only; otherwise the base class's Unsupported) ----

    async def list_grants(self, item: FileId | ContainerId, is_file: bool) -> list[Grant]:
        if not self.capabilities.access_control:
            return await super().list_grants(item, is_file)
        guard = self._guard()
        return await self._run(lambda tx: sharing.list_grants(tx, item, is_file, guard), Mode.SNAPSHOT)

    async def grant_access(
        self, item: FileId | ContainerId, is_file: bool, grantee: Grantee, role: Role, principal: Principal
    ) -> Grant:
        if not self.capabilities.access_control:
            return await super().grant_access(item, is_file, grantee, role, principal)
        guard = self._guard()
        return await self._run(
            lambda tx: sharing.grant_access(tx, item, is_file, grantee, role, principal, self.clock(), guard)
        )

    async def revoke_access(self, item: FileId | ContainerId, is_file: bool, grantee: Grantee) -> None:
        if not self.capabilities.access_control:
            return await super().revoke_access(item, is_file, grantee)
        guard = self._guard()
        await self._run(lambda tx: sharing.revoke_access(tx, item, is_file, grantee, self.clock(), guard))

    async def list_shared_with_me(self, page_size: int, page_token: str) -> tuple[list[tuple[Item, Grant]], str]:
        if not self.capabilities.access_control:
            return await super().list_shared_with_me(page_size, page_token)
        guard = self._guard()
        return await self._run(
            lambda tx: sharing.list_shared_with_me(tx, page_size, page_token, self.clock(), guard), Mode.SNAPSHOT
        )

    # ---- helpers ----

    def _guard(self) -> Guard:
        """The access check of this call, made on the event loop (the principal is the call's own)."""
        return Guard(access.current_principal(), self.policy, self.capabilities.access_control)

    async def _run(
        self, work: Callable[[Tx], T], mode: Mode = Mode.WRITE, durability: Durability = Durability.POWER_LOSS
    ) -> T:
        return await self._database.run(work, mode, durability)

    async def _commit(self, blob: StoredBlob, work: Callable[[Tx], tuple[FileMeta, list[str]]]) -> FileMeta:
        """Run the transaction that makes `blob` a file's contents. If it does not get as far as COMMIT, the blob
        is deleted; after it commits, the blobs it stopped using are. (A COMMIT that fails after the work is
        done leaves the blob to the garbage collector: deleting a blob that a commit may have kept is the one
        thing never to do.)"""
        reached_commit = False

        def transaction(tx: Tx) -> tuple[FileMeta, list[str]]:
            nonlocal reached_commit
            result = work(tx)
            reached_commit = True
            return result

        try:
            meta, dropped = await self._run(transaction)
        except BaseException:
            if not reached_commit:
                await self._discard([blob.blob_id])
            raise
        await self._discard(dropped)
        return meta

    async def _discard(self, blob_ids: Iterable[str]) -> None:
        """Delete blobs nothing uses any more; a failure only leaves them to the garbage collector."""
        blob_ids = list(blob_ids)
        if not blob_ids:
            return
        try:
            await asyncio.shield(self._content.delete(blob_ids))
        except Exception:
            logger.warning("could not delete %d unused blobs; the garbage collector will", len(blob_ids), exc_info=True)

    async def _limited(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        limit, total = self.capabilities.max_file_size, 0
        async for chunk in chunks:
            total += len(chunk)
            if limit and total > limit:
                raise TooLarge(f"the contents are larger than {limit} bytes")
            yield chunk

    async def _collect_quietly(self) -> None:
        try:
            await self.collect_garbage()
        except Exception:
            logger.warning("garbage collection failed; it will be retried", exc_info=True)

    async def _collect_periodically(self) -> None:
        while True:
            await asyncio.sleep(self._gc_interval.total_seconds())
            await self._collect_quietly()


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""

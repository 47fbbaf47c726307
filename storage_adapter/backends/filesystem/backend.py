"""The filesystem backend: documents are plain files and folders under `root` that a person can browse.

A container is a directory (the root container is `root` itself), a file is a regular file, and names are the
real names on disk. What a file system cannot hold lives in the SQLite catalogue of `root/.wopi-storage/`
(`catalogue.py`); `tree.py` keeps the two in step when other programs change the folder.

This class is the asynchronous face: every check-and-change is one synchronous section of `sections.py`, run
in a worker thread under one asyncio.Lock, so sections never overlap and the event loop never blocks. Only one
process may serve a root (an flock, `state.py`), so that lock covers every caller. The long part of a write,
receiving the chunks into a temp file, happens before its section, outside the lock. A section that only reads
(metadata, opening a file to read it) is first tried inline on the event loop, without the thread and the lock,
from a snapshot of the catalogue (`inline.py`); it falls back to the locked section whenever that snapshot and
the disk disagree.

With `access_control`, it enforces access control (proto "Access control"): each section checks the principal
of the call (`access.current_principal()`, which reaches the worker thread with the call's context) through
`gate.py`, in the same section as its change, and grants live in the catalogue.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from storage_adapter import access, activities, audit, listing, locked_files, locks
from storage_adapter.access import AccessPolicy, Grant, Grantee, Role
from storage_adapter.backends.base import Clock, FileContext, FileReader, StorageBackend, utc_now
from storage_adapter.backends.filesystem.inline import InlineReads
from storage_adapter.backends.filesystem.sections import Sections
from storage_adapter.backends.filesystem.streams import StagedFile
from storage_adapter.backends.uploads import checked_when_long
from storage_adapter.errors import Unsupported
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

MAX_CHUNK_SIZE = 1024 * 1024


class FilesystemBackend(StorageBackend):
    def __init__(
        self,
        root: Path,
        *,
        max_versions_kept: int = 10,
        max_file_size: int = 0,
        clock: Clock = utc_now,
        access_control: bool = False,
        policy: AccessPolicy = access.DEFAULT_POLICY,
    ) -> None:
        """`access_control`: enforce access control (with `policy`) and advertise it; off, every principal may
        do everything, as before access control existed."""
        capabilities = Capabilities(
            adapter_name="filesystem",
            adapter_version="1",
            max_file_size=max_file_size,
            max_chunk_size=MAX_CHUNK_SIZE,
            max_lock_id_length=1024,
            max_lock_ttl=timedelta(hours=24),
            max_name_length=255,  # UTF-8 bytes: the limit of ext4 and most other file systems
            containers=True,
            version_history=True,
            max_versions_kept=max_versions_kept,  # 0: no limit
            sha256=True,
            free_name_variants=True,
            access_control=access_control,
            activities=True,
            max_activities_per_file=activities.MAX_PER_FILE,
            audit_trail=True,
            max_audit_events_per_item=audit.MAX_PER_ITEM,
            lock_administration=True,
        )
        super().__init__(capabilities, clock)
        self._root = root
        self._lock = asyncio.Lock()
        self.policy = policy  # its administrators, for the servicer's checks, even when it does not enforce
        self._policy = policy if access_control else None
        self._opened: Sections | None = None
        self._inline: InlineReads | None = None

    async def start(self) -> None:
        self._opened = await asyncio.to_thread(self._open)
        self._inline = InlineReads(self._opened)

    async def close(self) -> None:
        async with self._lock:
            if self._inline is not None:
                self._inline.close()
                self._inline = None
            if self._opened is not None:
                await asyncio.to_thread(self._opened.close)
                self._opened = None

    def _open(self) -> Sections:
        os.makedirs(self._root, exist_ok=True)
        # Resolved once: every path is built under this one, and any symbolic link below it is refused.
        return Sections(Path(os.path.realpath(self._root)), self.capabilities, self.clock, self._policy)

    # ---- containers ----

    async def root_container(self) -> ContainerMeta:
        return await self._read(Sections.root_container)

    async def get_container(self, container_id: ContainerId) -> ContainerMeta:
        return await self._read(Sections.get_container, container_id)

    async def list_children_page(
        self, container_id: ContainerId, extensions: frozenset[str], size: int, token: str
    ) -> listing.Page:
        return await self._read(Sections.list_children_page, container_id, extensions, size, token)

    async def lookup_child(self, container_id: ContainerId, name: str) -> Item:
        return await self._read(Sections.lookup_child, container_id, name)

    async def find_free_name(self, container_id: ContainerId, name: str) -> str:
        return await self._read(Sections.find_free_name, container_id, name)

    async def create_container(self, parent_id: ContainerId, name: str, principal: Principal) -> ContainerMeta:
        return await self._atomic(self._sections.create_container, parent_id, name, principal)

    async def rename_container(self, container_id: ContainerId, new_name: str) -> ContainerMeta:
        return await self._atomic(self._sections.rename_container, container_id, new_name)

    async def delete_container(self, container_id: ContainerId) -> None:
        await self._atomic(self._sections.delete_container, container_id)

    async def ancestors(self, item: FileId | ContainerId, is_file: bool) -> list[ContainerMeta]:
        return await self._read(Sections.ancestors, item, is_file)

    async def container_depth(self, container_id: ContainerId) -> int:
        return await self._read(Sections.container_depth, container_id)

    # ---- files ----

    async def stat_file(self, file_id: FileId) -> FileMeta:
        return await self._read(Sections.stat_file, file_id)

    async def file_context(self, file_id: FileId, user_id: str, *, with_container: bool) -> FileContext:
        return await self._read(Sections.file_context, file_id, user_id, with_container)

    async def open_file(self, file_id: FileId, offset: int, length: int, version: Version | None) -> FileReader:
        return await self._read(Sections.open_file, file_id, offset, length, version)

    async def write_file(
        self, file_id: FileId, preconditions: Preconditions, chunks: AsyncIterator[bytes], principal: Principal
    ) -> FileMeta:
        check = functools.partial(self._read, Sections.check_preconditions, file_id, preconditions)
        staged = await self._receive(chunks, check)
        return await self._commit(staged, self._sections.commit_write, file_id, preconditions, principal)

    async def create_file(
        self,
        container_id: ContainerId,
        name: str,
        chunks: AsyncIterator[bytes],
        principal: Principal,
        *,
        use_free_variant: bool = False,
    ) -> FileMeta:
        check = functools.partial(self._read, Sections.check_create, container_id, name, use_free_variant)
        staged = await self._receive(chunks, check)
        return await self._commit(staged, self._sections.commit_create, container_id, name, principal, use_free_variant)

    async def rename_file(
        self,
        file_id: FileId,
        new_name: str,
        preconditions: Preconditions,
        principal: Principal,
        *,
        use_free_variant: bool = False,
    ) -> FileMeta:
        return await self._atomic(self._sections.rename_file, file_id, new_name, preconditions, use_free_variant)

    async def delete_file(self, file_id: FileId, preconditions: Preconditions) -> None:
        await self._atomic(self._sections.delete_file, file_id, preconditions)

    # ---- locks ----

    async def update_lock(
        self, file_id: FileId, transition: locks.LockTransition, *, breaking: str | None = None
    ) -> FileMeta:
        # An operator's BreakLock is kept from a power cut, as saves are; the editors' lock changes need not be.
        durable = breaking is not None
        return await self._atomic(self._sections.update_lock, file_id, transition, breaking, durable=durable)

    # ---- per-user info ----

    async def get_user_info(self, user_id: str) -> str:
        return await self._read(Sections.get_user_info, user_id)

    async def set_user_info(self, user_id: str, user_info: str) -> None:
        await self._atomic(self._sections.set_user_info, user_id, user_info)

    # ---- version history ----

    async def list_versions(self, file_id: FileId) -> list[VersionMeta]:
        return await self._read(Sections.list_versions, file_id)

    async def restore_version(
        self, file_id: FileId, version: Version, preconditions: Preconditions, principal: Principal
    ) -> FileMeta:
        old = await self._atomic(self._sections.open_version, file_id, version, preconditions)
        try:  # a copy, not a link: the history blob must stay as it is whatever happens to the file
            staged = await StagedFile.receive(self._sections.state.tmp, old, 0)
        finally:
            await old.aclose()
        return await self._commit(staged, self._sections.commit_write, file_id, preconditions, principal, version)

    # ---- activities ----

    async def add_activities(self, file_id: FileId, requested: list[Activity], principal: Principal) -> list[Activity]:
        return await self._atomic(self._sections.add_activities, file_id, requested, principal)

    async def list_activities(self, file_id: FileId, size: int, before: int | None) -> activities.Page:
        return await self._read(Sections.list_activities, file_id, size, before)

    # ---- audit trail and lock administration ----

    async def list_audit_events(
        self, item: FileId | ContainerId, is_file: bool, size: int, before: int | None
    ) -> audit.Page:
        return await self._read(Sections.list_audit_events, item, is_file, size, before)

    async def list_locked_files(self, size: int, after: locked_files.Key | None) -> locked_files.Page:
        return await self._read(Sections.list_locked_files, size, after)

    # ---- sharing ----

    async def list_grants(self, item: FileId | ContainerId, is_file: bool) -> list[Grant]:
        self._require_access_control()
        return await self._read(Sections.list_grants, item, is_file)

    async def grant_access(
        self, item: FileId | ContainerId, is_file: bool, grantee: Grantee, role: Role, principal: Principal
    ) -> Grant:
        self._require_access_control()
        return await self._atomic(self._sections.grant_access, item, is_file, grantee, role, principal)

    async def revoke_access(self, item: FileId | ContainerId, is_file: bool, grantee: Grantee) -> None:
        self._require_access_control()
        await self._atomic(self._sections.revoke_access, item, is_file, grantee)

    async def list_shared_with_me(self, page_size: int, page_token: str) -> tuple[list[tuple[Item, Grant]], str]:
        self._require_access_control()
        return await self._atomic(self._sections.list_shared_with_me, page_size, page_token)

    def _require_access_control(self) -> None:
        if self._policy is None:  # without enforcement, as the interface says: Unsupported
            raise Unsupported("this adapter does not enforce access control (setting access_control)")

    # ---- running the sections ----

    async def _read(self, section: Callable[..., T], *args: Any) -> T:
        """A section that only reads: answered inline from a snapshot when the catalogue and the disk agree
        (inline.py), by the locked section otherwise. `section` is unbound: a method of `Sections`."""
        if self._inline is not None:
            answer = self._inline.attempt(section, *args)
            if answer is not None:
                return answer
        return await self._atomic(functools.partial(section, self._sections), *args)

    async def _atomic(self, section: Callable[..., T], *args: Any, durable: bool = True) -> T:
        async with self._lock:
            return await asyncio.to_thread(self._sections.run, section, *args, durable=durable)

    async def _receive(self, chunks: AsyncIterator[bytes], check: Callable[[], Awaitable[object]]) -> StagedFile:
        """An upload into a temp file (streams.py), checked first if it is long (uploads.py)."""
        upload = checked_when_long(chunks, check)
        return await StagedFile.receive(self._sections.state.tmp, upload, self.capabilities.max_file_size)

    async def _commit(self, staged: StagedFile, section: Callable[..., T], *args: Any) -> T:
        """Run a commit section that consumes `staged`; the temp file is removed whatever happens."""
        try:
            return await self._atomic(self._sections.consume, staged, section, *args)
        finally:
            if not staged.claimed:  # cancelled before the section ran: nobody else will remove it
                staged.discard()

    @property
    def _sections(self) -> Sections:
        if self._opened is None:
            raise RuntimeError("the filesystem backend is not started (or already closed)")
        return self._opened

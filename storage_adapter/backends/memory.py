"""The in-memory backend: for tests, and the shortest complete example for adapter authors.

Everything lives in dicts. Atomicity comes from asyncio itself: each check-and-change below runs with no
`await` between the check and the change, so no other request can interleave. (Holding contents in memory is
the point of this backend; every other backend streams to disk or network.)
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta

from storage_adapter import locks, name_variants
from storage_adapter.backends.base import Clock, FileReader, StorageBackend, utc_now
from storage_adapter.errors import (
    ContainerNotEmpty,
    InvalidArgument,
    NameConflict,
    NotFound,
    OutOfRange,
)
from storage_adapter.types import (
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

MAX_VERSIONS_KEPT = 10

CAPABILITIES = Capabilities(
    adapter_name="memory",
    adapter_version="1",
    max_lock_ttl=timedelta(hours=24),
    containers=True,
    version_history=True,
    max_versions_kept=MAX_VERSIONS_KEPT,
    sha256=True,
    free_name_variants=True,
)

Contents = tuple[bytes, ...]


def new_id() -> str:
    return secrets.token_hex(12)


def new_version() -> Version:
    return Version(secrets.token_hex(8))


class MemoryBackend(StorageBackend):
    def __init__(self, capabilities: Capabilities = CAPABILITIES, clock: Clock = utc_now) -> None:
        super().__init__(capabilities, clock)
        root = ContainerMeta(ContainerId(new_id()), "", None, Principal(), clock())
        self._root_id = root.container_id
        self._containers: dict[ContainerId, ContainerMeta] = {root.container_id: root}
        self._files: dict[FileId, FileMeta] = {}
        self._contents: dict[FileId, Contents] = {}
        self._history: dict[FileId, list[tuple[VersionMeta, Contents]]] = {}
        self._names: dict[tuple[ContainerId, str], Item] = {}
        self._user_info: dict[str, str] = {}

    # ---- containers ----

    async def root_container(self) -> ContainerMeta:
        return self._containers[self._root_id]

    async def get_container(self, container_id: ContainerId) -> ContainerMeta:
        try:
            return self._containers[container_id]
        except KeyError:
            raise NotFound("no such container") from None

    async def list_children(self, container_id: ContainerId, extensions: frozenset[str]) -> AsyncIterator[Item]:
        await self.get_container(container_id)
        children = [item for (parent, _), item in self._names.items() if parent == container_id]
        for item in children:
            if isinstance(item, FileMeta):
                item = self._files.get(item.file_id)
                if item is None or (extensions and not item.name.lower().endswith(tuple(extensions))):
                    continue
                item = self._live(item)
            yield item

    async def lookup_child(self, container_id: ContainerId, name: str) -> Item:
        await self.get_container(container_id)
        item = self._names.get((container_id, name))
        if item is None:
            raise NotFound("no item of this name in the container")
        return self._live(self._files[item.file_id]) if isinstance(item, FileMeta) else item

    async def find_free_name(self, container_id: ContainerId, name: str) -> str:
        await self.get_container(container_id)
        chosen = self._free_variant(container_id, name)
        self._require_free(container_id, chosen)  # raises only when every candidate is taken
        return chosen

    async def create_container(self, parent_id: ContainerId, name: str, principal: Principal) -> ContainerMeta:
        await self.get_container(parent_id)
        self._require_free(parent_id, name)
        container = ContainerMeta(ContainerId(new_id()), name, parent_id, principal, self.clock())
        self._containers[container.container_id] = container
        self._names[(parent_id, name)] = container
        return container

    async def rename_container(self, container_id: ContainerId, new_name: str) -> ContainerMeta:
        container = await self._non_root(container_id)
        assert container.parent_id is not None
        if new_name == container.name:
            return container
        self._require_free(container.parent_id, new_name)
        renamed = dataclasses.replace(container, name=new_name)
        del self._names[(container.parent_id, container.name)]
        self._names[(container.parent_id, new_name)] = renamed
        self._containers[container_id] = renamed
        return renamed

    async def delete_container(self, container_id: ContainerId) -> None:
        container = await self._non_root(container_id)
        assert container.parent_id is not None
        if any(parent == container_id for parent, _ in self._names):
            raise ContainerNotEmpty(container_id)
        del self._names[(container.parent_id, container.name)]
        del self._containers[container_id]

    async def ancestors(self, item: FileId | ContainerId, is_file: bool) -> list[ContainerMeta]:
        if is_file:
            parent: ContainerId | None = (await self.stat_file(FileId(item))).parent_id
        else:
            parent = (await self.get_container(ContainerId(item))).parent_id
        chain: list[ContainerMeta] = []
        while parent is not None:
            container = self._containers[parent]
            chain.append(container)
            parent = container.parent_id
        return chain[::-1]

    # ---- files ----

    async def stat_file(self, file_id: FileId) -> FileMeta:
        return self._live(self._file(file_id))

    async def open_file(self, file_id: FileId, offset: int, length: int, version: Version | None) -> FileReader:
        meta = await self.stat_file(file_id)
        contents = self._contents[file_id]
        if version is not None and version != meta.version:
            for old, old_contents in self._history[file_id]:
                if old.version == version:
                    meta = dataclasses.replace(meta, version=old.version, size=old.size, sha256=old.sha256)
                    contents = old_contents
                    break
            else:
                raise NotFound("no such version")
        if offset > meta.size:
            raise OutOfRange("the offset is past the end of the file")
        end = meta.size if length == 0 else min(meta.size, offset + length)
        return FileReader(meta, _slice(contents, offset, end, self.capabilities.max_chunk_size))

    async def write_file(
        self, file_id: FileId, preconditions: Preconditions, chunks: AsyncIterator[bytes], principal: Principal
    ) -> FileMeta:
        locks.check_preconditions(await self.stat_file(file_id), preconditions, self.clock())  # fail early
        contents, digest = await _collect(chunks)
        meta = await self.stat_file(file_id)  # the atomic section starts here: no await until the end
        locks.check_preconditions(meta, preconditions, self.clock())
        return self._commit(meta, contents, digest, principal)

    async def create_file(
        self,
        container_id: ContainerId,
        name: str,
        chunks: AsyncIterator[bytes],
        principal: Principal,
        *,
        use_free_variant: bool = False,
    ) -> FileMeta:
        await self.get_container(container_id)
        if not use_free_variant:
            self._require_free(container_id, name)  # fail early
        contents, digest = await _collect(chunks)
        await self.get_container(container_id)  # the atomic section starts here
        if use_free_variant:
            name = self._free_variant(container_id, name)
        self._require_free(container_id, name)
        now = self.clock()
        meta = FileMeta(
            file_id=FileId(new_id()),
            name=name,
            size=sum(map(len, contents)),
            version=new_version(),
            parent_id=container_id,
            owner=principal,
            created_at=now,
            modified_at=now,
            modified_by=principal,
            sha256=digest,
        )
        self._files[meta.file_id] = meta
        self._contents[meta.file_id] = contents
        self._history[meta.file_id] = []
        self._names[(container_id, name)] = meta
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
        meta = await self.stat_file(file_id)
        locks.check_preconditions(meta, preconditions, self.clock())
        if use_free_variant:
            new_name = self._free_variant(meta.parent_id, new_name, own_name=meta.name)
        if new_name == meta.name:
            return meta
        self._require_free(meta.parent_id, new_name)
        renamed = dataclasses.replace(meta, name=new_name)
        del self._names[(meta.parent_id, meta.name)]
        self._names[(meta.parent_id, new_name)] = renamed
        self._files[file_id] = renamed
        return renamed

    async def delete_file(self, file_id: FileId, preconditions: Preconditions) -> None:
        meta = await self.stat_file(file_id)
        locks.check_preconditions(meta, preconditions, self.clock())
        del self._names[(meta.parent_id, meta.name)]
        del self._files[file_id], self._contents[file_id], self._history[file_id]

    # ---- locks ----

    async def update_lock(self, file_id: FileId, transition: locks.LockTransition) -> FileMeta:
        meta = await self.stat_file(file_id)
        updated = dataclasses.replace(meta, lock=transition(meta.lock, self.clock()))
        self._files[file_id] = updated
        return updated

    # ---- per-user info ----

    async def get_user_info(self, user_id: str) -> str:
        return self._user_info.get(user_id, "")

    async def set_user_info(self, user_id: str, user_info: str) -> None:
        self._user_info[user_id] = user_info

    # ---- version history ----

    async def list_versions(self, file_id: FileId) -> list[VersionMeta]:
        self._file(file_id)
        return [version for version, _ in reversed(self._history[file_id])]

    async def restore_version(
        self, file_id: FileId, version: Version, preconditions: Preconditions, principal: Principal
    ) -> FileMeta:
        meta = await self.stat_file(file_id)
        for old, contents in self._history[file_id]:
            if old.version == version:
                locks.check_preconditions(meta, preconditions, self.clock())
                return self._commit(meta, contents, old.sha256, principal)
        raise NotFound("no such version")

    # ---- helpers ----

    def _file(self, file_id: FileId) -> FileMeta:
        try:
            return self._files[file_id]
        except KeyError:
            raise NotFound("no such file") from None

    def _live(self, meta: FileMeta) -> FileMeta:
        lock = locks.live(meta.lock, self.clock())
        return meta if lock is meta.lock else dataclasses.replace(meta, lock=lock)

    def _require_free(self, container_id: ContainerId, name: str) -> None:
        existing = self._names.get((container_id, name))
        if existing is not None:
            if isinstance(existing, FileMeta):
                existing = self._live(self._files[existing.file_id])
            raise NameConflict(container_id, name, existing)

    def _free_variant(self, container_id: ContainerId, name: str, own_name: str | None = None) -> str:
        """The first free candidate (dict lookups, no await: atomic with what the caller does next), or `name`
        itself when all are taken, so that the caller's exclusive step reports the conflict."""
        candidates = name_variants.candidates(name, self.capabilities.max_name_length)
        free = name_variants.first_free(
            candidates, lambda candidate: candidate != own_name and (container_id, candidate) in self._names
        )
        return name if free is None else free

    async def _non_root(self, container_id: ContainerId) -> ContainerMeta:
        container = await self.get_container(container_id)
        if container.parent_id is None:
            raise InvalidArgument("container_id", "the root container cannot be renamed or deleted")
        return container

    def _commit(self, meta: FileMeta, contents: Contents, digest: bytes, principal: Principal) -> FileMeta:
        history = self._history[meta.file_id]
        history.append(
            (
                VersionMeta(meta.version, meta.size, meta.modified_at, meta.modified_by, meta.sha256),
                self._contents[meta.file_id],
            )
        )
        del history[: -self.capabilities.max_versions_kept]
        updated = dataclasses.replace(
            meta,
            size=sum(map(len, contents)),
            version=new_version(),
            modified_at=self.clock(),
            modified_by=principal,
            sha256=digest,
        )
        self._files[meta.file_id] = updated
        self._contents[meta.file_id] = contents
        return updated


async def _collect(chunks: AsyncIterator[bytes]) -> tuple[Contents, bytes]:
    digest = hashlib.sha256()
    collected = []
    async for chunk in chunks:
        digest.update(chunk)
        collected.append(chunk)
    return tuple(collected), digest.digest()


async def _slice(contents: Contents, start: int, end: int, chunk_size: int) -> AsyncIterator[bytes]:
    position = 0
    for chunk in contents:
        chunk_end = position + len(chunk)
        if chunk_end > start and position < end:
            piece = chunk[max(start - position, 0) : min(end - position, len(chunk))]
            for i in range(0, len(piece), chunk_size):
                yield piece[i : i + chunk_size]
        position = chunk_end

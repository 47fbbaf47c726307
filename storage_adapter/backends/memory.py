"""The in-memory backend: for tests, and the shortest complete example for adapter authors.

Everything lives in dicts. Atomicity comes from asyncio itself: each check-and-change below runs with no
`await` between the check and the change, so no other request can interleave. (Holding contents in memory is
the point of this backend; every other backend streams to disk or network.)

It enforces access control (proto "Access control"): every method gathers the item's facts (owner, grants on
it and on each container above it) and calls `access.check` in the same atomic step as its change, and every
answer carries the permissions of the principal of the call (`access.current_principal()`).
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import itertools
import secrets
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import timedelta

from storage_adapter import access, activities, audit, listing, locked_files, locks, name_variants
from storage_adapter.access import AccessPolicy, Grant, Grantee, GranteeKind, ItemFacts, Permission, Role
from storage_adapter.backends.base import Clock, FileReader, StorageBackend, utc_now
from storage_adapter.errors import (
    ContainerNotEmpty,
    InvalidArgument,
    NameConflict,
    NotFound,
    OutOfRange,
    TooLarge,
)
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
    access_control=True,
    activities=True,
    max_activities_per_file=activities.MAX_PER_FILE,
    audit_trail=True,
    max_audit_events_per_item=audit.MAX_PER_ITEM,
    lock_administration=True,
)

Contents = tuple[bytes, ...]


def new_id() -> str:
    return secrets.token_hex(12)


def new_version() -> Version:
    return Version(secrets.token_hex(8))


class MemoryBackend(StorageBackend):
    def __init__(
        self,
        capabilities: Capabilities = CAPABILITIES,
        clock: Clock = utc_now,
        policy: AccessPolicy = access.DEFAULT_POLICY,
    ) -> None:
        super().__init__(capabilities, clock)
        self.policy = policy
        root = ContainerMeta(ContainerId(new_id()), "", None, Principal(), clock())
        self._root_id = root.container_id
        self._containers: dict[ContainerId, ContainerMeta] = {root.container_id: root}
        self._files: dict[FileId, FileMeta] = {}
        self._contents: dict[FileId, Contents] = {}
        self._history: dict[FileId, list[tuple[VersionMeta, Contents]]] = {}
        self._names: dict[tuple[ContainerId, str], Item] = {}
        self._user_info: dict[str, str] = {}
        self._grants: dict[str, dict[Grantee, Grant]] = {}  # item id -> its own grants
        self._shared_with: dict[Grantee, set[str]] = {}  # grantee -> ids of the items it has a grant on
        # file id -> its activities by id, each with its position, in the order recorded (dicts keep it)
        self._activities: dict[FileId, dict[str, tuple[int, Activity]]] = {}
        self._positions = itertools.count(1)
        # item id -> its trail, (position, event) in the order recorded; positions from the same counter
        self._audit: dict[str, list[tuple[int, audit.AuditEvent]]] = {}

    # ---- containers ----

    async def root_container(self) -> ContainerMeta:
        principal = access.current_principal()
        access.require_identified(principal)
        root = self._containers[self._root_id]
        return self._seen(root, access.effective_permissions(self._facts(root), principal, self.policy))

    async def get_container(self, container_id: ContainerId) -> ContainerMeta:
        return self._container_for(container_id, "GetContainer")

    async def container_depth(self, container_id: ContainerId) -> int:
        self._container_for(container_id, "GetContainer")
        return len(self._chain(self._containers[container_id].parent_id))

    async def list_children_page(
        self, container_id: ContainerId, extensions: frozenset[str], size: int, token: str
    ) -> listing.Page:
        self._container_for(container_id, "ListChildren")
        after = listing.decode_token(token, container_id)
        principal = access.current_principal()
        inherited = self._inherited(container_id)  # the same for every child: gathered once
        # Sorted on each call: this backend holds everything in memory anyway; the others read an index.
        in_container = (item for (parent, _), item in self._names.items() if parent == container_id)
        children = sorted((listing.as_child(self._current(item)) for item in in_container), key=lambda child: child.key)

        def resolve(item_id: str) -> listing.ChildKey | None:
            item = self._files.get(FileId(item_id)) or self._containers.get(ContainerId(item_id))
            return listing.item_key(item) if item is not None and item.parent_id == container_id else None

        def children_after(key: listing.ChildKey | None, limit: int) -> list[listing.Child[Item]]:
            start = 0 if key is None else bisect.bisect_right([child.key for child in children], key)
            return children[start : start + limit]

        def shown(batch: Sequence[listing.Child[Item]]) -> list[Item | None]:
            return [
                self._seen_if_readable(child.row, principal, inherited)
                if listing.wanted(isinstance(child.row, FileMeta), child.row.name, extensions)
                else None
                for child in batch
            ]

        return listing.read_page(container_id, after, size, resolve, children_after, shown)

    def _current(self, item: Item) -> Item:
        """The item as stored now, with its live lock (`_names` may hold an older copy of a file)."""
        return self._live(self._files[item.file_id]) if isinstance(item, FileMeta) else item

    async def lookup_child(self, container_id: ContainerId, name: str) -> Item:
        self._container_for(container_id, "LookupChild")
        item = self._names.get((container_id, name))
        if isinstance(item, FileMeta):
            item = self._live(self._files[item.file_id])
        seen = None if item is None else self._seen_if_readable(item, access.current_principal())
        if seen is None:  # an unreadable child is not found either
            raise NotFound("no item of this name in the container")
        return seen

    async def find_free_name(self, container_id: ContainerId, name: str) -> str:
        self._container_for(container_id, "FindFreeName")
        chosen = self._free_variant(container_id, name)
        self._require_free(container_id, chosen)  # raises only when every candidate is taken
        return chosen

    async def create_container(self, parent_id: ContainerId, name: str, principal: Principal) -> ContainerMeta:
        self._container_for(parent_id, "CreateContainer")
        self._require_free(parent_id, name)
        container = ContainerMeta(ContainerId(new_id()), name, parent_id, principal, self.clock())
        self._containers[container.container_id] = container
        self._names[(parent_id, name)] = container
        self._record(audit.created(container, container.created_at))
        return self._seen(container, access.EVERY_PERMISSION)  # the creator owns it

    async def rename_container(self, container_id: ContainerId, new_name: str) -> ContainerMeta:
        self._non_root(container_id)
        container = self._container_for(container_id, "RenameContainer")
        assert container.parent_id is not None
        if new_name == container.name:
            return container
        self._require_free(container.parent_id, new_name)
        stored = dataclasses.replace(self._containers[container_id], name=new_name)
        del self._names[(container.parent_id, container.name)]
        self._names[(container.parent_id, new_name)] = stored
        self._containers[container_id] = stored
        self._record(audit.renamed(stored, container.name, self.clock()))
        return dataclasses.replace(container, name=new_name)

    async def delete_container(self, container_id: ContainerId) -> None:
        self._non_root(container_id)
        container = self._container_for(container_id, "DeleteContainer")
        assert container.parent_id is not None
        if any(parent == container_id for parent, _ in self._names):
            raise ContainerNotEmpty(container_id)
        del self._names[(container.parent_id, container.name)]
        del self._containers[container_id]
        self._forget_grants(container_id)
        self._audit.pop(container_id, None)
        self._record(audit.deleted(container, self.clock()))

    async def ancestors(self, item: FileId | ContainerId, is_file: bool) -> list[ContainerMeta]:
        if is_file:
            parent = self._file_for(FileId(item), "GetAncestors")[0].parent_id
        else:
            parent = self._container_for(ContainerId(item), "GetAncestors").parent_id
        principal = access.current_principal()
        seen = (self._seen_if_readable(container, principal) for container in self._chain(parent))
        return [container for container in seen if isinstance(container, ContainerMeta)]  # unreadable: left out

    # ---- files ----

    async def stat_file(self, file_id: FileId) -> FileMeta:
        meta, held = self._file_for(file_id, "StatFile")
        return self._seen(meta, held)

    async def open_file(self, file_id: FileId, offset: int, length: int, version: Version | None) -> FileReader:
        meta, held = self._file_for(file_id, "ReadFile")
        meta = self._seen(meta, held)
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
        locks.check_preconditions(self._file_for(file_id, "WriteFile")[0], preconditions, self.clock())  # fail early
        contents, digest = await _collect(chunks)
        meta, held = self._file_for(file_id, "WriteFile")  # the atomic section starts here: no await until the end
        locks.check_preconditions(meta, preconditions, self.clock())
        updated = self._commit(meta, contents, digest, principal)
        self._record(audit.written(updated, updated.modified_at))
        return self._seen(updated, held)

    async def create_file(
        self,
        container_id: ContainerId,
        name: str,
        chunks: AsyncIterator[bytes],
        principal: Principal,
        *,
        use_free_variant: bool = False,
    ) -> FileMeta:
        self._container_for(container_id, "CreateFile")
        if not use_free_variant:
            self._require_free(container_id, name)  # fail early
        contents, digest = await _collect(chunks)
        self._container_for(container_id, "CreateFile")  # the atomic section starts here
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
        self._record(audit.created(meta, now))
        return self._seen(meta, access.EVERY_PERMISSION)  # the creator owns it

    async def rename_file(
        self,
        file_id: FileId,
        new_name: str,
        preconditions: Preconditions,
        principal: Principal,
        *,
        use_free_variant: bool = False,
    ) -> FileMeta:
        meta, held = self._file_for(file_id, "RenameFile")
        locks.check_preconditions(meta, preconditions, self.clock())
        if use_free_variant:
            new_name = self._free_variant(meta.parent_id, new_name, own_name=meta.name)
        if new_name == meta.name:
            return self._seen(meta, held)
        self._require_free(meta.parent_id, new_name)
        renamed = dataclasses.replace(meta, name=new_name)
        del self._names[(meta.parent_id, meta.name)]
        self._names[(meta.parent_id, new_name)] = renamed
        self._files[file_id] = renamed
        self._record(audit.renamed(renamed, meta.name, self.clock()))
        return self._seen(renamed, held)

    async def delete_file(self, file_id: FileId, preconditions: Preconditions) -> None:
        meta, _ = self._file_for(file_id, "DeleteFile")
        locks.check_preconditions(meta, preconditions, self.clock())
        del self._names[(meta.parent_id, meta.name)]
        del self._files[file_id], self._contents[file_id], self._history[file_id]
        self._forget_grants(file_id)
        self._activities.pop(file_id, None)
        self._audit.pop(file_id, None)
        self._record(audit.deleted(meta, self.clock()))

    # ---- locks ----

    async def update_lock(
        self, file_id: FileId, transition: locks.LockTransition, *, breaking: str | None = None
    ) -> FileMeta:
        meta, held = self._file_for(file_id, "Lock" if breaking is None else "BreakLock")
        now = self.clock()
        updated = dataclasses.replace(meta, lock=transition(meta.lock, now))
        self._files[file_id] = updated
        self._record(audit.lock_changed(file_id, meta.lock, updated.lock, now, breaking=breaking))
        return self._seen(updated, held)

    # ---- per-user info ----

    async def get_user_info(self, user_id: str) -> str:
        return self._user_info.get(user_id, "")

    async def set_user_info(self, user_id: str, user_info: str) -> None:
        self._user_info[user_id] = user_info

    # ---- version history ----

    async def list_versions(self, file_id: FileId) -> list[VersionMeta]:
        self._file_for(file_id, "ListVersions")
        return [version for version, _ in reversed(self._history[file_id])]

    async def restore_version(
        self, file_id: FileId, version: Version, preconditions: Preconditions, principal: Principal
    ) -> FileMeta:
        meta, held = self._file_for(file_id, "RestoreVersion")
        for old, contents in self._history[file_id]:
            if old.version == version:
                locks.check_preconditions(meta, preconditions, self.clock())
                updated = self._commit(meta, contents, old.sha256, principal)
                self._record(audit.written(updated, updated.modified_at, restored=version))
                return self._seen(updated, held)
        raise NotFound("no such version")

    # ---- sharing ----

    async def list_grants(self, item: FileId | ContainerId, is_file: bool) -> list[Grant]:
        target = self._item_for(item, is_file, "ListGrants")
        grants = _in_grantee_order(self._grants.get(item, {}).values())
        for container in reversed(self._chain(target.parent_id)):  # the direct parent first, the root last
            grants.extend(_in_grantee_order(self._grants.get(container.container_id, {}).values()))
        return grants

    async def grant_access(
        self, item: FileId | ContainerId, is_file: bool, grantee: Grantee, role: Role, principal: Principal
    ) -> Grant:
        target = self._item_for(item, is_file, "GrantAccess")
        if grantee == Grantee(GranteeKind.USER, target.owner.user_id):
            raise InvalidArgument("grantee", "the owner has every permission already; ownership is never granted")
        grants = self._grants.setdefault(item, {})
        existing = grants.get(grantee)
        if existing is not None and existing.role == role:
            return existing  # idempotent: nothing changes
        if existing is None and len(grants) >= access.MAX_GRANTS_PER_ITEM:
            raise TooLarge(f"an item has at most {access.MAX_GRANTS_PER_ITEM} grants")
        grant = Grant(item, is_file, grantee, role, principal, self.clock())
        grants[grantee] = grant
        self._shared_with.setdefault(grantee, set()).add(item)
        self._record(audit.granted(grant))
        return grant

    async def revoke_access(self, item: FileId | ContainerId, is_file: bool, grantee: Grantee) -> None:
        self._item_for(item, is_file, "RevokeAccess")
        if self._grants.get(item, {}).pop(grantee, None) is not None:
            self._shared_with[grantee].discard(item)
            self._record(audit.revoked(item, is_file, grantee, self.clock()))

    async def list_shared_with_me(self, page_size: int, page_token: str) -> tuple[list[tuple[Item, Grant]], str]:
        principal = access.current_principal()
        access.require_identified(principal)
        after = access.shared_page_after(page_token)
        keys = sorted(
            (item_id, grantee.kind, grantee.id)
            for grantee in access.grantees_of(principal)
            for item_id in self._shared_with.get(grantee, ())
        )
        page: list[tuple[Item, Grant]] = []
        for key in keys:
            if after is not None and key <= after:
                continue
            item_id, kind, grantee_id = key
            grant = self._grants[item_id][Grantee(kind, grantee_id)]
            item = self._files.get(FileId(item_id)) if grant.on_file else self._containers.get(ContainerId(item_id))
            if item is None or item.owner.user_id == principal.user_id:
                continue
            if len(page) == page_size:
                return page, access.shared_page_token(page[-1][1])
            if isinstance(item, FileMeta):
                item = self._live(item)
            seen = self._seen_if_readable(item, principal)
            assert seen is not None  # the grant itself lets the principal read it
            page.append((seen, grant))
        return page, ""

    # ---- activities ----

    async def add_activities(self, file_id: FileId, requested: list[Activity], principal: Principal) -> list[Activity]:
        self._file_for(file_id, "AddActivities")  # no await from here on: the check, the record and the drop
        kept = self._activities.setdefault(file_id, {})
        recorded = {
            wanted.activity_id: kept[wanted.activity_id][1] for wanted in requested if wanted.activity_id in kept
        }
        recording = activities.record(requested, recorded, principal, self.clock())
        for activity in recording.new:
            kept[activity.activity_id] = (next(self._positions), activity)
        for oldest in list(kept)[: max(len(kept) - self.capabilities.max_activities_per_file, 0)]:
            del kept[oldest]
        return recording.answers

    async def list_activities(self, file_id: FileId, size: int, before: int | None) -> activities.Page:
        self._file_for(file_id, "ListActivities")
        # A scan of at most max_activities_per_file: this backend holds everything in memory anyway.
        newest_first = reversed(self._activities.get(file_id, {}).values())
        rows = [row for row in newest_first if before is None or row[0] < before][: size + 1]
        return activities.page_of(rows, size)

    # ---- audit trail and lock administration ----

    def _record(self, event: audit.AuditEvent | None) -> None:
        """Store a change's event in its trail (no await: atomic with the change), dropping the oldest beyond
        the bound."""
        if event is None:
            return
        trail = self._audit.setdefault(event.trail_id, [])
        trail.append((next(self._positions), event))
        del trail[: -self.capabilities.max_audit_events_per_item]

    async def list_audit_events(
        self, item: FileId | ContainerId, is_file: bool, size: int, before: int | None
    ) -> audit.Page:
        target = self._item_for(item, is_file, "ListAuditEvents")
        principal = access.current_principal()
        sees_children = is_file or access.reads_children(self._facts(target), principal, self.policy)
        trail = self._audit.get(item, [])

        def fetch(cursor: int | None, limit: int) -> list[tuple[int, audit.AuditEvent]]:
            # A scan of at most max_audit_events_per_item: this backend holds everything in memory anyway.
            newest_first = (row for row in reversed(trail) if cursor is None or row[0] < cursor)
            return list(itertools.islice(newest_first, limit))

        return audit.read_page(fetch, size, before, audit.shown_to(principal, sees_children))

    async def list_locked_files(self, size: int, after: locked_files.Key | None) -> locked_files.Page:
        principal = access.current_principal()
        # Sorted on each call (an operator's occasional call): the other backends read an index.
        live = (self._live(meta) for meta in self._files.values())
        locked = sorted((meta for meta in live if meta.lock is not None), key=locked_files.key_of)

        def fetch(key: locked_files.Key | None, limit: int) -> list[FileMeta]:
            return [meta for meta in locked if key is None or locked_files.key_of(meta) > key][:limit]

        def shown(meta: FileMeta) -> FileMeta | None:
            seen = self._seen_if_readable(meta, principal)
            return seen if isinstance(seen, FileMeta) else None

        return locked_files.read_page(fetch, locked_files.key_of, shown, size, after)

    # ---- access: the facts of `access.py`'s model, gathered with no await, atomic with what follows ----

    def _chain(self, parent: ContainerId | None) -> list[ContainerMeta]:
        """The containers from the root down to `parent`."""
        chain: list[ContainerMeta] = []
        while parent is not None:
            container = self._containers[parent]
            chain.append(container)
            parent = container.parent_id
        return chain[::-1]

    def _inherited(self, container_id: ContainerId | None) -> tuple[list[Grant], list[str]]:
        """What a child of `container_id` inherits: the grants on it and on every container above it, and the
        owners of those containers."""
        chain = self._chain(container_id)
        grants = [grant for container in chain for grant in self._grants.get(container.container_id, {}).values()]
        return grants, [container.owner.user_id for container in chain if container.owner.user_id]

    def _facts(self, item: Item, inherited: tuple[list[Grant], list[str]] | None = None) -> ItemFacts:
        own_id = item.file_id if isinstance(item, FileMeta) else item.container_id
        grants_above, owners_above = self._inherited(item.parent_id) if inherited is None else inherited
        return ItemFacts(
            item.owner.user_id,
            [*self._grants.get(own_id, {}).values(), *grants_above],
            owners_above,
            is_root=isinstance(item, ContainerMeta) and item.parent_id is None,
        )

    def _file_for(self, file_id: FileId, rpc: str) -> tuple[FileMeta, frozenset[Permission]]:
        """The live file and the principal's permissions on it, once `rpc` is allowed (access.check)."""
        principal = access.current_principal()
        access.require_identified(principal)  # before the file is looked up: fail closed, reveal nothing
        meta = self._live(self._file(file_id))
        return meta, access.check(rpc, self._facts(meta), principal, self.policy, what="file")

    def _container_for(self, container_id: ContainerId, rpc: str) -> ContainerMeta:
        """The container as the principal sees it, once `rpc` is allowed (access.check)."""
        principal = access.current_principal()
        access.require_identified(principal)
        container = self._containers.get(container_id)
        if container is None:
            raise NotFound("no such container")
        held = access.check(rpc, self._facts(container), principal, self.policy, what="container")
        return self._seen(container, held)

    def _item_for(self, item: FileId | ContainerId, is_file: bool, rpc: str) -> Item:
        if is_file:
            return self._file_for(FileId(item), rpc)[0]
        return self._container_for(ContainerId(item), rpc)

    def _seen_if_readable(
        self, item: Item, principal: Principal, inherited: tuple[list[Grant], list[str]] | None = None
    ) -> Item | None:
        """The item with the principal's permissions, or None if it may not read it."""
        held = access.effective_permissions(self._facts(item, inherited), principal, self.policy)
        return self._seen(item, held) if Permission.READ in held else None

    def _seen(self, item: Item, held: frozenset[Permission]) -> Item:
        """The item as the principal sees it, with its permissions (what is stored never holds a caller's)."""
        return dataclasses.replace(item, permissions=access.as_permissions(held, is_file=isinstance(item, FileMeta)))

    def _forget_grants(self, item_id: str) -> None:
        for grantee in self._grants.pop(item_id, {}):
            self._shared_with[grantee].discard(item_id)

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
            seen = self._seen_if_readable(existing, access.current_principal())
            raise NameConflict(container_id, name, seen or existing, hidden=seen is None)

    def _free_variant(self, container_id: ContainerId, name: str, own_name: str | None = None) -> str:
        """The first free candidate (dict lookups, no await: atomic with what the caller does next), or `name`
        itself when all are taken, so that the caller's exclusive step reports the conflict."""
        candidates = name_variants.candidates(name, self.capabilities.max_name_length)
        free = name_variants.first_free(
            candidates, lambda candidate: candidate != own_name and (container_id, candidate) in self._names
        )
        return name if free is None else free

    def _non_root(self, container_id: ContainerId) -> None:
        if container_id == self._root_id:
            raise InvalidArgument("container_id", "the root container cannot be renamed or deleted")

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


def _in_grantee_order(grants: Iterable[Grant]) -> list[Grant]:
    return sorted(grants, key=lambda grant: grant.grantee)


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

"""The one interface every storage backend implements.

The servicer validates every request (ids, names, lock ids, TTLs, stream layout, chunk and file size limits)
before it calls a backend, so backends receive well-formed values only. Each method's docstring names what
it must check *atomically with the change* and the error it raises; `storage_adapter.locks` has the shared
lock and precondition logic to call inside that atomic section.

Contents move as async iterators of byte chunks in both directions: a backend never needs a whole file in
memory, and must not hold one.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from storage_adapter import access, activities, audit, listing, locked_files, locks
from storage_adapter.access import AccessPolicy, Grant, Grantee, Role
from storage_adapter.errors import NotFound, Unsupported
from storage_adapter.types import (
    Activity,
    Capabilities,
    ContainerId,
    ContainerMeta,
    FileId,
    FileMeta,
    Item,
    LockId,
    LockState,
    Permissions,
    Preconditions,
    Principal,
    Version,
    VersionMeta,
)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class FileReader:
    """An open read of one version of a file: its metadata and an iterator of its bytes.

    `chunks` yields the requested range in chunks of at most `max_chunk_size` bytes and releases what it
    holds when exhausted or closed (`aclose`).
    """

    meta: FileMeta
    chunks: AsyncIterator[bytes]


@dataclass(frozen=True)
class FileContext:
    """One file as the principal of the call sees it, with its user info and, when asked for, its permissions on
    the file's container (None: not asked for, or the principal may not read the container)."""

    file: FileMeta
    user_info: str
    container_permissions: Permissions | None = None


def file_context_of(
    meta: FileMeta, user_info: str, read_container: Callable[[ContainerId], ContainerMeta] | None
) -> FileContext:
    """The FileContext of a file read with its user info, for a backend that reads synchronously in one section
    or on one connection: `read_container` (None: not asked for) reads the file's container as the principal
    sees it, and its NotFound (a principal that may not read it) leaves the permissions out."""
    if read_container is None:
        return FileContext(meta, user_info)
    try:
        container = read_container(meta.parent_id)
    except NotFound:  # what the principal may not read, it learns nothing about
        return FileContext(meta, user_info)
    return FileContext(meta, user_info, container.permissions)


class StorageBackend(abc.ABC):
    """A storage backend. One instance serves every request of one adapter process, concurrently.

    With the `audit_trail` capability, every method below that changes a file or a container records its event
    (`audit.py` builds it) in the same atomic step as the change, after every check has passed, and drops the
    oldest of that trail beyond `max_audit_events_per_item`; a method that changes nothing records nothing.
    """

    # Administrators and the unowned-items rule. A backend with access control enforces it; every backend keeps
    # the administrators, whom the servicer alone checks for the RPCs of lock administration.
    policy: AccessPolicy = access.DEFAULT_POLICY

    def __init__(self, capabilities: Capabilities, clock: Clock = utc_now) -> None:
        self.capabilities = capabilities
        self.clock = clock

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Open connections, create schemas. Called once before the first request."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release everything. Called once after the last request."""

    # ---- containers ----

    @abc.abstractmethod
    async def root_container(self) -> ContainerMeta: ...

    @abc.abstractmethod
    async def get_container(self, container_id: ContainerId) -> ContainerMeta:
        """NotFound if there is no such container."""

    @abc.abstractmethod
    async def list_children_page(
        self, container_id: ContainerId, extensions: frozenset[str], size: int, token: str
    ) -> listing.Page:
        """One page of the direct children the principal may read (proto ListChildrenPage), in `listing.ChildKey`
        order, files filtered by lower-case extensions (`.docx`) when given; `size` is valid already
        (`listing.page_size`). Built with `listing.read_page` from an index, so that its cost is bounded whatever
        the size of the container. NotFound (the container); InvalidArgument for a token
        (`listing.decode_token`) this backend did not hand out for this container."""

    async def list_children(self, container_id: ContainerId, extensions: frozenset[str]) -> AsyncIterator[Item]:
        """Every direct child, each once, read one page at a time (never the whole container at once). NotFound
        if there is no such container (raised on first iteration)."""
        token = ""
        while True:
            page = await self.list_children_page(container_id, extensions, listing.DEFAULT_PAGE_SIZE, token)
            for item in page.items:
                yield item
            if not page.next_token:
                return
            token = page.next_token

    @abc.abstractmethod
    async def lookup_child(self, container_id: ContainerId, name: str) -> Item:
        """The child with exactly this name. NotFound if the container or the child does not exist."""

    @abc.abstractmethod
    async def find_free_name(self, container_id: ContainerId, name: str) -> str:
        """The first of `name_variants.candidates(name, ...)` that no child has, at bounded cost (never one
        round trip to the catalogue per candidate where one query can look up many). NotFound (container);
        NameConflict for `name` when every candidate is taken. Advisory: nothing is reserved."""

    @abc.abstractmethod
    async def create_container(self, parent_id: ContainerId, name: str, principal: Principal) -> ContainerMeta:
        """Exclusive: NameConflict if the name is taken. NotFound if the parent does not exist.
        Unsupported without the `containers` capability."""

    @abc.abstractmethod
    async def rename_container(self, container_id: ContainerId, new_name: str) -> ContainerMeta:
        """NameConflict if the name is taken; InvalidArgument for the root."""

    @abc.abstractmethod
    async def delete_container(self, container_id: ContainerId) -> None:
        """ContainerNotEmpty if it has children (checked atomically); InvalidArgument for the root."""

    @abc.abstractmethod
    async def ancestors(self, item: FileId | ContainerId, is_file: bool) -> list[ContainerMeta]:
        """Containers above the item, root first. NotFound if the item does not exist. With access control,
        those the principal may not read are left out."""

    async def container_depth(self, container_id: ContainerId) -> int:
        """How deep the container is (the root: 0), counting every ancestor, readable or not. NotFound."""
        return len(await self.ancestors(container_id, is_file=False))

    # ---- files ----

    @abc.abstractmethod
    async def stat_file(self, file_id: FileId) -> FileMeta:
        """NotFound if there is no such file. The lock in the result is live (`locks.live`)."""

    @abc.abstractmethod
    async def open_file(self, file_id: FileId, offset: int, length: int, version: Version | None) -> FileReader:
        """Start reading `length` bytes (0: to the end) from `offset` of the current version, or of an earlier
        `version`. The bytes belong to the version in `FileReader.meta` even if a write completes meanwhile.
        NotFound (file or version), OutOfRange (offset > size), Unsupported (version without history)."""

    @abc.abstractmethod
    async def write_file(
        self,
        file_id: FileId,
        preconditions: Preconditions,
        chunks: AsyncIterator[bytes],
        principal: Principal,
    ) -> FileMeta:
        """Replace the contents with `chunks`. Consume the chunks, then check `preconditions`
        (`locks.check_preconditions`) and make the new contents visible in one atomic step, with a new version.
        If `chunks` raises, or preconditions fail, the file is unchanged and nothing is leaked.
        NotFound, LockConflict, VersionConflict."""

    @abc.abstractmethod
    async def create_file(
        self,
        container_id: ContainerId,
        name: str,
        chunks: AsyncIterator[bytes],
        principal: Principal,
        *,
        use_free_variant: bool = False,
    ) -> FileMeta:
        """Create a file exclusively: NameConflict if the name is taken when the file would appear (two racing
        creates: exactly one wins). The file appears with all its contents at once. NotFound (container).
        With `use_free_variant`, the file gets the first free of `name_variants.candidates(name, ...)`, chosen
        in the same atomic step that makes it appear (NameConflict for `name` only when all are taken)."""

    @abc.abstractmethod
    async def rename_file(
        self,
        file_id: FileId,
        new_name: str,
        preconditions: Preconditions,
        principal: Principal,
        *,
        use_free_variant: bool = False,
    ) -> FileMeta:
        """Rename within the container; id and version unchanged. Preconditions checked atomically.
        NotFound, LockConflict, VersionConflict, NameConflict. With `use_free_variant`, the first free of
        `name_variants.candidates(new_name, ...)` (the file's own name counts as free), in the same step."""

    @abc.abstractmethod
    async def delete_file(self, file_id: FileId, preconditions: Preconditions) -> None:
        """Delete the file and its history. NotFound, LockConflict, VersionConflict."""

    # ---- locks ----

    @abc.abstractmethod
    async def update_lock(
        self, file_id: FileId, transition: locks.LockTransition, *, breaking: str | None = None
    ) -> FileMeta:
        """Apply `transition` to the file's live lock (None when unlocked or expired) and store the result,
        atomically, with its event (`audit.lock_changed`: none for a refresh). The transition raises LockConflict to
        refuse. Returns the file after the change. Lock changes do not change the file's version. NotFound. Every
        lock RPC needs the lock permission; `breaking` (a BreakLock's reason) needs manage_sharing ("BreakLock")
        instead, is recorded as LOCK_BROKEN, and is kept from a power cut as a save is."""

    async def lock(self, file_id: FileId, lock_id: LockId, ttl: timedelta, principal: Principal) -> FileMeta:
        return await self.update_lock(file_id, locks.lock(lock_id, ttl, principal))

    async def refresh_lock(self, file_id: FileId, lock_id: LockId, ttl: timedelta) -> FileMeta:
        return await self.update_lock(file_id, locks.refresh(lock_id, ttl))

    async def unlock(self, file_id: FileId, lock_id: LockId) -> FileMeta:
        return await self.update_lock(file_id, locks.unlock(lock_id))

    async def unlock_and_relock(
        self, file_id: FileId, old_lock_id: LockId, lock_id: LockId, ttl: timedelta, principal: Principal
    ) -> FileMeta:
        return await self.update_lock(file_id, locks.unlock_and_relock(old_lock_id, lock_id, ttl, principal))

    async def break_lock(self, file_id: FileId, reason: str) -> FileMeta:
        """Remove whatever live lock the file has (LockConflict when none), recording why (proto BreakLock)."""
        return await self.update_lock(file_id, locks.break_lock(), breaking=reason)

    async def get_lock(self, file_id: FileId) -> LockState | None:
        return (await self.stat_file(file_id)).lock

    async def file_context(self, file_id: FileId, user_id: str, *, with_container: bool) -> FileContext:
        """`stat_file`, then `get_user_info(user_id)` ("" for an empty `user_id`), then, `with_container`, the
        permissions of `get_container` on the file's container, None where that is NotFound (a principal that
        may not read it). NotFound and the access refusals of `stat_file`. Three steps, not one atomic one
        (proto GetFileContext); a backend that can take them in one (one transaction, one lock hold) may
        override this, as long as the answer is the same."""
        meta = await self.stat_file(file_id)
        user_info = await self.get_user_info(user_id) if user_id else ""
        if not with_container:
            return FileContext(meta, user_info)
        try:
            container = await self.get_container(meta.parent_id)
        except NotFound:  # what the principal may not read, it learns nothing about
            return FileContext(meta, user_info)
        return FileContext(meta, user_info, container.permissions)

    # ---- per-user info ----

    @abc.abstractmethod
    async def get_user_info(self, user_id: str) -> str:
        """The stored string, or "" if none."""

    @abc.abstractmethod
    async def set_user_info(self, user_id: str, user_info: str) -> None: ...

    # ---- version history (optional) ----

    async def list_versions(self, file_id: FileId) -> list[VersionMeta]:
        """Earlier versions, newest first. Unsupported unless the `version_history` capability is set."""
        raise Unsupported("this adapter keeps no version history")

    async def restore_version(
        self, file_id: FileId, version: Version, preconditions: Preconditions, principal: Principal
    ) -> FileMeta:
        """Make an earlier version current, as a write (new version). NotFound, LockConflict, VersionConflict."""
        raise Unsupported("this adapter keeps no version history")

    # ---- sharing (optional: the `access_control` capability) ----
    # A backend with access control checks `access.check` for the principal of the call
    # (`access.current_principal()`) in the same atomic step as every change, on every method above, and
    # implements these four. Without it, every principal may do everything and the four are Unsupported.

    async def list_grants(self, item: FileId | ContainerId, is_file: bool) -> list[Grant]:
        """The item's own grants (users first, then by id), then each ancestor's up to the root. NotFound."""
        raise Unsupported("this adapter does not enforce access control")

    async def grant_access(
        self, item: FileId | ContainerId, is_file: bool, grantee: Grantee, role: Role, principal: Principal
    ) -> Grant:
        """Create or change the grantee's grant on the item, idempotently (proto GrantAccess). NotFound,
        PermissionDenied, InvalidArgument (the owner as grantee), TooLarge (MAX_GRANTS_PER_ITEM)."""
        raise Unsupported("this adapter does not enforce access control")

    async def revoke_access(self, item: FileId | ContainerId, is_file: bool, grantee: Grantee) -> None:
        """Remove the grantee's grant on the item if there is one. NotFound, PermissionDenied."""
        raise Unsupported("this adapter does not enforce access control")

    async def list_shared_with_me(self, page_size: int, page_token: str) -> tuple[list[tuple[Item, Grant]], str]:
        """One page of (item, grant) for the grants naming the principal or its groups, on items it does not
        own, ordered by item id then grantee; and the next page's token ("" on the last). InvalidArgument for a
        token this backend did not hand out."""
        raise Unsupported("this adapter does not enforce access control")

    # ---- activities (optional: the `activities` capability) ----
    # The servicer checks every bound of a request (`activities.requested`) and decodes page tokens; a backend
    # with the capability stores and reads, numbering what it records by a position that only grows, and
    # deletes a file's activities with the file.

    async def add_activities(self, file_id: FileId, requested: list[Activity], principal: Principal) -> list[Activity]:
        """Record for `principal` those of `requested` (well-formed) whose ids the file has not recorded, as
        `activities.record` decides, then drop the file's oldest beyond `max_activities_per_file`: in one atomic
        step with the check of the write permission (AddActivities), so that concurrent calls on one file record an
        id once. Answers `record`'s answers. NotFound, PermissionDenied. Unsupported without the capability."""
        raise Unsupported("this adapter keeps no activities")

    async def list_activities(self, file_id: FileId, size: int, before: int | None) -> activities.Page:
        """At most `size` of the file's activities, newest first (by descending position), among those recorded
        before position `before` (None: from the newest), read from an index (`activities.page_of`). Needs read
        (ListActivities). NotFound. Unsupported without the capability."""
        raise Unsupported("this adapter keeps no activities")

    # ---- audit trail and lock administration (optional: `audit_trail`, `lock_administration`) ----
    # The servicer checks page sizes, decodes page tokens and checks administrators; a backend stores and reads.

    async def list_audit_events(
        self, item: FileId | ContainerId, is_file: bool, size: int, before: int | None
    ) -> audit.Page:
        """At most `size` events of the item's trail, newest first (by descending position), before position
        `before` (None: from the newest), read from an index with `audit.read_page`; a container's children's
        deletions only as `audit.shown_to` allows (`access.reads_children`). Needs read (ListAuditEvents), checked
        in the same step as the read. NotFound. Unsupported without the capability."""
        raise Unsupported("this adapter keeps no audit trail")

    async def list_locked_files(self, size: int, after: locked_files.Key | None) -> locked_files.Page:
        """At most `size` files with a live lock, by (expiry, file id) after `after`, as the principal sees them,
        read from an index of the locked files with `locked_files.read_page` (never a scan of the store). The
        servicer has checked that the principal is an administrator. Unsupported without the capability."""
        raise Unsupported("this adapter has no lock administration")

"""The audit trail (proto "Audit trail", ListAuditEvents), in one place for every backend: which event each change
records and with which details, how many events an item keeps, who sees what of a container's trail, the order of a
listing and its page tokens, and the bound on BreakLock's reason.

Backends only store and read. Inside the atomic step of a change (its transaction or section, after every check
has passed, so that a refused change records nothing), a backend builds the change's event with one of the
functions below and stores it in the trail the event names (`AuditEvent.trail_id`: the item changed, or for a
deletion the container it was in), then drops the oldest beyond `MAX_PER_ITEM` of that trail. Each backend numbers
what it stores with a position that only grows (its `seq`): a listing reads a trail by descending position from an
index, and its page token names the trail and the position of the last event listed, as activities do.

The actor of every event is the principal of the call (`access.current_principal()`, bound once per RPC by the
interceptor, without its groups): the one rule for every change, whether or not the backend method also takes a
principal to record as an owner or an author.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from storage_adapter import access, page_tokens
from storage_adapter.access import Grant, Grantee, Role
from storage_adapter.errors import InvalidArgument
from storage_adapter.types import ANONYMOUS, FileId, FileMeta, Item, LockState, Principal, Version

# How many events our backends keep per trail (advertised as `max_audit_events_per_item`): months of a busy
# document's saves and locks, and a bound on what one trail costs to store, to prune and to page through.
MAX_PER_ITEM = 1000
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_REASON_LENGTH = 500  # characters of a BreakLock reason (proto BreakLockRequest)
_TOKEN_TAG = "audit"  # a token of this RPC, never one of ListActivities for the same id
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc


class AuditAction(enum.IntEnum):
    """What a change did; the values are the proto `AuditAction` numbers."""

    CREATED = 1
    WRITTEN = 2
    RENAMED = 3
    DELETED = 4
    VERSION_RESTORED = 5
    LOCKED = 6
    RELOCKED = 7
    UNLOCKED = 8
    LOCK_BROKEN = 9
    GRANTED = 10
    REVOKED = 11


@dataclass(frozen=True)
class AuditEvent:
    """One change (proto `AuditEvent`), with the trail that keeps it. The details a given action does not use stay
    empty."""

    trail_id: str  # the item whose trail holds the event: `item_id`, or the container a deleted item was in
    action: AuditAction
    item_id: str
    on_file: bool
    actor: Principal
    at: datetime
    name: str = ""
    old_name: str = ""
    version: str = ""
    restored_version: str = ""
    lock_expires_at: datetime | None = None
    lock_holder: Principal = ANONYMOUS
    reason: str = ""
    grantee: Grantee | None = None
    role: Role | None = None

    @property
    def about_child(self) -> bool:
        """A deletion recorded in the trail of the deleted item's container."""
        return self.item_id != self.trail_id


# ---- what each change records ----


def actor() -> Principal:
    """The principal of the call, as events record it (its groups only decide access)."""
    caller = access.current_principal()
    return dataclasses.replace(caller, groups=frozenset()) if caller.groups else caller


def _of(item: Item) -> tuple[str, bool]:
    return (item.file_id, True) if isinstance(item, FileMeta) else (item.container_id, False)


def created(item: Item, now: datetime) -> AuditEvent:
    item_id, on_file = _of(item)
    version = item.version if isinstance(item, FileMeta) else ""
    return AuditEvent(item_id, AuditAction.CREATED, item_id, on_file, actor(), now, name=item.name, version=version)


def written(meta: FileMeta, now: datetime, *, restored: Version | None = None) -> AuditEvent:
    """A WriteFile, or with `restored` a RestoreVersion of that version; `meta` is the file after it."""
    action = AuditAction.WRITTEN if restored is None else AuditAction.VERSION_RESTORED
    return AuditEvent(
        meta.file_id, action, meta.file_id, True, actor(), now, version=meta.version, restored_version=restored or ""
    )


def renamed(item: Item, old_name: str, now: datetime) -> AuditEvent | None:
    """`item` after the rename; None when the name did not change (nothing changed, nothing to record)."""
    if item.name == old_name:
        return None
    item_id, on_file = _of(item)
    return AuditEvent(item_id, AuditAction.RENAMED, item_id, on_file, actor(), now, name=item.name, old_name=old_name)


def deleted(item: Item, now: datetime) -> AuditEvent:
    """Kept in the trail of the container the item was in: the item's own trail goes with it."""
    item_id, on_file = _of(item)
    assert item.parent_id is not None, "the root container is never deleted"
    return AuditEvent(item.parent_id, AuditAction.DELETED, item_id, on_file, actor(), now, name=item.name)


def lock_changed(
    file_id: FileId, before: LockState | None, after: LockState | None, now: datetime, *, breaking: str | None = None
) -> AuditEvent | None:
    """The event of a lock transition from the live lock `before` to `after`: LOCK_BROKEN for a BreakLock
    (`breaking`: its reason), else LOCKED, RELOCKED or UNLOCKED; None for a refresh (the same lock id kept), which
    is not recorded."""
    event = AuditEvent(file_id, AuditAction.LOCKED, file_id, True, actor(), now)
    if breaking is not None:
        holder = before.locked_by if before is not None else ANONYMOUS
        return dataclasses.replace(event, action=AuditAction.LOCK_BROKEN, lock_holder=holder, reason=breaking)
    if after is None:
        return None if before is None else dataclasses.replace(event, action=AuditAction.UNLOCKED)
    if before is None:
        return dataclasses.replace(event, lock_expires_at=after.expires_at)
    if before.lock_id != after.lock_id:
        return dataclasses.replace(event, action=AuditAction.RELOCKED, lock_expires_at=after.expires_at)
    return None


def granted(grant: Grant) -> AuditEvent:
    """A grant made or changed (an identical one changes nothing: the caller records nothing for it)."""
    return AuditEvent(
        grant.item_id,
        AuditAction.GRANTED,
        grant.item_id,
        grant.on_file,
        actor(),
        grant.granted_at,
        grantee=grant.grantee,
        role=grant.role,
    )


def revoked(item_id: str, on_file: bool, grantee: Grantee, now: datetime) -> AuditEvent:
    """A grant removed (revoking none changes nothing: the caller records nothing for it)."""
    return AuditEvent(item_id, AuditAction.REVOKED, item_id, on_file, actor(), now, grantee=grantee)


# ---- who sees what ----


def shown_to(principal: Principal, sees_children: bool) -> Callable[[AuditEvent], bool]:
    """Which events of a trail a reader of it sees: all of them, except a container's record of its children's
    deletions, which only a principal that may read every child (`access.reads_children`) or the one that deleted
    the child sees. The others could not read the child, and must not learn its name from its container."""

    def shown(event: AuditEvent) -> bool:
        if not event.about_child or sees_children:
            return True
        return bool(principal.user_id) and event.actor.user_id == principal.user_id

    return shown


# ---- listing ----


@dataclass(frozen=True)
class Page:
    """One page of a trail, newest first, and the position of its last event when more follow (None on the last
    page): the next page is what was recorded before it."""

    events: list[AuditEvent]
    last: int | None


# (before: the position to read before, None from the newest; limit) -> at most `limit` (position, event) rows of
# one trail by descending position, read from an index.
Fetch = Callable[[int | None, int], Sequence[tuple[int, AuditEvent]]]


def read_page(fetch: Fetch, size: int, before: int | None, shown: Callable[[AuditEvent], bool]) -> Page:
    """The page of `size` events that `shown` keeps, newest first, before position `before`. Reads batches of
    `size + 1` rows until the page is full or the trail ends; a trail holds at most `MAX_PER_ITEM` events, so a
    page costs a bounded number of index reads, however many of them the reader does not see."""
    kept: list[tuple[int, AuditEvent]] = []
    cursor = before
    while True:
        rows = fetch(cursor, size + 1)
        for position, event in rows:
            if shown(event):
                kept.append((position, event))
                if len(kept) > size:  # one more than the page: more follow
                    return Page([event for _, event in kept[:size]], kept[size - 1][0])
        if len(rows) < size + 1:
            return Page([event for _, event in kept], None)
        cursor = rows[-1][0]


def page_size(requested: int) -> int:
    """0 is the default; above the maximum is INVALID_ARGUMENT (a uint32: never negative)."""
    return page_tokens.page_size(requested, maximum=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE, what="events")


def page_token(trail_id: str, last: int) -> str:
    """The token of the page after the one that ends with the event at position `last`; opaque to callers."""
    return page_tokens.encode([_TOKEN_TAG, trail_id, last])


def page_before(token: str, trail_id: str) -> int | None:
    """The position before which the page of `token` starts (None: the first page); INVALID_ARGUMENT for a token
    that no ListAuditEvents of this item handed out."""
    if not token:
        return None
    try:
        body = page_tokens.decode(token)
        if len(body) != 3 or body[0] != _TOKEN_TAG or body[1] != trail_id:
            raise ValueError("not this item's")
        return page_tokens.position(body[2])
    except (ValueError, TypeError):
        raise InvalidArgument("page_token", "not a page token of this adapter for this item") from None


# ---- BreakLock's reason ----


def reason(value: str) -> str:
    """A BreakLock reason as the proto bounds it: 1 to MAX_REASON_LENGTH characters, not only spaces, without
    control characters (it is shown to people, in pages and in a terminal)."""
    if not 1 <= len(value) <= MAX_REASON_LENGTH or not value.strip():
        raise InvalidArgument("reason", f"give a reason of 1 to {MAX_REASON_LENGTH} characters")
    if _CONTROL.search(value):
        raise InvalidArgument("reason", "a reason cannot contain control characters")
    return value

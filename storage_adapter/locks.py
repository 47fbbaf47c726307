"""Lock transitions and precondition checks as pure functions of (current state, request, now).

Every backend calls these inside its own atomic section, so the WOPI lock state table is written once:

| RPC             | unlocked          | locked, same id | locked, other id |
|-----------------|-------------------|-----------------|------------------|
| Lock            | lock              | refresh         | LockConflict(L)  |
| RefreshLock     | LockConflict("")  | refresh         | LockConflict(L)  |
| Unlock          | LockConflict("")  | unlock          | LockConflict(L)  |
| UnlockAndRelock | LockConflict("")  | relock (old=L)  | LockConflict(L)  |
| BreakLock       | LockConflict("")  | unlock          | unlock           |

A lock keeps when it was taken (`locked_at`, proto `LockInfo.locked_time`) through its refreshes; a relock to
another id is a new lock, taken now.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from storage_adapter.errors import LockConflict, VersionConflict
from storage_adapter.types import FileMeta, LockId, LockState, Preconditions, Principal, WhenUnlocked

# A transition takes the live lock (None when unlocked) and the time, and returns the new lock (None to
# unlock) or raises LockConflict. Backends apply it atomically through `StorageBackend.update_lock`.
LockTransition = Callable[[LockState | None, datetime], LockState | None]


def live(lock: LockState | None, now: datetime) -> LockState | None:
    """The lock as every caller must see it: an expired lock is no lock."""
    return lock if lock is not None and lock.is_live(now) else None


def lock(lock_id: LockId, ttl: timedelta, principal: Principal) -> LockTransition:
    def transition(current: LockState | None, now: datetime) -> LockState:
        if current is not None and current.lock_id != lock_id:
            raise LockConflict(current, "the file is locked with another lock id")
        if current is not None:  # the same id: a refresh, which keeps who took it and when
            return LockState(lock_id, now + ttl, current.locked_by, current.locked_at)
        return LockState(lock_id, now + ttl, principal, now)

    return transition


def refresh(lock_id: LockId, ttl: timedelta) -> LockTransition:
    def transition(current: LockState | None, now: datetime) -> LockState:
        held = _require_held(current, lock_id)
        return LockState(held.lock_id, now + ttl, held.locked_by, held.locked_at)

    return transition


def unlock(lock_id: LockId) -> LockTransition:
    def transition(current: LockState | None, now: datetime) -> None:
        _require_held(current, lock_id)
        return None

    return transition


def unlock_and_relock(old_lock_id: LockId, lock_id: LockId, ttl: timedelta, principal: Principal) -> LockTransition:
    def transition(current: LockState | None, now: datetime) -> LockState:
        held = _require_held(current, old_lock_id)
        since = held.locked_at if lock_id == held.lock_id else now  # replaced by itself: a refresh
        return LockState(lock_id, now + ttl, principal, since)

    return transition


def break_lock() -> LockTransition:
    """An operator's BreakLock: whatever live lock the file has goes, whoever holds it."""

    def transition(current: LockState | None, now: datetime) -> None:
        if current is None:
            raise LockConflict(None, "the file is not locked")
        return None

    return transition


def _require_held(current: LockState | None, lock_id: str) -> LockState:
    if current is None:
        raise LockConflict(None, "the file is not locked")
    if current.lock_id != lock_id:
        raise LockConflict(current, "the file is locked with another lock id")
    return current


def check_preconditions(meta: FileMeta, preconditions: Preconditions, now: datetime) -> None:
    """Raise if a change to the file described by `meta` must not happen. Call it inside the atomic section."""
    current = live(meta.lock, now)
    if current is not None:
        if preconditions.lock_id != current.lock_id:
            reason = "the file is locked" if not preconditions.lock_id else "the file is locked with another lock id"
            raise LockConflict(current, reason)
    elif preconditions.when_unlocked is WhenUnlocked.REJECT:
        raise LockConflict(None, "the file is not locked")
    elif preconditions.when_unlocked is WhenUnlocked.REQUIRE_EMPTY and meta.size != 0:
        raise LockConflict(None, "the file is not locked and not empty")
    if preconditions.if_version and preconditions.if_version != meta.version:
        raise VersionConflict(meta.version)

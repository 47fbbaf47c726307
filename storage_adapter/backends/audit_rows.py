"""What the filesystem catalogue and the sql metadata share about the audit trail: the `audit_events` table's
columns, the statements that store and read them (SQL that SQLite and PostgreSQL both run, with `?` parameters),
and a row as an `AuditEvent` and back.

Each backend creates the table in a migration of its own: `seq`, an integer key that only grows, is the position
of `audit.py` (a trail's newest event has the highest); `trail_id` references the row of the item whose trail holds
the event with ON DELETE CASCADE, so that deleting an item deletes its trail, whoever deletes it; (trail_id, seq) is
indexed, for a page and for the drop of the oldest. The details an action uses go in one JSON column, so that the
table needs no new column for an action that a later version adds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from storage_adapter.access import Grantee, GranteeKind, Role
from storage_adapter.audit import AuditAction, AuditEvent
from storage_adapter.timestamps import from_us, to_us
from storage_adapter.types import Principal

COLUMNS = "trail_id, item_id, on_file, action, at_us, actor_id, actor_name, details"
INSERT = f"INSERT INTO audit_events ({COLUMNS}) VALUES ({', '.join('?' * len(COLUMNS.split(', ')))})"

# Drop all but the `keep` newest events of a trail (trail id, trail id, keep): one range of the index.
PRUNE = (
    "DELETE FROM audit_events WHERE trail_id = ? AND seq <= "
    "(SELECT seq FROM audit_events WHERE trail_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)"
)


def page(before: int | None) -> str:
    """A trail's events by descending position, before `before` if given (trail id[, before], limit): (seq,
    COLUMNS) rows."""
    condition = "" if before is None else " AND seq < ?"
    return f"SELECT seq, {COLUMNS} FROM audit_events WHERE trail_id = ?{condition} ORDER BY seq DESC LIMIT ?"


def page_params(trail_id: str, before: int | None, limit: int) -> tuple[object, ...]:
    return (trail_id, limit) if before is None else (trail_id, before, limit)


def params(event: AuditEvent) -> tuple[object, ...]:
    """The parameters of INSERT."""
    details: dict[str, object] = {
        key: value
        for key, value in (
            ("name", event.name),
            ("old_name", event.old_name),
            ("version", event.version),
            ("restored_version", event.restored_version),
            ("reason", event.reason),
        )
        if value
    }
    if event.lock_expires_at is not None:
        details["lock_expires_us"] = to_us(event.lock_expires_at)
    if event.lock_holder.user_id or event.lock_holder.display_name:
        details["lock_holder"] = [event.lock_holder.user_id, event.lock_holder.display_name]
    if event.grantee is not None:
        details["grantee"] = [int(event.grantee.kind), event.grantee.id]
    if event.role is not None:
        details["role"] = int(event.role)
    return (
        event.trail_id,
        event.item_id,
        int(event.on_file),
        int(event.action),
        to_us(event.at),
        event.actor.user_id,
        event.actor.display_name,
        json.dumps(details, ensure_ascii=False, separators=(",", ":")),
    )


def event_of(row: Sequence[Any]) -> AuditEvent:
    """A COLUMNS row as the event it records."""
    trail_id, item_id, on_file, action, at_us, actor_id, actor_name, text = row
    details = json.loads(str(text))
    expires = details.get("lock_expires_us")
    holder = details.get("lock_holder", ["", ""])
    grantee = details.get("grantee")
    role = details.get("role")
    return AuditEvent(
        trail_id=str(trail_id),
        action=AuditAction(action),
        item_id=str(item_id),
        on_file=bool(on_file),
        actor=Principal(str(actor_id), str(actor_name)),
        at=from_us(at_us),
        name=details.get("name", ""),
        old_name=details.get("old_name", ""),
        version=details.get("version", ""),
        restored_version=details.get("restored_version", ""),
        lock_expires_at=None if expires is None else from_us(expires),
        lock_holder=Principal(str(holder[0]), str(holder[1])),
        reason=details.get("reason", ""),
        grantee=None if grantee is None else Grantee(GranteeKind(grantee[0]), str(grantee[1])),
        role=None if role is None else Role(role),
    )

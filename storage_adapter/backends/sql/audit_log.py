"""The audit trail and lock administration in the sql backend: each public function that is not `record` is the
body of ONE database transaction, like those of `metadata.py`.

Events are rows of `audit_events` (migration 5; the statements are `audit_rows.py`'s, shared with the filesystem
catalogue), recorded by the transaction of the change they describe (`record`, called from `metadata.py` and
`sharing.py` once the change is made and nothing can refuse it), so that the event commits with its change or not
at all. A trail's events are numbered under the row lock of the trail's item, which every change of that item
holds (a deletion recorded in its container's trail locks the container's row for it): per trail, the numbering
is the order of the commits, and a page token never skips an event committed later.
"""

from __future__ import annotations

from datetime import datetime

from storage_adapter import access, audit, locked_files
from storage_adapter.audit import AuditEvent
from storage_adapter.backends import audit_rows
from storage_adapter.backends.sql.database import RowLock, Tx
from storage_adapter.backends.sql.guard import Guard, item_row, read_chain
from storage_adapter.backends.sql.rows import ITEM_COLUMNS, ItemRow
from storage_adapter.timestamps import to_us
from storage_adapter.types import FileMeta


def record(tx: Tx, event: AuditEvent | None) -> None:
    """Store a change's event in its trail, in the change's transaction, and drop the trail's oldest beyond the
    bound. A deletion (kept by the container the item was in) first locks the container's row, so that the events
    of one trail take turns (see the module)."""
    if event is None:
        return
    if event.about_child:
        item_row(tx, event.trail_id, False, RowLock.NO_KEY_UPDATE)
    tx.execute(audit_rows.INSERT, audit_rows.params(event))
    tx.execute(audit_rows.PRUNE, (event.trail_id, event.trail_id, audit.MAX_PER_ITEM))


def list_audit_events(tx: Tx, item_id: str, is_file: bool, size: int, before: int | None, guard: Guard) -> audit.Page:
    """One page of the item's trail, newest first, from the index `audit_events_trail`. Run in a SNAPSHOT."""
    checked = guard.item(tx, item_id, is_file, "ListAuditEvents")
    chain = checked.chain
    sees_children = is_file or chain is None or access.reads_children(chain.facts(), guard.principal, guard.policy)

    def fetch(cursor: int | None, limit: int) -> list[tuple[int, AuditEvent]]:
        rows = tx.all(audit_rows.page(cursor), audit_rows.page_params(item_id, cursor, limit))
        return [(int(seq), audit_rows.event_of(row)) for seq, *row in rows]

    return audit.read_page(fetch, size, before, audit.shown_to(guard.principal, sees_children))


def list_locked_files(
    tx: Tx, size: int, after: locked_files.Key | None, now: datetime, guard: Guard
) -> locked_files.Page:
    """One page of the files locked at `now`, from one range of the partial index `items_locks` (the expired locks
    left in their rows are before the range), each as the principal sees it. Run in a SNAPSHOT."""
    now_us = to_us(now)

    def fetch(key: locked_files.Key | None, limit: int) -> list[ItemRow]:
        start = key if key is not None else (now_us, "")
        rows = tx.all(
            f"SELECT {ITEM_COLUMNS} FROM items WHERE lock_id IS NOT NULL AND lock_expires_us > ? "
            "AND (lock_expires_us, id) > (?, ?) AND is_file = 1 ORDER BY lock_expires_us, id LIMIT ?",
            (now_us, *start, limit),
        )
        return [ItemRow.of(row) for row in rows]

    def key(row: ItemRow) -> locked_files.Key:
        assert row.lock is not None
        return (to_us(row.lock.expires_at), row.id)

    def shown(row: ItemRow) -> FileMeta | None:
        meta = row.file_meta(now)
        if not guard.enforcing:
            return meta
        return guard.readable(meta, read_chain(tx, row.id, True).facts())

    return locked_files.read_page(fetch, key, shown, size, after)

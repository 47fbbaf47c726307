"""The activity transactions (proto AddActivities, ListActivities): each public function is the body of ONE
database transaction, like those of `metadata.py`.

Activities live in `activities` (migration 4; the statements are `activity_rows.py`, shared with the filesystem
catalogue). Adding locks the file's row FOR NO KEY UPDATE first (concurrent additions to one file take turns, on
every replica, so that an id is recorded once and the drop of the oldest counts what the other committed; reads
and other files go on), checks the write permission through the guard in the same transaction, records, and drops
the oldest beyond the limit, as a write prunes versions. Deleting the file deletes its activities (ON DELETE
CASCADE).
"""

from __future__ import annotations

from datetime import datetime

from storage_adapter import activities
from storage_adapter.backends import activity_rows
from storage_adapter.backends.sql.database import RowLock, Tx
from storage_adapter.backends.sql.guard import Guard
from storage_adapter.types import Activity, FileId, Principal


def add_activities(
    tx: Tx, file_id: FileId, requested: list[Activity], principal: Principal, now: datetime, keep: int, guard: Guard
) -> list[Activity]:
    """Record what `activities.record` decides, then keep the file's `keep` newest; its answers."""
    guard.file(tx, file_id, "AddActivities", RowLock.NO_KEY_UPDATE)
    ids = [wanted.activity_id for wanted in requested]
    found = (activity_rows.activity_of(row) for row in tx.all(activity_rows.recorded(len(ids)), (file_id, *ids)))
    recording = activities.record(requested, {activity.activity_id: activity for activity in found}, principal, now)
    if recording.new:
        tx.execute(activity_rows.insert(len(recording.new)), activity_rows.params(file_id, recording.new))
        tx.execute(activity_rows.PRUNE, (file_id, file_id, keep))
    return recording.answers


def list_activities(tx: Tx, file_id: FileId, size: int, before: int | None, guard: Guard) -> activities.Page:
    """One page, newest first, from the index `activities_file`. Run in a SNAPSHOT."""
    guard.file(tx, file_id, "ListActivities")
    rows = tx.all(activity_rows.page(before), activity_rows.page_params(file_id, before, size + 1))
    return activities.page_of([(int(seq), activity_rows.activity_of(row)) for seq, *row in rows], size)

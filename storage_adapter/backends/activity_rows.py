"""What the filesystem catalogue and the sql metadata share about activities: the `activities` table's columns,
the statements that store and read them (SQL that SQLite and PostgreSQL both run, with `?` parameters), and a row
as an `Activity` and back.

Each backend creates the table in a migration of its own: `seq`, an integer key that only grows, is the position
of `activities.py` (a file's newest activity has the highest); `file_id` references the file's row with ON DELETE
CASCADE, so that deleting a file deletes its activities, whoever deletes it; (file_id, activity_id) is unique,
and (file_id, seq) is indexed, for a page and for the drop of the oldest.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from storage_adapter.timestamps import from_us, to_us
from storage_adapter.types import Activity, ActivityPerson, CommentAction, CommentActivity, Principal

COLUMNS = (
    "activity_id, recorded_us, actor_id, actor_name, occurred_us, content_id, navigation_id, comment_action, "
    "comment_text, is_reply, people"
)
_WIDTH = len(COLUMNS.split(", ")) + 1  # and file_id, in an INSERT

# Drop all but the `keep` newest activities of a file (file id, file id, keep): one range of the index.
PRUNE = (
    "DELETE FROM activities WHERE file_id = ? AND seq <= "
    "(SELECT seq FROM activities WHERE file_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)"
)


def recorded(count: int) -> str:
    """Those of `count` activity ids that a file has recorded (file id, then the ids): COLUMNS rows."""
    return f"SELECT {COLUMNS} FROM activities WHERE file_id = ? AND activity_id IN ({', '.join('?' * count)})"


def insert(count: int) -> str:
    """An INSERT of `count` activities in one statement, their `seq` in the order given (`params`)."""
    row = f"({', '.join('?' * _WIDTH)})"
    return f"INSERT INTO activities (file_id, {COLUMNS}) VALUES {', '.join([row] * count)}"


def page(before: int | None) -> str:
    """A file's activities by descending position, before `before` if given (file id[, before], limit): (seq,
    COLUMNS) rows."""
    condition = "" if before is None else " AND seq < ?"
    return f"SELECT seq, {COLUMNS} FROM activities WHERE file_id = ?{condition} ORDER BY seq DESC LIMIT ?"


def page_params(file_id: str, before: int | None, limit: int) -> tuple[object, ...]:
    return (file_id, limit) if before is None else (file_id, before, limit)


def params(file_id: str, new: Sequence[Activity]) -> list[object]:
    """The parameters of `insert(len(new))`: each activity as a row of `file_id` (recorded: `recorded_at` set)."""
    values: list[object] = []
    for activity in new:
        assert activity.recorded_at is not None
        comment = activity.comment
        values += (
            file_id,
            activity.activity_id,
            to_us(activity.recorded_at),
            activity.actor.user_id,
            activity.actor.display_name,
            None if activity.occurred_at is None else to_us(activity.occurred_at),
            comment.content_id,
            comment.navigation_id,
            int(comment.action),
            comment.text,
            int(comment.is_reply),
            _people_text(activity.people),
        )
    return values


def activity_of(row: Sequence[Any]) -> Activity:
    """A COLUMNS row as the activity it records."""
    (
        activity_id, recorded_us, actor_id, actor_name, occurred_us, content_id, navigation_id, action, text,
        is_reply, people,
    ) = row  # fmt: skip
    return Activity(
        activity_id=str(activity_id),
        comment=CommentActivity(
            content_id=str(content_id),
            action=CommentAction(action),
            navigation_id=str(navigation_id),
            text=str(text),
            is_reply=bool(is_reply),
        ),
        occurred_at=None if occurred_us is None else from_us(occurred_us),
        people=_people_of(str(people)),
        recorded_at=from_us(recorded_us),
        actor=Principal(str(actor_id), str(actor_name)),
    )


def _people_text(people: Sequence[ActivityPerson]) -> str:
    """The people as one JSON array of arrays (at most 50 short entries: one column, no table of their own)."""
    rows = [
        [person.name, person.id, person.provider, person.mentioned, person.in_thread, person.replied_to]
        for person in people
    ]
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


def _people_of(text: str) -> tuple[ActivityPerson, ...]:
    return tuple(
        ActivityPerson(str(name), str(id_), str(provider), bool(mentioned), bool(in_thread), bool(replied_to))
        for name, id_, provider, mentioned, in_thread, replied_to in json.loads(text)
    )

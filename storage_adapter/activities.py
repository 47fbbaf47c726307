"""Activities (proto AddActivities, ListActivities), in one place for every backend: the bounds on a request and
their checks, what a call records and answers, how many a file keeps, the order of a listing and its page tokens.

The servicer checks a whole request with `requested` before any backend sees it (all or nothing: a bound broken
anywhere is INVALID_ARGUMENT naming the field by its proto path, and nothing is recorded). A backend then, in one
atomic step with its check of the write permission, reads which of the request's ids the file has recorded,
lets `record` decide what to store and what to answer, stores that and drops the oldest beyond
`Capabilities.max_activities_per_file` (`MAX_PER_FILE` for ours). Each backend numbers what it records with a
position that only grows (its `seq`): a listing reads a file's activities by descending position from an index,
and its page token names the file and the position of the last activity listed, so that a page costs the same
however many activities the file has, and paging neither repeats nor skips what stays.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from storage_adapter import page_tokens
from storage_adapter.errors import InvalidArgument
from storage_adapter.timestamps import EPOCH
from storage_adapter.types import Activity, ActivityPerson, CommentAction, CommentActivity, Principal
from wopi_proto.storage_v1 import storage_pb2 as pb

# The proto's bounds (its `Activity`, `CommentActivity`, `ActivityPerson` and ListActivities).
MAX_PER_REQUEST = 50
MAX_PEOPLE = 50
MAX_ACTIVITY_ID_LENGTH = 128
MAX_CONTENT_ID_LENGTH = 1024
MAX_NAVIGATION_ID_LENGTH = 1024
MAX_TEXT_LENGTH = 4096
MAX_PERSON_FIELD_LENGTH = 256
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_TOKEN_LENGTH = page_tokens.MAX_TOKEN_LENGTH
# How many activities our backends keep per file (advertised as `max_activities_per_file`): a comment thread's
# worth many times over, and a bound on what a file's activities cost to store and to prune.
MAX_PER_FILE = 1000

_ACTIVITY_ID = re.compile(rf"[\x20-\x7e]{{1,{MAX_ACTIVITY_ID_LENGTH}}}")
# What a google.protobuf.Timestamp may hold: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z.
_MIN_SECONDS = -62_135_596_800
_MAX_SECONDS = 253_402_300_799


# ---- the request ----


def requested(messages: Sequence[pb.Activity]) -> list[Activity]:
    """The activities of an AddActivitiesRequest, checked against every bound of the proto, as domain values
    (`recorded_at` and `actor`, storage's, left unset): INVALID_ARGUMENT naming the first field that breaks one."""
    if not 1 <= len(messages) <= MAX_PER_REQUEST:
        raise InvalidArgument("activities", f"a request adds 1 to {MAX_PER_REQUEST} activities")
    return [_activity(message, f"activities[{index}]") for index, message in enumerate(messages)]


def _activity(message: pb.Activity, path: str) -> Activity:
    if not _ACTIVITY_ID.fullmatch(message.activity_id):
        raise InvalidArgument(
            f"{path}.activity_id", f"an activity id is 1 to {MAX_ACTIVITY_ID_LENGTH} printable ASCII characters"
        )
    if message.WhichOneof("kind") != "comment":
        raise InvalidArgument(f"{path}.comment", "an activity has a kind, and comment is the only one")
    if len(message.people) > MAX_PEOPLE:
        raise InvalidArgument(f"{path}.people", f"an activity concerns at most {MAX_PEOPLE} people")
    occurred = _time(message.occurred_time, f"{path}.occurred_time") if message.HasField("occurred_time") else None
    return Activity(
        activity_id=message.activity_id,
        comment=_comment(message.comment, f"{path}.comment"),
        occurred_at=occurred,
        people=tuple(_person(person, f"{path}.people[{index}]") for index, person in enumerate(message.people)),
    )


def _comment(message: pb.CommentActivity, path: str) -> CommentActivity:
    try:
        action = CommentAction(message.action)
    except ValueError:
        raise InvalidArgument(f"{path}.action", "the action is CREATED, UPDATED or DELETED") from None
    return CommentActivity(
        content_id=_text(message.content_id, f"{path}.content_id", MAX_CONTENT_ID_LENGTH, least=1),
        action=action,
        navigation_id=_text(message.navigation_id, f"{path}.navigation_id", MAX_NAVIGATION_ID_LENGTH),
        text=_text(message.text, f"{path}.text", MAX_TEXT_LENGTH),
        is_reply=message.is_reply,
    )


def _person(message: pb.ActivityPerson, path: str) -> ActivityPerson:
    return ActivityPerson(
        name=_text(message.name, f"{path}.name", MAX_PERSON_FIELD_LENGTH),
        id=_text(message.id, f"{path}.id", MAX_PERSON_FIELD_LENGTH),
        provider=_text(message.provider, f"{path}.provider", MAX_PERSON_FIELD_LENGTH),
        mentioned=message.mentioned,
        in_thread=message.in_thread,
        replied_to=message.replied_to,
    )


def _text(value: str, field: str, most: int, *, least: int = 0) -> str:
    """A string of `least` to `most` characters (code points) without U+0000, which PostgreSQL's text refuses."""
    if not least <= len(value) <= most:
        raise InvalidArgument(field, f"{least} to {most} characters" if least else f"at most {most} characters")
    if "\0" in value:
        raise InvalidArgument(field, "the text cannot contain U+0000")
    return value


def _time(message: Timestamp, field: str) -> datetime:
    """A valid Timestamp, to the microsecond (what every time of this adapter keeps)."""
    if not _MIN_SECONDS <= message.seconds <= _MAX_SECONDS or not 0 <= message.nanos <= 999_999_999:
        raise InvalidArgument(field, "not a valid Timestamp (years 1 to 9999, nanos 0 to 999,999,999)")
    return EPOCH + timedelta(seconds=message.seconds, microseconds=message.nanos // 1000)


# ---- what a call records ----


@dataclass(frozen=True)
class Recording:
    """What an AddActivities stores (`new`, in request order) and answers (`answers`: one per activity asked
    for, in request order, each as recorded)."""

    answers: list[Activity]
    new: list[Activity]


def record(
    requested: Sequence[Activity], recorded: Mapping[str, Activity], actor: Principal, now: datetime
) -> Recording:
    """Each requested activity whose id the file has not recorded (`recorded`: those of the request's ids that
    it has) is recorded now by `actor`; an id recorded already, by the file or earlier in the request, is a retry
    that answers the activity recorded under it and stores nothing."""
    known = dict(recorded)
    answers: list[Activity] = []
    new: list[Activity] = []
    for activity in requested:
        existing = known.get(activity.activity_id)
        if existing is None:
            existing = replace(activity, recorded_at=now, actor=actor)
            known[activity.activity_id] = existing
            new.append(existing)
        answers.append(existing)
    return Recording(answers, new)


# ---- listing ----


@dataclass(frozen=True)
class Page:
    """One page of a file's activities, newest first, and the position of its last one when more follow (None on
    the last page): the next page is what was recorded before it."""

    activities: list[Activity]
    last: int | None


def page_of(rows: Sequence[tuple[int, Activity]], size: int) -> Page:
    """The page of `size` from at most `size + 1` (position, activity) rows read by descending position: the row
    past the page only tells that more follow."""
    shown = rows[:size]
    return Page([activity for _, activity in shown], shown[-1][0] if len(rows) > size else None)


def page_size(requested: int) -> int:
    """0 is the default; above the maximum is INVALID_ARGUMENT (proto ListActivitiesRequest; it cannot be
    negative, a uint32)."""
    return page_tokens.page_size(requested, maximum=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE, what="activities")


def page_token(file_id: str, last: int) -> str:
    """The token of the page after the one that ends with the activity at position `last`; opaque to callers."""
    return page_tokens.encode([file_id, last])


def page_before(token: str, file_id: str) -> int | None:
    """The position before which the page of `token` starts (None: the first page, from the newest);
    INVALID_ARGUMENT for a token that no ListActivities of this file handed out."""
    if not token:
        return None
    try:
        body = page_tokens.decode(token)
        if len(body) != 2 or body[0] != file_id:
            raise ValueError("not this file's")
        return page_tokens.position(body[1])
    except (ValueError, TypeError):
        raise InvalidArgument("page_token", "not a page token of this adapter for this file") from None

"""AddActivities' JSON, read into storage's `Activity` messages: the one place WOPI's activity format is known.

A WOPI client (Office for the web) reports what happened in a document: `{"Activities": [{"Type", "Id",
"Timestamp", "Data", "People"}, ...]}`, and expects one answer per activity, `{"ActivityResponses": [{"Id",
"Status", "Message"}]}`. This host records comments (Type "comment": Data's ContentId, ContentAction created /
updated / deleted, CommentText, NavigationId, IsReply; the People mentioned or in the thread) and answers, for
each activity:

* 0, recorded (or recorded already: a client's retry);
* 1, refused: the activity is malformed for its type (its Message says what), and it is not recorded;
* 3, not supported: a type this host does not record (Microsoft's validator expects 3 for an unknown type).

Properties this host does not know are ignored, as WOPI asks, for compatibility with newer clients. The request
itself is refused (400, nothing recorded) only when it cannot be answered activity by activity: a body that is
not such JSON, too large, too many activities, or an activity without a string Id. The bounds are storage's
(proto Activity): checked here first, so that one bad activity never costs the others their record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from wopi_frontend.errors import BadRequest
from wopi_proto.storage_v1 import storage_pb2 as pb

MAX_BODY_BYTES = 1024 * 1024
MAX_ACTIVITIES = 200  # per request; storage takes them 50 at a time
MAX_ID_LENGTH = 128
MAX_CONTENT_ID_LENGTH = 1024
MAX_TEXT_LENGTH = 4096
MAX_PEOPLE = 50
MAX_PERSON_FIELD_LENGTH = 256

RECORDED, REFUSED, NOT_SUPPORTED = 0, 1, 3
_ACTIONS = {
    "created": pb.COMMENT_ACTION_CREATED,
    "updated": pb.COMMENT_ACTION_UPDATED,
    "deleted": pb.COMMENT_ACTION_DELETED,
}


class Malformed(ValueError):
    """One activity cannot be recorded: the reason is its Message."""


@dataclass(frozen=True)
class Reported:
    """One activity of a request: its id, and what it becomes in storage (None: answered `status` at once)."""

    activity_id: str
    activity: pb.Activity | None
    status: int = RECORDED
    message: str = ""


def parse(body: bytes) -> list[Reported]:
    """The request's activities in order; BadRequest when the request as a whole cannot be read."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("the body is not JSON") from None
    activities = document.get("Activities") if isinstance(document, dict) else None
    if not isinstance(activities, list) or not activities:
        raise BadRequest('the body must be {"Activities": [...]} with at least one activity')
    if len(activities) > MAX_ACTIVITIES:
        raise BadRequest(f"at most {MAX_ACTIVITIES} activities per request")
    return [_reported(entry) for entry in activities]


def _reported(entry: Any) -> Reported:
    activity_id = entry.get("Id") if isinstance(entry, dict) else None
    if not isinstance(activity_id, str):
        raise BadRequest("every activity needs an Id (a string)")
    if entry.get("Type") != "comment":
        return Reported(activity_id, None, NOT_SUPPORTED, "this host records comments only")
    try:
        return Reported(activity_id, _comment(activity_id, entry))
    except Malformed as why:
        return Reported(activity_id, None, REFUSED, str(why))


def _comment(activity_id: str, entry: dict[str, Any]) -> pb.Activity:
    if not 1 <= len(activity_id) <= MAX_ID_LENGTH or not _printable_ascii(activity_id):
        raise Malformed(f"Id must be 1 to {MAX_ID_LENGTH} printable ASCII characters")
    data = entry.get("Data")
    if not isinstance(data, dict):
        raise Malformed("a comment needs Data")
    action = _ACTIONS.get(str(data.get("ContentAction", "")).lower())
    if action is None:
        raise Malformed("Data.ContentAction must be created, updated or deleted")
    comment = pb.CommentActivity(
        content_id=_text(data, "ContentId", MAX_CONTENT_ID_LENGTH, required=True),
        navigation_id=_text(data, "NavigationId", MAX_CONTENT_ID_LENGTH),
        action=action,
        text=_text(data, "CommentText", MAX_TEXT_LENGTH),
        is_reply=_flag(data, "IsReply"),
    )
    activity = pb.Activity(activity_id=activity_id, comment=comment, people=_people(entry.get("People")))
    moment = _moment(entry.get("Timestamp", entry.get("Created")))
    if moment is not None:
        activity.occurred_time.CopyFrom(moment)
    return activity


def _people(value: Any) -> list[pb.ActivityPerson]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_PEOPLE or not all(isinstance(p, dict) for p in value):
        raise Malformed(f"People must be a list of at most {MAX_PEOPLE} people")
    return [
        pb.ActivityPerson(
            name=_text(person, "Name", MAX_PERSON_FIELD_LENGTH),
            id=_text(person, "Id", MAX_PERSON_FIELD_LENGTH),
            provider=_text(person, "Provider", MAX_PERSON_FIELD_LENGTH),
            mentioned=_flag(person, "Mentioned"),
            in_thread=_flag(person, "InThread"),
            replied_to=_flag(person, "RepliedTo"),
        )
        for person in value
    ]


def _text(data: dict[str, Any], name: str, limit: int, *, required: bool = False) -> str:
    value = data.get(name, "")
    if not isinstance(value, str):
        raise Malformed(f"{name} must be a string")
    if required and not value:
        raise Malformed(f"{name} is required")
    if len(value) > limit or "\x00" in value:
        raise Malformed(f"{name} must be at most {limit} characters, without U+0000")
    return value


def _flag(data: dict[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise Malformed(f"{name} must be true or false")
    return value


def _moment(value: Any) -> Timestamp | None:
    """When the client says it happened: ISO 8601; anything unreadable is left out (it is the client's claim, not
    something to refuse an activity for; Microsoft's validator itself sends '2017-03-15T13:47:13000000Z')."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    stamp = Timestamp()
    stamp.FromDatetime(moment.astimezone(UTC))
    return stamp


def _printable_ascii(value: str) -> bool:
    return all(" " <= character <= "~" for character in value)


def responses(reported: list[Reported]) -> dict[str, list[dict[str, object]]]:
    """The answer: one entry per activity of the request, in its order."""
    answers: list[dict[str, object]] = []
    for entry in reported:
        answer: dict[str, object] = {"Id": entry.activity_id, "Status": entry.status}
        if entry.message:
            answer["Message"] = entry.message
        answers.append(answer)
    return {"ActivityResponses": answers}

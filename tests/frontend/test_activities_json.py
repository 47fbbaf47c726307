"""Unit tests of wopi_frontend.activities: AddActivities' JSON read into storage's Activity messages, one answer
per activity, and the request refused whole only when it cannot be answered activity by activity."""

from __future__ import annotations

import json
from typing import Any

import pytest

from wopi_frontend import activities
from wopi_frontend.activities import NOT_SUPPORTED, RECORDED, REFUSED
from wopi_frontend.errors import BadRequest
from wopi_proto.storage_v1 import storage_pb2 as pb


def body(*entries: Any) -> bytes:
    return json.dumps({"Activities": list(entries)}).encode()


def comment(activity_id: str = "a1", **data: Any) -> dict[str, Any]:
    return {"Type": "comment", "Id": activity_id, "Data": {"ContentId": "c1", "ContentAction": "created", **data}}


def test_a_full_comment_is_read_field_by_field() -> None:
    entry = comment(CommentText="looks good", NavigationId="n1", IsReply=True)
    entry["Timestamp"] = "2026-12-04T10:11:12.5Z"
    entry["People"] = [{"Name": "Ann", "Id": "ann@example.com", "Provider": "idp", "Mentioned": True, "Extra": 1}]
    [reported] = activities.parse(body(entry))
    assert reported.status == RECORDED and reported.activity is not None
    activity = reported.activity
    assert activity.activity_id == "a1"
    assert (activity.comment.content_id, activity.comment.navigation_id) == ("c1", "n1")
    assert activity.comment.action == pb.COMMENT_ACTION_CREATED and activity.comment.is_reply
    assert activity.comment.text == "looks good"
    assert activity.occurred_time.ToJsonString() == "2026-12-04T10:11:12.500Z"
    person = activity.people[0]
    assert (person.name, person.id, person.provider, person.mentioned, person.in_thread) == (
        "Ann",
        "ann@example.com",
        "idp",
        True,
        False,
    )


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("created", pb.COMMENT_ACTION_CREATED),
        ("Updated", pb.COMMENT_ACTION_UPDATED),
        ("deleted", pb.COMMENT_ACTION_DELETED),
    ],
)
def test_each_content_action(action: str, expected: int) -> None:
    [reported] = activities.parse(body(comment(ContentAction=action)))
    assert reported.activity is not None and reported.activity.comment.action == expected


def test_an_unreadable_timestamp_is_left_out_not_refused() -> None:
    entry = comment()
    entry["Timestamp"] = "2017-03-15T13:47:13000000Z"  # as Microsoft's validator sends it
    [reported] = activities.parse(body(entry))
    assert reported.status == RECORDED and reported.activity is not None
    assert not reported.activity.HasField("occurred_time")


def test_other_types_are_not_supported_and_answered_in_order() -> None:
    reported = activities.parse(body(comment("one"), {"Type": "unsupported", "Id": "two"}, comment("three")))
    assert [(r.activity_id, r.status) for r in reported] == [("one", RECORDED), ("two", NOT_SUPPORTED), ("three", 0)]
    answer = activities.responses(reported)["ActivityResponses"]
    assert [entry["Id"] for entry in answer] == ["one", "two", "three"]
    assert answer[1]["Status"] == 3 and "Message" in answer[1] and "Message" not in answer[0]


@pytest.mark.parametrize(
    "entry",
    [
        comment("x" * 129),
        comment("tab\there"),
        comment(ContentId=""),
        comment(ContentId="c" * 1025),
        comment(ContentAction="resolved"),
        comment(CommentText="t" * 4097),
        comment(CommentText=7),
        comment(IsReply="yes"),
        comment(NavigationId="nul\x00"),
        {"Type": "comment", "Id": "no-data"},
        {**comment(), "People": [{"Name": "n" * 257}]},
        {**comment(), "People": [{"Name": "p"}] * 51},
        {**comment(), "People": "everyone"},
    ],
)
def test_a_malformed_comment_is_refused_alone(entry: dict[str, Any]) -> None:
    reported = activities.parse(body(entry, comment("fine")))
    assert reported[0].status == REFUSED and reported[0].activity is None and reported[0].message
    assert reported[1].status == RECORDED


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'{"Activities": []}',
        b'{"Activities": {}}',
        body({"Type": "comment"}),
        body({"Type": "comment", "Id": 5}),
        body("a string"),
        body(*[comment(str(n)) for n in range(201)]),
    ],
)
def test_a_request_that_cannot_be_answered_per_activity_is_400(raw: bytes) -> None:
    with pytest.raises(BadRequest):
        activities.parse(raw)

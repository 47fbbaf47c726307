"""AddActivities over real HTTP (wopi_frontend/routes/activities.py) and the file browser's activity page
(routes/activity_page.py): recorded by storage per file, answered per activity, and shown to whoever may read the
document, as text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from tests.frontend.servers import WopiHost
from tests.frontend.wopi import WopiFile, http, open_file
from wopi_proto.storage_v1 import storage_pb2 as pb
from wopi_proto.storage_v1 import storage_pb2_grpc as pb_grpc

USER = "activity-user"


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WopiHost]:
    with WopiHost(Path(tmp_path_factory.mktemp("activities")), WOPI_DEV_USER=USER) as running:
        yield running


def comment(activity_id: str, text: str = "", **extra: Any) -> dict[str, Any]:
    data = {"ContentId": f"c-{activity_id}", "ContentAction": "created", "CommentText": text}
    return {"Type": "comment", "Id": activity_id, "Data": data, **extra}


def add(file: WopiFile, *entries: Any, raw: bytes | None = None) -> Any:
    content = raw if raw is not None else json.dumps({"Activities": list(entries)}).encode()
    return file.post("ADD_ACTIVITIES", {"Content-Type": "application/json"}, content)


def listed(host: WopiHost, file: WopiFile, user: str = USER) -> list[pb.Activity]:
    metadata = (("authorization", f"Bearer {host.storage.secret}"), ("x-wopi-principal-id", user))
    with grpc.insecure_channel(host.storage.target) as channel:
        answer = pb_grpc.StorageServiceStub(channel).ListActivities(
            pb.ListActivitiesRequest(file_id=file.file_id, page_size=200), metadata=metadata, timeout=30
        )
    return list(answer.activities)


def test_check_file_info_offers_add_activities(host: WopiHost) -> None:
    assert open_file(host, "offers.docx", user=USER).info()["SupportsAddActivities"] is True


def test_comments_are_recorded_and_answered_one_by_one(host: WopiHost) -> None:
    file = open_file(host, "commented.docx", b"doc", user=USER)
    people = [{"Name": "Bo", "Id": "bo@example.com", "Mentioned": True}]
    answer = add(file, comment("first", "please check", People=people), {"Type": "poll", "Id": "p"}, comment("2"))
    assert answer.status_code == 200, answer.text
    statuses = [(entry["Id"], entry["Status"]) for entry in answer.json()["ActivityResponses"]]
    assert statuses == [("first", 0), ("p", 3), ("2", 0)]
    recorded = listed(host, file)
    assert [activity.activity_id for activity in recorded] == ["2", "first"]  # newest first
    first = recorded[1]
    assert first.comment.text == "please check" and first.actor.user_id == USER
    assert first.people[0].id == "bo@example.com" and first.people[0].mentioned
    assert file.contents() == b"doc"  # activities are not contents: the document is unchanged


def test_a_retried_activity_is_recorded_once(host: WopiHost) -> None:
    file = open_file(host, "retried.docx", user=USER)
    assert add(file, comment("same", "once")).json()["ActivityResponses"][0]["Status"] == 0
    assert add(file, comment("same", "twice")).json()["ActivityResponses"][0]["Status"] == 0
    assert [activity.comment.text for activity in listed(host, file)] == ["once"]


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b'{"Activities": []}', b'{"Activities": [{"Type": "comment"}]}', b'{"Activities": "x"}'],
)
def test_a_body_that_cannot_be_answered_per_activity_is_400_and_records_nothing(host: WopiHost, raw: bytes) -> None:
    file = open_file(host, f"bad-body-{len(raw)}-{raw[-2:].hex()}.docx", user=USER)
    assert add(file, raw=raw).status_code == 400
    assert listed(host, file) == []


def test_a_huge_body_is_refused_before_it_is_read(host: WopiHost) -> None:
    file = open_file(host, "huge-activities.docx", user=USER)
    raw = b'{"Activities": [' + b" " * (2 * 1024 * 1024) + b"]}"
    assert add(file, raw=raw).status_code == 413
    assert listed(host, file) == []


def test_a_malformed_comment_is_refused_alone(host: WopiHost) -> None:
    file = open_file(host, "one-bad.docx", user=USER)
    bad = comment("bad")
    bad["Data"]["ContentAction"] = "resolved"
    answer = add(file, bad, comment("good"))
    assert [entry["Status"] for entry in answer.json()["ActivityResponses"]] == [1, 0]
    assert [activity.activity_id for activity in listed(host, file)] == ["good"]


def test_a_view_token_cannot_add_activities(host: WopiHost) -> None:
    viewer = open_file(host, "viewed.docx", user=USER, permission="view")
    assert add(viewer, comment("nope")).status_code == 401
    assert listed(host, viewer) == []


def test_a_token_for_another_file_cannot_add_to_this_one(host: WopiHost) -> None:
    mine, other = open_file(host, "target.docx", user=USER), open_file(host, "source.docx", user=USER)
    stolen = WopiFile(host, mine.wopi_src, other.access_token)
    assert add(stolen, comment("x")).status_code == 401
    assert listed(host, mine) == []


def test_the_activity_page_shows_comments_as_text(host: WopiHost) -> None:
    file = open_file(host, "shown.docx", user=USER)
    people = [{"Name": "Cy <b>", "Id": "cy", "Mentioned": True}]
    assert add(file, comment("a", "<script>alert(1)</script> fine", People=people)).status_code == 200
    page = http.get(f"{host.url}/browse/files/{file.file_id}/activity")
    assert page.status_code == 200
    assert "commented" in page.text and "&lt;script&gt;alert(1)&lt;/script&gt; fine" in page.text
    assert "<script>alert(1)" not in page.text and "Mentioned: Cy &lt;b&gt;" in page.text


def test_the_activity_page_pages_and_refuses_strangers(host: WopiHost) -> None:
    file = open_file(host, "many.docx", user=USER)
    assert add(file, *[comment(f"n{number}", f"comment {number}") for number in range(60)]).status_code == 200
    first = http.get(f"{host.url}/browse/files/{file.file_id}/activity")
    assert first.text.count('class="activity"') == 50 and "comment 59" in first.text and "comment 9<" not in first.text
    assert "Older" in first.text
    next_url = next(part for part in first.text.split('"') if "/activity?page=" in part).replace("&amp;", "&")
    second = http.get(f"{host.url}{next_url}")
    assert second.status_code == 200 and second.text.count('class="activity"') == 10 and "comment 0<" in second.text
    theirs = open_file(host, "theirs-activity.docx", user="someone-else")
    assert http.get(f"{host.url}/browse/files/{theirs.file_id}/activity").status_code == 404
    assert http.get(f"{host.url}/browse/files/bad%20id/activity").status_code == 404

"""AddActivities and ListActivities (`Capabilities.activities`): activities round-trip with every field, storage
sets when and by whom they were recorded, a repeated id is recorded once, every bound is INVALID_ARGUMENT with
nothing recorded, pages walk newest first and refuse malformed tokens, access needs read to list and write to add,
activities stay through a rename and go with a delete, and a file keeps only its most recent
`max_activities_per_file`.

Each test makes only a few calls (the retention test adds 50 activities per call), so that the file stays fast on
every backend variant.
"""

from __future__ import annotations

import base64
import uuid
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2

from tests.contract.client import StorageClient, expect_error, unknown_id
from tests.contract.conftest import Workspace, requires
from wopi_proto.storage_v1 import storage_pb2 as pb

Metadata = list[tuple[str, str | bytes]]

MAX_PER_REQUEST = 50  # the proto's bounds
MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50


@pytest.fixture
def kept(caps: pb.Capabilities) -> None:
    requires(caps, "activities")


def comment(activity_id: str, content_id: str = "comment-1", **fields: object) -> pb.Activity:
    """A minimal comment activity; `fields` set more of the comment (`text=`, `action=`...)."""
    details = {"action": pb.COMMENT_ACTION_CREATED, **fields}
    return pb.Activity(activity_id=activity_id, comment=pb.CommentActivity(content_id=content_id, **details))  # type: ignore[arg-type]


def add(
    client: StorageClient, file_id: str, *activities: pb.Activity, metadata: Metadata | None = None
) -> list[pb.Activity]:
    request = pb.AddActivitiesRequest(file_id=file_id, activities=activities)
    answer = client.call("AddActivities", request, metadata=metadata or client.metadata())
    return list(answer.activities)  # type: ignore[attr-defined]


def page(
    client: StorageClient, file_id: str, size: int = 0, token: str = "", metadata: Metadata | None = None
) -> pb.ListActivitiesResponse:
    request = pb.ListActivitiesRequest(file_id=file_id, page_size=size, page_token=token)
    return client.call("ListActivities", request, metadata=metadata or client.metadata())  # type: ignore[return-value]


def every_activity(client: StorageClient, file_id: str, size: int = MAX_PAGE_SIZE) -> list[pb.Activity]:
    """Every page until the last (an empty `next_page_token`), at most 1,000 of them."""
    pages = [page(client, file_id, size)]
    while pages[-1].next_page_token:
        assert len(pages) < 1000, "the pages never end"
        pages.append(page(client, file_id, size, pages[-1].next_page_token))
    return [activity for answer in pages for activity in answer.activities]


def ids(activities: list[pb.Activity]) -> list[str]:
    return [activity.activity_id for activity in activities]


def new_file(client: StorageClient, workspace: Workspace, name: str = "commented.docx") -> pb.FileInfo:
    return client.create_file(workspace.container_id, workspace.name(name), b"document")


def someone(role: str) -> str:
    """A principal id unique to this test."""
    return f"contract-{role}-{uuid.uuid4().hex[:10]}"


def bad_request_fields(error: object) -> list[str]:
    bad_request = error.detail(error_details_pb2.BadRequest)  # type: ignore[attr-defined]
    return [violation.field for violation in bad_request.field_violations]


def full_activity(activity_id: str) -> pb.Activity:
    """An activity with every field a caller sets, at lengths counted in characters (not bytes), and what
    storage sets filled in with values it must ignore."""
    return pb.Activity(
        activity_id=activity_id,
        comment=pb.CommentActivity(
            content_id="cid-☃",
            navigation_id="nid/§3",
            action=pb.COMMENT_ACTION_UPDATED,
            text="😀" * 4096,  # 4096 characters, 16 KiB of UTF-8
            is_reply=True,
        ),
        occurred_time=Timestamp(seconds=1_489_585_633, nanos=123_456_000),  # storage keeps microseconds
        recorded_time=Timestamp(seconds=1),  # storage's: ignored
        actor=pb.Principal(user_id="someone-else", display_name="Not Me"),  # storage's: ignored
        people=[
            pb.ActivityPerson(name="Zoë", id="zoe@example.com", provider="AAD", mentioned=True),
            pb.ActivityPerson(name="Bob", id="bob@example.com", in_thread=True, replied_to=True),
        ],
    )


@pytest.mark.also_without_access_control
def test_added_activities_are_listed_newest_first_with_every_field(
    client: StorageClient, workspace: Workspace, caps: pb.Capabilities, kept: None
) -> None:
    """Every field round-trips; storage sets `recorded_time` and `actor` (the caller, required); the answer is in
    request order and the listing newest first; a lock neither blocks activities nor is needed, and the file's
    version does not change (activities are not contents)."""
    file = new_file(client, workspace)
    client.lock(file.file_id, "held-by-an-editor")
    caller = client.metadata(display_name="Ada Lovelace")
    first = add(client, file.file_id, full_activity("00000001-ABCD"), comment("minimal"), metadata=caller)
    third = add(client, file.file_id, comment("later", "comment-2", action=pb.COMMENT_ACTION_DELETED), metadata=caller)

    assert ids(first) == ["00000001-ABCD", "minimal"] and ids(third) == ["later"]
    full = first[0]
    expected = full_activity("00000001-ABCD")
    assert full.comment == expected.comment and list(full.people) == list(expected.people)
    assert full.occurred_time == expected.occurred_time
    for recorded in (*first, *third):
        assert recorded.HasField("recorded_time") and recorded.recorded_time.seconds > 1
        assert recorded.actor == pb.Principal(user_id=client.user_id, display_name="Ada Lovelace")
    assert not first[1].HasField("occurred_time")  # not told, so not invented
    assert first[1].comment == pb.CommentActivity(content_id="comment-1", action=pb.COMMENT_ACTION_CREATED)

    listed = page(client, file.file_id)
    assert list(listed.activities) == [*third, first[1], first[0]] and not listed.next_page_token
    after = client.stat(file.file_id)
    assert (after.version, after.modified_time) == (file.version, file.modified_time)

    # Storage records who added an activity: without `x-wopi-principal-id`, INVALID_ARGUMENT naming it, on every
    # adapter. Listing without it is refused only by an adapter with access control (fail closed).
    anonymous = client.metadata(user_id="")
    with expect_error(grpc.StatusCode.INVALID_ARGUMENT) as error:
        add(client, file.file_id, comment("anonymous"), metadata=anonymous)
    assert bad_request_fields(error) == ["x-wopi-principal-id"]
    if caps.access_control:
        with expect_error(grpc.StatusCode.INVALID_ARGUMENT):
            page(client, file.file_id, metadata=anonymous)
    else:
        assert list(page(client, file.file_id, metadata=anonymous).activities) == list(listed.activities)


def test_a_repeated_activity_id_is_recorded_once(client: StorageClient, workspace: Workspace, kept: None) -> None:
    """A retry changes nothing and answers the activity as first recorded, whatever it sends; an id twice in one
    request is recorded once, as its first occurrence says; so is an id that concurrent calls add."""
    file = new_file(client, workspace)
    [original] = add(client, file.file_id, comment("retried", text="first"))
    retry = add(client, file.file_id, comment("retried", text="second"), comment("new"))
    assert retry[0] == original
    assert ids(retry) == ["retried", "new"]
    twice = add(client, file.file_id, comment("twice", text="one"), comment("twice", text="two"))
    assert twice[0] == twice[1] and twice[0].comment.text == "one"
    listed = page(client, file.file_id).activities
    assert ids(list(listed)) == ["twice", "new", "retried"]
    assert listed[2] == original and listed[0] == twice[0]

    racing = new_file(client, workspace, "raced.docx")  # concurrent retries (8 callers at once) record it once too

    def retry(caller: int) -> list[pb.Activity]:
        return add(client, racing.file_id, comment("raced", text=f"by {caller}"), comment(f"own {caller}"))

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(retry, range(8)))
    assert len({answer[0].SerializeToString(deterministic=True) for answer in answers}) == 1
    raced = ids(list(page(client, racing.file_id).activities))
    assert raced.count("raced") == 1 and sorted(raced) == sorted(["raced", *(f"own {caller}" for caller in range(8))])


def _broken_requests() -> dict[str, tuple[list[pb.Activity], str]]:
    """Label: (the activities of a request that breaks one bound, the field path the BadRequest names). Each
    request but the first two has a valid activity first, so that "nothing recorded" means all or nothing."""

    def second(activity: pb.Activity) -> list[pb.Activity]:
        return [comment("valid-first"), activity]

    def with_person(**fields: object) -> pb.Activity:
        activity = comment("a")
        activity.people.add(name="ok")
        activity.people.add(**fields)  # type: ignore[arg-type]
        return activity

    def occurred(seconds: int, nanos: int = 0) -> pb.Activity:
        activity = comment("a")
        activity.occurred_time.seconds, activity.occurred_time.nanos = seconds, nanos
        return activity

    too_many_people = comment("a")
    for number in range(51):
        too_many_people.people.add(name=f"person {number}")
    path = "activities[1]"
    return {
        "no activity": ([], "activities"),
        "51 activities": ([comment(f"a{number}") for number in range(51)], "activities"),
        "empty activity id": (second(comment("")), f"{path}.activity_id"),
        "129-character activity id": (second(comment("i" * 129)), f"{path}.activity_id"),
        "non-ASCII activity id": (second(comment("caf\u00e9")), f"{path}.activity_id"),
        "control in activity id": (second(comment("a\nb")), f"{path}.activity_id"),
        "no kind": (second(pb.Activity(activity_id="a")), f"{path}.comment"),
        "empty content id": (second(comment("a", "")), f"{path}.comment.content_id"),
        "1025-character content id": (second(comment("a", "c" * 1025)), f"{path}.comment.content_id"),
        "1025-character navigation id": (
            second(comment("a", navigation_id="n" * 1025)),
            f"{path}.comment.navigation_id",
        ),
        "unspecified action": (second(comment("a", action=pb.COMMENT_ACTION_UNSPECIFIED)), f"{path}.comment.action"),
        "unknown action": (second(comment("a", action=7)), f"{path}.comment.action"),
        "4097-character text": (second(comment("a", text="t" * 4097)), f"{path}.comment.text"),
        "U+0000 in text": (second(comment("a", text="a\0b")), f"{path}.comment.text"),
        "51 people": (second(too_many_people), f"{path}.people"),
        "257-character name": (second(with_person(name="n" * 257)), f"{path}.people[1].name"),
        "257-character person id": (second(with_person(id="i" * 257)), f"{path}.people[1].id"),
        "257-character provider": (second(with_person(provider="p" * 257)), f"{path}.people[1].provider"),
        "nanos out of range": (second(occurred(0, 1_000_000_000)), f"{path}.occurred_time"),
        "year 10000": (second(occurred(253_402_300_800)), f"{path}.occurred_time"),
    }


def test_each_broken_bound_is_invalid_argument_and_records_nothing(
    client: StorageClient, workspace: Workspace, kept: None
) -> None:
    """One past each bound is refused, naming the field by its path, and nothing of the request is recorded;
    each bound itself is accepted: 50 activities in one request, an id of 128 characters, content and navigation
    ids of 1024, 50 people with 256-character strings (empty text and navigation id are fine too)."""
    file = new_file(client, workspace)
    failures = []
    for label, (activities, field) in _broken_requests().items():
        try:
            with expect_error(grpc.StatusCode.INVALID_ARGUMENT) as error:
                add(client, file.file_id, *activities)
            assert field in bad_request_fields(error), f"expected {field!r}, got {bad_request_fields(error)}"
        except AssertionError as failure:
            failures.append(f"{label}: {failure}")
    assert not failures, "\n".join(failures)
    assert list(page(client, file.file_id).activities) == []  # not even the valid activity of each request

    largest = comment("i" * 128, "c" * 1024, navigation_id="n" * 1024, text="")
    for number in range(50):
        largest.people.add(name="é" * 256, id=f"{number:03}".ljust(256, "x"), provider="p" * 256, mentioned=True)
    sent = [largest, *(comment(f"activity {number}") for number in range(49))]
    answer = add(client, file.file_id, *sent)
    assert ids(answer) == ids(sent) and list(answer[0].people) == list(largest.people)
    assert ids(list(page(client, file.file_id, MAX_PAGE_SIZE).activities)) == ids(sent)[::-1]


def test_pages_walk_every_activity_once_newest_first(client: StorageClient, workspace: Workspace, kept: None) -> None:
    """Pages of any size list every activity once, newest first; 0 means 50; above 200 is INVALID_ARGUMENT; what
    is added while a caller pages through is not listed by the pages that follow; a malformed token, or one that
    another file's listing handed out, is INVALID_ARGUMENT."""
    file = new_file(client, workspace)
    add(client, file.file_id, *(comment(f"{number:02}") for number in range(50)))
    add(client, file.file_id, comment("50"))
    newest_first = [f"{number:02}" for number in range(51)][::-1]
    for size in (1, 7, MAX_PAGE_SIZE):
        assert ids(every_activity(client, file.file_id, size)) == newest_first, f"page size {size}"
    first = page(client, file.file_id)
    assert len(first.activities) == DEFAULT_PAGE_SIZE and first.next_page_token
    rest = page(client, file.file_id, 0, first.next_page_token)
    assert ids(list(rest.activities)) == ["00"] and not rest.next_page_token
    with expect_error(grpc.StatusCode.INVALID_ARGUMENT) as error:
        page(client, file.file_id, MAX_PAGE_SIZE + 1)
    assert bad_request_fields(error) == ["page_size"]

    walk = page(client, file.file_id, 49)
    add(client, file.file_id, comment("added while paging"))
    rest = page(client, file.file_id, 49, walk.next_page_token)
    assert ids(list(walk.activities) + list(rest.activities)) == newest_first and not rest.next_page_token

    other = new_file(client, workspace, "other.docx")
    forged = base64.urlsafe_b64encode(b'["x", -1]').decode()
    for token in ("not a token", "%%%", "A" * 2000, forged, walk.next_page_token):
        with expect_error(grpc.StatusCode.INVALID_ARGUMENT) as error:
            page(client, other.file_id, 0, token)
        assert bad_request_fields(error) == ["page_token"], token


def test_listing_needs_read_and_adding_needs_write(
    client: StorageClient, workspace: Workspace, caps: pb.Capabilities, kept: None
) -> None:
    """NOT_FOUND for a principal who may not read the file (both RPCs); a viewer lists but adding is
    PERMISSION_DENIED naming write, with nothing recorded; an editor adds."""
    requires(caps, "access_control")
    file = new_file(client, workspace)
    [mine] = add(client, file.file_id, comment("owner's"))
    stranger, viewer, editor = someone("stranger"), someone("viewer"), someone("editor")
    for user, role in ((viewer, pb.ROLE_VIEWER), (editor, pb.ROLE_EDITOR)):
        grant = pb.GrantAccessRequest(file_id=file.file_id, grantee=pb.Grantee(user_id=user), role=role)
        client.call("GrantAccess", grant)
    with expect_error(grpc.StatusCode.NOT_FOUND):
        page(client, file.file_id, metadata=client.metadata(stranger))
    with expect_error(grpc.StatusCode.NOT_FOUND):
        add(client, file.file_id, comment("stranger's"), metadata=client.metadata(stranger))
    assert list(page(client, file.file_id, metadata=client.metadata(viewer)).activities) == [mine]
    with expect_error(grpc.StatusCode.PERMISSION_DENIED) as denied:
        add(client, file.file_id, comment("viewer's"), metadata=client.metadata(viewer))
    assert denied.detail(pb.PermissionDenied).permission == "write"  # type: ignore[attr-defined]
    [theirs] = add(client, file.file_id, comment("editor's"), metadata=client.metadata(editor))
    assert theirs.actor.user_id == editor
    assert ids(list(page(client, file.file_id).activities)) == ["editor's", "owner's"]


def test_activities_stay_through_a_rename_and_go_with_a_delete(
    client: StorageClient, workspace: Workspace, kept: None
) -> None:
    """They belong to the file id: a file made afterwards under the same name has none of them. An id no file
    has, or a container's (a container has no activities), is NOT_FOUND, as a deleted file's."""
    for file_id in (unknown_id(), workspace.container_id):
        with expect_error(grpc.StatusCode.NOT_FOUND):
            add(client, file_id, comment("a"))
        with expect_error(grpc.StatusCode.NOT_FOUND):
            page(client, file_id)
    file = new_file(client, workspace)
    recorded = add(client, file.file_id, comment("a"), comment("b"))
    client.call("RenameFile", pb.RenameFileRequest(file_id=file.file_id, new_name=workspace.name("renamed.docx")))
    assert list(page(client, file.file_id).activities) == recorded[::-1]
    client.call("DeleteFile", pb.DeleteFileRequest(file_id=file.file_id))
    with expect_error(grpc.StatusCode.NOT_FOUND):
        page(client, file.file_id)
    with expect_error(grpc.StatusCode.NOT_FOUND):
        add(client, file.file_id, comment("c"))
    again = client.create_file(workspace.container_id, workspace.name("renamed.docx"), b"new")
    assert list(page(client, again.file_id).activities) == []


def test_a_file_keeps_only_its_most_recent_activities(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace, kept: None
) -> None:
    """Past `max_activities_per_file`, the oldest are dropped; the limit is at least one full request."""
    limit = caps.max_activities_per_file
    assert limit >= MAX_PER_REQUEST
    if limit > 5000:
        pytest.skip(f"max_activities_per_file is {limit}: too many to fill in a contract test")
    file = new_file(client, workspace)
    calls = limit // MAX_PER_REQUEST + 1  # 50 more than the limit when it is a multiple of 50
    for call in range(calls):
        add(client, file.file_id, *(comment(f"{call:03}-{number:02}") for number in range(MAX_PER_REQUEST)))
    added = [f"{call:03}-{number:02}" for call in range(calls) for number in range(MAX_PER_REQUEST)]
    assert ids(every_activity(client, file.file_id)) == added[-limit:][::-1]
    [again] = add(client, file.file_id, comment(added[0]))  # dropped: its id is recorded anew
    assert page(client, file.file_id, 1).activities[0] == again

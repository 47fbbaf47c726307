"""A document's details in the file browser over real HTTP: the row menu leads there, the page shows the lock
(holder, since, until) and the history (storage's audit trail), a page at a time, as escaped text only; who may
read the document may see them, a stranger gets 404, and only who manages its sharing is offered Unlock.

Storage is a real `wopi-storage` process enforcing access control; people are told apart by the identity header a
reverse proxy would set. The state is made through storage directly (`Storage`), as an editor would.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest

from tests.contract.client import StorageClient
from tests.frontend.servers import WopiHost
from wopi_proto.storage_v1 import storage_pb2 as pb

OPERATOR = "operator"  # the storage administrator of these hosts
LONG = {"seconds": 1800}


class Person:
    """One person's browser, as plain HTTP: their identity header and their cookies (CSRF, flash)."""

    def __init__(self, host: WopiHost, user_id: str, name: str = "") -> None:
        headers = {"X-Forwarded-User": user_id, "X-Forwarded-Name": name or user_id.title()}
        self.client = httpx.Client(base_url=host.url, headers=headers, timeout=30)
        self.user_id = user_id

    def get(self, path: str) -> httpx.Response:
        return self.client.get(path)

    def csrf(self) -> str:
        """The form token of this person's pages (the root offers everyone its forms)."""
        match = re.search(r'name="csrf" value="([^"]+)"', self.get("/").text)
        assert match
        return match.group(1)

    def post(self, path: str, form: dict[str, str], *, csrf: bool = True) -> httpx.Response:
        return self.client.post(path, data={**form, "csrf": self.csrf()} if csrf else form)

    def close(self) -> None:
        self.client.close()


class Storage:
    """The host's storage service, called as any principal (the contract suite's client)."""

    def __init__(self, host: WopiHost) -> None:
        self.channel = grpc.insecure_channel(host.storage.target)
        self.client = StorageClient(self.channel, host.storage.secret)

    def call(self, rpc: str, request: object, user: str, name: str = "") -> object:
        return self.client.call(rpc, request, metadata=self.client.metadata(user, name))  # type: ignore[arg-type]

    def new_file(self, owner: str, name: str) -> pb.FileInfo:
        root = self.call("GetRootContainer", pb.GetRootContainerRequest(), owner)
        return self.client.create_file(root.container_id, name, b"text", metadata=self.client.metadata(owner))  # type: ignore[attr-defined]

    def share(self, file_id: str, owner: str, user: str, role: int = pb.ROLE_EDITOR) -> None:
        grantee = pb.Grantee(user_id=user)
        self.call("GrantAccess", pb.GrantAccessRequest(file_id=file_id, grantee=grantee, role=role), owner)  # type: ignore[arg-type]

    def lock(self, file_id: str, lock_id: str, user: str, name: str = "") -> pb.FileInfo:
        request = pb.LockRequest(file_id=file_id, lock_id=lock_id, ttl=LONG)  # type: ignore[arg-type]
        return self.call("Lock", request, user, name).file  # type: ignore[attr-defined,no-any-return]

    def lock_id(self, file_id: str) -> str:
        return self.call("GetLock", pb.GetLockRequest(file_id=file_id), OPERATOR).lock_id  # type: ignore[attr-defined,no-any-return]

    def trail(self, file_id: str) -> list[pb.AuditEvent]:
        request = pb.ListAuditEventsRequest(file_id=file_id, page_size=200)
        return list(self.call("ListAuditEvents", request, OPERATOR).events)  # type: ignore[attr-defined]

    def close(self) -> None:
        self.channel.close()


def unique(name: str) -> str:
    return f"{uuid.uuid4().hex[:8]}-{name}"


def history_rows(page: str) -> list[str]:
    return re.findall(r'<li class="audit-event">(.*?)</li>', page, re.S)


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WopiHost]:
    base = Path(tmp_path_factory.mktemp("wopi-details"))
    with WopiHost(base, storage_args=("--admin-principal", OPERATOR), WOPI_IDENTITY_HEADER="X-Forwarded-User") as host:
        yield host


@pytest.fixture
def storage(host: WopiHost) -> Iterator[Storage]:
    opened = Storage(host)
    yield opened
    opened.close()


@pytest.fixture
def people(host: WopiHost) -> Iterator[dict[str, Person]]:
    crowd = {user: Person(host, user) for user in ("alice", "bob", "carol")}
    yield crowd
    for person in crowd.values():
        person.close()


def test_the_details_show_the_lock_and_the_history_as_text(storage: Storage, people: dict[str, Person]) -> None:
    """From the row menu's Details: who locked it (since, until), and each change, newest first, every name and
    person escaped; the owner is offered Unlock, an editor sees the same details without it, a stranger gets 404."""
    file = storage.new_file("alice", unique("plain.docx"))
    hostile = unique("<img src=x onerror=alert(1)>.docx")
    storage.call("RenameFile", pb.RenameFileRequest(file_id=file.file_id, new_name=hostile), "alice", "Alice")
    storage.share(file.file_id, "alice", "bob")
    storage.lock(file.file_id, "bob-session", "bob", "Bob <b>Builder</b>")
    details = f"/browse/files/{file.file_id}/details"

    listing = people["alice"].get("/").text
    assert f'href="{details}">Details</a>' in listing
    badge = re.search(r'<span class="badge badge-lock" title="([^"]*)">([^<]*)</span>', listing)
    assert badge and badge.group(2) == "Editing: Bob &lt;b&gt;Builder&lt;/b&gt;"
    assert badge.group(1).startswith("Locked since ") and " until " in badge.group(1)

    page = people["alice"].get(details)
    assert page.status_code == 200
    assert "locked by <strong>Bob &lt;b&gt;Builder&lt;/b&gt;</strong> since <time" in page.text
    rows = history_rows(page.text)
    assert len(rows) == 4
    assert "Bob" in rows[0] and "opened it for editing (locked it)" in rows[0]
    assert "shared it with bob: can edit" in rows[1]
    assert f"renamed it from “{html.escape(file.name)}” to “{html.escape(hostile)}”" in rows[2]
    assert "<strong>Alice</strong>" in rows[2] and "created it as" in rows[3]
    assert "<img src=x" not in page.text and "<b>Builder" not in page.text
    assert f'action="/browse/files/{file.file_id}/unlock"' in page.text  # the owner manages its sharing

    as_editor = people["bob"].get(details)
    assert as_editor.status_code == 200 and history_rows(as_editor.text) == history_rows(page.text)
    assert "/unlock" not in as_editor.text  # an editor has no manage_sharing: no Unlock
    assert people["carol"].get(details).status_code == 404


def test_the_history_comes_a_page_at_a_time(storage: Storage, people: dict[str, Person]) -> None:
    """Fifty changes a page, newest first; "Older" leads on, "Newest" back; an unknown token is refused."""
    file = storage.new_file("alice", unique("busy-0.docx"))
    for number in range(1, 55):
        request = pb.RenameFileRequest(file_id=file.file_id, new_name=f"{file.name}-{number}")
        storage.call("RenameFile", request, "alice")
    details = f"/browse/files/{file.file_id}/details"
    first = people["alice"].get(details).text
    newest = history_rows(first)
    assert len(newest) == 50 and f"to “{html.escape(file.name)}-54”" in newest[0]
    older = re.search(r'href="(/browse/files/[^"]+/details\?page=[^"]+)"[^>]*>Older', first)
    assert older, "no link to the older changes"
    second = people["alice"].get(html.unescape(older.group(1))).text
    rest = history_rows(second)
    assert len(rest) == 5 and "created it as" in rest[-1]
    assert f'href="{details}"' in second and "Newest" in second
    assert people["alice"].get(details + "?page=not-a-token").status_code == 400

"""The file browser's sharing over real HTTP (issue 9, part 4): the Share dialog's forms, what each role sees in a
listing, and the Shared with me page, against storage running with `--access-control`.

People are told apart by the identity header a reverse proxy would set (`X-Forwarded-User`), each with a client
of their own (their own CSRF and flash cookies). Each test uses names of its own, so that the module's host can
be shared: what one test shares with someone is not what another test counts.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.browser.office_client import StandInOffice
from tests.frontend.servers import WopiHost
from wopi_frontend.storage_client import ItemRef, StorageClient
from wopi_frontend.types import Principal
from wopi_proto.storage_v1 import storage_pb2 as pb

ALICE = Principal("alice", "Alice")


@pytest.fixture(scope="module")
def sharing_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WopiHost]:
    """Both services, storage enforcing access control, people identified by a proxy's header, and the browser
    tests' stand-in office as the editor (so that Edit links are offered to those who may edit)."""
    base = Path(tmp_path_factory.mktemp("wopi-sharing"))
    host = WopiHost(base, storage_args=("--access-control", "true"), WOPI_IDENTITY_HEADER="X-Forwarded-User")
    office = StandInOffice(host.url).start()
    host.environment["WOPI_DISCOVERY_URL"] = office.discovery_url
    try:
        with host:
            yield host
    finally:
        office.stop()


@pytest.fixture(scope="module")
def open_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WopiHost]:
    """Storage without access control: nothing can be shared."""
    base = Path(tmp_path_factory.mktemp("wopi-no-sharing"))
    with WopiHost(base, storage_args=("--access-control", "false"), WOPI_IDENTITY_HEADER="X-Forwarded-User") as host:
        yield host


class Person:
    """One person's browser, as plain HTTP: their identity headers and their cookies."""

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

    def root_id(self) -> str:
        match = re.search(r'data-upload-url="/browse/folders/([^/]+)/upload"', self.get("/").text)
        assert match
        return match.group(1)

    def new_folder(self, parent_id: str, name: str) -> str:
        done = self.post(f"/browse/folders/{parent_id}/new-folder", {"name": name})
        assert done.status_code == 303, done.text
        return folder_id(self.get(done.headers["location"]).text, name)

    def upload(self, container_id: str, name: str, data: bytes = b"words") -> str:
        response = self.client.post(
            f"/browse/folders/{container_id}/upload",
            params={"name": name},
            content=data,
            headers={"X-CSRF-Token": self.csrf()},
        )
        assert response.status_code == 201, response.text
        return response.json()["file_id"]  # type: ignore[no-any-return]

    def share(self, kind: str, item_id: str, grantee: str, role: str, *, group: bool = False) -> httpx.Response:
        form = {"kind": "group" if group else "user", "id": grantee, "role": role}
        return self.post(f"/browse/{kind}/{item_id}/sharing/grant", form)

    def unshare(self, kind: str, item_id: str, grantee: str) -> httpx.Response:
        return self.post(f"/browse/{kind}/{item_id}/sharing/revoke", {"kind": "user", "id": grantee})

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def people(sharing_host: WopiHost) -> Iterator[dict[str, Person]]:
    names = {"alice": "Alice", "bob": "Bob", "carol": "Carol", "dave": "Dave", "erin": "Erin"}
    crowd = {user_id: Person(sharing_host, user_id, name) for user_id, name in names.items()}
    yield crowd
    for person in crowd.values():
        person.close()


def folder_id(page: str, name: str) -> str:
    match = re.search(r'<a class="name" href="/\?container=([^"]+)">' + re.escape(html.escape(name)) + "</a>", page)
    assert match, f"no folder {name!r} in the page"
    return match.group(1)


def row_of(page: str, name: str) -> str:
    """The listing row (`<li class="row ...">...</li>`) of the item named `name`."""
    for row in re.findall(r'<li class="row[^"]*">.*?</li>\n', page, re.S):
        if f">{html.escape(name)}</a>" in row:
            return row  # type: ignore[no-any-return]
    raise AssertionError(f"no row for {name!r}")


def grants_of(host: WopiHost, item: ItemRef) -> dict[str, int]:
    """The item's own grants, as storage has them: {"user:bob": ROLE_VIEWER, "group:team": ...}."""

    async def read() -> list[pb.Grant]:
        client = StorageClient(host.storage.target, host.storage.secret)
        try:
            return await client.list_grants(item, ALICE)
        finally:
            await client.close()

    own = {}
    for grant in asyncio.run(read()):
        if getattr(grant, grant.WhichOneof("item")) == item.item_id:
            kind = grant.grantee.WhichOneof("grantee")
            own[f"{kind.removesuffix('_id')}:{getattr(grant.grantee, kind)}"] = grant.role
    return own


def flash_after(person: Person, response: httpx.Response) -> str:
    """The one-time message of the page a form's redirect leads to."""
    assert response.status_code == 303, response.text
    page = person.get(response.headers["location"]).text
    match = re.search(r'<div class="notice notice-(?:ok|error)" role="\w+">(.*?)</div>', page, re.S)
    assert match, "no message on the page"
    return html.unescape(match.group(1))


def test_a_viewer_sees_no_edit_actions(sharing_host: WopiHost, people: dict[str, Person]) -> None:
    """bob may only view alice's folder: no Upload, no New, no Edit, no Rename or Delete; he may see who has
    access (read-only). What he tries anyway is refused by storage, in words."""
    alice, bob = people["alice"], people["bob"]
    folder = alice.new_folder(alice.root_id(), "Viewer folder")
    alice.new_folder(folder, "Inside")
    file_id = alice.upload(folder, "Report.docx")
    assert flash_after(alice, alice.share("folders", folder, "bob", "viewer")) == (
        "Shared “Viewer folder” with bob: can view."
    )

    page = bob.get(f"/?container={folder}")
    assert page.status_code == 200
    for absent in ('id="upload-input"', 'id="new-menu"', "/rename", "/delete", "?action=edit", "Uploading needs"):
        assert absent not in page.text, absent
    assert "?action=edit" in alice.get(f"/?container={folder}").text  # the owner's Edit link
    assert "This folder is empty." not in page.text
    report, inside = row_of(page.text, "Report.docx"), row_of(page.text, "Inside")
    assert f'href="/browse/files/{file_id}/sharing">Sharing…</a>' in report
    assert "Owner: Alice" in report and "Owner: Alice" in inside
    assert "Sharing…</a>" in inside
    assert re.findall(r"<li[^>]*>(?:<a [^>]+>)?([^<]+)", page.text.split('class="crumbs"')[1].split("</ol>")[0]) == [
        "Documents",
        "Viewer folder",
    ]

    dialog = bob.get(f"/browse/files/{file_id}/sharing")
    assert dialog.status_code == 200
    assert "/sharing/grant" not in dialog.text and "/sharing/revoke" not in dialog.text
    assert "You can see who has access" in dialog.text
    assert "from the folder “Viewer folder”" in dialog.text  # bob's grant, inherited from the folder

    # Storage refuses what the page no longer offers: PERMISSION_DENIED, in words.
    renamed = bob.post(f"/browse/files/{file_id}/rename", {"name": "Mine.docx"})
    assert flash_after(bob, renamed) == "“Report.docx” was not renamed: You do not have permission to do this."
    refused = bob.share("files", file_id, "dave", "editor")
    assert flash_after(bob, refused).endswith("You do not have permission to do this.")
    assert grants_of(sharing_host, ItemRef(file_id, False)) == {}


def test_the_owner_grants_changes_and_revokes(sharing_host: WopiHost, people: dict[str, Person]) -> None:
    """Through the dialog's forms: a user and a group added, a role changed, a grant removed; storage's grants
    follow each step, and the dialog shows them."""
    alice = people["alice"]
    file_id = alice.upload(alice.root_id(), "Grants.docx")
    item = ItemRef(file_id, False)
    dialog = alice.get(f"/browse/files/{file_id}/sharing").text
    assert "Share “Grants.docx”" in dialog and 'name="kind" value="group"' in dialog
    assert re.search(r'<span class="grant-name">Alice</span><span class="grant-detail">you</span>', dialog)

    alice.share("files", file_id, "bob", "viewer")
    assert flash_after(alice, alice.share("files", file_id, "team-x", "editor", group=True)) == (
        "Shared “Grants.docx” with the group team-x: can edit."
    )
    assert grants_of(sharing_host, item) == {"user:bob": pb.ROLE_VIEWER, "group:team-x": pb.ROLE_EDITOR}
    dialog = alice.get(f"/browse/files/{file_id}/sharing").text
    assert 'aria-label="Role of bob"><option value="viewer" selected>Can view</option>' in dialog
    assert "Group team-x" in dialog and "added by Alice" in dialog

    alice.share("files", file_id, "bob", "manager")  # the change form posts the same
    assert grants_of(sharing_host, item)["user:bob"] == pb.ROLE_MANAGER
    assert flash_after(alice, alice.unshare("files", file_id, "bob")) == "Removed the access of bob to “Grants.docx”."
    assert grants_of(sharing_host, item) == {"group:team-x": pb.ROLE_EDITOR}
    assert 'data-grantee="bob"' not in alice.get(f"/browse/files/{file_id}/sharing").text


def test_the_dialog_explains_what_it_refuses(sharing_host: WopiHost, people: dict[str, Person]) -> None:
    """Malformed ids, the owner as grantee, an unknown role, a missing CSRF token: nothing changes."""
    alice = people["alice"]
    file_id = alice.upload(alice.root_id(), "Refusals.docx")
    item = ItemRef(file_id, False)
    cases = [
        ("bob smith", "viewer", False, "A user id is 1 to 256 printable ASCII characters, without spaces."),
        ("a,b", "viewer", True, "A group id is 1 to 256 printable ASCII characters, without spaces or commas."),
        ("", "viewer", False, "Enter the id of the person or group to share with."),
        ("bob", "owner", False, "Choose one of the roles offered."),
        ("alice", "editor", False, "alice owns “Refusals.docx”: an owner can always do everything with it."),
    ]
    for grantee, role, group, text in cases:
        assert flash_after(alice, alice.share("files", file_id, grantee, role, group=group)) == text
    refused = alice.post(
        f"/browse/files/{file_id}/sharing/grant", {"kind": "user", "id": "bob", "role": "editor"}, csrf=False
    )
    assert refused.status_code == 403 and "Nothing was changed" in refused.text
    wrong = alice.client.post(
        f"/browse/files/{file_id}/sharing/grant", data={"kind": "user", "id": "bob", "role": "editor", "csrf": "x"}
    )
    assert wrong.status_code == 403
    assert grants_of(sharing_host, item) == {}


def test_too_many_grants_is_said_in_words(sharing_host: WopiHost, people: dict[str, Person]) -> None:
    """Storage's RESOURCE_EXHAUSTED (256 grants on one item) becomes a sentence in the dialog."""
    alice = people["alice"]
    file_id = alice.upload(alice.root_id(), "Crowded.docx")
    item = ItemRef(file_id, False)

    async def fill() -> None:
        client = StorageClient(sharing_host.storage.target, sharing_host.storage.secret)
        try:
            for start in range(0, 256, 32):
                await asyncio.gather(
                    *(
                        client.grant_access(item, pb.Grantee(user_id=f"user-{n}"), pb.ROLE_VIEWER, ALICE)
                        for n in range(start, start + 32)
                    )
                )
        finally:
            await client.close()

    asyncio.run(fill())
    text = flash_after(alice, alice.share("files", file_id, "one-more", "viewer"))
    assert (
        text
        == "“Crowded.docx” was not shared with one-more: it has as many grants as storage allows. Remove one first."
    )


def test_a_manager_may_share_further(sharing_host: WopiHost, people: dict[str, Person]) -> None:
    """A manager sees the dialog's controls and shares on; a manager's own dialog of a folder below shows the
    folder's grant as inherited, not as a control."""
    alice, carol = people["alice"], people["carol"]
    folder = alice.new_folder(alice.root_id(), "Managed")
    below = alice.new_folder(folder, "Below")
    alice.share("folders", folder, "carol", "manager")
    listing = carol.get(f"/?container={folder}").text
    assert 'href="/browse/folders/' + below + '/sharing">Share…</a>' in listing
    assert 'id="upload-input"' in listing and 'id="new-menu"' in listing  # a manager may edit as well

    dialog = carol.get(f"/browse/folders/{folder}/sharing").text
    assert "/sharing/grant" in dialog and 'aria-label="Remove carol"' in dialog
    assert flash_after(carol, carol.share("folders", folder, "dave", "editor")) == (
        "Shared “Managed” with dave: can edit."
    )
    assert grants_of(sharing_host, ItemRef(folder, True)) == {
        "user:carol": pb.ROLE_MANAGER,
        "user:dave": pb.ROLE_EDITOR,
    }
    inner = carol.get(f"/browse/folders/{below}/sharing").text
    assert "From folders above" in inner and "from the folder “Managed”" in inner
    assert 'aria-label="Remove carol"' not in inner  # inherited: removed where it is, on "Managed"


def test_a_user_without_access_gets_404(sharing_host: WopiHost, people: dict[str, Person]) -> None:
    """dave was given nothing: alice's file and folder are not found, through the dialog and its forms alike."""
    alice, dave = people["alice"], people["dave"]
    file_id = alice.upload(alice.root_id(), "Private.docx")
    folder = alice.new_folder(alice.root_id(), "Private folder")
    assert dave.get(f"/browse/files/{file_id}/sharing").status_code == 404
    assert dave.get(f"/browse/folders/{folder}/sharing").status_code == 404
    assert dave.share("files", file_id, "dave", "manager").status_code == 404
    assert dave.unshare("folders", folder, "alice").status_code == 404
    assert dave.get("/browse/files/not*an*id/sharing").status_code == 404
    assert "Private.docx" not in dave.get("/").text
    assert grants_of(sharing_host, ItemRef(file_id, False)) == {}


def test_shared_with_me_lists_and_pages(sharing_host: WopiHost, people: dict[str, Person]) -> None:
    """erin sees what alice shared with her, a page at a time, with who shared it and the role; a file opens the
    host page, a folder its listing, where the path shows only what erin may open."""
    alice, erin = people["alice"], people["erin"]
    empty = erin.get("/shared")
    assert empty.status_code == 200 and "Nothing is shared with you yet." in empty.text
    root = alice.root_id()
    private = alice.new_folder(root, "Alice only")
    inner = alice.new_folder(private, "Shared inner")
    names = ["Shared one.docx", "Shared two.xlsx", "Shared three.pptx"]
    file_ids = [alice.upload(root, name) for name in names]
    for file_id, role in zip(file_ids, ("viewer", "editor", "viewer"), strict=True):
        alice.share("files", file_id, "erin", role)
    alice.share("folders", inner, "erin", "viewer")

    seen: list[str] = []
    url = "/shared?size=3"
    pages_seen = 0
    while url:
        page = erin.get(url)
        assert page.status_code == 200
        pages_seen += 1
        rows = re.findall(r'<li class="row row-shared">.*?</li>', page.text, re.S)
        assert 1 <= len(rows) <= 3
        for row in rows:
            assert '<span class="cell-by">Alice</span>' in row
            seen.append(html.unescape(re.search(r'class="name" href="[^"]+">([^<]+)</a>', row).group(1)))  # type: ignore[union-attr]
        more = re.search(r'<a class="button primary" href="([^"]+)">More</a>', page.text)
        url = html.unescape(more.group(1)) if more else ""
    assert pages_seen == 2 and sorted(seen) == sorted([*names, "Shared inner"])

    everything = erin.get("/shared").text
    two = row_of(everything, "Shared two.xlsx")
    assert "Can edit" in two and f"/host/{file_ids[1]}?action=view" in two
    assert f'/host/{file_ids[1]}?action=edit" aria-label="Edit Shared two.xlsx"' in two
    one = row_of(everything, "Shared one.docx")
    assert "Can view" in one and "?action=edit" not in one
    folder_row = row_of(everything, "Shared inner")
    assert f'href="/?container={inner}"' in folder_row

    # The folder's own page: the folder above it is alice's alone, so the path skips it and "up" leads back here.
    listing = erin.get(f"/?container={inner}").text
    crumbs = listing.split('class="crumbs"')[1].split("</ol>")[0]
    assert "Alice only" not in listing and 'class="crumb-gap"' in crumbs
    assert '<a class="back-link" href="/shared">' in listing
    assert "This folder is empty.</li>" in listing and "Upload a document" not in listing


def test_a_bad_page_token_is_a_readable_error(sharing_host: WopiHost, people: dict[str, Person]) -> None:
    answer = people["erin"].get("/shared?page=not-a-token")
    assert answer.status_code == 400 and "Storage refused it" in answer.text


def test_without_access_control_nothing_can_be_shared(open_host: WopiHost) -> None:
    """Storage that keeps no permissions: no Share action, no Shared with me; their URLs say why."""
    person = Person(open_host, "alice")
    try:
        folder = person.new_folder(person.root_id(), "Open folder")
        file_id = person.upload(folder, "Open.docx")
        listing = person.get(f"/?container={folder}").text
        assert "Share" not in listing and "/shared" not in listing and 'class="places"' not in listing
        assert "/rename" in listing and 'id="upload-input"' in listing  # everything else as before
        for url in ("/shared", f"/browse/files/{file_id}/sharing", f"/browse/folders/{folder}/sharing"):
            answer = person.get(url)
            assert answer.status_code == 404 and "Sharing is not available" in answer.text, url
    finally:
        person.close()

"""Lock administration over real processes: `wopi-host admin locks` and `wopi-host admin unlock` against a running
`wopi-storage` with an administrator (`--admin-principal`), the file browser's Unlock form (a CSRF-checked POST,
refused for whoever does not manage the document's sharing, storage deciding), and a lock left by a crashed editor
(a WOPI session never unlocked, 1-second locks here) that expires on its own and then shows nowhere.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.frontend.servers import WopiHost
from tests.frontend.test_details_page import OPERATOR, Person, Storage
from tests.frontend.wopi import WopiFile, mint
from wopi_proto.storage_v1 import storage_pb2 as pb


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WopiHost]:
    base = Path(tmp_path_factory.mktemp("wopi-lock-admin"))
    with WopiHost(
        base,
        storage_args=("--admin-principal", OPERATOR),
        WOPI_IDENTITY_HEADER="X-Forwarded-User",
        WOPI_LOCK_TTL="1",  # a WOPI editor's lock lasts 1 s: a crashed one's expires while the test waits
    ) as host:
        yield host


@pytest.fixture
def storage(host: WopiHost) -> Iterator[Storage]:
    opened = Storage(host)
    yield opened
    opened.close()


def admin(host: WopiHost, *args: str, principal: str | None = OPERATOR) -> subprocess.CompletedProcess[str]:
    """`wopi-host admin ...` as an operator runs it, with the services' configuration."""
    environment = {key: value for key, value in host.environment.items() if key != "WOPI_ADMIN_PRINCIPAL"}
    if principal is not None:
        environment["WOPI_ADMIN_PRINCIPAL"] = principal
    return subprocess.run(
        [sys.executable, "-m", "wopi_frontend", "admin", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def listed(output: str) -> dict[str, list[str]]:
    """`admin locks`' lines by file id: (name, holder, since, expires)."""
    lines = output.splitlines()
    assert not lines or lines[0].startswith("FILE ID\t")
    return {line.split("\t")[0]: line.split("\t")[1:] for line in lines[1:]}


def test_the_admin_cli_lists_the_locked_files_and_breaks_a_lock(host: WopiHost, storage: Storage) -> None:
    """The operator sees every locked file (page after page: here one a page), who holds it, since and until when;
    unlocking one with a reason frees it, and its history says who broke whose lock and why. Anyone else, or no
    administrator named, is refused and nothing changes."""
    files = [storage.new_file("alice", f"{uuid.uuid4().hex[:8]}-locked-{n}.docx") for n in range(2)]
    for file in files:
        storage.share(file.file_id, "alice", "bob")
        storage.lock(file.file_id, f"session-{file.file_id}", "bob", "Bob Builder")

    shown = admin(host, "locks", "--page-size", "1")
    assert shown.returncode == 0, shown.stderr
    locks = listed(shown.stdout)
    for file in files:
        name, holder, since, expires = locks[file.file_id]
        assert (name, holder) == (file.name, "Bob Builder (bob)")
        assert since != "-" and since < expires
    assert "locked file" in shown.stderr

    refused = admin(host, "locks", principal="bob")
    assert refused.returncode == 1 and "not an administrator" in refused.stderr and not refused.stdout
    missing = admin(host, "unlock", files[0].file_id, "--reason", "x", principal=None)
    assert missing.returncode == 2 and "--admin-principal" in missing.stderr
    assert storage.lock_id(files[0].file_id) == f"session-{files[0].file_id}"

    done = admin(host, "unlock", files[0].file_id, "--reason", "Bob's editor crashed")
    assert done.returncode == 0, done.stderr
    assert f"unlocked {files[0].file_id}" in done.stdout and "Bob Builder" in done.stdout
    assert storage.lock_id(files[0].file_id) == ""
    [event, *_] = storage.trail(files[0].file_id)
    assert (event.action, event.reason) == (pb.AUDIT_ACTION_LOCK_BROKEN, "Bob's editor crashed")
    assert (event.actor.user_id, event.lock_holder.user_id) == (OPERATOR, "bob")
    again = admin(host, "unlock", files[0].file_id, "--reason", "twice")
    assert again.returncode == 1 and "not locked" in again.stderr
    remaining = listed(admin(host, "locks").stdout)
    assert files[0].file_id not in remaining and files[1].file_id in remaining


def test_the_unlock_form_needs_its_token_and_the_right_to_manage_the_document(host: WopiHost, storage: Storage) -> None:
    """The owner's Unlock form breaks the editor's lock, with the reason in the history. Without the form token
    (a forged POST), or posted by the editor, who does not manage the document's sharing (storage refuses it), it
    is 403 and the lock stays; a blank reason is refused before storage is asked."""
    file = storage.new_file("alice", f"{uuid.uuid4().hex[:8]}-stuck.docx")
    storage.share(file.file_id, "alice", "bob")
    storage.lock(file.file_id, "bob-session", "bob", "Bob Builder")
    alice, bob = Person(host, "alice", "Alice"), Person(host, "bob", "Bob Builder")
    unlock = f"/browse/files/{file.file_id}/unlock"
    try:
        forged = alice.post(unlock, {"reason": "forged"}, csrf=False)
        assert forged.status_code == 403 and "Nothing was changed" in forged.text
        as_editor = bob.post(unlock, {"reason": "I want it"})
        assert as_editor.status_code == 403 and "Only someone who manages the sharing" in as_editor.text
        blank = alice.post(unlock, {"reason": "   "})
        assert blank.status_code == 303
        assert storage.lock_id(file.file_id) == "bob-session"
        assert all(event.action != pb.AUDIT_ACTION_LOCK_BROKEN for event in storage.trail(file.file_id))

        done = alice.post(unlock, {"reason": "Bob's <editor> crashed"})
        assert done.status_code == 303 and done.headers["location"] == f"/browse/files/{file.file_id}/details"
        assert storage.lock_id(file.file_id) == ""
        page = alice.get(done.headers["location"]).text
        assert "Unlocked “" in page and "Not locked" in page and unlock not in page
        assert "broke the editing lock of Bob Builder: “Bob&#x27;s &lt;editor&gt; crashed”" in page
    finally:
        alice.close()
        bob.close()


def test_a_lock_left_by_a_crashed_editor_expires_and_then_shows_nowhere(host: WopiHost, storage: Storage) -> None:
    """A WOPI editor locks (for 1 s here) and is never heard of again. Once storage says the lock expired (waited
    for as a state, not assumed after a duration), the listing's badge, the details and the admin list show none,
    and nothing was recorded for the expiry (it is no change). (While a lock lives, each of them shows it: see
    the tests above and test_details_page.py.)"""
    name = f"{uuid.uuid4().hex[:8]}-crashed.docx"
    session = WopiFile.from_session(host, mint(host, name, user="alice"))
    assert session.lock("crashed-editor").status_code == 200
    deadline = time.monotonic() + 10
    while storage.lock_id(session.file_id):
        assert time.monotonic() < deadline, "the lock never expired"
        time.sleep(0.1)
    alice = Person(host, "alice", "Alice")
    try:
        listing = alice.get("/").text
        [row] = [row for row in re.findall(r'<li class="row[^"]*">.*?</li>', listing, re.S) if html.escape(name) in row]
        assert "badge-lock" not in row
        page = alice.get(f"/browse/files/{session.file_id}/details").text
        assert "Not locked" in page and "locked by" not in page
    finally:
        alice.close()
    assert session.file_id not in listed(admin(host, "locks").stdout)
    actions = [event.action for event in storage.trail(session.file_id)]
    assert actions == [pb.AUDIT_ACTION_LOCKED, pb.AUDIT_ACTION_CREATED]

"""Sharing in a real browser (issue 9): two people behind an identity proxy's header, storage enforcing access
control, the stand-in office as the editor.

alice uploads a document and shares it with bob as a viewer through the Share dialog; bob finds it under
Shared with me and opens it read-only; alice makes him an editor and his save lands in storage; alice removes
his access and his next save, from the page he still has open, is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import host_with_office, screenshot
from tests.browser.office_client import StandInOffice
from tests.frontend.servers import WopiHost

DOCUMENT = "Team plan.docx"
ALICE = {"X-Forwarded-User": "alice", "X-Forwarded-Name": "Alice"}
BOB = {"X-Forwarded-User": "bob", "X-Forwarded-Name": "Bob"}
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="module")
def shared_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WopiHost, StandInOffice]]:
    """People identified by `X-Forwarded-User` (no development user), storage enforcing access control, and the
    stand-in office as the WOPI client."""
    host = WopiHost(
        Path(tmp_path_factory.mktemp("browser-sharing")),
        storage_args=("--access-control", "true"),
        WOPI_IDENTITY_HEADER="X-Forwarded-User",
    )
    with host_with_office(host) as both:
        yield both


def _row(page: Any, name: str) -> Any:
    return page.locator("li.row", has=page.get_by_role("link", name=name, exact=True))


def _grant(page: Any, user_id: str) -> Any:
    return page.locator(f'li.grant[data-grantee="{user_id}"]')


def test_share_view_edit_and_revoke(shared_host: tuple[WopiHost, StandInOffice], open_page: Callable[..., Any]) -> None:
    host, office = shared_host
    alice = open_page(viewport=DESKTOP, extra_http_headers=ALICE)
    bob = open_page(viewport=DESKTOP, extra_http_headers=BOB)

    # alice uploads a document into her documents.
    alice.goto(host.url + "/")
    alice.locator("#upload-input").set_input_files(
        files=[{"name": DOCUMENT, "mimeType": "application/octet-stream", "buffer": b"alice's plan"}]
    )
    expect(_row(alice, DOCUMENT)).to_be_visible(timeout=10_000)
    stored = host.documents / DOCUMENT
    assert stored.read_bytes() == b"alice's plan"

    # bob cannot see it yet.
    bob.goto(host.url + "/")
    expect(_row(bob, DOCUMENT)).to_have_count(0)

    # alice shares it with bob, as a viewer, through the Share dialog.
    _row(alice, DOCUMENT).locator("summary").click()
    _row(alice, DOCUMENT).get_by_role("link", name="Share…").click()
    expect(alice.locator("#share-title")).to_have_text(f"Share “{DOCUMENT}”")
    expect(alice.locator(".grant-owner")).to_contain_text("Alice")
    form = alice.locator("form.share-add")
    form.get_by_label("User or group id").fill("bob")
    form.get_by_label("Role").select_option("viewer")
    form.get_by_role("button", name="Share").click()
    expect(alice.locator(".notice-ok")).to_have_text(f"Shared “{DOCUMENT}” with bob: can view.")
    expect(_grant(alice, "bob").locator("select")).to_have_value("viewer")
    expect(_grant(alice, "bob")).to_contain_text("added by Alice")
    sharing_url = alice.url
    screenshot(alice, "share-dialog")

    # The same dialog on a phone: nothing wider than the screen.
    phone = open_page(extra_http_headers=ALICE, **PHONE)
    phone.goto(sharing_url)
    expect(_grant(phone, "bob")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(phone, "share-dialog-phone")

    # bob finds it under Shared with me, shared by Alice, and opens it: read-only.
    bob.get_by_role("link", name="Shared with me").click()
    shared = _row(bob, DOCUMENT)
    expect(shared.locator(".cell-by")).to_have_text("Alice")
    expect(shared.locator(".cell-role")).to_have_text("Can view")
    expect(shared.get_by_role("link", name=f"Edit {DOCUMENT}")).to_have_count(0)
    screenshot(bob, "shared-with-me")
    shared.get_by_role("link", name=DOCUMENT, exact=True).click()
    frame = bob.frame_locator("#office_frame")
    expect(frame.locator("#handshake")).to_have_text("host ready")
    expect(frame.locator("#mode")).to_have_text("read-only")
    expect(frame.locator("#save")).to_be_disabled()
    expect(frame.locator("#contents")).to_have_value("alice's plan")
    assert office.forms()[-1]["action"] == "view"
    assert ("Lock", 200) not in office.wopi_calls()[-2:]
    screenshot(bob, "shared-read-only")
    # Asking the host page to edit changes nothing: a viewer is framed to view.
    bob.goto(bob.url.replace("?action=view", "?action=edit"))
    expect(frame.locator("#mode")).to_have_text("read-only")
    assert office.forms()[-1]["action"] == "view"

    # alice makes bob an editor: his Edit opens the document for editing, and his save lands in storage.
    alice.reload()
    _grant(alice, "bob").locator("select").select_option("editor")
    _grant(alice, "bob").get_by_role("button", name="Change").click()
    expect(alice.locator(".notice-ok")).to_have_text(f"Shared “{DOCUMENT}” with bob: can edit.")
    bob.goto(host.url + "/shared")
    expect(_row(bob, DOCUMENT).locator(".cell-role")).to_have_text("Can edit")
    _row(bob, DOCUMENT).get_by_role("link", name=f"Edit {DOCUMENT}").click()
    bob.wait_for_url(re.compile(r"/host/[A-Za-z0-9_-]+\?action=edit$"))
    expect(frame.locator("#handshake")).to_have_text("host ready")
    expect(frame.locator("#mode")).to_have_text("editing")
    frame.locator("#contents").fill("bob's changes")
    frame.locator("#save").click()
    expect(frame.locator("#status")).to_have_text("Saved")
    assert stored.read_bytes() == b"bob's changes"

    # alice removes bob's access; his next save, from the page still open, is refused and changes nothing.
    alice.reload()
    _grant(alice, "bob").get_by_role("button", name="Remove bob").click()
    expect(alice.locator(".notice-ok")).to_have_text(f"Removed the access of bob to “{DOCUMENT}”.")
    expect(_grant(alice, "bob")).to_have_count(0)
    frame.locator("#contents").fill("after the revocation")
    frame.locator("#save").click()
    expect(frame.locator("#status")).to_have_text(re.compile(r"^Refused: \w+ 404$"))
    assert stored.read_bytes() == b"bob's changes"
    bob.goto(host.url + "/shared")
    expect(bob.locator(".empty")).to_have_text("Nothing is shared with you yet.")

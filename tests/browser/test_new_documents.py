"""New documents in a real browser: the file browser's New makes one of each kind from its blank document, and
each opens in the stand-in office with exactly those bytes."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import folder_on_disk, folder_url, screenshot
from tests.browser.office_client import StandInOffice
from tests.frontend.servers import WopiHost
from wopi_frontend.blank_documents import blank_document
from wopi_frontend.routes.page_support import NEW_DOCUMENT_TYPES


def test_each_kind_is_made_from_its_template_and_opens(office_host: tuple[WopiHost, StandInOffice], page: Any) -> None:
    host, office = office_host
    folder = folder_on_disk(host, "From templates")
    listing = folder_url(host, "From templates")
    for extension, label in NEW_DOCUMENT_TYPES.items():
        page.goto(listing)
        page.locator("#new-menu summary").click()
        form = page.locator("#new-menu form").first
        form.get_by_label("Name").fill("Kick-off")
        form.get_by_label("Type").select_option(label=label)
        if extension == ".pptx":
            screenshot(page, "new-document-menu")
        form.get_by_role("button", name="Create document").click()

        # Not empty: the host page opens it with `edit` (an empty file would get `editnew`), and the stand-in
        # office reads the blank document's bytes with its GetFile.
        name = f"Kick-off{extension}"
        page.wait_for_url(re.compile(r"/host/[A-Za-z0-9_-]+\?action=edit$"))
        frame = page.frame_locator("#office_frame")
        expect(frame.locator("#doc-name")).to_have_text(name)
        expect(frame.locator("#handshake")).to_have_text("host ready")
        expect(page.locator("body")).to_have_attribute("data-app-loaded", "true")
        expect(page).to_have_title(f"{name} - wopi-host")
        assert office.forms()[-1]["action"] == "edit"
        session = next(session for session in reversed(office.sessions.values()) if session.name == name)
        assert session.contents == blank_document(extension)
        assert (folder / name).stat().st_size == len(blank_document(extension))
        assert (folder / name).read_bytes() == blank_document(extension)
    page.goto(listing)
    expect(page.locator("li.row-file")).to_have_count(len(NEW_DOCUMENT_TYPES))
    screenshot(page, "new-documents-from-templates")

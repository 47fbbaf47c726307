"""A document's activity in a real browser: the stand-in office reports a comment with AddActivities (signed, as
Office for the web sends it) while the document is open, and the file browser's Activity page shows it."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import DEV_USER, folder_on_disk, folder_url, screenshot
from tests.browser.office_client import StandInOffice
from tests.frontend.servers import WopiHost
from wopi_frontend.blank_documents import blank_document


def test_a_comment_reported_by_the_editor_is_listed(office_host: tuple[WopiHost, StandInOffice], page: Any) -> None:
    host, office = office_host
    folder_on_disk(host, "Reviewed", {"Plan.docx": blank_document(".docx")})
    listing = folder_url(host, "Reviewed")
    page.goto(listing)
    row = page.locator("li.row-file", has_text="Plan.docx")
    row.get_by_role("link", name="Edit Plan.docx").click()
    page.wait_for_url(re.compile(r"/host/[A-Za-z0-9_-]+\?action=edit$"))
    expect(page.locator("body")).to_have_attribute("data-app-loaded", "true")
    session = next(session for session in reversed(office.sessions.values()) if session.name == "Plan.docx")

    answers = office.add_comment(session, "7f3c", "Can we <b>ship</b> this on Friday?", mentioned="Dana")
    assert answers == [{"Id": "7f3c", "Status": 0}]

    page.goto(listing)
    row = page.locator("li.row-file", has_text="Plan.docx")
    row.locator("summary").click()
    row.get_by_role("link", name="Activity").click()
    page.wait_for_url(re.compile(r"/browse/files/[A-Za-z0-9_-]+/activity$"))
    entry = page.locator("#activities li.activity")
    expect(entry).to_have_count(1)
    expect(entry.locator(".activity-what")).to_contain_text(f"{DEV_USER} commented")
    expect(entry.locator(".activity-text")).to_have_text("Can we <b>ship</b> this on Friday?")  # text, not markup
    expect(entry.locator(".activity-people")).to_have_text("Mentioned: Dana")
    expect(page.get_by_role("heading", name="Activity in “Plan.docx”")).to_be_visible()
    screenshot(page, "document-activity")

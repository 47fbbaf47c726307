"""The whole path in a real browser: the file browser lists a document, Edit opens the host page, the host page
POSTs the token into the stand-in office's frame, the stand-in's signed WOPI calls save new bytes to storage,
and its UI_Close brings the person back to the folder."""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import DEV_USER, folder_on_disk, folder_url, screenshot
from tests.browser.office_client import StandInOffice
from tests.frontend.servers import WopiHost

SANDBOX = "allow-scripts allow-same-origin allow-forms allow-popups allow-top-navigation allow-popups-to-escape-sandbox"


def test_open_edit_save_and_close(office_host: tuple[WopiHost, StandInOffice], page: Any, browser: Any) -> None:
    host, office = office_host
    folder = folder_on_disk(
        host,
        "Team documents",
        {
            "Quarterly report.docx": b"first draft",
            "Budget 2025.xlsx": b"x" * 48_213,
            "Kick-off slides.pptx": b"x" * 1_843_200,
            "Meeting notes.odt": b"x" * 9_730,
        },
    )
    (folder / "Archive").mkdir()

    # The file browser lists the folder and the document.
    page.goto(host.url + "/")
    page.get_by_role("link", name="Team documents", exact=True).click()
    report = page.locator("li.row-file", has_text="Quarterly report.docx")
    expect(report).to_be_visible()
    expect(report.locator(".cell-size")).to_have_text("11 B")
    expect(page.locator("li.row-folder", has_text="Archive")).to_be_visible()
    listing_url = page.url

    # Edit leads to the host page, which frames the stand-in office with the token POSTed, not in the URL.
    report.get_by_role("link", name="Edit Quarterly report.docx").click()
    page.wait_for_url(re.compile(r"/host/[A-Za-z0-9_-]+\?action=edit$"))
    file_id = page.url.split("/host/")[1].split("?")[0]
    frame = page.frame_locator("#office_frame")
    expect(frame.locator("#handshake")).to_have_text("host ready")
    expect(page.locator("body")).to_have_attribute("data-app-loaded", "true")
    expect(frame.locator("#contents")).to_have_value("first draft")
    expect(page).to_have_title("Quarterly report.docx - wopi-host")

    posted = office.forms()[-1]
    assert posted["action"] == "edit"
    assert posted["params"]["wopisrc"] == [f"{host.url}/wopi/files/{file_id}"]
    assert "access_token" not in posted["query"]
    assert posted["form"]["access_token"].isalnum()
    assert int(posted["form"]["access_token_ttl"]) > time.time() * 1000
    iframe = page.locator("iframe#office_frame")
    expect(iframe).to_have_attribute("name", "office_frame")
    expect(iframe).to_have_attribute("sandbox", SANDBOX)
    expect(iframe).to_have_attribute("allowfullscreen", "true")
    expect(iframe).to_have_attribute("title", "Quarterly report.docx (Word)")
    screenshot(page, "host-page")

    # Meanwhile, in another tab, the folder shows the document as being edited.
    other = page.context.new_page()
    other.goto(listing_url)
    expect(other.locator("li.row-file", has_text="Quarterly report.docx").locator(".cell-status")).to_have_text(
        f"Editing: {DEV_USER}"
    )
    screenshot(other, "file-browser")
    other.close()

    # Save: the stand-in's PutFile (signed, with its lock) changes the stored bytes; then it unlocks.
    frame.locator("#contents").fill("saved by the stand-in office")
    frame.locator("#save").click()
    expect(frame.locator("#status")).to_have_text("Saved")
    assert (folder / "Quarterly report.docx").read_bytes() == b"saved by the stand-in office"
    assert office.wopi_calls()[-5:] == [
        ("CheckFileInfo", 200),
        ("Lock", 200),
        ("GetFile", 200),
        ("PutFile", 200),
        ("Unlock", 200),
    ]
    # The frame loaded a new page: the handshake happens again before anything else.
    expect(frame.locator("#handshake")).to_have_text("host ready")

    # UI_Close returns to the file browser, at the document's folder; the lock is gone.
    frame.locator("#close").click()
    page.wait_for_url(listing_url)
    row = page.locator("li.row-file", has_text="Quarterly report.docx")
    expect(row).to_be_visible()
    expect(row.locator(".cell-status")).to_have_text("")


def test_postmessage_from_the_editor(office_host: tuple[WopiHost, StandInOffice], page: Any) -> None:
    host, office = office_host
    folder_on_disk(host, "Messages", {"Plan.docx": b"plan"})
    listing = folder_url(host, "Messages")
    page.goto(listing)
    view_url = page.get_by_role("link", name="Plan.docx", exact=True).get_attribute("href")
    assert view_url is not None and view_url.endswith("?action=view")

    # wd* parameters reach the frame unchanged; wdPreviousSession and wdPreviousCorrelation then leave the URL.
    page.goto(view_url + "&wdPreviousSession=abc%2Fdef&wdOrigin=BROWSELIST&wdPreviousCorrelation=42&other=1")
    frame = page.frame_locator("#office_frame")
    expect(frame.locator("#handshake")).to_have_text("host ready")
    posted = office.forms()[-1]
    assert posted["action"] == "view"
    assert "wdPreviousSession=abc%2Fdef" in posted["query"]
    assert "wdOrigin=BROWSELIST" in posted["query"]
    assert "wdPreviousCorrelation=42" in posted["query"]
    assert "other=1" not in posted["query"]
    assert page.url.endswith("?action=view&wdOrigin=BROWSELIST&other=1")

    # A message from anywhere but the editor's origin is ignored (here: the host page's own origin).
    page.evaluate("window.postMessage(JSON.stringify({MessageId: 'UI_Close', SendTime: Date.now(), Values: {}}), '*')")
    page.wait_for_timeout(300)
    assert "/host/" in page.url

    # UI_Sharing shows the share links, with the editor told to let go of the focus meanwhile.
    frame.locator("#share").click()
    dialog = page.locator("#share-dialog")
    expect(dialog).to_be_visible()
    links = dialog.locator("input")
    expect(links).to_have_count(2)
    expect(links.nth(0)).to_have_value(re.compile(r"/host/[A-Za-z0-9_-]+\?action=view$"))
    expect(links.nth(1)).to_have_value(re.compile(r"/host/[A-Za-z0-9_-]+\?action=edit$"))
    screenshot(page, "host-page-share")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    expect(frame.locator("#received")).to_have_text("Host_PostmessageReady,Blur_Focus,Grab_Focus")

    # UI_FileVersions lists the versions, each downloadable.
    frame.locator("#versions").click()
    versions = page.locator("#versions-dialog")
    expect(versions.locator("#versions-list li").first).to_contain_text("Current")
    download = versions.get_by_role("link", name="Download").first.get_attribute("href")
    assert download is not None and "/browse/download/" in download
    versions.get_by_role("button", name="Close").click()

    # File_Rename updates the title; Edit_Notification says the document is being edited.
    frame.locator("#rename").click()
    expect(page).to_have_title("Renamed by the editor.docx - wopi-host")
    frame.locator("#edited").click()
    expect(page.locator("#toast")).to_contain_text("You are editing")

    # UI_Edit switches to the edit action.
    frame.locator("#switch-to-edit").click()
    page.wait_for_url(re.compile(r"\?action=edit$"))
    expect(frame.locator("#action")).to_have_text("edit")
    expect(frame.locator("#handshake")).to_have_text("host ready")

"""The file browser in a real browser: upload with progress, new documents, rename, delete, folders, a phone's
screen, and names that try to inject HTML."""

from __future__ import annotations

import os
import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Watched, folder_on_disk, folder_url, screenshot
from tests.browser.office_client import StandInOffice
from tests.frontend.servers import WopiHost
from wopi_frontend.blank_documents import blank_document

Host = tuple[WopiHost, StandInOffice]


def _row(page: Any, name: str) -> Any:
    return page.locator("li.row", has=page.get_by_role("link", name=name, exact=True))


def _open_menu(page: Any, name: str) -> Any:
    row = _row(page, name)
    row.locator("summary").click()
    return row.locator(".menu-panel")


def test_upload_streams_with_a_progress_bar(office_host: Host, page: Any) -> None:
    host, _ = office_host
    folder = folder_on_disk(host, "Uploads")
    page.goto(folder_url(host, "Uploads"))
    # Slow the upload down (about 1 MB/s) so the bar has something to show between 0 and 100 %.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 5, "downloadThroughput": -1, "uploadThroughput": 1_000_000},
    )
    data = os.urandom(1_500_000)
    page.locator("#upload-input").set_input_files(
        files=[{"name": "Großer Bericht.pdf", "mimeType": "application/pdf", "buffer": data}]
    )
    page.locator(".upload.done").wait_for(state="attached", timeout=20_000)
    state = page.evaluate(
        """() => {
            const row = document.querySelector('.upload.done');
            return {value: row.querySelector('progress').value, seen: row.dataset.progressSeen || '',
                    text: row.querySelector('.upload-state').textContent};
        }"""
    )
    assert state["value"] == 100
    assert state["text"] == "Uploaded 1.4 MB"
    seen = [int(value) for value in state["seen"].split(",") if value]
    assert any(0 < value < 100 for value in seen), f"no progress between 0 and 100 %: {seen}"
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )

    # The page reloads with the new document in the list; storage has exactly the bytes sent.
    expect(_row(page, "Großer Bericht.pdf")).to_be_visible(timeout=10_000)
    expect(_row(page, "Großer Bericht.pdf").locator(".cell-size")).to_have_text("1.4 MB")
    assert (folder / "Großer Bericht.pdf").read_bytes() == data

    # The same name again is refused with a readable message, and the list is not reloaded over it.
    page.locator("#upload-input").set_input_files(
        files=[{"name": "Großer Bericht.pdf", "mimeType": "application/pdf", "buffer": b"other"}]
    )
    failed = page.locator(".upload.failed .upload-state")
    expect(failed).to_have_text("“Großer Bericht.pdf” already exists in this folder. Rename or delete it first.")
    assert (folder / "Großer Bericht.pdf").read_bytes() == data


def test_new_document_opens_in_the_editor(office_host: Host, page: Any) -> None:
    host, office = office_host
    folder = folder_on_disk(host, "New documents")
    listing = folder_url(host, "New documents")
    for expected in ("Minutes.odt", "Minutes (2).odt"):
        page.goto(listing)
        page.locator("#new-menu summary").click()
        page.locator("#new-menu form").first.get_by_label("Name").fill("Minutes")
        page.locator("#new-menu select[name=type]").select_option(".odt")
        page.get_by_role("button", name="Create document").click()
        # A blank document of its type, not an empty file: the host page opens it with the client's edit action.
        page.wait_for_url(re.compile(r"/host/[A-Za-z0-9_-]+\?action=edit$"))
        expect(page.frame_locator("#office_frame").locator("#doc-name")).to_have_text(expected)
        assert office.forms()[-1]["action"] == "edit"
        assert (folder / expected).read_bytes() == blank_document(".odt")
    page.goto(listing)
    expect(_row(page, "Minutes.odt")).to_be_visible()
    expect(_row(page, "Minutes (2).odt")).to_be_visible()


def test_rename_and_delete(office_host: Host, page: Any) -> None:
    host, _ = office_host
    folder = folder_on_disk(host, "Renames", {"Draft.docx": b"draft", "Old figures.xlsx": b"old"})
    page.goto(folder_url(host, "Renames"))

    menu = _open_menu(page, "Draft.docx")
    menu.get_by_label("Rename").fill("Final")  # the extension is kept when none is typed
    menu.get_by_role("button", name="Rename").click()
    expect(page.locator(".notice-ok")).to_have_text("Renamed “Draft.docx” to “Final.docx”.")
    expect(_row(page, "Final.docx")).to_be_visible()
    assert (folder / "Final.docx").read_bytes() == b"draft"
    assert not (folder / "Draft.docx").exists()

    menu = _open_menu(page, "Final.docx")
    menu.get_by_label("Rename").fill("a:b.docx")
    menu.get_by_role("button", name="Rename").click()
    expect(page.locator(".notice-error")).to_contain_text("That name cannot be used")
    expect(_row(page, "Final.docx")).to_be_visible()

    # Delete asks first; Cancel keeps the file.
    _open_menu(page, "Old figures.xlsx").get_by_role("button", name="Delete").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#confirm-text")).to_have_text("Delete “Old figures.xlsx”? This cannot be undone.")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert (folder / "Old figures.xlsx").exists()
    _open_menu(page, "Old figures.xlsx").get_by_role("button", name="Delete").click()
    dialog.get_by_role("button", name="Delete").click()
    expect(page.locator(".notice-ok")).to_have_text("Deleted “Old figures.xlsx”.")
    expect(_row(page, "Old figures.xlsx")).to_have_count(0)
    assert not (folder / "Old figures.xlsx").exists()


def test_folders_and_breadcrumbs(office_host: Host, page: Any) -> None:
    host, _ = office_host
    folder = folder_on_disk(host, "Folders")
    page.goto(folder_url(host, "Folders"))
    page.locator("#new-menu summary").click()
    # Opening the menu focuses its first field (browser.js, on "toggle"): wait for that, or the focus could
    # move there in the middle of typing into the second form.
    expect(page.locator("#new-menu form").first.get_by_label("Name")).to_be_focused()
    page.locator("#new-menu form").nth(1).get_by_label("Name").fill("Projects")
    page.get_by_role("button", name="Create folder").click()
    expect(page.locator(".notice-ok")).to_have_text("Created the folder “Projects”.")
    assert (folder / "Projects").is_dir()

    page.get_by_role("link", name="Projects", exact=True).click()
    expect(page.locator(".crumbs li")).to_have_text(["Documents", "Folders", "Projects"])
    expect(page.locator(".folder-title")).to_have_text("Projects")
    expect(page.locator(".empty")).to_be_visible()
    (folder / "Projects" / "Spec.docx").write_bytes(b"spec")
    page.reload()
    expect(_row(page, "Spec.docx")).to_be_visible()

    # Up through the breadcrumbs; a folder that is not empty is not deleted.
    page.locator(".crumbs").get_by_role("link", name="Folders").click()
    _open_menu(page, "Projects").get_by_role("button", name="Delete folder").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Delete").click()
    expect(page.locator(".notice-error")).to_have_text(
        "The folder “Projects” was not deleted: The folder is not empty. Delete what is inside it first."
    )

    menu = _open_menu(page, "Projects")
    menu.get_by_label("Rename").fill("Projects 2025")
    menu.get_by_role("button", name="Rename").click()
    expect(page.locator(".notice-ok")).to_have_text("Renamed the folder “Projects” to “Projects 2025”.")

    page.get_by_role("link", name="Projects 2025", exact=True).click()
    _open_menu(page, "Spec.docx").get_by_role("button", name="Delete").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Delete").click()
    expect(page.locator(".empty")).to_be_visible()
    page.get_by_role("link", name="Up one folder").click()
    _open_menu(page, "Projects 2025").get_by_role("button", name="Delete folder").click()
    page.locator("#confirm-dialog").get_by_role("button", name="Delete").click()
    expect(page.locator(".notice-ok")).to_have_text("Deleted the folder “Projects 2025”.")
    assert not (folder / "Projects 2025").exists()


def test_phone_sized_screen(office_host: Host, phone_page: Any) -> None:
    host, _ = office_host
    folder_on_disk(
        host,
        "Phone",
        {
            "A rather long name for a document that will not fit on a phone.docx": b"x" * 20_000,
            "Budget.xlsx": b"x" * 3_000,
            "Slides.pptx": b"x" * 700_000,
        },
    )
    page = phone_page
    page.goto(folder_url(host, "Phone"))
    expect(_row(page, "Budget.xlsx")).to_be_visible()
    # Nothing wider than the screen; the columns fold into one line under each name.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    expect(_row(page, "Budget.xlsx").locator(".cell-size")).to_be_hidden()
    expect(_row(page, "Budget.xlsx").locator(".meta")).to_contain_text("2.9 KB")
    menu = _open_menu(page, "Slides.pptx")
    expect(menu).to_be_visible()
    box = menu.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    page.mouse.click(195, 780)  # an empty spot: nothing keeps the focus
    screenshot(page, "file-browser-phone")

    # The host page's frame fills the phone's screen.
    _row(page, "Budget.xlsx").get_by_role("link", name="Budget.xlsx", exact=True).click()
    expect(page.frame_locator("#office_frame").locator("#handshake")).to_have_text("host ready")
    frame_box = page.locator("#office_frame").bounding_box()
    assert frame_box == {"x": 0, "y": 0, "width": 390, "height": 844}


def test_names_are_shown_as_text_never_as_html(office_host: Host, page: Any, watched: Watched) -> None:
    host, office = office_host
    evil_file = "<img src=x onerror=alert(1)>.docx"
    evil_folder = "\"'><svg onload=alert(2)>"
    evil_script = "<script>alert(3)<!--.docx"  # in the host page it also lands in a <script> block's JSON
    folder = folder_on_disk(host, "Injection", {evil_file: b"x", evil_script: b"y"})
    (folder / evil_folder).mkdir()
    page.goto(folder_url(host, "Injection"))

    expect(_row(page, evil_file)).to_be_visible()
    expect(page.locator("li.row-folder .name")).to_have_text(evil_folder)
    assert page.locator("img[src=x]").count() == 0
    assert page.locator("main script, svg").count() == 0
    menu = _open_menu(page, evil_file)
    expect(menu.get_by_label("Rename")).to_have_value(evil_file)
    menu.get_by_role("button", name="Delete").click()
    expect(page.locator("#confirm-text")).to_have_text(f"Delete “{evil_file}”? This cannot be undone.")
    page.locator("#confirm-dialog").get_by_role("button", name="Cancel").click()

    # The folder's own page and the host page: titles, breadcrumbs, the page's JSON, the share panel.
    page.get_by_role("link", name=evil_folder, exact=True).click()
    expect(page.locator(".crumbs li").last).to_have_text(evil_folder)
    expect(page).to_have_title(f"{evil_folder} - wopi-host")
    page.go_back()
    page.get_by_role("link", name=evil_script, exact=True).click()
    frame = page.frame_locator("#office_frame")
    expect(frame.locator("#handshake")).to_have_text("host ready")
    expect(page).to_have_title(f"{evil_script} - wopi-host")
    frame.locator("#share").click()
    expect(page.locator("#share-title")).to_have_text(f"Share “{evil_script}”")
    assert office.forms()[-1]["action"] == "view"
    assert watched.dialogs == []

"""New documents from real templates (new_documents.py, template_folder.py, template_documents.py).

Over real HTTP, against both services with the browser tests' stand-in office as the editor: each built-in kind
starts as its blank document; the organisation's templates (WOPI_TEMPLATES_DIR) are offered and used, a .dotx
becoming a .docx that python-docx opens; bad choices get a 4xx and nothing is created. In-process: a template's
zip is rewritten entry by entry in bounded chunks, and broken templates are refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import io
import os
import re
import struct
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import BinaryIO

import docx
import grpc
import httpx
import odf.opendocument
import openpyxl
import pptx
import pytest

from tests.browser.office_client import StandInOffice
from tests.frontend.servers import WopiHost
from wopi_frontend.blank_documents import blank_document
from wopi_frontend.routes import browser_actions
from wopi_frontend.routes.page_support import MIME_TYPES, NEW_DOCUMENT_TYPES
from wopi_frontend.storage_client import StorageCallError
from wopi_frontend.template_documents import (
    MAX_REWRITTEN_ENTRY,
    PIECE_BYTES,
    REWRITES,
    TemplateUnusable,
    document_chunks,
)
from wopi_frontend.template_folder import TemplateMissing, find_template, open_template
from wopi_frontend.types import Principal
from wopi_proto.storage_v1 import storage_pb2 as pb

MAX_FILE_SIZE = 1_000_000
# Each template kind, the document kind it makes, and a name for it in the templates folder.
TEMPLATE_KINDS = {
    ".dotx": (".docx", "Letterhead"),
    ".xltx": (".xlsx", "Budget"),
    ".potx": (".pptx", "Pitch"),
    ".ott": (".odt", "Report"),
    ".ots": (".ods", "Ledger"),
    ".otp": (".odp", "Slides"),
}


def as_template(document_extension: str, template_extension: str) -> bytes:
    """The blank document of `document_extension`, saying it is a template (what an office suite saves as one)."""
    entries, template_type, document_type = REWRITES[template_extension]
    source = zipfile.ZipFile(io.BytesIO(blank_document(document_extension)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename in entries:
                data = data.replace(document_type.encode(), template_type.encode())
            target.writestr(info, data)
    return out.getvalue()


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A document outside the templates folder, which must never be read through it."""
    folder = Path(tmp_path_factory.mktemp("outside"))
    (folder / "Secret.docx").write_bytes(b"secret: never to be copied")
    return folder


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory, outside: Path) -> Path:
    folder = Path(tmp_path_factory.mktemp("templates"))
    for template_extension, (document_extension, stem) in TEMPLATE_KINDS.items():
        (folder / f"{stem}{template_extension}").write_bytes(as_template(document_extension, template_extension))
    (folder / "Minutes.docx").write_bytes(blank_document(".docx"))  # a document: copied as it is
    (folder / "Alias.docx").symlink_to("Minutes.docx")  # a link to a file beside it: offered
    (folder / "Broken.dotx").write_bytes(b"not a zip at all")  # offered (it looks like one), refused when used
    (folder / "notes.txt").write_bytes(b"the editor does not edit .txt")
    (folder / ".hidden.docx").write_bytes(blank_document(".docx"))
    (folder / "~$Letterhead.dotx").write_bytes(b"Word's owner file")
    (folder / "Empty.docx").write_bytes(b"")
    (folder / "Huge.docx").write_bytes(b"x" * (MAX_FILE_SIZE + 1))
    (folder / "Escape.docx").symlink_to(outside / "Secret.docx")
    (folder / "Sub").mkdir()
    (folder / "Sub" / "Inner.docx").write_bytes(blank_document(".docx"))
    (folder / "Deep.docx").symlink_to("Sub/Inner.docx")  # into a folder inside: not directly in the folder
    (folder / "Folder.docx").mkdir()
    return folder


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory, templates: Path) -> Iterator[WopiHost]:
    base = Path(tmp_path_factory.mktemp("wopi-new-documents"))
    host = WopiHost(
        base, WOPI_DEV_USER="alice", WOPI_TEMPLATES_DIR=str(templates), WOPI_MAX_FILE_SIZE=str(MAX_FILE_SIZE)
    )
    office = StandInOffice(host.url).start()
    host.environment["WOPI_DISCOVERY_URL"] = office.discovery_url
    try:
        with host:
            yield host
    finally:
        office.stop()


class Folder:
    """A folder of one test's own, and a browser on it: its listing, its CSRF token, its New form."""

    def __init__(self, host: WopiHost, name: str) -> None:
        self.path = host.documents / name
        self.path.mkdir()
        self.client = httpx.Client(base_url=host.url, timeout=30)
        root = self.client.get("/").text
        match = re.search(r'<a class="name" href="(/\?container=[^"]+)">' + re.escape(html.escape(name)) + "</a>", root)
        assert match, f"no folder {name!r} in the root listing"
        self.url = html.unescape(match.group(1))

    def listing(self) -> str:
        response = self.client.get(self.url)
        assert response.status_code == 200, response.text
        return response.text

    def options(self) -> dict[str, str]:
        """The New form's choices: value -> label."""
        select = re.search(r'<select name="type">(.*?)</select>', self.listing(), re.S)
        assert select
        return {
            html.unescape(value): html.unescape(label)
            for value, label in re.findall(r'<option value="([^"]*)">([^<]*)</option>', select.group(1))
        }

    def new_document(self, kind: str, name: str = "") -> httpx.Response:
        page = self.listing()
        action = re.search(r'action="([^"]+/new-document)"', page)
        token = re.search(r'name="csrf" value="([^"]+)"', page)
        assert action and token
        return self.client.post(action.group(1), data={"csrf": token.group(1), "type": kind, "name": name})

    def files(self) -> list[str]:
        return sorted(path.name for path in self.path.iterdir())

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def folder(host: WopiHost, request: pytest.FixtureRequest) -> Iterator[Folder]:
    readable = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name)[:80]
    made = Folder(host, f"{readable}-{hashlib.sha256(request.node.name.encode()).hexdigest()[:6]}")
    yield made
    made.close()


def _assert_framed_for_libreoffice(data: bytes) -> None:
    """What LibreOffice checks before it opens a package (since 24.8.2 it refuses a stored entry whose sizes
    follow it in a data descriptor): every local header carries its entry's CRC and sizes, as the central
    directory does, without a data descriptor; and no extra fields (ODF forbids one on `mimetype`)."""
    for info in zipfile.ZipFile(io.BytesIO(data)).infolist():
        header = data[info.header_offset : info.header_offset + 30]
        signature, _, flags, method, _, _, crc, stored, size, name_length, extra_length = struct.unpack(
            "<IHHHHHIIIHH", header
        )
        assert signature == 0x04034B50
        assert not flags & 0x8, f"{info.filename} has a data descriptor"
        assert (method, crc, stored, size) == (info.compress_type, info.CRC, info.compress_size, info.file_size)
        assert data[info.header_offset + 30 : info.header_offset + 30 + name_length] == info.filename.encode()
        assert extra_length == 0 and info.extra == b""


def _created(response: httpx.Response) -> None:
    """Created and opened for editing: a redirect to the host page."""
    assert response.status_code == 303, response.text
    assert re.search(r"/host/[A-Za-z0-9_-]+\?action=edit$", response.headers["location"]), response.headers


# ---- built-in kinds ----


@pytest.mark.parametrize("extension", list(NEW_DOCUMENT_TYPES))
def test_each_built_in_kind_starts_as_its_blank_document(folder: Folder, extension: str) -> None:
    _created(folder.new_document(extension, "Plan"))
    assert (folder.path / f"Plan{extension}").read_bytes() == blank_document(extension)
    # Again: the next free name, with the same bytes.
    _created(folder.new_document(extension, "Plan"))
    assert (folder.path / f"Plan (2){extension}").read_bytes() == blank_document(extension)


def test_a_name_left_empty_is_untitled(folder: Folder) -> None:
    _created(folder.new_document(".xlsx"))
    assert folder.files() == ["Untitled.xlsx"]


# ---- the organisation's templates ----


def test_the_menu_offers_the_folders_templates_and_nothing_else(folder: Folder) -> None:
    options = folder.options()
    blank = {extension: label for extension, label in options.items() if not extension.startswith("template:")}
    assert blank == NEW_DOCUMENT_TYPES
    offered = {value.removeprefix("template:"): label for value, label in options.items() if value not in blank}
    expected = {f"{stem}{extension}": stem for extension, (_, stem) in TEMPLATE_KINDS.items()}
    expected |= {"Minutes.docx": "Minutes", "Alias.docx": "Alias", "Broken.dotx": "Broken"}
    assert expected.items() <= offered.items()
    left_out = ["notes.txt", ".hidden.docx", "~$Letterhead.dotx", "Empty.docx", "Huge.docx", "Escape.docx"]
    left_out += ["Sub", "Inner.docx", "Sub/Inner.docx", "Deep.docx", "Folder.docx"]
    assert not set(left_out) & set(offered)
    assert list(offered) == sorted(offered, key=lambda name: (offered[name].casefold(), name))
    assert re.search(r'<optgroup label="Templates">', folder.listing())


@pytest.mark.parametrize("template_extension", list(TEMPLATE_KINDS))
def test_each_template_kind_makes_a_document(folder: Folder, templates: Path, template_extension: str) -> None:
    document_extension, stem = TEMPLATE_KINDS[template_extension]
    _created(folder.new_document(f"template:{stem}{template_extension}", "From template"))
    assert folder.files() == [f"From template{document_extension}"]
    data = (folder.path / f"From template{document_extension}").read_bytes()
    _, template_type, document_type = REWRITES[template_extension]
    made, source = zipfile.ZipFile(io.BytesIO(data)), zipfile.ZipFile(templates / f"{stem}{template_extension}")
    assert made.testzip() is None
    assert made.namelist() == source.namelist()
    for name in made.namelist():
        if name in ("[Content_Types].xml", "mimetype", "META-INF/manifest.xml"):
            assert template_type.encode() not in made.read(name)
            assert document_type.encode() in made.read(name)
        else:
            assert made.read(name) == source.read(name), name
    _assert_framed_for_libreoffice(data)
    if document_extension == ".docx":
        assert [paragraph.text for paragraph in docx.Document(io.BytesIO(data)).paragraphs] == [""]
    elif document_extension == ".xlsx":
        assert openpyxl.load_workbook(io.BytesIO(data)).sheetnames == ["Sheet1"]
    elif document_extension == ".pptx":
        assert len(pptx.Presentation(io.BytesIO(data)).slides) == 1
    else:
        assert odf.opendocument.load(io.BytesIO(data)).mimetype == MIME_TYPES[document_extension]
        assert data[30:38] == b"mimetype"  # still first, stored: the type at byte 38
        assert data[38 : 38 + len(document_type)] == document_type.encode()


def test_a_dotx_becomes_a_docx_that_python_docx_opens(folder: Folder, templates: Path) -> None:
    with pytest.raises(ValueError, match="not a Word file"):  # the template itself is not a document
        docx.Document(str(templates / "Letterhead.dotx"))
    _created(folder.new_document("template:Letterhead.dotx", "Letter to the board.docx"))
    assert folder.files() == ["Letter to the board.docx"]
    document = docx.Document(str(folder.path / "Letter to the board.docx"))
    assert document.paragraphs[0].style is not None and document.paragraphs[0].style.name == "Normal"


def test_a_document_in_the_folder_is_copied_as_it_is(folder: Folder, templates: Path) -> None:
    _created(folder.new_document("template:Minutes.docx", "March"))
    _created(folder.new_document("template:Alias.docx", "April"))
    assert (folder.path / "March.docx").read_bytes() == (templates / "Minutes.docx").read_bytes()
    assert (folder.path / "April.docx").read_bytes() == (templates / "Minutes.docx").read_bytes()


def test_a_broken_template_creates_nothing_and_says_why(folder: Folder) -> None:
    done = folder.new_document("template:Broken.dotx", "Letter")
    assert done.status_code == 303
    shown = folder.client.get(done.headers["location"]).text
    assert "“Letter.docx” was not created: the template “Broken” is not a valid zip package." in shown
    assert folder.files() == []


# ---- bad choices: 4xx, nothing created ----


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("", 400),
        (".exe", 400),
        ("docx", 400),
        ("template:", 400),
        ("template:../outside/Secret.docx", 400),
        ("template:/etc/passwd", 400),
        ("template:Sub/Inner.docx", 400),
        ("template:..", 400),
        ("template:.hidden.docx", 400),
        ("template:Unknown.docx", 404),
        ("template:minutes.docx", 404),  # the exact name, not another spelling of it
        ("template:Escape.docx", 404),  # a link out of the folder
        ("template:Deep.docx", 404),  # a link into a folder inside it
        ("template:Huge.docx", 404),
        ("template:notes.txt", 404),
        ("template:Folder.docx", 404),
    ],
)
def test_a_choice_not_offered_is_refused(folder: Folder, kind: str, status: int) -> None:
    refused = folder.new_document(kind, "Anything")
    assert refused.status_code == status, refused.text
    assert "Back to the folder" in refused.text
    assert folder.files() == []


def test_a_template_removed_after_the_listing_is_refused(folder: Folder, templates: Path) -> None:
    (templates / "Short-lived.docx").write_bytes(blank_document(".docx"))
    page = folder.listing()
    assert 'value="template:Short-lived.docx"' in page
    (templates / "Short-lived.docx").unlink()
    refused = folder.new_document("template:Short-lived.docx", "Too late")
    assert refused.status_code == 404, refused.text
    assert "No such template" in refused.text
    assert folder.files() == []


def test_a_template_swapped_for_a_link_out_is_not_followed(folder: Folder, templates: Path, outside: Path) -> None:
    (templates / "Swapped.docx").write_bytes(blank_document(".docx"))
    assert "template:Swapped.docx" in folder.options()
    (templates / "Swapped.docx").unlink()
    (templates / "Swapped.docx").symlink_to(outside / "Secret.docx")
    try:
        assert folder.new_document("template:Swapped.docx", "Swapped").status_code == 404
    finally:
        (templates / "Swapped.docx").unlink()
    assert folder.files() == []


def test_a_stale_form_changes_nothing(folder: Folder) -> None:
    page = folder.listing()
    action = re.search(r'action="([^"]+/new-document)"', page)
    assert action
    refused = folder.client.post(action.group(1), data={"csrf": "forged", "type": "template:Minutes.docx"})
    assert refused.status_code == 403
    assert folder.files() == []


# ---- in-process: the folder and the rewrite ----


def _everything(file: BinaryIO, source_extension: str, max_size: int) -> list[bytes]:
    async def run() -> list[bytes]:
        chunks = await document_chunks(file, source_extension, max_size)
        return [chunk async for chunk in chunks()]

    return asyncio.run(run())


def test_a_template_vanishing_between_choosing_and_opening_is_missing(tmp_path: Path) -> None:
    (tmp_path / "Memo.docx").write_bytes(blank_document(".docx"))
    template = find_template(str(tmp_path), "Memo.docx", max_size=MAX_FILE_SIZE, editable=lambda _: True)
    (tmp_path / "Memo.docx").unlink()
    with pytest.raises(TemplateMissing):
        open_template(str(tmp_path), template, max_size=MAX_FILE_SIZE)
    (tmp_path / "Memo.docx").symlink_to(tmp_path / "elsewhere.docx")  # now a link (even to a file beside it)
    (tmp_path / "elsewhere.docx").write_bytes(blank_document(".docx"))
    with pytest.raises(TemplateMissing):
        open_template(str(tmp_path), template, max_size=MAX_FILE_SIZE)


def test_the_rewrite_streams_entry_by_entry_in_bounded_chunks(tmp_path: Path) -> None:
    """A template with a large picture: the document comes in many chunks, none over PIECE_BYTES (the 3 MiB
    entry is never held whole), every entry as it was but the content types, and python-docx opens it."""
    picture = os.urandom(3 * 1024 * 1024)
    source = zipfile.ZipFile(io.BytesIO(as_template(".docx", ".dotx")))
    path = tmp_path / "Picture.dotx"
    with zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr("word/media/picture.bin", picture, compress_type=zipfile.ZIP_DEFLATED)
        target.writestr("word/media/stored.bin", picture[:100_000], compress_type=zipfile.ZIP_STORED)
    with path.open("rb") as file:
        chunks = _everything(file, ".dotx", 10 * 1024 * 1024)
    assert len(chunks) > 10
    assert max(len(chunk) for chunk in chunks) <= PIECE_BYTES
    made = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert made.testzip() is None
    assert made.read("word/media/picture.bin") == picture
    original = zipfile.ZipFile(path)
    for name in ("word/media/picture.bin", "word/media/stored.bin"):  # copied as stored, not compressed again
        assert made.getinfo(name).compress_size == original.getinfo(name).compress_size
    assert made.getinfo("word/media/stored.bin").compress_type == zipfile.ZIP_STORED
    assert made.read("word/media/stored.bin") == picture[:100_000]
    assert b"wordprocessingml.document.main+xml" in made.read("[Content_Types].xml")
    _assert_framed_for_libreoffice(b"".join(chunks))
    assert docx.Document(io.BytesIO(b"".join(chunks))).paragraphs[0].text == ""


def _zip(entries: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize(
    ("contents", "reason"),
    [
        (io.BytesIO(b"PK\x03\x04 but no zip"), "not a valid zip package"),
        (_zip({"word/document.xml": b"<w/>"}), "no [Content_Types].xml"),
        (_zip({"[Content_Types].xml": b'<Types ContentType="application/xml"/>'}), "does not say it is a template"),
        (_zip({"[Content_Types].xml": b" " * (MAX_REWRITTEN_ENTRY + 1)}), "[Content_Types].xml larger than"),
    ],
)
def test_what_is_not_a_template_is_refused_before_anything_is_sent(contents: io.BytesIO, reason: str) -> None:
    with pytest.raises(TemplateUnusable, match=re.escape(reason)):
        _everything(contents, ".dotx", MAX_FILE_SIZE)


def test_a_document_larger_than_allowed_is_cut_short(tmp_path: Path) -> None:
    path = tmp_path / "Big.dotx"
    source = zipfile.ZipFile(io.BytesIO(as_template(".docx", ".dotx")))
    with zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr("word/media/big.bin", os.urandom(1024 * 1024))
    with path.open("rb") as file, pytest.raises(TemplateUnusable, match="would make a document larger than"):
        _everything(file, ".dotx", 512 * 1024)


def test_without_free_name_variants_each_name_tried_gets_the_whole_document(tmp_path: Path) -> None:
    """An adapter that cannot pick a free name: the front-end tries "Plan.docx", "Plan (2).docx"... and each
    try streams the template from its start (storage may have read part of a refused one)."""
    path = tmp_path / "Letterhead.dotx"
    path.write_bytes(as_template(".docx", ".dotx"))
    taken = {"Plan.docx", "Plan (2).docx"}
    tries: list[tuple[str, bytes]] = []

    class Storage:
        async def capabilities(self) -> pb.Capabilities:
            return pb.Capabilities(free_name_variants=False)

        async def create_file(
            self, container_id: str, name: str, chunks: AsyncIterator[bytes], principal: Principal
        ) -> pb.FileInfo:
            data = b"".join([chunk async for chunk in chunks])
            tries.append((name, data))
            if name in taken:
                raise StorageCallError(grpc.StatusCode.ALREADY_EXISTS, f"{name} exists")
            return pb.FileInfo(file_id="f1", name=name, size=len(data))

    async def run() -> pb.FileInfo:
        with path.open("rb") as file:
            chunks = await document_chunks(file, ".dotx", MAX_FILE_SIZE)
            context = SimpleNamespace(storage=Storage())
            return await browser_actions._create(context, "folder", "Plan.docx", chunks, Principal("alice"))  # type: ignore[arg-type]

    assert asyncio.run(run()).name == "Plan (3).docx"
    assert [name for name, _ in tries] == ["Plan.docx", "Plan (2).docx", "Plan (3).docx"]
    assert len({data for _, data in tries}) == 1
    assert docx.Document(io.BytesIO(tries[-1][1])).paragraphs[0].text == ""

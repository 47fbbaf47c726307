"""wopi_frontend.blank_documents: each blank document opened by a real reader of its format (python-docx, openpyxl,
python-pptx, odfpy), and the package rules those readers do not check: ODF's stored `mimetype` first, every OOXML
relationship resolving to a part with a content type, well-formed XML everywhere, and the same bytes every time."""

from __future__ import annotations

import posixpath
import zipfile
from io import BytesIO

import docx
import odf.opendocument
import openpyxl
import pptx
import pytest
from lxml import etree
from odf.draw import Page
from odf.table import Table
from odf.text import P

from wopi_frontend.blank_documents import BLANK_EXTENSIONS, NoBlankDocument, blank_document
from wopi_frontend.routes.browser_actions import NEW_DOCUMENT_TYPES
from wopi_frontend.routes.page_support import MIME_TYPES

OOXML = (".docx", ".xlsx", ".pptx")
ODF = (".odt", ".ods", ".odp")
_CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_MANIFEST = "{urn:oasis:names:tc:opendocument:xmlns:manifest:1.0}"
_SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _archive(extension: str) -> zipfile.ZipFile:
    return zipfile.ZipFile(BytesIO(blank_document(extension)))


def _xml(archive: zipfile.ZipFile, name: str) -> etree._Element:
    return etree.fromstring(archive.read(name), _SAFE)


# ---- opened by the real readers ----


def test_word_reads_one_empty_paragraph() -> None:
    document = docx.Document(BytesIO(blank_document(".docx")))
    assert [paragraph.text for paragraph in document.paragraphs] == [""]
    assert document.tables == []
    assert document.paragraphs[0].style is not None
    assert document.paragraphs[0].style.name == "Normal"
    assert len(document.sections) == 1


def test_excel_reads_one_empty_sheet_named_sheet1() -> None:
    workbook = openpyxl.load_workbook(BytesIO(blank_document(".xlsx")))
    assert workbook.sheetnames == ["Sheet1"]
    sheet = workbook["Sheet1"]
    assert list(sheet.iter_rows()) == []  # no cells at all
    assert (sheet.max_row, sheet.max_column) == (1, 1)


def test_powerpoint_reads_one_empty_16_by_9_slide() -> None:
    presentation = pptx.Presentation(BytesIO(blank_document(".pptx")))
    assert len(presentation.slides) == 1
    assert len(presentation.slides[0].shapes) == 0
    assert presentation.slide_width is not None
    assert presentation.slide_height is not None
    assert presentation.slide_width * 9 == presentation.slide_height * 16
    assert len(presentation.slide_masters) == 1
    assert [layout.name for layout in presentation.slide_layouts] == ["Blank"]
    assert presentation.slides[0].slide_layout == presentation.slide_layouts[0]


@pytest.mark.parametrize("extension", ODF)
def test_odfpy_reads_the_document_as_its_type(extension: str) -> None:
    document = odf.opendocument.load(BytesIO(blank_document(extension)))
    assert document.mimetype == MIME_TYPES[extension]
    if extension == ".odt":
        assert len(document.text.getElementsByType(P)) == 1
    elif extension == ".ods":
        tables = document.spreadsheet.getElementsByType(Table)
        assert [table.getAttribute("name") for table in tables] == ["Sheet1"]
    else:
        pages = document.presentation.getElementsByType(Page)
        assert len(pages) == 1
        assert pages[0].getAttribute("masterpagename") == "Default"


# ---- package rules a reader may not check ----


@pytest.mark.parametrize("extension", ODF)
def test_odf_mimetype_is_the_first_entry_and_stored(extension: str) -> None:
    """ODF 1.2 Part 3: first, not compressed, no extra field, so that the type sits at byte 38 of the file,
    where file-type sniffers read it."""
    data = blank_document(extension)
    first = zipfile.ZipFile(BytesIO(data)).infolist()[0]
    assert first.filename == "mimetype"
    assert first.compress_type == zipfile.ZIP_STORED
    assert first.extra == b""
    mime_type = MIME_TYPES[extension].encode("ascii")
    assert data[30:38] == b"mimetype"
    assert data[38 : 38 + len(mime_type)] == mime_type


@pytest.mark.parametrize("extension", ODF)
def test_odf_manifest_lists_every_file(extension: str) -> None:
    archive = _archive(extension)
    entries = {
        entry.get(f"{_MANIFEST}full-path"): entry.get(f"{_MANIFEST}media-type")
        for entry in _xml(archive, "META-INF/manifest.xml").iter(f"{_MANIFEST}file-entry")
    }
    assert entries.pop("/") == MIME_TYPES[extension]
    assert set(entries) == set(archive.namelist()) - {"mimetype", "META-INF/manifest.xml"}


@pytest.mark.parametrize("extension", OOXML)
def test_ooxml_relationships_resolve_to_parts_with_content_types(extension: str) -> None:
    """Every relationship's target exists and has a content type of its own; every part has one and is reached
    by some relationship (no orphans); relationship ids are unique in each relationships part."""
    archive = _archive(extension)
    names = set(archive.namelist())
    types = _xml(archive, "[Content_Types].xml")
    defaults = {row.get("Extension"): row.get("ContentType") for row in types.iter(f"{_CT}Default")}
    overrides = {row.get("PartName"): row.get("ContentType") for row in types.iter(f"{_CT}Override")}

    def content_type(part: str) -> str | None:
        """The part's own type: an override (the `xml` default, application/xml, says nothing), or, for
        relationships parts, the `rels` default."""
        if part.endswith(".rels"):
            return defaults.get("rels")
        return overrides.get("/" + part)

    assert all(part.lstrip("/") in names for part in overrides), "an override names a missing part"
    reached: set[str] = set()
    for rels in sorted(name for name in names if name.endswith(".rels")):
        folder, file = posixpath.split(rels)
        assert posixpath.basename(folder) == "_rels"
        source_folder = posixpath.dirname(folder)  # targets are relative to the source part's folder
        if file != ".rels":
            assert posixpath.join(source_folder, file.removesuffix(".rels")) in names, f"{rels} has no source part"
        relationships = list(_xml(archive, rels).iter(f"{_RELS}Relationship"))
        ids = [relationship.get("Id") for relationship in relationships]
        assert len(ids) == len(set(ids)), f"duplicate ids in {rels}"
        for relationship in relationships:
            assert relationship.get("TargetMode") != "External"
            target = posixpath.normpath(posixpath.join(source_folder, relationship.get("Target", "")))
            assert target in names, f"{rels} points at the missing part {target}"
            reached.add(target)
    for part in names - {"[Content_Types].xml"}:
        assert (content_type(part) or "").startswith("application/vnd.openxmlformats-"), f"{part}: no content type"
        if not part.endswith(".rels"):
            assert part in reached, f"no relationship reaches {part}"


@pytest.mark.parametrize("extension", OOXML)
def test_ooxml_main_part_has_its_format_content_type(extension: str) -> None:
    """The package relationship's office document is of the format's main type: what readers dispatch on."""
    archive = _archive(extension)
    (main,) = [
        row.get("Target")
        for row in _xml(archive, "_rels/.rels").iter(f"{_RELS}Relationship")
        if row.get("Type", "").endswith("/officeDocument")
    ]
    overrides = {
        row.get("PartName"): row.get("ContentType")
        for row in _xml(archive, "[Content_Types].xml").iter(f"{_CT}Override")
    }
    main_types = {
        ".docx": f"{MIME_TYPES['.docx']}.main+xml",
        ".xlsx": f"{MIME_TYPES['.xlsx']}.main+xml",
        ".pptx": f"{MIME_TYPES['.pptx']}.main+xml",
    }
    assert overrides[f"/{main}"] == main_types[extension]


@pytest.mark.parametrize("extension", sorted(BLANK_EXTENSIONS))
def test_every_entry_is_intact_and_every_xml_part_well_formed(extension: str) -> None:
    """Readers load parts lazily, so some parts (docProps, themes) may never be parsed by the tests above."""
    archive = _archive(extension)
    assert archive.testzip() is None
    for name in archive.namelist():
        if name != "mimetype":
            assert _xml(archive, name) is not None


@pytest.mark.parametrize("extension", sorted(BLANK_EXTENSIONS))
def test_the_bytes_are_the_same_on_every_build(extension: str) -> None:
    """Deterministic: the cached answer repeats, a fresh build (bypassing the cache) gives identical bytes, and
    no entry carries a build time."""
    first = blank_document(extension)
    assert blank_document(extension) == first
    assert blank_document.__wrapped__(extension) == first
    assert {info.date_time for info in zipfile.ZipFile(BytesIO(first)).infolist()} == {(1980, 1, 1, 0, 0, 0)}


# ---- the surface ----


def test_every_new_document_type_has_a_blank_document() -> None:
    assert set(NEW_DOCUMENT_TYPES) <= BLANK_EXTENSIONS
    for extension in NEW_DOCUMENT_TYPES:
        assert blank_document(extension).startswith(b"PK\x03\x04")


@pytest.mark.parametrize("extension", [".doc", ".txt", "docx", ".DOCX", ""])
def test_other_extensions_are_refused(extension: str) -> None:
    with pytest.raises(NoBlankDocument) as refused:
        blank_document(extension)
    assert isinstance(refused.value, ValueError)
    assert refused.value.extension == extension
    assert ".docx" in str(refused.value)

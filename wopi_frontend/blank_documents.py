"""Valid blank documents for "New": the bytes a new .docx, .xlsx, .pptx, .odt, .ods or .odp starts with.

Why not a 0-byte file. WOPI's `editnew` action lets a client fill an empty file, but not every client offers it
for every type, and a 0-byte file that reaches anything else (a download, a desktop application, a client that
only has `edit`, a search indexer) is a broken document. Collabora Online instead takes a `TemplateSource` URL in
CheckFileInfo and fetches the starting document from it. A real blank document serves both: stored as the new
file's first version, or served at `TemplateSource`.

How each minimal set was chosen. Every part here is one that the format's standard requires, or one without which
Word, Excel, PowerPoint or LibreOffice refuse or repair a file; nothing else (no thumbnails, settings, custom XML).

* OOXML (ECMA-376). Part 2 (Open Packaging Conventions) makes `[Content_Types].xml` mandatory (every part needs
  a content type, by extension default or by override) and `_rels/.rels`, the package relationships through which
  a reader finds the main part. `docProps/core.xml` and `docProps/app.xml` are optional there, but Word, Excel and
  PowerPoint always write them and some readers look for them. Then per format (Part 1):
  - WordprocessingML: the main document part is the only required part; its body holds one empty paragraph and a
    section (page size and margins: A4). `word/styles.xml` is optional, but without a Normal paragraph style each
    client picks its own defaults.
  - SpreadsheetML: the workbook part with at least one `<sheet>` (the schema requires one), here one empty
    worksheet "Sheet1". `xl/styles.xml` is optional in the schema, but Excel refuses a workbook whose cells can
    have no format: it needs one font, the two fills it reserves (`none`, `gray125`), one border and one
    `cellXfs` entry, or it reports the file as corrupt.
  - PresentationML: the presentation part, with `notesSz` (required) and a 16:9 `sldSz` (without it the size
    is 4:3). A slide master is required to make slides, a master must have a theme and at least one layout, and a
    layout points back to its master. The theme's colour, font and format schemes have fixed minimums (12
    colours; major and minor fonts; three fills, lines, effects and background fills). One empty slide on a
    blank layout, because a deck with no slide confuses some clients. `presProps.xml`, `viewProps.xml` and
    `tableStyles.xml` are not required by the standard, but PowerPoint writes them in every deck and decks
    without them have been reported to open only after a repair, so they are here too (a few hundred bytes).
* ODF (OASIS OpenDocument 1.2). Part 3 (packages) requires `mimetype` as the first entry, STORED (not
  deflated) and without an extra field, so that the type can be read at byte 38 of the file; and
  `META-INF/manifest.xml`, listing every file with its media type and `/` with the document's type. Part 1 puts
  the body in `content.xml`: a text body with one paragraph, a spreadsheet with one table "Sheet1" (a table needs
  at least one column and one row), a presentation with one page (a page must name its master page, so
  `styles.xml` defines one, 16:9). `styles.xml` and `meta.xml` are optional in the standard; we write them
  because every office suite does and they carry the page layout and the generator.

The bytes are deterministic: fixed entry order, a fixed timestamp (1980-01-01, the earliest a zip can hold) and
fixed compression settings, so the same build always gives the same file. Each document is built once per
process.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from functools import cache
from io import BytesIO

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_GENERATOR = "wopi-host"
_FONT = "Calibri"  # Office's long-standing default; LibreOffice substitutes the metric-compatible Carlito

# ---- the zip container ----


def _zip(entries: list[tuple[str, bytes]], stored: frozenset[str] = frozenset()) -> bytes:
    """A zip of `entries` in the given order; names in `stored` are not compressed. Nothing in it depends on the
    clock, the platform or the umask."""
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.create_system = 0  # MS-DOS, as Office writes: no Unix mode bits
            info.external_attr = 0
            info.compress_type = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            archive.writestr(info, data, compresslevel=None if name in stored else 9)
    return buffer.getvalue()


def _xml(body: str) -> bytes:
    return (_XML + body).encode()


# ---- OOXML (ECMA-376) ----

_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CORE_REL = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
_OFFICE_CT = "application/vnd.openxmlformats-officedocument"
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_P = "http://schemas.openxmlformats.org/presentationml/2006/main"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"


def _content_types(overrides: dict[str, str]) -> bytes:
    """`[Content_Types].xml`: .rels and .xml by default, each part's own type by override."""
    rows = "".join(f'<Override PartName="/{part}" ContentType="{kind}"/>' for part, kind in overrides.items())
    return _xml(
        f'<Types xmlns="{_CT}">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f"{rows}</Types>"
    )


def _relationships(targets: list[tuple[str, str]]) -> bytes:
    """A relationships part: (type, target) pairs numbered rId1, rId2... in order."""
    rows = "".join(
        f'<Relationship Id="rId{number}" Type="{kind}" Target="{target}"/>'
        for number, (kind, target) in enumerate(targets, start=1)
    )
    return _xml(f'<Relationships xmlns="{_PKG_RELS}">{rows}</Relationships>')


def _ooxml(main_part: str, main_type: str, parts: list[tuple[str, str, bytes]]) -> bytes:
    """A package whose main part is `main_part`, with the properties parts, and `parts` as (name, content type,
    bytes): relationships parts among them have an empty content type (the .rels default covers them)."""
    overrides = {main_part: main_type}
    overrides |= {name: kind for name, kind, _ in parts if kind and name != main_part}
    overrides["docProps/core.xml"] = "application/vnd.openxmlformats-package.core-properties+xml"
    overrides["docProps/app.xml"] = f"{_OFFICE_CT}.extended-properties+xml"
    package_rels = [
        (f"{_REL}/officeDocument", main_part),
        (_CORE_REL, "docProps/core.xml"),
        (f"{_REL}/extended-properties", "docProps/app.xml"),
    ]
    core = _xml(
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"/>'
    )
    app = _xml(
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        f"<Application>{_GENERATOR}</Application></Properties>"
    )
    entries = [
        ("[Content_Types].xml", _content_types(overrides)),
        ("_rels/.rels", _relationships(package_rels)),
        ("docProps/core.xml", core),
        ("docProps/app.xml", app),
    ]
    return _zip(entries + [(name, data) for name, _, data in parts])


def _docx() -> bytes:
    document = _xml(
        f'<w:document xmlns:w="{_W}" xmlns:r="{_REL}"><w:body><w:p/>'
        '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/>'  # A4 in twentieths of a point
        '<w:pgMar w:top="1440" w:right="1440" w:bottom="1440" w:left="1440" w:header="720" w:footer="720"'
        ' w:gutter="0"/></w:sectPr></w:body></w:document>'
    )
    styles = _xml(
        f'<w:styles xmlns:w="{_W}"><w:docDefaults><w:rPrDefault><w:rPr>'
        f'<w:rFonts w:ascii="{_FONT}" w:hAnsi="{_FONT}" w:eastAsia="{_FONT}" w:cs="{_FONT}"/>'
        '<w:sz w:val="22"/><w:szCs w:val="22"/></w:rPr></w:rPrDefault>'
        '<w:pPrDefault><w:pPr><w:spacing w:after="160" w:line="259" w:lineRule="auto"/></w:pPr></w:pPrDefault>'
        '</w:docDefaults><w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/>'
        "<w:qFormat/></w:style></w:styles>"
    )
    word = f"{_OFFICE_CT}.wordprocessingml"
    return _ooxml(
        "word/document.xml",
        f"{word}.document.main+xml",
        [
            ("word/document.xml", "", document),
            ("word/_rels/document.xml.rels", "", _relationships([(f"{_REL}/styles", "styles.xml")])),
            ("word/styles.xml", f"{word}.styles+xml", styles),
        ],
    )


def _xlsx() -> bytes:
    workbook = _xml(
        f'<workbook xmlns="{_S}" xmlns:r="{_REL}"><bookViews><workbookView activeTab="0"/></bookViews>'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    sheet = _xml(f'<worksheet xmlns="{_S}"><sheetData/></worksheet>')
    styles = _xml(
        f'<styleSheet xmlns="{_S}">'
        f'<fonts count="1"><font><sz val="11"/><name val="{_FONT}"/><family val="2"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )
    sml = f"{_OFFICE_CT}.spreadsheetml"
    workbook_rels = [(f"{_REL}/worksheet", "worksheets/sheet1.xml"), (f"{_REL}/styles", "styles.xml")]
    return _ooxml(
        "xl/workbook.xml",
        f"{sml}.sheet.main+xml",
        [
            ("xl/workbook.xml", "", workbook),
            ("xl/_rels/workbook.xml.rels", "", _relationships(workbook_rels)),
            ("xl/worksheets/sheet1.xml", f"{sml}.worksheet+xml", sheet),
            ("xl/styles.xml", f"{sml}.styles+xml", styles),
        ],
    )


# 16:9 in EMU (914,400 to the inch): 13.333 by 7.5 inches, PowerPoint's widescreen size.
SLIDE_WIDTH_EMU = 12_192_000
SLIDE_HEIGHT_EMU = 6_858_000
_P_NS = f'xmlns:a="{_A}" xmlns:r="{_REL}" xmlns:p="{_P}"'
# An empty shape tree: the group every slide, layout and master starts with.
_EMPTY_TREE = (
    '<p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr>'
    '<a:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/><a:chOff x="0" y="0"/><a:chExt cx="0" cy="0"/></a:xfrm>'
    "</p:grpSpPr></p:spTree>"
)
_SLIDE_COLOURS = ("bg1", "lt1"), ("tx1", "dk1"), ("bg2", "lt2"), ("tx2", "dk2")
_ACCENTS = tuple(f"accent{number}" for number in range(1, 7))
# The theme's colours, our own choice: dark and light text and background, six accents, two link colours.
_THEME_COLOURS = (
    ("dk1", "000000"),
    ("lt1", "FFFFFF"),
    ("dk2", "1F2A44"),
    ("lt2", "E8ECF2"),
    ("accent1", "2F6FB0"),
    ("accent2", "D9782D"),
    ("accent3", "5B9A4A"),
    ("accent4", "8E5BB5"),
    ("accent5", "C23B3B"),
    ("accent6", "2A9D9A"),
    ("hlink", "1F5FBF"),
    ("folHlink", "7A4FA3"),
)


def _theme() -> bytes:
    colours = "".join(f'<a:{name}><a:srgbClr val="{rgb}"/></a:{name}>' for name, rgb in _THEME_COLOURS)
    font = f'<a:latin typeface="{_FONT}"/><a:ea typeface=""/><a:cs typeface=""/>'
    fill = '<a:solidFill><a:schemeClr val="phClr"/></a:solidFill>'
    lines = "".join(f'<a:ln w="{width}">{fill}</a:ln>' for width in (6350, 12700, 19050))
    return _xml(
        f'<a:theme xmlns:a="{_A}" name="Blank"><a:themeElements>'
        f'<a:clrScheme name="Blank">{colours}</a:clrScheme>'
        f'<a:fontScheme name="Blank"><a:majorFont>{font}</a:majorFont><a:minorFont>{font}</a:minorFont>'
        "</a:fontScheme>"
        f'<a:fmtScheme name="Blank"><a:fillStyleLst>{fill * 3}</a:fillStyleLst><a:lnStyleLst>{lines}</a:lnStyleLst>'
        f"<a:effectStyleLst>{'<a:effectStyle><a:effectList/></a:effectStyle>' * 3}</a:effectStyleLst>"
        f"<a:bgFillStyleLst>{fill * 3}</a:bgFillStyleLst></a:fmtScheme>"
        "</a:themeElements></a:theme>"
    )


def _slide_master() -> bytes:
    colour_map = " ".join(f'{role}="{colour}"' for role, colour in _SLIDE_COLOURS)
    colour_map += "".join(f' {name}="{name}"' for name in (*_ACCENTS, "hlink", "folHlink"))
    text = '<a:solidFill><a:schemeClr val="tx1"/></a:solidFill>'

    def level(size: int, font: str) -> str:
        return f'<a:lvl1pPr><a:defRPr sz="{size}">{text}<a:latin typeface="{font}"/></a:defRPr></a:lvl1pPr>'

    return _xml(
        f'<p:sldMaster {_P_NS}><p:cSld><p:bg><p:bgRef idx="1001"><a:schemeClr val="bg1"/></p:bgRef></p:bg>'
        f"{_EMPTY_TREE}</p:cSld><p:clrMap {colour_map}/>"
        '<p:sldLayoutIdLst><p:sldLayoutId id="2147483649" r:id="rId1"/></p:sldLayoutIdLst>'
        f"<p:txStyles><p:titleStyle>{level(4400, '+mj-lt')}</p:titleStyle>"
        f"<p:bodyStyle>{level(2800, '+mn-lt')}</p:bodyStyle>"
        f"<p:otherStyle>{level(1800, '+mn-lt')}</p:otherStyle></p:txStyles></p:sldMaster>"
    )


def _pptx() -> bytes:
    # Master and layout ids share one space that starts at 2^31; slide ids start at 256 (ECMA-376 Part 1).
    presentation = _xml(
        f'<p:presentation {_P_NS} saveSubsetFonts="1">'
        '<p:sldMasterIdLst><p:sldMasterId id="2147483648" r:id="rId1"/></p:sldMasterIdLst>'
        '<p:sldIdLst><p:sldId id="256" r:id="rId2"/></p:sldIdLst>'
        f'<p:sldSz cx="{SLIDE_WIDTH_EMU}" cy="{SLIDE_HEIGHT_EMU}"/><p:notesSz cx="6858000" cy="9144000"/>'
        "</p:presentation>"
    )
    no_override = "<p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr>"
    layout = _xml(
        f'<p:sldLayout {_P_NS} type="blank" preserve="1"><p:cSld name="Blank">{_EMPTY_TREE}</p:cSld>'
        f"{no_override}</p:sldLayout>"
    )
    slide = _xml(f"<p:sld {_P_NS}><p:cSld>{_EMPTY_TREE}</p:cSld>{no_override}</p:sld>")
    pres_props = _xml(f"<p:presentationPr {_P_NS}/>")
    view_props = _xml(f'<p:viewPr {_P_NS}><p:gridSpacing cx="76200" cy="76200"/></p:viewPr>')
    # `def` is required: the id of PowerPoint's built-in default table style ("Medium Style 2 - Accent 1").
    table_styles = _xml(f'<a:tblStyleLst xmlns:a="{_A}" def="{{5C22544A-7EE6-4342-B048-85BDC9FD1C3A}}"/>')
    pml = f"{_OFFICE_CT}.presentationml"
    presentation_rels = [
        (f"{_REL}/slideMaster", "slideMasters/slideMaster1.xml"),
        (f"{_REL}/slide", "slides/slide1.xml"),
        (f"{_REL}/presProps", "presProps.xml"),
        (f"{_REL}/viewProps", "viewProps.xml"),
        (f"{_REL}/theme", "theme/theme1.xml"),
        (f"{_REL}/tableStyles", "tableStyles.xml"),
    ]
    master_rels = [
        (f"{_REL}/slideLayout", "../slideLayouts/slideLayout1.xml"),
        (f"{_REL}/theme", "../theme/theme1.xml"),
    ]
    to_master = [(f"{_REL}/slideMaster", "../slideMasters/slideMaster1.xml")]
    to_layout = [(f"{_REL}/slideLayout", "../slideLayouts/slideLayout1.xml")]
    return _ooxml(
        "ppt/presentation.xml",
        f"{pml}.presentation.main+xml",
        [
            ("ppt/presentation.xml", "", presentation),
            ("ppt/_rels/presentation.xml.rels", "", _relationships(presentation_rels)),
            ("ppt/slideMasters/slideMaster1.xml", f"{pml}.slideMaster+xml", _slide_master()),
            ("ppt/slideMasters/_rels/slideMaster1.xml.rels", "", _relationships(master_rels)),
            ("ppt/slideLayouts/slideLayout1.xml", f"{pml}.slideLayout+xml", layout),
            ("ppt/slideLayouts/_rels/slideLayout1.xml.rels", "", _relationships(to_master)),
            ("ppt/slides/slide1.xml", f"{pml}.slide+xml", slide),
            ("ppt/slides/_rels/slide1.xml.rels", "", _relationships(to_layout)),
            ("ppt/theme/theme1.xml", f"{_OFFICE_CT}.theme+xml", _theme()),
            ("ppt/presProps.xml", f"{pml}.presProps+xml", pres_props),
            ("ppt/viewProps.xml", f"{pml}.viewProps+xml", view_props),
            ("ppt/tableStyles.xml", f"{pml}.tableStyles+xml", table_styles),
        ],
    )


# ---- ODF (OASIS OpenDocument 1.2) ----

_ODF_MIME_TYPES: dict[str, str] = {
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".odp": "application/vnd.oasis.opendocument.presentation",
}
_ODF = "urn:oasis:names:tc:opendocument:xmlns"
_ODF_NS = (
    f'xmlns:office="{_ODF}:office:1.0" xmlns:style="{_ODF}:style:1.0" xmlns:text="{_ODF}:text:1.0"'
    f' xmlns:table="{_ODF}:table:1.0" xmlns:draw="{_ODF}:drawing:1.0" xmlns:fo="{_ODF}:xsl-fo-compatible:1.0"'
    f' xmlns:presentation="{_ODF}:presentation:1.0" xmlns:meta="{_ODF}:meta:1.0"'
    ' xmlns:dc="http://purl.org/dc/elements/1.1/" office:version="1.2"'
)
_ODF_PARTS = ("content.xml", "styles.xml", "meta.xml")


def _page(name: str, width: str, height: str, margin: str) -> str:
    """A page layout for `office:automatic-styles`."""
    margins = "".join(f' fo:margin-{side}="{margin}"' for side in ("top", "bottom", "left", "right"))
    orientation = "landscape" if float(width[:-2]) > float(height[:-2]) else "portrait"
    return (
        f'<style:page-layout style:name="{name}"><style:page-layout-properties fo:page-width="{width}"'
        f' fo:page-height="{height}" style:print-orientation="{orientation}"{margins}/></style:page-layout>'
    )


def _odf(extension: str, body: str, styles: str) -> bytes:
    mime_type = _ODF_MIME_TYPES[extension]
    files = "".join(
        f'<manifest:file-entry manifest:full-path="{name}" manifest:media-type="text/xml"/>' for name in _ODF_PARTS
    )
    manifest = _xml(
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2">'
        f'<manifest:file-entry manifest:full-path="/" manifest:version="1.2" manifest:media-type="{mime_type}"/>'
        f"{files}</manifest:manifest>"
    )
    content = _xml(f"<office:document-content {_ODF_NS}><office:body>{body}</office:body></office:document-content>")
    meta = _xml(
        f"<office:document-meta {_ODF_NS}><office:meta><meta:generator>{_GENERATOR}</meta:generator>"
        "</office:meta></office:document-meta>"
    )
    return _zip(
        [
            ("mimetype", mime_type.encode("ascii")),
            ("META-INF/manifest.xml", manifest),
            ("content.xml", content),
            ("styles.xml", _xml(f"<office:document-styles {_ODF_NS}>{styles}</office:document-styles>")),
            ("meta.xml", meta),
        ],
        stored=frozenset({"mimetype"}),
    )


def _odt() -> bytes:
    styles = (
        '<office:styles><style:style style:name="Standard" style:family="paragraph" style:class="text"/>'
        "</office:styles>"
        f"<office:automatic-styles>{_page('pm1', '21cm', '29.7cm', '2cm')}</office:automatic-styles>"
        '<office:master-styles><style:master-page style:name="Standard" style:page-layout-name="pm1"/>'
        "</office:master-styles>"
    )
    return _odf(".odt", '<office:text><text:p text:style-name="Standard"/></office:text>', styles)


def _ods() -> bytes:
    table = '<table:table table:name="Sheet1"><table:table-column/><table:table-row><table:table-cell/>'
    return _odf(".ods", f"<office:spreadsheet>{table}</table:table-row></table:table></office:spreadsheet>", "")


def _odp() -> bytes:
    styles = (
        f"<office:automatic-styles>{_page('PM1', '28cm', '15.75cm', '0cm')}</office:automatic-styles>"  # 16:9
        '<office:master-styles><style:master-page style:name="Default" style:page-layout-name="PM1"/>'
        "</office:master-styles>"
    )
    page = '<draw:page draw:name="page1" draw:master-page-name="Default"/>'
    return _odf(".odp", f"<office:presentation>{page}</office:presentation>", styles)


# ---- the public surface ----

_BUILDERS: dict[str, Callable[[], bytes]] = {
    ".docx": _docx,
    ".xlsx": _xlsx,
    ".pptx": _pptx,
    ".odt": _odt,
    ".ods": _ods,
    ".odp": _odp,
}
BLANK_EXTENSIONS: frozenset[str] = frozenset(_BUILDERS)


class NoBlankDocument(ValueError):
    """There is no blank document for this extension."""

    def __init__(self, extension: str) -> None:
        self.extension = extension
        offered = ", ".join(sorted(BLANK_EXTENSIONS))
        super().__init__(f"no blank document for {extension!r}: one of {offered} (with the dot, in lower case)")


@cache
def blank_document(extension: str) -> bytes:
    """The bytes of a valid, empty document of type `extension` ('.docx', '.odt'...: with its dot, lower case).
    Built on first use and kept; the same on every call. Raises NoBlankDocument (a ValueError) for any other."""
    builder = _BUILDERS.get(extension)
    if builder is None:
        raise NoBlankDocument(extension)
    return builder()

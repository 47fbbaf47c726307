"""A template file's bytes as a new document's, in bounded chunks: as they are for a document (`Minutes.docx`),
or, for a template (`.dotx`, `.ott`...), its zip rewritten entry by entry so that the result says it is a document.

Why rewrite. A template and its document share one format, but each package says which it is: an OOXML package
in the content type of its main part, in `[Content_Types].xml` (`wordprocessingml.template.main+xml` for a .dotx,
`wordprocessingml.document.main+xml` for a .docx); an ODF package in its `mimetype` entry and in the root entry
of `META-INF/manifest.xml` (`opendocument.text-template` for an .ott). Only renamed, a .dotx is refused by Word
and python-docx as not a document, and an .ott may be opened by LibreOffice as a template, that is as a new
untitled document instead of the one that was opened.

How. `zipfile` reads the template's central directory and the few entries that name its type, each held whole
but bounded (MAX_REWRITTEN_ENTRY). Every other entry is copied as it is stored, compressed bytes unchanged (and
unchecked: the office suite that opens the document checks its CRCs), a piece at a time (PIECE_BYTES), so the
file is never held whole. The new zip's headers are written here rather
than by `zipfile`'s writer: writing to a stream, `zipfile` puts each entry's CRC and sizes in a data descriptor
after its data, and LibreOffice (since 24.8.2, `ZipPackage::checkZipEntriesWithDD`) refuses a package with a
*stored* entry framed so, which every ODF package has (its `mimetype`). Here every local header carries its
entry's CRC and sizes, known before the entry is sent: from the central directory for a copied entry, computed
for a rewritten one. No zip64: a template never needs it, and one that would is refused.
"""

from __future__ import annotations

import asyncio
import codecs
import os
import struct
import zipfile
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import BinaryIO

from wopi_frontend import pages

PIECE_BYTES = 256 * 1024  # the most handed to storage at a time
MAX_REWRITTEN_ENTRY = 1024 * 1024  # `[Content_Types].xml`, `mimetype`, `manifest.xml`: a few KiB in practice

_OOXML = "application/vnd.openxmlformats-officedocument."
_ODF = "application/vnd.oasis.opendocument."
_OOXML_ENTRIES = ("[Content_Types].xml",)
_ODF_ENTRIES = ("mimetype", "META-INF/manifest.xml")
_OPTIONAL_ENTRIES = frozenset({"mimetype"})  # ODF 1.2 part 3: a package "should" have one, not "shall"
# For each template extension: the entries that say what the package is, the type a template has there, and the
# type a document has instead.
REWRITES: dict[str, tuple[tuple[str, ...], str, str]] = {
    ".dotx": (
        _OOXML_ENTRIES,
        f"{_OOXML}wordprocessingml.template.main+xml",
        f"{_OOXML}wordprocessingml.document.main+xml",
    ),
    ".xltx": (_OOXML_ENTRIES, f"{_OOXML}spreadsheetml.template.main+xml", f"{_OOXML}spreadsheetml.sheet.main+xml"),
    ".potx": (
        _OOXML_ENTRIES,
        f"{_OOXML}presentationml.template.main+xml",
        f"{_OOXML}presentationml.presentation.main+xml",
    ),
    ".ott": (_ODF_ENTRIES, f"{_ODF}text-template", f"{_ODF}text"),
    ".ots": (_ODF_ENTRIES, f"{_ODF}spreadsheet-template", f"{_ODF}spreadsheet"),
    ".otp": (_ODF_ENTRIES, f"{_ODF}presentation-template", f"{_ODF}presentation"),
}
# What reading a damaged zip can raise (UnicodeDecodeError is a ValueError).
_READ_ERRORS = (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError, ValueError)

# The zip records (APPNOTE.TXT 4.3): local file header, central directory header, end of central directory.
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_LOCAL_SIGNATURE, _CENTRAL_SIGNATURE, _END_SIGNATURE = 0x04034B50, 0x02014B50, 0x06054B50
_ENCRYPTED, _DEFLATE_OPTIONS, _UTF8_NAME = 0x1, 0x6, 0x800
_ZIP32_LIMIT = 0xFFFFFFFF  # sizes and offsets from here on need zip64
_MAX_ENTRIES = 0xFFFF

Chunks = Callable[[], AsyncIterator[bytes]]


class TemplateUnusable(Exception):
    """The template file cannot be made into a document: what is wrong with it, for a person, to follow "the
    template" ('is encrypted'), without a full stop."""


async def document_chunks(file: BinaryIO, source_extension: str, max_size: int) -> Chunks:
    """What makes the new document's bytes from `file` (open, owned by the caller), each time it is called:
    storage may be asked more than once, one name after another. For a template, its zip is read and checked
    here, before anything is sent; TemplateUnusable if it is not one."""
    rewrite = REWRITES.get(source_extension)
    if rewrite is None:
        return lambda: _file_chunks(file.fileno(), max_size)
    package = await asyncio.to_thread(_TemplatePackage.read, file, *rewrite)
    return lambda: package.chunks(max_size)


async def _file_chunks(descriptor: int, max_size: int) -> AsyncIterator[bytes]:
    offset = 0
    while piece := await _read(descriptor, PIECE_BYTES, offset):
        offset += len(piece)
        if offset > max_size:  # grown since it was listed
            raise TemplateUnusable(f"is larger than the {pages.format_size(max_size)} this server accepts")
        yield piece


async def _read(descriptor: int, size: int, offset: int) -> bytes:
    try:
        return await asyncio.to_thread(os.pread, descriptor, size, offset)
    except OSError as error:
        raise TemplateUnusable(f"cannot be read ({error.strerror or error})") from None


@dataclass(frozen=True)
class _Rewritten:
    data: bytes  # as stored: compressed as its entry was
    crc: int
    size: int  # uncompressed


class _TemplatePackage:
    """A template's zip: its entries, in order, and the rewritten ones' new contents."""

    def __init__(self, descriptor: int, members: list[zipfile.ZipInfo], rewritten: dict[str, _Rewritten]) -> None:
        self.descriptor = descriptor
        self.members = members
        self.rewritten = rewritten

    @classmethod
    def read(cls, file: BinaryIO, entries: tuple[str, ...], template_type: str, document_type: str) -> _TemplatePackage:
        try:
            source = zipfile.ZipFile(file)
            members = source.infolist()
            _check(members)
            present = {member.filename: member for member in members}
            rewritten = {}
            for entry in entries:
                if entry not in present:
                    if entry in _OPTIONAL_ENTRIES:
                        continue
                    raise TemplateUnusable(f"has no {entry}")
                member = present[entry]
                with source.open(member) as stream:
                    data = stream.read(MAX_REWRITTEN_ENTRY + 1)
                if len(data) > MAX_REWRITTEN_ENTRY:
                    raise TemplateUnusable(f"has a {entry} larger than {pages.format_size(MAX_REWRITTEN_ENTRY)}")
                retyped = _retyped(data, template_type, document_type, quoted=entry != "mimetype")
                if retyped is None:
                    raise TemplateUnusable(f"has a {entry} that does not say it is a template ({template_type})")
                if retyped != data:  # else (a document with a template's extension) copied as it is
                    rewritten[entry] = _Rewritten(
                        _stored(retyped, member.compress_type), zlib.crc32(retyped), len(retyped)
                    )
        except _READ_ERRORS:
            raise TemplateUnusable("is not a valid zip package") from None
        return cls(file.fileno(), members, rewritten)

    async def chunks(self, max_size: int) -> AsyncIterator[bytes]:
        out = _Output(max_size)
        directory = []
        for member in self.members:
            rewritten = self.rewritten.get(member.filename)
            entry = _Entry.of(member, rewritten, offset=out.position)
            out.add(entry.local_header())
            directory.append(entry.central_record())
            if rewritten is not None:
                out.add(rewritten.data)
            else:
                async for piece in self._stored_bytes(member, out):
                    out.add(piece)
                    if out.full:
                        yield out.take()
            if out.full:
                yield out.take()
        start = out.position
        for record in directory:
            out.add(record)
            if out.full:
                yield out.take()
        if out.position >= _ZIP32_LIMIT:
            raise TemplateUnusable("would need zip64, which this server does not write")
        out.add(_END.pack(_END_SIGNATURE, 0, 0, len(directory), len(directory), out.position - start, start, 0))
        yield out.take()

    async def _stored_bytes(self, member: zipfile.ZipInfo, out: _Output) -> AsyncIterator[bytes]:
        """The entry's data as stored in the template, in pieces that fill `out` to PIECE_BYTES at most."""
        header = await _read(self.descriptor, _LOCAL.size, member.header_offset)
        if len(header) != _LOCAL.size or _LOCAL.unpack(header)[0] != _LOCAL_SIGNATURE:
            raise TemplateUnusable(f"has a part that cannot be read ({member.filename})")
        *_, name_length, extra_length = _LOCAL.unpack(header)
        offset = member.header_offset + _LOCAL.size + name_length + extra_length
        left = member.compress_size
        while left:
            piece = await _read(self.descriptor, min(left, out.room), offset)
            if not piece:  # shorter than its central directory says
                raise TemplateUnusable(f"has a part that cannot be read ({member.filename})")
            offset += len(piece)
            left -= len(piece)
            yield piece


def _check(members: list[zipfile.ZipInfo]) -> None:
    if len(members) > _MAX_ENTRIES or any(
        max(member.file_size, member.compress_size, member.header_offset) >= _ZIP32_LIMIT for member in members
    ):
        raise TemplateUnusable("would need zip64, which this server does not write")
    if len({member.filename for member in members}) != len(members):
        raise TemplateUnusable("has two parts of the same name")
    if any(member.flag_bits & _ENCRYPTED for member in members):
        raise TemplateUnusable("is encrypted")
    if any(member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) for member in members):
        raise TemplateUnusable("uses a compression other than stored or deflated, which office suites do not read")


@dataclass(frozen=True)
class _Entry:
    """One entry of the new zip, as its two headers give it. No data descriptor (the CRC and sizes are in the
    local header) and no extra fields (ODF forbids one on `mimetype`)."""

    member: zipfile.ZipInfo
    name: bytes
    flags: int
    crc: int
    stored_size: int
    size: int
    offset: int  # of its local header in the new zip

    @classmethod
    def of(cls, member: zipfile.ZipInfo, rewritten: _Rewritten | None, *, offset: int) -> _Entry:
        if offset >= _ZIP32_LIMIT:
            raise TemplateUnusable("would need zip64, which this server does not write")
        try:
            name, flags = member.filename.encode("ascii"), 0
        except UnicodeEncodeError:
            name, flags = member.filename.encode("utf-8"), _UTF8_NAME
        if member.compress_type == zipfile.ZIP_DEFLATED:
            flags |= member.flag_bits & _DEFLATE_OPTIONS  # the level it was compressed at, as a hint
        if rewritten is None:
            return cls(member, name, flags, member.CRC, member.compress_size, member.file_size, offset)
        return cls(member, name, flags, rewritten.crc, len(rewritten.data), rewritten.size, offset)

    def local_header(self) -> bytes:
        return _LOCAL.pack(_LOCAL_SIGNATURE, *self._common(), 0) + self.name

    def central_record(self) -> bytes:
        made_by = (self.member.create_system << 8) | 20
        comment, internal, external = self.member.comment, self.member.internal_attr, self.member.external_attr
        fields = (*self._common(), 0, len(comment), 0, internal, external, self.offset)
        return _CENTRAL.pack(_CENTRAL_SIGNATURE, made_by, *fields) + self.name + comment

    def _common(self) -> tuple[int, ...]:
        """The fields both headers share, from the version needed to the name's length."""
        method = self.member.compress_type
        needed = 20 if method == zipfile.ZIP_DEFLATED else 10  # zip 2.0 for deflate, 1.0 for stored
        year, month, day, hour, minute, second = self.member.date_time
        year = min(max(year, 1980), 2107)  # what MS-DOS dates can hold
        time = (hour << 11) | (minute << 5) | (second // 2)
        date = ((year - 1980) << 9) | (month << 5) | day
        return needed, self.flags, method, time, date, self.crc, self.stored_size, self.size, len(self.name)


def _stored(data: bytes, method: int) -> bytes:
    if method == zipfile.ZIP_STORED:
        return data
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)  # raw deflate, as zip stores it
    return compressor.compress(data) + compressor.flush()


def _retyped(data: bytes, template_type: str, document_type: str, *, quoted: bool) -> bytes | None:
    """`data` naming `document_type` where it named `template_type`: as an XML attribute's value (`quoted`), or
    as the whole of it (ODF's `mimetype`). Unchanged if it names the document type already (a document with a
    template's extension); None if it names neither."""
    if not quoted:
        kind = data.decode("ascii").strip()
        return document_type.encode("ascii") if kind == template_type else data if kind == document_type else None
    # OPC allows UTF-16 as well as UTF-8 for [Content_Types].xml; either comes back as it was.
    encoding = "utf-16" if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "utf-8"
    text = data.decode(encoding)
    changed = text
    for quote in "\"'":
        changed = changed.replace(f"{quote}{template_type}{quote}", f"{quote}{document_type}{quote}")
    if changed != text:
        return changed.encode(encoding)
    return data if any(f"{quote}{document_type}{quote}" in text for quote in "\"'") else None


class _Output:
    """The new zip on its way to storage: gathered up to PIECE_BYTES, then taken; never more than `max_size`."""

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self.position = 0  # bytes added so far: the offset of the next record in the new zip
        self._parts: list[bytes] = []
        self._size = 0

    @property
    def room(self) -> int:
        return max(PIECE_BYTES - self._size, 1)

    @property
    def full(self) -> bool:
        return self._size >= PIECE_BYTES

    def add(self, data: bytes) -> None:
        self.position += len(data)
        if self.position > self.max_size:
            raise TemplateUnusable(f"would make a document larger than the {pages.format_size(self.max_size)} allowed")
        self._parts.append(data)
        self._size += len(data)

    def take(self) -> bytes:
        taken = b"".join(self._parts)
        self._parts.clear()
        self._size = 0
        return taken

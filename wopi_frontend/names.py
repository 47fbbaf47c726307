"""File names as WOPI clients send them: splitting extensions, checking legality, and finding free variants."""

from __future__ import annotations

import re
import unicodedata

from wopi_frontend.text import INVISIBLE

# Printable characters that Windows refuses in names, and the path separators.
_RESERVED = re.compile(r'[/\\:*?"<>|]')
MAX_NAME_BYTES = 255


def split_extension(name: str) -> tuple[str, str]:
    """('report', '.docx') for 'report.docx'; a leading dot alone is not an extension ('.profile', '')."""
    dot = name.rfind(".")
    if dot <= 0:
        return name, ""
    return name[:dot], name[dot:]


def problem(name: str) -> str | None:
    """Why `name` cannot be a file name here, or None. Stricter than storage: also refuses the characters
    Windows refuses, so that every name can be downloaded and opened anywhere."""
    if not name or name in (".", ".."):
        return "the name is empty"
    invisible = INVISIBLE.search(name)
    if invisible:  # the code point, never the character: it would rearrange the text it is shown in
        return f"a name cannot contain control or invisible formatting characters (U+{ord(invisible.group()):04X})"
    if _RESERVED.search(name):
        return 'a name cannot contain / \\ : * ? " < > |'
    if name != name.strip(" ") or name.endswith("."):
        return "a name cannot start or end with a space, or end with a dot"
    if len(normalized(name).encode("utf-8")) > MAX_NAME_BYTES:  # the length of what storage keeps
        return f"the name is longer than {MAX_NAME_BYTES} bytes"
    return None


def normalized(name: str) -> str:
    """`name` in NFC, the form in which storage compares, stores and returns names (so compare with this)."""
    return unicodedata.normalize("NFC", name)


def make_legal(name: str, fallback_stem: str = "document") -> str:
    """A legal name close to `name` (for suggested-mode PutRelativeFile, which must never fail on a name), in NFC.
    Invisible characters are dropped (what is left is the name as it was shown, or as it really reads), reserved
    ones become '_'."""
    stem, extension = split_extension(normalized(INVISIBLE.sub("", name)))
    extension = _RESERVED.sub("_", extension).rstrip(" .")
    if len((fallback_stem + extension).encode("utf-8")) > MAX_NAME_BYTES:
        extension = ""
    stem = _RESERVED.sub("_", stem)
    while len((stem + extension).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    # Stripped after shortening, which can leave a space or a dot at the end.
    return (stem.strip(" .") or fallback_stem) + extension


def variant(name: str, number: int) -> str:
    """'report (2).docx' for ('report.docx', 2), shortened if needed to stay legal."""
    stem, extension = split_extension(name)
    suffix = f" ({number})"
    while len((stem + suffix + extension).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return (stem + suffix if stem else suffix.lstrip(" ")) + extension  # " (2).x" would start with a space

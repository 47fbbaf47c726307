"""File names as WOPI clients send them: splitting extensions, checking legality, and finding free variants."""

from __future__ import annotations

import re

_ILLEGAL = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
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
    if _ILLEGAL.search(name):
        return 'a name cannot contain / \\ : * ? " < > | or control characters'
    if name != name.strip(" ") or name.endswith("."):
        return "a name cannot start or end with a space, or end with a dot"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        return f"the name is longer than {MAX_NAME_BYTES} bytes"
    return None


def make_legal(name: str, fallback_stem: str = "document") -> str:
    """A legal name close to `name` (for suggested-mode PutRelativeFile, which must never fail on a name)."""
    stem, extension = split_extension(name)
    extension = _ILLEGAL.sub("_", extension).rstrip(" .")
    if len((fallback_stem + extension).encode("utf-8")) > MAX_NAME_BYTES:
        extension = ""
    stem = _ILLEGAL.sub("_", stem)
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

"""Checks on every value that arrives from the network, shared by all backends.

Each check raises `InvalidArgument` naming the request field, so a bad request never reaches a backend.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta

from storage_adapter.errors import InvalidArgument
from storage_adapter.types import Capabilities, ContainerId, FileId, LockId

_ID = re.compile(r"[A-Za-z0-9_-]{1,256}")
# The characters no name may hold, as the proto's rule for names lists them (the front-end's names.py repeats the
# list). They are invisible or change how the rest is shown, so a name holding them can pass for another one:
# `invoice\u202excod.exe` shows as `invoiceexe.docx`, and `report\u200b.docx` as `report.docx`.
_FORBIDDEN_IN_NAMES = re.compile(
    "["
    r"\x00-\x1f\x7f-\x9f"  # Cc: the C0 controls, DEL and the C1 controls
    r"\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    r"\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    r"\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"  # Cf: every format character of Unicode 15.1
    r"\u2028\u2029"  # Zl, Zp: the line and paragraph separators
    r"\ufdd0-\ufdef"
    + "".join(rf"\U{plane:04x}fffe-\U{plane:04x}ffff" for plane in range(17))  # noncharacters
    + "]"
)
_LOCK_ID = re.compile(r"[\x20-\x7e]*")
_SEPARATORS = ("/", "\\")


def file_id(value: str, field: str = "file_id") -> FileId:
    if not _ID.fullmatch(value):
        raise InvalidArgument(field, "a file id is 1-256 characters from [A-Za-z0-9_-]")
    return FileId(value)


def container_id(value: str, field: str = "container_id") -> ContainerId:
    if not _ID.fullmatch(value):
        raise InvalidArgument(field, "a container id is 1-256 characters from [A-Za-z0-9_-]")
    return ContainerId(value)


def name(value: str, capabilities: Capabilities, field: str = "name") -> str:
    """A file or container name: one path component, never a path, returned in NFC, the one form in which names
    are compared and stored (so that an 'é' typed as 'e' and a combining accent is the same name as 'é')."""
    if not value:
        raise InvalidArgument(field, "the name is empty")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgument(field, "the name is not valid Unicode (lone surrogate)") from None
    forbidden = _FORBIDDEN_IN_NAMES.search(value)
    if forbidden:
        character = f"U+{ord(forbidden.group()):04X}"
        raise InvalidArgument(
            field, f"a name cannot contain control, format or other invisible characters ({character})"
        )
    value = unicodedata.normalize("NFC", value)  # the checks below hold for what is stored
    if value in (".", ".."):
        raise InvalidArgument(field, "'.' and '..' are not names")
    if any(separator in value for separator in _SEPARATORS):
        raise InvalidArgument(field, "a name cannot contain '/' or '\\'")
    if value != value.strip(" "):
        raise InvalidArgument(field, "a name cannot start or end with a space")
    if len(value.encode("utf-8")) > capabilities.max_name_length:
        raise InvalidArgument(field, f"the name is longer than {capabilities.max_name_length} UTF-8 bytes")
    return value


def lock_id(value: str, capabilities: Capabilities, field: str = "lock_id") -> LockId:
    if not value:
        raise InvalidArgument(field, "the lock id is empty")
    if len(value) > capabilities.max_lock_id_length:
        raise InvalidArgument(field, f"the lock id is longer than {capabilities.max_lock_id_length} characters")
    if not _LOCK_ID.fullmatch(value):
        raise InvalidArgument(field, "a lock id is printable ASCII (U+0020-U+007E)")
    return LockId(value)


def optional_lock_id(value: str, capabilities: Capabilities, field: str) -> str:
    """A lock id in a precondition, where empty means 'the caller holds none'."""
    return lock_id(value, capabilities, field) if value else ""


def ttl(value: timedelta, capabilities: Capabilities, field: str = "ttl") -> timedelta:
    if value <= timedelta(0):
        raise InvalidArgument(field, "the lock TTL must be more than 0")
    if value > capabilities.max_lock_ttl:
        raise InvalidArgument(field, f"the lock TTL is longer than {capabilities.max_lock_ttl}")
    return value


def extension(value: str, field: str = "file_extensions") -> str:
    if not value.startswith(".") or len(value) > 64 or any(s in value for s in _SEPARATORS):
        raise InvalidArgument(field, "an extension filter looks like '.docx'")
    return value.lower()


def user_info(value: str, capabilities: Capabilities) -> str:
    from storage_adapter.errors import TooLarge

    if len(value) > capabilities.max_user_info_length:
        raise TooLarge(f"user info is longer than {capabilities.max_user_info_length} characters")
    return value

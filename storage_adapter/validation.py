"""Checks on every value that arrives from the network, shared by all backends.

Each check raises `InvalidArgument` naming the request field, so a bad request never reaches a backend.
"""

from __future__ import annotations

import re
from datetime import timedelta

from storage_adapter.errors import InvalidArgument
from storage_adapter.types import Capabilities, ContainerId, FileId, LockId

_ID = re.compile(r"[A-Za-z0-9_-]{1,256}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
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
    """A file or container name: one path component, never a path."""
    if not value:
        raise InvalidArgument(field, "the name is empty")
    if value in (".", ".."):
        raise InvalidArgument(field, "'.' and '..' are not names")
    if any(separator in value for separator in _SEPARATORS):
        raise InvalidArgument(field, "a name cannot contain '/' or '\\'")
    if _CONTROL.search(value):
        raise InvalidArgument(field, "a name cannot contain NUL or other control characters")
    if value != value.strip(" "):
        raise InvalidArgument(field, "a name cannot start or end with a space")
    try:
        encoded = value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgument(field, "the name is not valid Unicode (lone surrogate)") from None
    if len(encoded) > capabilities.max_name_length:
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

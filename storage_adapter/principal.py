"""The end user on whose behalf a call is made, read from gRPC metadata (ARCHITECTURE rule 8)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from storage_adapter.errors import InvalidArgument
from storage_adapter.types import Principal

PRINCIPAL_ID_KEY = "x-wopi-principal-id"
PRINCIPAL_NAME_KEY = "x-wopi-principal-name-bin"  # -bin: gRPC carries it as bytes, so any UTF-8 name fits
PRINCIPAL_GROUPS_KEY = "x-wopi-principal-groups"
MAX_GROUPS = 256

_USER_ID = re.compile(r"[\x21-\x7e]{1,256}")
_GROUP_ID = re.compile(r"[\x21-\x2b\x2d-\x7e]{1,256}")  # printable ASCII but space and the separator ","


def is_user_id(value: str) -> bool:
    return bool(_USER_ID.fullmatch(value))


def is_group_id(value: str) -> bool:
    return bool(_GROUP_ID.fullmatch(value))


def groups(raw: str | bytes) -> frozenset[str]:
    """Comma-separated group ids (proto "Identity"); empty means none."""
    if isinstance(raw, bytes):
        raise InvalidArgument(PRINCIPAL_GROUPS_KEY, "the groups are ASCII text")
    if not raw:
        return frozenset()
    names = raw.split(",")
    if len(names) > MAX_GROUPS:
        raise InvalidArgument(PRINCIPAL_GROUPS_KEY, f"at most {MAX_GROUPS} groups")
    if not all(map(is_group_id, names)):
        raise InvalidArgument(
            PRINCIPAL_GROUPS_KEY, "group ids are 1-256 printable ASCII characters without spaces or commas"
        )
    return frozenset(names)


def from_metadata(metadata: Iterable[tuple[str, str | bytes]] | None) -> Principal:
    """The call's principal (with an empty user id when none is sent); INVALID_ARGUMENT if malformed.
    Parsed once per call, by the interceptor (access.bind_principal)."""
    entries = dict(metadata or ())
    user_id = entries.get(PRINCIPAL_ID_KEY, "")
    raw_name = entries.get(PRINCIPAL_NAME_KEY, b"")
    if isinstance(user_id, bytes) or (user_id and not _USER_ID.fullmatch(user_id)):
        raise InvalidArgument(PRINCIPAL_ID_KEY, "the principal id is 1-256 printable ASCII characters")
    try:
        name = raw_name.decode("utf-8") if isinstance(raw_name, bytes) else raw_name
    except UnicodeDecodeError:
        raise InvalidArgument(PRINCIPAL_NAME_KEY, "the principal's name is not UTF-8") from None
    if len(name) > 256:
        raise InvalidArgument(PRINCIPAL_NAME_KEY, "the principal's name is longer than 256 characters")
    return Principal(user_id=user_id, display_name=name, groups=groups(entries.get(PRINCIPAL_GROUPS_KEY, "")))


def required(principal: Principal) -> Principal:
    """`principal`, if it names a user: INVALID_ARGUMENT otherwise (a call that records an owner or author)."""
    if not principal.user_id:
        raise InvalidArgument(PRINCIPAL_ID_KEY, "this call needs the principal's user id in metadata")
    return principal

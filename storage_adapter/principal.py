"""The end user on whose behalf a call is made, read from gRPC metadata (ARCHITECTURE rule 8)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping

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
    """The call's principal (with an empty user id when none is sent); INVALID_ARGUMENT if malformed."""
    return from_entries(dict(metadata or ()))


def from_entries(entries: Mapping[str, str | bytes]) -> Principal:
    """`from_metadata` of metadata already read into a mapping (the interceptor reads it once per call, for the
    secret and this, and binds the result: access.bind_principal)."""
    return _parsed(
        entries.get(PRINCIPAL_ID_KEY, ""), entries.get(PRINCIPAL_NAME_KEY, b""), entries.get(PRINCIPAL_GROUPS_KEY, "")
    )


# The same few users call again and again: their metadata is checked once, and the (immutable) Principal reused.
# Malformed metadata raises, and is never remembered.
@functools.lru_cache(maxsize=256)  # entries of at most gRPC's metadata limit (8 KiB by default)
def _parsed(user_id: str | bytes, raw_name: str | bytes, raw_groups: str | bytes) -> Principal:
    if isinstance(user_id, bytes) or (user_id and not _USER_ID.fullmatch(user_id)):
        raise InvalidArgument(PRINCIPAL_ID_KEY, "the principal id is 1-256 printable ASCII characters")
    try:
        name = raw_name.decode("utf-8") if isinstance(raw_name, bytes) else raw_name
    except UnicodeDecodeError:
        raise InvalidArgument(PRINCIPAL_NAME_KEY, "the principal's name is not UTF-8") from None
    if len(name) > 256:
        raise InvalidArgument(PRINCIPAL_NAME_KEY, "the principal's name is longer than 256 characters")
    return Principal(user_id=user_id, display_name=name, groups=groups(raw_groups))


def required(principal: Principal) -> Principal:
    """`principal`, if it names a user: INVALID_ARGUMENT otherwise (a call that records an owner or author)."""
    if not principal.user_id:
        raise InvalidArgument(PRINCIPAL_ID_KEY, "this call needs the principal's user id in metadata")
    return principal

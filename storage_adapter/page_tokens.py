"""Page tokens of the paginated RPCs (ListChildrenPage, ListSharedWithMe, ListActivities, ListAuditEvents,
ListLockedFiles): opaque, URL-safe text saying where the next page starts. One format for all: the compact JSON of
a list of fields, in base64url without padding. Each RPC puts its own fields in, checks them when a token comes
back, and refuses one that is not its own (INVALID_ARGUMENT naming `page_token`), so a token of one RPC, or of one
container or file, is never taken for another's."""

from __future__ import annotations

import base64
import binascii
import json

from storage_adapter.errors import InvalidArgument

MAX_TOKEN_LENGTH = 1024  # what the proto promises a token never exceeds


def encode(fields: list[object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(fields, ensure_ascii=False).encode()).decode().rstrip("=")


def decode(token: str) -> list[object]:
    """The fields of a token made by `encode` (padded or not); ValueError for anything else."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise ValueError("too long")
    try:
        fields = json.loads(base64.urlsafe_b64decode(token.encode("ascii") + b"=" * (-len(token) % 4)))
    except (binascii.Error, UnicodeError) as error:
        raise ValueError(f"not a page token: {error}") from None
    if not isinstance(fields, list):
        raise ValueError("not a page token")
    return fields


def page_size(requested: int, *, maximum: int, default: int, what: str) -> int:
    """A page size as the paginated RPCs take it: 0 is `default`; negative or above `maximum` is INVALID_ARGUMENT
    naming `page_size` (`what` the page holds, for the message)."""
    if not 0 <= requested <= maximum:
        raise InvalidArgument("page_size", f"a page holds 1 to {maximum} {what} (0: {default})")
    return requested or default


def position(value: object) -> int:
    """A row's position read back from a token: a non-negative BIGINT; ValueError otherwise."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**63:
        raise ValueError("not a position")
    return value

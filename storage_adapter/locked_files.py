"""ListLockedFiles (proto "Lock administration"), in one place for every backend: the order of the listing, its page
sizes and tokens, and how a page is cut from what a backend reads.

The files locked now, across the whole store, by (lock expiry, file id): the locks that end soonest first. Every
backend keeps an index of its locked files in that order (a partial index where the lock columns are set), so a
page reads one range of it, starting past the expiries already over: an expired lock is no lock, and is never
listed, nor read. The servicer checks that the caller is an administrator before a backend sees the call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from storage_adapter import page_tokens
from storage_adapter.errors import InvalidArgument
from storage_adapter.timestamps import to_us
from storage_adapter.types import FileMeta

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
_TOKEN_TAG = "locks"

Key = tuple[int, str]  # (the lock's expiry in microseconds since the epoch, the file id): the listing's order
Row = TypeVar("Row")


def key_of(meta: FileMeta) -> Key:
    assert meta.lock is not None
    return (to_us(meta.lock.expires_at), meta.file_id)


@dataclass(frozen=True)
class Page:
    """Locked files in key order, each with its live lock, and where the next page starts (None: the last)."""

    files: list[FileMeta]
    after: Key | None


def read_page(
    fetch: Callable[[Key | None, int], Sequence[Row]],
    key: Callable[[Row], Key],
    shown: Callable[[Row], FileMeta | None],
    size: int,
    after: Key | None,
) -> Page:
    """A page from at most `size + 1` rows of live locks after `after`, in key order (`fetch`): `shown` makes a row
    the file to list, or None to leave it out (a file another program removed meanwhile), so that a page may be
    short; the row past the page only tells that more follow."""
    rows = fetch(after, size + 1)
    examined = rows[:size]
    files = [meta for meta in (shown(row) for row in examined) if meta is not None and meta.lock is not None]
    return Page(files, key(examined[-1]) if len(rows) > size else None)


def page_size(requested: int) -> int:
    """0 is the default; above the maximum is INVALID_ARGUMENT (a uint32: never negative)."""
    return page_tokens.page_size(requested, maximum=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE, what="files")


def page_token(after: Key) -> str:
    return page_tokens.encode([_TOKEN_TAG, after[0], after[1]])


def page_after(token: str) -> Key | None:
    """Where the page of `token` starts (None: the first page); INVALID_ARGUMENT for a token no ListLockedFiles
    handed out."""
    if not token:
        return None
    try:
        body = page_tokens.decode(token)
        if len(body) != 3 or body[0] != _TOKEN_TAG:
            raise ValueError("not a token of this RPC")
        expires_us, file_id = body[1], body[2]
        if not isinstance(expires_us, int) or isinstance(expires_us, bool) or not -(2**63) <= expires_us < 2**63:
            raise ValueError("not an expiry")
        if not isinstance(file_id, str) or len(file_id) > 256:
            raise ValueError("not a file id")
        return (expires_us, file_id)
    except (ValueError, TypeError):
        raise InvalidArgument("page_token", "not a page token of this adapter's ListLockedFiles") from None

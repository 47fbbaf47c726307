"""Listings in pages (proto ListChildrenPage): the order, the page tokens and the bounded walk every backend uses.

A backend gives two things: its children after a position, read from an index in `ChildKey` order, a bounded
number at a time; and, for a batch of them, what the principal sees of each (None: left out, because the file's
extension is not asked for or because the principal may not read it). `read_page` does the rest, the same way
for every backend: it examines at most `examined_limit(page_size)` children per call, so that a page of a folder
whose children are mostly left out costs no more than any other page, and answers a shorter page with a token.

A token must not reveal a child the principal may not read. It names the last child *listed* (a name the
principal has seen), and, when the page ended on children left out, the last of those by its opaque id with a
short digest of its name: the next page resumes after that child if it is still there under that name, else
after the last listed one (examining again only children that were left out: nothing is listed twice). Item
ids are no secret (they are never paths), and the digest tells no more than trying a name with CreateFile does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from storage_adapter import page_tokens
from storage_adapter.errors import InvalidArgument
from storage_adapter.types import FileMeta, Item

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_TOKEN_LENGTH = page_tokens.MAX_TOKEN_LENGTH
EXAMINED_PER_ITEM = 4  # children examined per call: this many per item of the page asked for, at least 100

# Where a child stands in the listing: containers (0) before files (1), then the name in code-point order, the
# order of UTF-8 bytes (SQLite's BINARY collation, PostgreSQL's "C"): names are unique in a container.
ChildKey = tuple[int, str]

RowT = TypeVar("RowT")


def page_size(requested: int) -> int:
    """0 is the default; negative or above the maximum is INVALID_ARGUMENT (proto ListChildrenPageRequest)."""
    return page_tokens.page_size(requested, maximum=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE, what="items")


def examined_limit(size: int) -> int:
    """How many children one call examines at most, for a page of `size` items."""
    return max(EXAMINED_PER_ITEM * size, 100)


def key_of(is_file: bool, name: str) -> ChildKey:
    return (int(is_file), name)


def item_key(item: Item) -> ChildKey:
    return key_of(isinstance(item, FileMeta), item.name)


def wanted(is_file: bool, name: str, extensions: frozenset[str]) -> bool:
    """Whether the extension filter keeps a child (containers are always listed)."""
    return not (is_file and extensions and not name.lower().endswith(tuple(extensions)))


@dataclass(frozen=True)
class Skipped:
    """The last child a page examined and left out: its id, and a digest of its name under that id."""

    item_id: str
    digest: str

    @classmethod
    def of(cls, item_id: str, name: str) -> Skipped:
        return cls(item_id, name_digest(item_id, name))


def name_digest(item_id: str, name: str) -> str:
    """Tells whether a child still has the name it had, without telling the name."""
    return hashlib.sha256(f"{item_id}\0{name}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class PageToken:
    """Where the next page starts: after `listed` (None: from the start), or after `skipped` if it still holds."""

    container_id: str
    listed: ChildKey | None
    skipped: Skipped | None = None

    def encode(self) -> str:
        body = [self.container_id, list(self.listed) if self.listed else None]
        if self.skipped is not None:
            body.append([self.skipped.item_id, self.skipped.digest])
        return page_tokens.encode(body)


def decode_token(token: str, container_id: str) -> PageToken | None:
    """The position of `token` (None: the first page); INVALID_ARGUMENT for a token that this adapter did not hand
    out for this container."""
    if not token:
        return None
    try:
        body = page_tokens.decode(token)
        if len(body) not in (2, 3) or body[0] != container_id:
            raise ValueError("not this container's")
        listed = None
        if body[1] is not None:
            kind, name = body[1]
            if kind not in (0, 1) or not isinstance(name, str):
                raise ValueError("not a position")
            listed = (int(kind), name)
        skipped = None
        if len(body) == 3:
            item_id, digest = body[2]
            if not isinstance(item_id, str) or not isinstance(digest, str):
                raise ValueError("not a skipped child")
            skipped = Skipped(item_id, digest)
        return PageToken(container_id, listed, skipped)
    except (ValueError, TypeError):
        raise InvalidArgument("page_token", "not a page token of this adapter for this container") from None


@dataclass(frozen=True)
class Page:
    items: list[Item]
    next_token: str


@dataclass(frozen=True)
class Child(Generic[RowT]):
    """A child as a backend read it: where it stands, its id (for a token), and the backend's own row."""

    key: ChildKey
    item_id: str
    row: RowT


def read_page(
    container_id: str,
    token: PageToken | None,
    size: int,
    resolve: Callable[[str], ChildKey | None],
    children_after: Callable[[ChildKey | None, int], Sequence[Child[RowT]]],
    shown: Callable[[Sequence[Child[RowT]]], Sequence[Item | None]],
) -> Page:
    """One page, examining at most `examined_limit(size)` children.

    `resolve(item_id)`: where that child of the container stands now, None if it is no longer in it (a token's
    `Skipped` child is resumed after only if it still has the name of its `name_digest`).
    `children_after(key, limit)`: at most `limit` children after `key` (None: from the start), in key order.
    `shown(children)`: for each, the item the principal sees, or None to leave it out.
    """
    listed = token.listed if token is not None else None  # the last key the principal has seen listed
    cursor = listed
    if token is not None and token.skipped is not None:
        left_out = token.skipped
        resumed = resolve(left_out.item_id)
        still_named = resumed is not None and name_digest(left_out.item_id, resumed[1]) == left_out.digest
        if resumed is not None and still_named and (listed is None or resumed > listed):
            cursor = resumed
    budget = examined_limit(size)
    items: list[Item] = []
    skipped: Child[RowT] | None = None
    while True:
        room = min(size - len(items), budget)
        batch = children_after(cursor, room + 1)  # one more than room: tells whether any is left
        for child, item in zip(batch[:room], shown(batch[:room]), strict=True):
            cursor = child.key
            if item is None:
                skipped = child
            else:
                items.append(item)
                listed, skipped = child.key, None
        budget -= len(batch[:room])
        if len(batch) <= room:
            return Page(items, "")
        if len(items) == size or budget <= 0:
            left_out = Skipped.of(skipped.item_id, skipped.key[1]) if skipped is not None else None
            return Page(items, PageToken(container_id, listed, left_out).encode())


def in_key_order(
    after: ChildKey | None, limit: int, fetch: Callable[[int, str | None, int], Sequence[RowT]]
) -> list[RowT]:
    """At most `limit` rows after `after` (None: from the first) in `ChildKey` order, read as two ranges of an
    index on (parent, is_file, name): containers, then files. `fetch(is_file, after_name, limit)`: at most
    `limit` children of that kind by name, after `after_name` (None: from the first of the kind). (A row
    comparison across both kinds would not use the index as well on every database.)"""
    kind, name = after if after is not None else (0, None)
    rows: list[RowT] = []
    for is_file in (0, 1):
        if is_file >= kind and len(rows) < limit:
            rows += fetch(is_file, name if is_file == kind else None, limit - len(rows))
    return rows


def as_child(item: Item) -> Child[Item]:
    """An item of a backend that holds items themselves as its rows (memory)."""
    item_id = item.file_id if isinstance(item, FileMeta) else item.container_id
    return Child(item_key(item), item_id, item)

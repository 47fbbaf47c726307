"""Access control in the sql backend: the facts of `access.py`'s model, read inside the transaction they guard.

A `Guard` is made on the event loop for each call (the principal of the call, the adapter's policy, whether it
enforces) and handed to the transaction of `metadata.py` or `sharing.py`. Inside it, the guard reads the item
(under the row lock the change needs), then the item, every container above it and every grant on each of them
in ONE recursive query, and calls `access.check`: the check sees the same committed state as the change that
follows in the same transaction. No permission logic lives here; a guard that does not enforce only reads the
row, as the backend did before access control.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from storage_adapter import access
from storage_adapter.access import AccessPolicy, Grant, Grantee, GranteeKind, ItemFacts, Permission, Role
from storage_adapter.backends.sql.database import RowLock, Tx
from storage_adapter.backends.sql.rows import ITEM_COLUMNS, ItemRow
from storage_adapter.errors import NotFound
from storage_adapter.timestamps import from_us
from storage_adapter.types import ContainerMeta, FileMeta, Item, Principal

ItemT = TypeVar("ItemT", ContainerMeta, FileMeta)

GRANT_COLUMNS = "on_file, grantee_kind, grantee_id, role, granted_by_id, granted_by_name, granted_us"
_QUALIFIED_GRANT_COLUMNS = ", ".join(f"grants.{column}" for column in GRANT_COLUMNS.split(", "))


def grant_of(item_id: str, row: tuple[Any, ...]) -> Grant:
    """A `grants` row (GRANT_COLUMNS) as a Grant on `item_id`."""
    on_file, kind, grantee_id, role, by_id, by_name, granted_us = row
    return Grant(
        item_id,
        bool(on_file),
        Grantee(GranteeKind(kind), grantee_id),
        Role(role),
        Principal(by_id, by_name),
        from_us(granted_us),
    )


def item_row(tx: Tx, item_id: str, is_file: bool, lock: RowLock = RowLock.NONE) -> ItemRow:
    row = tx.one(
        f"SELECT {ITEM_COLUMNS} FROM items WHERE id = ? AND is_file = ?{tx.lock(lock)}", (item_id, int(is_file))
    )
    if row is None:
        raise NotFound("no such file" if is_file else "no such container")
    return ItemRow.of(row)


@dataclass(frozen=True)
class Chain:
    """An item and the containers above it, root first (the item last), and each one's own grants."""

    rows: list[ItemRow]
    grants: dict[str, list[Grant]]

    @property
    def item(self) -> ItemRow:
        return self.rows[-1]

    def facts(self, position: int = -1) -> ItemFacts:
        """The facts of `rows[position]`: its owner and grants, and the owners and grants of those above it."""
        position %= len(self.rows)
        row, above = self.rows[position], self.rows[:position]
        return ItemFacts(
            row.owner.user_id,
            [grant for each in (row, *above) for grant in self.grants.get(each.id, ())],
            [each.owner.user_id for each in above if each.owner.user_id],
            is_root=row.parent_id is None,
        )

    def child_facts(self, child: ItemRow, own_grants: Iterable[Grant]) -> ItemFacts:
        """The facts of a direct child of the item (whose own grants the caller read)."""
        return ItemFacts(
            child.owner.user_id,
            [*own_grants, *(grant for each in self.rows for grant in self.grants.get(each.id, ()))],
            [each.owner.user_id for each in self.rows if each.owner.user_id],
        )


def read_chain(tx: Tx, item_id: str, is_file: bool) -> Chain:
    """The item, the containers above it and every grant on them: one recursive query, whatever the depth."""
    rows = tx.all(
        f"""WITH RECURSIVE chain (item_id, up, depth) AS (
                SELECT id, parent_id, 0 FROM items WHERE id = ? AND is_file = ?
                UNION ALL
                SELECT items.id, items.parent_id, chain.depth + 1 FROM items JOIN chain ON items.id = chain.up
            )
            SELECT {ITEM_COLUMNS}, {_QUALIFIED_GRANT_COLUMNS}
            FROM chain JOIN items ON items.id = chain.item_id LEFT JOIN grants ON grants.item_id = chain.item_id
            ORDER BY chain.depth DESC""",
        (item_id, int(is_file)),
    )
    if not rows:
        raise NotFound("no such file" if is_file else "no such container")
    width = len(ITEM_COLUMNS.split(", "))
    items: dict[str, ItemRow] = {}  # in query order: root first
    grants: dict[str, list[Grant]] = {}
    for row in rows:
        item = items.get(row[0]) or ItemRow.of(row[:width])
        items[item.id] = item
        if row[width + 1] is not None:  # a grant joined to this item
            grants.setdefault(item.id, []).append(grant_of(item.id, row[width:]))
    return Chain(list(items.values()), grants)


def own_grants(tx: Tx, item_ids: Iterable[str]) -> dict[str, list[Grant]]:
    """The grants on each of the given items (not on those above them)."""
    ids = list(item_ids)
    if not ids:
        return {}
    placeholders = ", ".join("?" * len(ids))
    rows = tx.all(f"SELECT item_id, {GRANT_COLUMNS} FROM grants WHERE item_id IN ({placeholders})", ids)
    found: dict[str, list[Grant]] = {}
    for row in rows:
        found.setdefault(row[0], []).append(grant_of(row[0], row[1:]))
    return found


Held = frozenset[Permission] | None  # None: this adapter does not enforce (answers keep every permission)


@dataclass(frozen=True)
class Checked:
    """An item a call may go on with: its row, the principal's permissions, and its chain (when enforcing)."""

    row: ItemRow
    held: Held
    chain: Chain | None


@dataclass(frozen=True)
class Guard:
    principal: Principal
    policy: AccessPolicy
    enforcing: bool

    def item(self, tx: Tx, item_id: str, is_file: bool, rpc: str, lock: RowLock = RowLock.NONE) -> Checked:
        """The item once `rpc` is allowed on it (access.check), its row locked with `lock` first."""
        if not self.enforcing:
            return Checked(item_row(tx, item_id, is_file, lock), None, None)
        access.require_identified(self.principal)  # before anything is looked up: fail closed, reveal nothing
        if tx.lock(lock):  # lock the row first, so that the facts below are read after every change before ours
            item_row(tx, item_id, is_file, lock)
        chain = read_chain(tx, item_id, is_file)
        held = access.check(rpc, chain.facts(), self.principal, self.policy, what="file" if is_file else "container")
        return Checked(chain.item, held, chain)

    def file(self, tx: Tx, file_id: str, rpc: str, lock: RowLock = RowLock.NONE) -> Checked:
        return self.item(tx, file_id, True, rpc, lock)

    def container(self, tx: Tx, container_id: str, rpc: str, lock: RowLock = RowLock.NONE) -> Checked:
        return self.item(tx, container_id, False, rpc, lock)

    def permissions(self, facts: ItemFacts) -> frozenset[Permission]:
        return access.effective_permissions(facts, self.principal, self.policy)

    def readable(self, item: ItemT, facts: ItemFacts) -> ItemT | None:
        """The item with the principal's permissions, or None if it may not read it."""
        held = self.permissions(facts)
        return seen(item, held) if Permission.READ in held else None

    def owned(self, item: ItemT) -> ItemT:
        """An item the principal has just created: it owns it."""
        return seen(item, access.EVERY_PERMISSION if self.enforcing else None)

    def conflicting(self, tx: Tx, existing: ItemRow, now: datetime) -> tuple[Item, bool]:
        """The item a name conflict names, as the principal sees it, and whether the conflict must hide it (the
        principal may not read it: only its kind is told)."""
        item = existing.item(now)
        if not self.enforcing:
            return item, False
        held = self.permissions(read_chain(tx, existing.id, existing.is_file).facts())
        return (seen(item, held), False) if Permission.READ in held else (item, True)


def seen(item: ItemT, held: Held) -> ItemT:
    """The item as the principal sees it: with its permissions when enforcing (what is stored holds none)."""
    if held is None:
        return item
    return dataclasses.replace(item, permissions=access.as_permissions(held, is_file=isinstance(item, FileMeta)))

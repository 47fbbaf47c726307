"""The sharing transactions (proto ListGrants, GrantAccess, RevokeAccess, ListSharedWithMe): each public function
is the body of ONE database transaction, like those of `metadata.py`.

Grants live in `grants` (one row per item and grantee; migration 2). A change of an item's grants first locks
the item's row (FOR NO KEY UPDATE: concurrent changes of one item's grants take turns, on every replica, so the
per-item bound and the one-grant-per-grantee rule hold), then checks MANAGE_SHARING through the guard in the
same transaction. Deleting an item deletes its grants (ON DELETE CASCADE).
"""

from __future__ import annotations

from datetime import datetime

from storage_adapter import access, audit
from storage_adapter.access import Grant, Grantee, GranteeKind, Role
from storage_adapter.backends.sql import audit_log
from storage_adapter.backends.sql.database import RowLock, Tx
from storage_adapter.backends.sql.guard import GRANT_COLUMNS, Guard, grant_of, read_chain
from storage_adapter.errors import InvalidArgument, TooLarge
from storage_adapter.timestamps import to_us
from storage_adapter.types import Item, Principal


def list_grants(tx: Tx, item_id: str, is_file: bool, guard: Guard) -> list[Grant]:
    """The item's own grants (users first, then by id), then each container's above it, the direct parent first.
    Run in a SNAPSHOT."""
    chain = guard.item(tx, item_id, is_file, "ListGrants").chain
    assert chain is not None  # only an enforcing backend lists grants
    return [grant for row in reversed(chain.rows) for grant in sorted(chain.grants.get(row.id, ()), key=_grantee)]


def grant_access(
    tx: Tx, item_id: str, is_file: bool, grantee: Grantee, role: Role, principal: Principal, now: datetime, guard: Guard
) -> Grant:
    """Create or change the grantee's grant, idempotently: an identical grant is returned unchanged."""
    row = guard.item(tx, item_id, is_file, "GrantAccess", RowLock.NO_KEY_UPDATE).row
    if grantee == Grantee(GranteeKind.USER, row.owner.user_id):
        raise InvalidArgument("grantee", "the owner has every permission already; ownership is never granted")
    existing = _grant(tx, item_id, grantee)
    if existing is not None and existing.role == role:
        return existing  # nothing changes
    if existing is None:
        (count,) = tx.one("SELECT COUNT(*) FROM grants WHERE item_id = ?", (item_id,)) or (0,)
        if count >= access.MAX_GRANTS_PER_ITEM:
            raise TooLarge(f"an item has at most {access.MAX_GRANTS_PER_ITEM} grants")
    grant = Grant(item_id, is_file, grantee, role, principal, now)
    tx.execute(
        f"INSERT INTO grants (item_id, {GRANT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (item_id, grantee_kind, grantee_id) DO UPDATE SET role = excluded.role, "
        "granted_by_id = excluded.granted_by_id, granted_by_name = excluded.granted_by_name, "
        "granted_us = excluded.granted_us",
        (
            item_id,
            int(is_file),
            int(grantee.kind),
            grantee.id,
            int(role),
            principal.user_id,
            principal.display_name,
            to_us(now),
        ),
    )
    audit_log.record(tx, audit.granted(grant))
    return grant


def revoke_access(tx: Tx, item_id: str, is_file: bool, grantee: Grantee, now: datetime, guard: Guard) -> None:
    """Remove the grantee's grant on the item if there is one (and only then record it: nothing else changed)."""
    guard.item(tx, item_id, is_file, "RevokeAccess", RowLock.NO_KEY_UPDATE)
    removed = tx.execute(
        "DELETE FROM grants WHERE item_id = ? AND grantee_kind = ? AND grantee_id = ?",
        (item_id, int(grantee.kind), grantee.id),
    )
    if removed:
        audit_log.record(tx, audit.revoked(item_id, is_file, grantee, now))


def list_shared_with_me(
    tx: Tx, page_size: int, page_token: str, now: datetime, guard: Guard
) -> tuple[list[tuple[Item, Grant]], str]:
    """One page of the grants naming the principal or its groups on items it does not own, by item id then
    grantee, each with the item as the principal sees it; and the next page's token ("" on the last). One query
    for the page (the `grants_grantee` index), then one per item for its permissions. Run in a SNAPSHOT."""
    principal = guard.principal
    access.require_identified(principal)
    after = access.shared_page_after(page_token) or ("", -1, "")
    groups = sorted(principal.groups)
    in_groups = f" OR (grants.grantee_kind = ? AND grants.grantee_id IN ({', '.join('?' * len(groups))}))"
    rows = tx.all(
        f"SELECT grants.item_id, {', '.join(f'grants.{c}' for c in GRANT_COLUMNS.split(', '))} "
        "FROM grants JOIN items ON items.id = grants.item_id "
        f"WHERE ((grants.grantee_kind = ? AND grants.grantee_id = ?){in_groups if groups else ''}) "
        "AND items.owner_id <> ? "
        "AND (grants.item_id > ? OR (grants.item_id = ? AND (grants.grantee_kind > ? "
        "OR (grants.grantee_kind = ? AND grants.grantee_id > ?)))) "
        "ORDER BY grants.item_id, grants.grantee_kind, grants.grantee_id LIMIT ?",
        (
            int(GranteeKind.USER),
            principal.user_id,
            *((int(GranteeKind.GROUP), *groups) if groups else ()),
            principal.user_id,
            after[0],
            after[0],
            after[1],
            after[1],
            after[2],
            page_size + 1,
        ),
    )
    page: list[tuple[Item, Grant]] = []
    for row in rows[:page_size]:
        grant = grant_of(row[0], row[1:])
        chain = read_chain(tx, grant.item_id, grant.on_file)
        item = guard.readable(chain.item.item(now), chain.facts())
        assert item is not None  # the grant itself lets the principal read it
        page.append((item, grant))
    more = len(rows) > page_size
    return page, access.shared_page_token(page[-1][1]) if more else ""


def _grant(tx: Tx, item_id: str, grantee: Grantee) -> Grant | None:
    row = tx.one(
        f"SELECT {GRANT_COLUMNS} FROM grants WHERE item_id = ? AND grantee_kind = ? AND grantee_id = ?",
        (item_id, int(grantee.kind), grantee.id),
    )
    return grant_of(item_id, row) if row is not None else None


def _grantee(grant: Grant) -> Grantee:
    return grant.grantee

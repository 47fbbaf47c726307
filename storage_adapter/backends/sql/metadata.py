"""The metadata transactions: each public function here is the body of ONE database transaction.

A change to a file first locks the file's row (`SELECT ... FOR UPDATE` on PostgreSQL; on SQLite the write
transaction holds the database), then evaluates the lock and the preconditions on what it read, then makes the
change, all before COMMIT: no change to the same file, by any replica, can come in between. Adding an item
locks its container's row in KEY SHARE mode (it must not be deleted meanwhile; other additions go on), and
deleting a container locks it FOR UPDATE, which waits for those additions and then sees their rows.

Names are claimed by the UNIQUE (parent_id, name) constraint: a check first gives the usual NameConflict, and a
race the check cannot see (another replica inserted the name after it) is settled by the constraint, whose
violation is turned into NameConflict with the item that won, read with its live lock.

Contents never pass through here: a transaction only swaps blob ids. It returns the blob ids it stopped
referencing, for the caller to delete once the transaction has committed.

Each change records its audit event (`audit_log.record`) in its own transaction, once the change is made.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime

from storage_adapter import access, audit, listing, locks, name_variants
from storage_adapter.backends.content_store import StoredBlob
from storage_adapter.backends.sql import audit_log
from storage_adapter.backends.sql.database import RowLock, Tx
from storage_adapter.backends.sql.guard import Guard, item_row, own_grants, read_chain, seen
from storage_adapter.backends.sql.rows import (
    INSERT_CONTAINER,
    INSERT_FILE,
    ITEM_COLUMNS,
    VERSION_COLUMNS,
    ItemRow,
    VersionRow,
    container_params,
    file_params,
    to_us,
)
from storage_adapter.errors import ContainerNotEmpty, InvalidArgument, NameConflict, NotFound, Unavailable
from storage_adapter.types import (
    ContainerId,
    ContainerMeta,
    FileId,
    FileMeta,
    Item,
    LockState,
    Preconditions,
    Principal,
    Version,
    VersionMeta,
)

VARIANT_BATCH = 100  # name variants looked up per query: one query for the common case, 10 at most
CLAIM_ATTEMPTS = 3  # free variants chosen again when another replica commits the chosen one first


def new_id() -> str:
    return secrets.token_hex(12)


def new_version() -> Version:
    return Version(secrets.token_hex(8))


# ---- reading rows ----


def _item(tx: Tx, item_id: str, is_file: bool, lock: RowLock = RowLock.NONE) -> ItemRow:
    return item_row(tx, item_id, is_file, lock)


def file_row(tx: Tx, file_id: FileId, lock: RowLock = RowLock.NONE) -> ItemRow:
    return _item(tx, file_id, True, lock)


def container_row(tx: Tx, container_id: ContainerId, lock: RowLock = RowLock.NONE) -> ItemRow:
    return _item(tx, container_id, False, lock)


def _child(tx: Tx, container_id: ContainerId, name: str) -> ItemRow | None:
    row = tx.one(f"SELECT {ITEM_COLUMNS} FROM items WHERE parent_id = ? AND name = ?", (container_id, name))
    return ItemRow.of(row) if row is not None else None


def require_free(tx: Tx, container_id: ContainerId, name: str, now: datetime, guard: Guard) -> None:
    """NameConflict if the name is taken; it tells only the kind of an item the principal may not read."""
    existing = _child(tx, container_id, name)
    if existing is not None:
        item, hidden = guard.conflicting(tx, existing, now)
        raise NameConflict(container_id, name, item, hidden=hidden)


def free_variant(tx: Tx, container_id: ContainerId, name: str, max_name_length: int, own_name: str = "") -> str:
    """The first free of `name_variants.candidates(name)` (`own_name`, the renamed file's, counts as free), or
    `name` itself when all are taken, so that the caller's exclusive claim reports the conflict. One indexed
    query per VARIANT_BATCH candidates, never one per candidate."""
    for batch in name_variants.batches(name, max_name_length, VARIANT_BATCH):
        placeholders = ", ".join("?" * len(batch))
        rows = tx.all(
            f"SELECT name FROM items WHERE parent_id = ? AND name IN ({placeholders})", (container_id, *batch)
        )
        taken = {row[0] for row in rows} - {own_name}
        free = name_variants.first_free(batch, taken.__contains__)
        if free is not None:
            return free
    return name


def find_free_name(
    tx: Tx, container_id: ContainerId, name: str, max_name_length: int, now: datetime, guard: Guard
) -> str:
    guard.container(tx, container_id, "FindFreeName")
    chosen = free_variant(tx, container_id, name, max_name_length)
    require_free(tx, container_id, chosen, now, guard)  # raises only when every candidate is taken
    return chosen


def _claim_variant(
    tx: Tx,
    container_id: ContainerId,
    name: str,
    max_name_length: int | None,
    now: datetime,
    claim: Callable[[str], None],
    own_name: str = "",
) -> str:
    """Run `claim` (an `_claim` of one name) on `name`, or, when `max_name_length` is given, on its first free
    variant, chosen again if another replica commits that one between our query and our claim.

    Choices of a variant in one container take turns (the container's row, locked FOR NO KEY UPDATE, which plain
    creates do not wait for): each then sees the names the previous ones committed, so concurrent choosers never
    all pick the same candidate. Only a plain create racing for the chosen name can still make us choose again."""
    if max_name_length is None:
        claim(name)
        return name
    container_row(tx, container_id, RowLock.NO_KEY_UPDATE)
    for attempt in range(CLAIM_ATTEMPTS):
        chosen = free_variant(tx, container_id, name, max_name_length, own_name)
        try:
            claim(chosen)
            return chosen
        except NameConflict:
            if chosen == name or attempt == CLAIM_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _claim(
    tx: Tx, container_id: ContainerId, name: str, now: datetime, guard: Guard, sql: str, params: tuple[object, ...]
) -> None:
    """Run the INSERT or UPDATE that gives an item `name` in the container, or raise NameConflict."""
    require_free(tx, container_id, name, now, guard)
    if not tx.unless_taken(sql, params):  # another replica committed the name after our check
        require_free(tx, container_id, name, now, guard)  # raises, naming the winner
        raise Unavailable("the name was taken and released again concurrently; retry")


# ---- containers ----


def root(tx: Tx) -> ContainerMeta:
    row = tx.one(f"SELECT {ITEM_COLUMNS} FROM items WHERE parent_id IS NULL")
    if row is None:
        raise RuntimeError("the database has no root container: were the migrations applied?")
    return ItemRow.of(row).container_meta()


def root_container(tx: Tx, root_id: ContainerId, guard: Guard) -> ContainerMeta:
    """The root with the principal's permissions (every identified principal may read it: no check)."""
    access.require_identified(guard.principal)
    chain = read_chain(tx, root_id, False)
    return seen(chain.item.container_meta(), guard.permissions(chain.facts()))


def get_container(tx: Tx, container_id: ContainerId, guard: Guard) -> ContainerMeta:
    checked = guard.container(tx, container_id, "GetContainer")
    return seen(checked.row.container_meta(), checked.held)


def container_depth(tx: Tx, container_id: ContainerId, guard: Guard) -> int:
    """How many containers are above this one, readable or not (one recursive query)."""
    chain = guard.container(tx, container_id, "GetContainer").chain
    return len((chain or read_chain(tx, container_id, False)).rows) - 1


def list_children_page(
    tx: Tx, container_id: ContainerId, extensions: frozenset[str], size: int, token: str, now: datetime, guard: Guard
) -> listing.Page:
    """One page of the children the principal may read (with its permissions on each), from the index
    `items_children`: a few indexed range queries and one query of grants per batch, whatever the container's
    size (`listing.read_page` bounds how many children are examined). Run in a SNAPSHOT."""
    checked = guard.container(tx, container_id, "ListChildren")
    after = listing.decode_token(token, container_id)

    def resolve(item_id: str) -> listing.ChildKey | None:
        row = tx.one("SELECT is_file, name FROM items WHERE id = ? AND parent_id = ?", (item_id, container_id))
        return None if row is None else listing.key_of(bool(row[0]), row[1])

    def shown(batch: Sequence[listing.Child[ItemRow]]) -> list[Item | None]:
        rows = [child.row for child in batch if listing.wanted(child.row.is_file, child.row.name, extensions)]
        chain = checked.chain
        visible: dict[str, Item | None]
        if chain is None:
            visible = {row.id: row.item(now) for row in rows}
        else:
            grants = own_grants(tx, [row.id for row in rows])  # one query for the batch
            visible = {
                row.id: guard.readable(row.item(now), chain.child_facts(row, grants.get(row.id, ()))) for row in rows
            }
        return [visible.get(child.row.id) for child in batch]

    return listing.read_page(
        container_id, after, size, resolve, lambda key, limit: children_after(tx, container_id, key, limit), shown
    )


def children_after(
    tx: Tx, container_id: ContainerId, key: listing.ChildKey | None, limit: int
) -> list[listing.Child[ItemRow]]:
    """At most `limit` children after `key` (None: from the first) in listing order, from the index
    `items_children` (`listing.in_key_order`), names compared by code point on PostgreSQL too."""
    byte_order = ' COLLATE "C"' if tx.dialect.is_postgres else ""

    def fetch(is_file: int, name: str | None, count: int) -> list[ItemRow]:
        condition = "" if name is None else f" AND name{byte_order} > ?"
        rows = tx.all(
            f"SELECT {ITEM_COLUMNS} FROM items WHERE parent_id = ? AND is_file = ?{condition} "
            f"ORDER BY name{byte_order} LIMIT ?",
            (container_id, is_file, *(() if name is None else (name,)), count),
        )
        return [ItemRow.of(row) for row in rows]

    children = listing.in_key_order(key, limit, fetch)
    return [listing.Child(listing.key_of(child.is_file, child.name), child.id, child) for child in children]


def lookup_child(tx: Tx, container_id: ContainerId, name: str, now: datetime, guard: Guard) -> Item:
    checked = guard.container(tx, container_id, "LookupChild")
    child = _child(tx, container_id, name)
    found = None if child is None else child.item(now)
    if child is not None and found is not None and checked.chain is not None:
        found = guard.readable(found, checked.chain.child_facts(child, own_grants(tx, [child.id]).get(child.id, ())))
    if found is None:  # an unreadable child is not found either
        raise NotFound("no item of this name in the container")
    return found


def create_container(
    tx: Tx, parent_id: ContainerId, name: str, principal: Principal, now: datetime, guard: Guard
) -> ContainerMeta:
    guard.container(tx, parent_id, "CreateContainer", RowLock.KEY_SHARE)
    container = ContainerMeta(ContainerId(new_id()), name, parent_id, principal, now)
    _claim(tx, parent_id, name, now, guard, INSERT_CONTAINER, container_params(container))
    audit_log.record(tx, audit.created(container, now))
    return guard.owned(container)


def _non_root(tx: Tx, container_id: ContainerId, lock: RowLock) -> ItemRow:
    row = container_row(tx, container_id, lock)
    if row.parent_id is None:
        raise InvalidArgument("container_id", "the root container cannot be renamed or deleted")
    return row


def rename_container(tx: Tx, container_id: ContainerId, new_name: str, now: datetime, guard: Guard) -> ContainerMeta:
    _non_root(tx, container_id, RowLock.NO_KEY_UPDATE)
    checked = guard.container(tx, container_id, "RenameContainer")  # the row is locked already
    container = seen(checked.row.container_meta(), checked.held)
    if new_name == container.name:
        return container
    parent = ContainerId(container.parent_id or "")
    _claim(tx, parent, new_name, now, guard, "UPDATE items SET name = ? WHERE id = ?", (new_name, container_id))
    renamed = dataclasses.replace(container, name=new_name)
    audit_log.record(tx, audit.renamed(renamed, container.name, now))
    return renamed


def delete_container(tx: Tx, container_id: ContainerId, now: datetime, guard: Guard) -> None:
    """Delete an empty container; its grants and its trail go with it (ON DELETE CASCADE), and its deletion is
    recorded in its parent's."""
    row = _non_root(tx, container_id, RowLock.UPDATE)  # waits for transactions adding children, then sees them
    guard.container(tx, container_id, "DeleteContainer")
    if tx.one("SELECT 1 FROM items WHERE parent_id = ? LIMIT 1", (container_id,)) is not None:
        raise ContainerNotEmpty(container_id)
    tx.execute("DELETE FROM items WHERE id = ?", (container_id,))
    audit_log.record(tx, audit.deleted(row.container_meta(), now))


def ancestors(tx: Tx, item_id: str, is_file: bool, guard: Guard) -> list[ContainerMeta]:
    """The containers above the item, root first: one recursive query whatever the depth, not one per level.
    With access control, those the principal may not read are left out."""
    if guard.enforcing:
        chain = guard.item(tx, item_id, is_file, "GetAncestors").chain
        assert chain is not None
        above = (guard.readable(row.container_meta(), chain.facts(at)) for at, row in enumerate(chain.rows[:-1]))
        return [container for container in above if container is not None]
    rows = tx.all(
        f"""WITH RECURSIVE chain (item_id, up, depth) AS (
                SELECT id, parent_id, 0 FROM items WHERE id = ? AND is_file = ?
                UNION ALL
                SELECT items.id, items.parent_id, chain.depth + 1 FROM items JOIN chain ON items.id = chain.up
            )
            SELECT {ITEM_COLUMNS} FROM chain JOIN items ON items.id = chain.item_id ORDER BY chain.depth DESC""",
        (item_id, int(is_file)),
    )
    if not rows:
        raise NotFound("no such file" if is_file else "no such container")
    return [ItemRow.of(row).container_meta() for row in rows[:-1]]  # the last row is the item itself


# ---- files ----


def stat_file(tx: Tx, file_id: FileId, now: datetime, guard: Guard, rpc: str = "StatFile") -> FileMeta:
    """The file, once `rpc` is allowed on it."""
    checked = guard.file(tx, file_id, rpc)
    return seen(checked.row.file_meta(now), checked.held)


def locate(tx: Tx, file_id: FileId, version: Version | None, now: datetime, guard: Guard) -> tuple[FileMeta, str]:
    """The file as it will be read (an earlier version's size and digest when `version` names one) and the
    blob that holds those bytes."""
    checked = guard.file(tx, file_id, "ReadFile")
    row = checked.row
    meta = seen(row.file_meta(now), checked.held)
    if version is None or version == meta.version:
        return meta, row.blob_id or ""
    old = _version(tx, file_id, version)
    meta = dataclasses.replace(meta, version=old.meta.version, size=old.meta.size, sha256=old.meta.sha256)
    return meta, old.blob_id


def _version(tx: Tx, file_id: FileId, version: Version) -> VersionRow:
    row = tx.one(f"SELECT {VERSION_COLUMNS} FROM versions WHERE file_id = ? AND version = ?", (file_id, version))
    if row is None:
        raise NotFound("no such version")
    return VersionRow.of(row)


def create_file(
    tx: Tx,
    container_id: ContainerId,
    name: str,
    blob: StoredBlob,
    principal: Principal,
    now: datetime,
    guard: Guard,
    variants_up_to: int | None = None,
) -> FileMeta:
    """Create `name` exclusively, or its first free variant of at most `variants_up_to` UTF-8 bytes if given."""
    guard.container(tx, container_id, "CreateFile", RowLock.KEY_SHARE)
    meta = FileMeta(
        file_id=FileId(new_id()),
        name=name,
        size=blob.size,
        version=new_version(),
        parent_id=container_id,
        owner=principal,
        created_at=now,
        modified_at=now,
        modified_by=principal,
        sha256=blob.sha256,
    )

    def claim(chosen: str) -> None:
        params = file_params(dataclasses.replace(meta, name=chosen), blob.blob_id)
        _claim(tx, container_id, chosen, now, guard, INSERT_FILE, params)

    chosen = _claim_variant(tx, container_id, name, variants_up_to, now, claim)
    created = dataclasses.replace(meta, name=chosen)
    audit_log.record(tx, audit.created(created, now))
    return guard.owned(created)


def write_file(
    tx: Tx,
    file_id: FileId,
    preconditions: Preconditions,
    blob: StoredBlob,
    principal: Principal,
    now: datetime,
    max_versions_kept: int,
    guard: Guard,
) -> tuple[FileMeta, list[str]]:
    """Make `blob` the file's contents, under its row lock and preconditions. (The new meta, the dropped blobs.)"""
    checked = guard.file(tx, file_id, "WriteFile", RowLock.UPDATE)
    row = checked.row
    locks.check_preconditions(row.file_meta(now), preconditions, now)
    meta, dropped = _replace_contents(tx, row, blob, principal, now, max_versions_kept)
    audit_log.record(tx, audit.written(meta, now))
    return seen(meta, checked.held), dropped


def restore_version(
    tx: Tx,
    file_id: FileId,
    version: Version,
    preconditions: Preconditions,
    principal: Principal,
    now: datetime,
    max_versions_kept: int,
    guard: Guard,
) -> tuple[FileMeta, list[str]]:
    """Make an earlier version's blob current again (shared, not copied: blobs are immutable), as a write."""
    checked = guard.file(tx, file_id, "RestoreVersion", RowLock.UPDATE)
    row = checked.row
    old = _version(tx, file_id, version)
    locks.check_preconditions(row.file_meta(now), preconditions, now)
    blob = StoredBlob(old.blob_id, old.meta.size, old.meta.sha256)
    meta, dropped = _replace_contents(tx, row, blob, principal, now, max_versions_kept)
    audit_log.record(tx, audit.written(meta, now, restored=version))
    return seen(meta, checked.held), dropped


def _replace_contents(
    tx: Tx, row: ItemRow, blob: StoredBlob, principal: Principal, now: datetime, max_versions_kept: int
) -> tuple[FileMeta, list[str]]:
    tx.execute(
        f"INSERT INTO versions (file_id, {VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            row.id,
            row.version,
            row.blob_id,
            row.size,
            to_us(row.modified_at),
            row.modified_by.user_id,
            row.modified_by.display_name,
            row.sha256,
        ),
    )
    meta = dataclasses.replace(
        row.file_meta(now),
        size=blob.size,
        version=new_version(),
        modified_at=now,
        modified_by=principal,
        sha256=blob.sha256,
    )
    tx.execute(
        "UPDATE items SET blob_id = ?, size = ?, version = ?, modified_us = ?, modified_by_id = ?, "
        "modified_by_name = ?, sha256 = ? WHERE id = ?",
        (
            blob.blob_id,
            meta.size,
            meta.version,
            to_us(now),
            principal.user_id,
            principal.display_name,
            meta.sha256,
            row.id,
        ),
    )
    return meta, _prune(tx, row.id, blob.blob_id, max_versions_kept)


def _prune(tx: Tx, file_id: str, current_blob: str, max_versions_kept: int) -> list[str]:
    """Drop the versions beyond the newest `max_versions_kept` (0: keep all); the blobs nobody uses any more."""
    if max_versions_kept == 0:
        return []
    rows = tx.all("SELECT seq, blob_id FROM versions WHERE file_id = ? ORDER BY seq DESC", (file_id,))
    kept, dropped = rows[:max_versions_kept], rows[max_versions_kept:]
    if not dropped:
        return []
    tx.execute("DELETE FROM versions WHERE file_id = ? AND seq <= ?", (file_id, dropped[0][0]))
    still_used = {current_blob, *(blob_id for _, blob_id in kept)}
    return sorted({blob_id for _, blob_id in dropped} - still_used)


def rename_file(
    tx: Tx,
    file_id: FileId,
    new_name: str,
    preconditions: Preconditions,
    now: datetime,
    guard: Guard,
    variants_up_to: int | None = None,
) -> FileMeta:
    """Rename to `new_name`, or to its first free variant of at most `variants_up_to` UTF-8 bytes if given."""
    checked = guard.file(tx, file_id, "RenameFile", RowLock.UPDATE)
    meta = seen(checked.row.file_meta(now), checked.held)
    locks.check_preconditions(meta, preconditions, now)

    def claim(chosen: str) -> None:
        if chosen != meta.name:
            sql = "UPDATE items SET name = ? WHERE id = ?"
            _claim(tx, meta.parent_id, chosen, now, guard, sql, (chosen, file_id))

    chosen = _claim_variant(tx, meta.parent_id, new_name, variants_up_to, now, claim, own_name=meta.name)
    if chosen == meta.name:
        return meta
    renamed = dataclasses.replace(meta, name=chosen)
    audit_log.record(tx, audit.renamed(renamed, meta.name, now))
    return renamed


def delete_file(tx: Tx, file_id: FileId, preconditions: Preconditions, now: datetime, guard: Guard) -> list[str]:
    """Delete the file and its history (its grants and activities go with it: ON DELETE CASCADE); the blobs
    they used."""
    row = guard.file(tx, file_id, "DeleteFile", RowLock.UPDATE).row
    locks.check_preconditions(row.file_meta(now), preconditions, now)
    blobs = {blob_id for (blob_id,) in tx.all("SELECT blob_id FROM versions WHERE file_id = ?", (file_id,))}
    tx.execute("DELETE FROM versions WHERE file_id = ?", (file_id,))
    tx.execute("DELETE FROM items WHERE id = ?", (file_id,))
    audit_log.record(tx, audit.deleted(row.file_meta(now), now))
    if row.blob_id:
        blobs.add(row.blob_id)
    return sorted(blobs)


def update_lock(
    tx: Tx, file_id: FileId, transition: locks.LockTransition, now: datetime, guard: Guard, breaking: str | None = None
) -> FileMeta:
    """Every lock RPC needs the lock permission; a BreakLock (`breaking`: its reason) manage_sharing."""
    checked = guard.file(tx, file_id, "Lock" if breaking is None else "BreakLock", RowLock.UPDATE)
    meta = seen(checked.row.file_meta(now), checked.held)
    lock: LockState | None = transition(meta.lock, now)
    tx.execute(
        "UPDATE items SET lock_id = ?, lock_expires_us = ?, lock_by_id = ?, lock_by_name = ?, lock_since_us = ? "
        "WHERE id = ?",
        (
            lock.lock_id if lock else None,
            to_us(lock.expires_at) if lock else None,
            lock.locked_by.user_id if lock else None,
            lock.locked_by.display_name if lock else None,
            to_us(lock.locked_at) if lock and lock.locked_at else None,
            file_id,
        ),
    )
    audit_log.record(tx, audit.lock_changed(file_id, meta.lock, lock, now, breaking=breaking))
    return dataclasses.replace(meta, lock=lock)


def list_versions(tx: Tx, file_id: FileId, guard: Guard) -> list[VersionMeta]:
    guard.file(tx, file_id, "ListVersions")
    rows = tx.all(f"SELECT {VERSION_COLUMNS} FROM versions WHERE file_id = ? ORDER BY seq DESC", (file_id,))
    return [VersionRow.of(row).meta for row in rows]


# ---- user info and garbage ----


def get_user_info(tx: Tx, user_id: str) -> str:
    row = tx.one("SELECT info FROM user_info WHERE user_id = ?", (user_id,))
    return str(row[0]) if row is not None else ""


def set_user_info(tx: Tx, user_id: str, user_info: str) -> None:
    tx.execute(
        "INSERT INTO user_info (user_id, info) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET info = excluded.info",
        (user_id, user_info),
    )


def referenced_blobs(tx: Tx) -> set[str]:
    """Every blob a file or a version uses. Run it in a SNAPSHOT: a blob moving from a file to its history
    between two separate reads would otherwise be seen in neither."""
    rows = tx.all("SELECT blob_id FROM items WHERE blob_id IS NOT NULL UNION SELECT blob_id FROM versions")
    return {blob_id for (blob_id,) in rows}

"""The SQLite catalogue: everything about the tree that a file system cannot hold.

Files and directories on disk are the documents; this catalogue adds stable ids, versions, locks, principals
(the owner: the creator), created times, SHA-256 digests, the version history index, user info, the grants of
access control, the files' activities and every item's audit trail. A connection is not thread-safe on its own:
the backend serializes every use of the writing one (one atomic section at a time, each in one transaction), and
uses a second, read-only one only from the event loop's thread (inline.py, one snapshot per read).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from storage_adapter import listing
from storage_adapter.access import Grant, Grantee, GranteeKind, Role
from storage_adapter.audit import AuditEvent
from storage_adapter.backends import activity_rows, audit_rows
from storage_adapter.backends.catalogue_row import CatalogueRow
from storage_adapter.backends.sqlite_wal import enable_wal
from storage_adapter.timestamps import EPOCH, from_us, to_us
from storage_adapter.types import (
    ANONYMOUS,
    Activity,
    LockId,
    LockState,
    Principal,
    Version,
    VersionMeta,
)


def _audit_trail(db: sqlite3.Connection) -> str:
    """The audit trail's table, and when each lock was taken: a column, which SQLite cannot add "if not exists", so
    added only where it is missing (every migration here may run again over a catalogue that has what it adds)."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(nodes)")}
    lock_since = "" if "lock_since_us" in columns else "ALTER TABLE nodes ADD COLUMN lock_since_us INTEGER;"
    return f"""
    CREATE TABLE IF NOT EXISTS audit_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- the position: a trail's newest has the highest
        trail_id TEXT NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
        item_id TEXT NOT NULL,                  -- the item changed: trail_id, or a child deleted
        on_file INTEGER NOT NULL,
        action INTEGER NOT NULL,                -- the proto AuditAction number
        at_us INTEGER NOT NULL,
        actor_id TEXT NOT NULL,
        actor_name TEXT NOT NULL,
        details TEXT NOT NULL                   -- JSON (audit_rows.py)
    );
    CREATE INDEX IF NOT EXISTS audit_events_trail ON audit_events (trail_id, seq);
    {lock_since}
    """


# Applied in order; `PRAGMA user_version` records how many ran. Never edit one that has shipped: append. A
# migration is a script, or a function of the connection that writes the script (for what SQL cannot say).
MIGRATIONS: tuple[str | Callable[[sqlite3.Connection], str], ...] = (
    """
    CREATE TABLE nodes (
        id TEXT PRIMARY KEY,
        parent_id TEXT REFERENCES nodes (id) ON DELETE CASCADE,  -- NULL for the root container only
        name TEXT NOT NULL,                                      -- the real name on disk; '' for the root
        is_file INTEGER NOT NULL,
        owner_id TEXT NOT NULL,
        owner_name TEXT NOT NULL,
        created_us INTEGER NOT NULL,
        -- what the file system said after our last change, to notice changes made by other programs
        st_dev INTEGER NOT NULL,
        st_ino INTEGER NOT NULL,
        size INTEGER NOT NULL DEFAULT 0,
        mtime_ns INTEGER NOT NULL DEFAULT 0,
        version TEXT NOT NULL DEFAULT '',
        modified_us INTEGER NOT NULL DEFAULT 0,
        modified_by_id TEXT NOT NULL DEFAULT '',
        modified_by_name TEXT NOT NULL DEFAULT '',
        sha256 BLOB NOT NULL DEFAULT x'',
        lock_id TEXT,
        lock_expires_us INTEGER,
        lock_by_id TEXT,
        lock_by_name TEXT,
        UNIQUE (parent_id, name)
    );
    CREATE INDEX nodes_inode ON nodes (st_dev, st_ino);
    CREATE TABLE versions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- newest has the highest seq
        file_id TEXT NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
        version TEXT NOT NULL,
        size INTEGER NOT NULL,
        modified_us INTEGER NOT NULL,
        modified_by_id TEXT NOT NULL,
        modified_by_name TEXT NOT NULL,
        sha256 BLOB NOT NULL,
        blob TEXT NOT NULL UNIQUE               -- file name under .wopi-storage/versions/
    );
    CREATE INDEX versions_file ON versions (file_id, seq);
    CREATE TABLE user_info (
        user_id TEXT PRIMARY KEY,
        info TEXT NOT NULL
    );
    """,
    # Access control: the grants on files and containers. Owners are nodes.owner_id, the creator; '' for what
    # another program put in the folder, and for everything made before access control (whose creators were
    # recorded, but owned nothing then: an upgrade must not shut users out of each other's documents), which the
    # unowned-access policy governs.
    """
    CREATE TABLE grants (
        item_id TEXT NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
        grantee_kind INTEGER NOT NULL,  -- access.GranteeKind: 0 user, 1 group
        grantee_id TEXT NOT NULL,
        role INTEGER NOT NULL,          -- access.Role
        granted_by_id TEXT NOT NULL,
        granted_by_name TEXT NOT NULL,
        granted_us INTEGER NOT NULL,
        PRIMARY KEY (item_id, grantee_kind, grantee_id)
    ) WITHOUT ROWID;
    CREATE INDEX grants_grantee ON grants (grantee_kind, grantee_id, item_id);
    UPDATE nodes SET owner_id = '', owner_name = '' WHERE owner_id != '';
    """,
    # ListChildrenPage: a container's children in listing order (containers, then files, each by name in
    # code-point order: SQLite's BINARY collation), a page read from one range of this index (`children_after`).
    """
    CREATE INDEX IF NOT EXISTS nodes_children ON nodes (parent_id, is_file, name);
    """,
    # AddActivities and ListActivities: each file's activities (the columns of `activity_rows.py`), numbered by
    # `seq` in the order recorded, deleted with their file (through the host or found gone: the node's row goes).
    """
    CREATE TABLE IF NOT EXISTS activities (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- the position: a file's newest has the highest
        file_id TEXT NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
        activity_id TEXT NOT NULL,              -- the client's, unique per file
        recorded_us INTEGER NOT NULL,
        actor_id TEXT NOT NULL,
        actor_name TEXT NOT NULL,
        occurred_us INTEGER,                    -- NULL: the client did not tell
        content_id TEXT NOT NULL,
        navigation_id TEXT NOT NULL,
        comment_action INTEGER NOT NULL,        -- the proto CommentAction number
        comment_text TEXT NOT NULL,
        is_reply INTEGER NOT NULL,
        people TEXT NOT NULL,                   -- JSON (activity_rows.py)
        UNIQUE (file_id, activity_id)
    );
    CREATE INDEX IF NOT EXISTS activities_file ON activities (file_id, seq);
    """,
    # The audit trail (`audit_rows.py`): each item's events, numbered by `seq` in the order recorded, deleted with
    # the item's row; and when each lock was taken (ListLockedFiles).
    _audit_trail,
    # ListLockedFiles: the locked files by (expiry, id), an index of the locks alone (partial), so that a page reads
    # one range of it past the expired ones.
    """
    CREATE INDEX IF NOT EXISTS nodes_locks ON nodes (lock_expires_us, id) WHERE lock_id IS NOT NULL;
    """,
)

_NODE_COLUMNS = (
    "id, parent_id, name, is_file, owner_id, owner_name, created_us, st_dev, st_ino, size, mtime_ns, version, "
    "modified_us, modified_by_id, modified_by_name, sha256, lock_id, lock_expires_us, lock_by_id, lock_by_name, "
    "lock_since_us"
)
_VERSION_COLUMNS = "version, size, modified_us, modified_by_id, modified_by_name, sha256, blob"
_GRANT_COLUMNS = "item_id, grantee_kind, grantee_id, role, granted_by_id, granted_by_name, granted_us"
# More levels than any path can have (PATH_MAX is 4096 bytes, a level at least 2 of them): bounds a cycle.
_MAX_LEVELS = 4096

# A node (depth 0) and the nodes above it, one row a level, up to _MAX_LEVELS (a cycle, which our writes never
# make, ends there): the recursive part of every query that walks an item's chain of parents in one statement.
_CHAIN = """
            WITH RECURSIVE chain (node_id, up, depth) AS (
                SELECT id, parent_id, 0 FROM nodes WHERE id = ?
                UNION ALL
                SELECT nodes.id, nodes.parent_id, chain.depth + 1 FROM nodes JOIN chain ON nodes.id = chain.up
                WHERE chain.depth < ?
            )"""


@dataclass(frozen=True)
class Level:
    """One item of a chain (an item, then each container above it up to the root) as access control needs it:
    its owner's user id ('' when unowned), whether it is the root, and the grants on it."""

    node_id: str
    is_file: bool
    owner_id: str
    is_root: bool
    grants: list[Grant]  # filled while the query's rows are read


@dataclass(frozen=True)
class Node(CatalogueRow):
    """One row of `nodes`: a container (a directory) or a file, as the catalogue knows it."""

    id: str
    parent_id: str | None
    name: str
    is_file: bool
    owner: Principal
    created_at: datetime
    dev: int
    ino: int
    size: int = 0
    mtime_ns: int = 0
    version: str = ""
    modified_at: datetime = EPOCH
    modified_by: Principal = ANONYMOUS
    sha256: bytes = b""
    lock: LockState | None = None

    def history_entry(self) -> VersionMeta:
        """This file's current version as it will appear in the history once replaced."""
        return VersionMeta(Version(self.version), self.size, self.modified_at, self.modified_by, self.sha256)


class Catalogue:
    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        """`read_only`: a second connection for reads outside the atomic sections (`snapshot()`, inline.py), on
        which SQLite refuses every write (`PRAGMA query_only`); the writing connection must be open already."""
        # isolation_level=None: transactions are explicit (`transaction()`, `snapshot()`).
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        if read_only:
            self._db.execute("PRAGMA query_only = ON")
            return
        enable_wal(self._db)  # the root's flock keeps other adapters out, not other programs (the sqlite3 shell)
        self._durable = True
        self._db.execute("PRAGMA synchronous = FULL")  # a returned write survives a power cut
        self._db.execute("PRAGMA foreign_keys = ON")

    def close(self) -> None:
        self._db.close()

    def migrate(self) -> None:
        applied = self._db.execute("PRAGMA user_version").fetchone()[0]
        if applied > len(MIGRATIONS):
            raise RuntimeError(f"the catalogue has schema version {applied}, newer than this adapter knows")
        for number, migration in enumerate(MIGRATIONS[applied:], start=applied + 1):
            script = migration(self._db) if callable(migration) else migration
            # executescript commits any open transaction first, so the script carries its own.
            try:
                self._db.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def transaction(self, commit_on: tuple[type[BaseException], ...] = (), *, durable: bool = True) -> Iterator[None]:
        """One transaction. An exception rolls it back, except those in `commit_on`: they are answers that
        follow what was already learnt (a file found gone is removed from the catalogue, then NotFound).

        `durable`: its commit survives a power cut (the WAL is fsync'd: `synchronous = FULL`). Without it, the
        commit survives a crash of the process, not of the machine (`NORMAL`: written to the WAL, fsync'd at
        the next durable commit or checkpoint), which is all a lock record needs (docs/backends.md)."""
        if durable != self._durable:  # a connection setting, cheap to change between transactions
            self._db.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
            self._durable = durable
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except commit_on:
            self._db.execute("COMMIT")
            raise
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """One read transaction (on the read-only connection): every query in it sees the catalogue as one
        committed write left it, and in WAL mode it never waits for the writer, nor the writer for it."""
        self._db.execute("BEGIN")
        try:
            yield
        finally:
            if self._db.in_transaction:  # an error may have ended it already
                self._db.execute("ROLLBACK")

    # ---- nodes ----

    def root(self) -> Node | None:
        return self._node("SELECT {} FROM nodes WHERE parent_id IS NULL", ())

    def get(self, node_id: str) -> Node | None:
        return self._node("SELECT {} FROM nodes WHERE id = ?", (node_id,))

    def child(self, parent_id: str, name: str) -> Node | None:
        return self._node("SELECT {} FROM nodes WHERE parent_id = ? AND name = ?", (parent_id, name))

    def children(self, parent_id: str) -> list[Node]:
        rows = self._db.execute(f"SELECT {_NODE_COLUMNS} FROM nodes WHERE parent_id = ?", (parent_id,))
        return [_to_node(row) for row in rows]

    def has_children(self, parent_id: str) -> bool:
        return self._db.execute("SELECT 1 FROM nodes WHERE parent_id = ? LIMIT 1", (parent_id,)).fetchone() is not None

    def by_inode(self, dev: int, ino: int, is_file: bool) -> list[Node]:
        rows = self._db.execute(
            f"SELECT {_NODE_COLUMNS} FROM nodes"
            " WHERE st_dev = ? AND st_ino = ? AND is_file = ? AND parent_id IS NOT NULL",
            (dev, ino, int(is_file)),
        )
        return [_to_node(row) for row in rows]

    def names_above(self, node_id: str) -> list[str] | None:
        """The names of the containers from the root (excluded) down to the parent of `node_id`, or None if its
        chain of parents does not reach the root. Every request resolves its item's path through this: one
        query, reading two columns a level, so that the cost hardly grows with the depth."""
        rows = self._db.execute(
            """
            WITH RECURSIVE chain (up, name, depth) AS (
                SELECT parent_id, NULL, 0 FROM nodes WHERE id = ?
                UNION ALL
                SELECT nodes.parent_id, nodes.name, chain.depth + 1 FROM nodes JOIN chain ON nodes.id = chain.up
                WHERE chain.depth < ?
            )
            SELECT up, name FROM chain WHERE depth > 0 ORDER BY depth DESC
            """,
            (node_id, _MAX_LEVELS),
        ).fetchall()
        if not rows or rows[0][0] is not None:  # the top of the chain is not the root: no such node, or a cycle
            return None
        return [str(name) for _, name in rows[1:]]

    def ancestors(self, node_id: str) -> list[Node]:
        """The nodes above `node_id`, the direct parent first, in one query whatever the depth (GetAncestors, and
        telling moves apart). A cycle (which our writes never make) ends it."""
        rows = self._db.execute(
            f"""{_CHAIN}
            SELECT {_NODE_COLUMNS} FROM chain JOIN nodes ON nodes.id = chain.node_id
            WHERE chain.depth > 0 ORDER BY chain.depth
            """,
            (node_id, _MAX_LEVELS),
        )
        chain: list[Node] = []
        seen = {node_id}
        for row in rows:
            node = _to_node(row)
            if node.id in seen:
                break
            seen.add(node.id)
            chain.append(node)
        return chain

    def access_chain(self, node_id: str) -> list[Level]:
        """The node and every container above it (the node first, the root last), each with its owner and its
        grants (users first, then by id): in one query whatever the depth, like `ancestors`. Empty if there is
        no such node. A cycle (which our writes never make) ends it."""
        rows = self._db.execute(
            f"""{_CHAIN}
            SELECT chain.node_id, nodes.is_file, nodes.owner_id, chain.up IS NULL, {_GRANT_COLUMNS}
            FROM chain JOIN nodes ON nodes.id = chain.node_id LEFT JOIN grants ON grants.item_id = chain.node_id
            ORDER BY chain.depth, grants.grantee_kind, grants.grantee_id
            """,
            (node_id, _MAX_LEVELS),
        )
        levels: list[Level] = []
        seen: set[str] = set()
        for level_id, is_file, owner_id, is_root, *grant in rows:
            if not levels or levels[-1].node_id != level_id:
                if level_id in seen:
                    break  # a cycle
                seen.add(level_id)
                levels.append(Level(str(level_id), bool(is_file), str(owner_id), bool(is_root), []))
            if grant[0] is not None:
                levels[-1].grants.append(_to_grant(grant, levels[-1].is_file))
        return levels

    def grant_count(self, item_id: str) -> int:
        return int(self._db.execute("SELECT count(*) FROM grants WHERE item_id = ?", (item_id,)).fetchone()[0])

    def put_grant(self, grant: Grant) -> None:
        """Create the grant, or replace the grantee's grant on the item."""
        self._db.execute(
            f"INSERT INTO grants ({_GRANT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (item_id, grantee_kind, grantee_id) DO UPDATE SET role = excluded.role,"
            " granted_by_id = excluded.granted_by_id, granted_by_name = excluded.granted_by_name,"
            " granted_us = excluded.granted_us",
            (
                grant.item_id,
                int(grant.grantee.kind),
                grant.grantee.id,
                int(grant.role),
                grant.granted_by.user_id,
                grant.granted_by.display_name,
                to_us(grant.granted_at),
            ),
        )

    def delete_grant(self, item_id: str, grantee: Grantee) -> bool:
        """Whether there was such a grant (now gone)."""
        cursor = self._db.execute(
            "DELETE FROM grants WHERE item_id = ? AND grantee_kind = ? AND grantee_id = ?",
            (item_id, int(grantee.kind), grantee.id),
        )
        return cursor.rowcount > 0

    def shared_with(
        self, grantees: Iterable[Grantee], not_owned_by: str, after: tuple[str, int, str] | None, limit: int
    ) -> list[Grant]:
        """Up to `limit` grants naming one of `grantees`, on items `not_owned_by` does not own, in the order
        (item id, grantee kind, grantee id), after the key `after` (ListSharedWithMe: one query a page)."""
        named = list(grantees)
        which = " OR ".join("(grants.grantee_kind = ? AND grants.grantee_id = ?)" for _ in named)
        start = after if after is not None else ("", -1, "")
        rows = self._db.execute(
            f"SELECT nodes.is_file, {', '.join('grants.' + c for c in _GRANT_COLUMNS.split(', '))}"
            f" FROM grants JOIN nodes ON nodes.id = grants.item_id WHERE ({which}) AND nodes.owner_id != ?"
            " AND (grants.item_id, grants.grantee_kind, grants.grantee_id) > (?, ?, ?)"
            " ORDER BY grants.item_id, grants.grantee_kind, grants.grantee_id LIMIT ?",
            (*(value for grantee in named for value in (int(grantee.kind), grantee.id)), not_owned_by, *start, limit),
        )
        return [_to_grant(row, bool(is_file)) for is_file, *row in rows]

    def insert(self, node: Node) -> None:
        self._db.execute(f"INSERT INTO nodes ({_NODE_COLUMNS}) VALUES ({', '.join('?' * 21)})", _from_node(node))

    def update(self, node: Node) -> None:
        """Write every column of `node` over the row with its id (never INSERT OR REPLACE: that would cascade)."""
        columns = _NODE_COLUMNS.split(", ")[1:]
        assignments = ", ".join(f"{column} = ?" for column in columns)
        values = _from_node(node)
        self._db.execute(f"UPDATE nodes SET {assignments} WHERE id = ?", (*values[1:], values[0]))

    def delete_tree(self, node_id: str) -> list[str]:
        """Delete the node, everything under it and their history; return the history blobs to remove."""
        blobs = self._db.execute(
            """
            WITH RECURSIVE tree (id) AS (
                SELECT ? UNION ALL SELECT nodes.id FROM nodes JOIN tree ON nodes.parent_id = tree.id
            )
            SELECT blob FROM versions WHERE file_id IN tree
            """,
            (node_id,),
        ).fetchall()
        # cascades to children, their versions, grants and activities
        self._db.execute("DELETE FROM nodes WHERE id = ?", (node_id,))
        return [blob for (blob,) in blobs]

    # ---- version history ----

    def add_version(self, file_id: str, version: VersionMeta, blob: str) -> None:
        self._db.execute(
            f"INSERT INTO versions (file_id, {_VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                file_id,
                version.version,
                version.size,
                to_us(version.modified_at),
                version.modified_by.user_id,
                version.modified_by.display_name,
                version.sha256,
                blob,
            ),
        )

    def prune_versions(self, file_id: str, keep: int) -> list[str]:
        """Drop all but the `keep` newest versions; return their blobs to remove."""
        doomed = self._db.execute(
            "SELECT seq, blob FROM versions WHERE file_id = ? ORDER BY seq DESC LIMIT -1 OFFSET ?", (file_id, keep)
        ).fetchall()
        self._db.executemany("DELETE FROM versions WHERE seq = ?", [(seq,) for seq, _ in doomed])
        return [blob for _, blob in doomed]

    def versions(self, file_id: str) -> list[tuple[VersionMeta, str]]:
        """Earlier versions of the file and their blobs, newest first."""
        rows = self._db.execute(
            f"SELECT {_VERSION_COLUMNS} FROM versions WHERE file_id = ? ORDER BY seq DESC", (file_id,)
        )
        return [_to_version(row) for row in rows]

    def find_version(self, file_id: str, version: str) -> tuple[VersionMeta, str] | None:
        row = self._db.execute(
            f"SELECT {_VERSION_COLUMNS} FROM versions WHERE file_id = ? AND version = ?", (file_id, version)
        ).fetchone()
        return _to_version(row) if row is not None else None

    def blobs(self) -> set[str]:
        return {blob for (blob,) in self._db.execute("SELECT blob FROM versions")}

    # ---- activities ----

    def recorded_activities(self, file_id: str, activity_ids: Sequence[str]) -> dict[str, Activity]:
        """Those of `activity_ids` that the file has recorded, by id: one query."""
        rows = self._db.execute(activity_rows.recorded(len(activity_ids)), (file_id, *activity_ids))
        found = (activity_rows.activity_of(row) for row in rows)
        return {activity.activity_id: activity for activity in found}

    def add_activities(self, file_id: str, new: Sequence[Activity], keep: int) -> None:
        """Record `new` (in order), then drop all but the file's `keep` newest activities, as versions are pruned."""
        if not new:
            return
        self._db.execute(activity_rows.insert(len(new)), activity_rows.params(file_id, new))
        self._db.execute(activity_rows.PRUNE, (file_id, file_id, keep))

    def activities_before(self, file_id: str, before: int | None, limit: int) -> list[tuple[int, Activity]]:
        """At most `limit` of the file's activities with their positions, newest first, before `before` if given."""
        rows = self._db.execute(activity_rows.page(before), activity_rows.page_params(file_id, before, limit))
        return [(int(seq), activity_rows.activity_of(row)) for seq, *row in rows]

    # ---- the audit trail and the locked files ----

    def record(self, event: AuditEvent, keep: int) -> None:
        """Store the event in its trail, then drop all but the trail's `keep` newest."""
        self._db.execute(audit_rows.INSERT, audit_rows.params(event))
        self._db.execute(audit_rows.PRUNE, (event.trail_id, event.trail_id, keep))

    def audit_before(self, trail_id: str, before: int | None, limit: int) -> list[tuple[int, AuditEvent]]:
        """At most `limit` of the trail's events with their positions, newest first, before `before` if given."""
        rows = self._db.execute(audit_rows.page(before), audit_rows.page_params(trail_id, before, limit))
        return [(int(seq), audit_rows.event_of(row)) for seq, *row in rows]

    def locked_after(self, now_us: int, after: tuple[int, str] | None, limit: int) -> list[Node]:
        """At most `limit` files whose lock expires after `now_us`, by (expiry, id) after `after`: one range of the
        index `nodes_locks`, which holds the locked nodes only."""
        start = after if after is not None else (now_us, "")
        rows = self._db.execute(
            f"SELECT {_NODE_COLUMNS} FROM nodes WHERE lock_id IS NOT NULL AND lock_expires_us > ?"
            " AND (lock_expires_us, id) > (?, ?) AND is_file = 1 ORDER BY lock_expires_us, id LIMIT ?",
            (now_us, *start, limit),
        )
        return [_to_node(row) for row in rows]

    # ---- user info ----

    def user_info(self, user_id: str) -> str:
        row = self._db.execute("SELECT info FROM user_info WHERE user_id = ?", (user_id,)).fetchone()
        return str(row[0]) if row is not None else ""

    def set_user_info(self, user_id: str, info: str) -> None:
        self._db.execute(
            "INSERT INTO user_info (user_id, info) VALUES (?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET info = excluded.info",
            (user_id, info),
        )

    def children_after(self, parent_id: str, after: tuple[int, str] | None, limit: int) -> list[Node]:
        """At most `limit` children in listing order (containers, then files, each by name), after the child at
        `after` (is_file, name), or from the first (None): each kind one range of the index `nodes_children`."""

        def fetch(is_file: int, name: str | None, count: int) -> list[Node]:
            past = "" if name is None else " AND name > ?"
            rows = self._db.execute(
                f"SELECT {_NODE_COLUMNS} FROM nodes WHERE parent_id = ? AND is_file = ?{past} ORDER BY name LIMIT ?",
                (parent_id, is_file, *(() if name is None else (name,)), count),
            )
            return [_to_node(row) for row in rows]

        return listing.in_key_order(after, limit, fetch)

    def grants_of_items(self, item_ids: list[str]) -> dict[str, list[Grant]]:
        """The grants on each of the given items (one page of a listing), by item id: one query."""
        if not item_ids:
            return {}
        placeholders = ", ".join("?" * len(item_ids))
        rows = self._db.execute(
            f"SELECT nodes.is_file, {', '.join('grants.' + c for c in _GRANT_COLUMNS.split(', '))}"
            f" FROM grants JOIN nodes ON nodes.id = grants.item_id WHERE grants.item_id IN ({placeholders})"
            " ORDER BY grants.item_id, grants.grantee_kind, grants.grantee_id",
            item_ids,
        )
        grants: dict[str, list[Grant]] = {}
        for is_file, *row in rows:
            grants.setdefault(str(row[0]), []).append(_to_grant(row, bool(is_file)))
        return grants

    def _node(self, query: str, parameters: tuple[object, ...]) -> Node | None:
        row = self._db.execute(query.format(_NODE_COLUMNS), parameters).fetchone()
        return _to_node(row) if row is not None else None


def _to_node(row: tuple[Any, ...]) -> Node:
    (
        node_id, parent_id, name, is_file, owner_id, owner_name, created_us, dev, ino, size, mtime_ns, version,
        modified_us, modified_by_id, modified_by_name, sha256, lock_id, lock_expires_us, lock_by_id, lock_by_name,
        lock_since_us,
    ) = row  # fmt: skip
    lock = None
    if lock_id is not None:
        lock = LockState(
            LockId(str(lock_id)),
            from_us(lock_expires_us),
            Principal(str(lock_by_id), str(lock_by_name)),
            None if lock_since_us is None else from_us(lock_since_us),
        )
    return Node(
        id=str(node_id),
        parent_id=str(parent_id) if parent_id is not None else None,
        name=str(name),
        is_file=bool(is_file),
        owner=Principal(str(owner_id), str(owner_name)),
        created_at=from_us(created_us),
        dev=int(dev),
        ino=int(ino),
        size=int(size),
        mtime_ns=int(mtime_ns),
        version=str(version),
        modified_at=from_us(modified_us),
        modified_by=Principal(str(modified_by_id), str(modified_by_name)),
        sha256=bytes(sha256),
        lock=lock,
    )


def _from_node(node: Node) -> tuple[object, ...]:
    lock = node.lock
    return (
        node.id,
        node.parent_id,
        node.name,
        int(node.is_file),
        node.owner.user_id,
        node.owner.display_name,
        to_us(node.created_at),
        node.dev,
        node.ino,
        node.size,
        node.mtime_ns,
        node.version,
        to_us(node.modified_at),
        node.modified_by.user_id,
        node.modified_by.display_name,
        node.sha256,
        lock.lock_id if lock is not None else None,
        to_us(lock.expires_at) if lock is not None else None,
        lock.locked_by.user_id if lock is not None else None,
        lock.locked_by.display_name if lock is not None else None,
        to_us(lock.locked_at) if lock is not None and lock.locked_at is not None else None,
    )


def _to_grant(row: Any, on_file: bool) -> Grant:
    item_id, kind, grantee_id, role, by_id, by_name, granted_us = row
    return Grant(
        str(item_id),
        on_file,
        Grantee(GranteeKind(kind), str(grantee_id)),
        Role(role),
        Principal(str(by_id), str(by_name)),
        from_us(granted_us),
    )


def _to_version(row: tuple[Any, ...]) -> tuple[VersionMeta, str]:
    version, size, modified_us, modified_by_id, modified_by_name, sha256, blob = row
    meta = VersionMeta(
        Version(str(version)),
        size,
        from_us(modified_us),
        Principal(str(modified_by_id), str(modified_by_name)),
        bytes(sha256),
    )
    return meta, str(blob)

"""The SQLite catalogue: everything about the tree that a file system cannot hold.

Files and directories on disk are the documents; this catalogue adds stable ids, versions, locks, principals,
created times, SHA-256 digests, the version history index and user info. It is not thread-safe on its own:
the backend serializes every use (one atomic section at a time) and wraps each section in one transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from storage_adapter.backends.catalogue_row import CatalogueRow
from storage_adapter.backends.sqlite_wal import enable_wal
from storage_adapter.timestamps import EPOCH, from_us, to_us
from storage_adapter.types import (
    ANONYMOUS,
    LockId,
    LockState,
    Principal,
    Version,
    VersionMeta,
)

# Applied in order; `PRAGMA user_version` records how many ran. Never edit one that has shipped: append.
MIGRATIONS: tuple[str, ...] = (
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
)

_NODE_COLUMNS = (
    "id, parent_id, name, is_file, owner_id, owner_name, created_us, st_dev, st_ino, size, mtime_ns, version, "
    "modified_us, modified_by_id, modified_by_name, sha256, lock_id, lock_expires_us, lock_by_id, lock_by_name"
)
_VERSION_COLUMNS = "version, size, modified_us, modified_by_id, modified_by_name, sha256, blob"
# More levels than any path can have (PATH_MAX is 4096 bytes, a level at least 2 of them): bounds a cycle.
_MAX_LEVELS = 4096


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
    def __init__(self, path: Path) -> None:
        # isolation_level=None: transactions are explicit (`transaction()`), one per atomic section.
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        enable_wal(self._db)  # the root's flock keeps other adapters out, not other programs (the sqlite3 shell)
        self._db.execute("PRAGMA synchronous = FULL")  # a returned write survives a power cut
        self._db.execute("PRAGMA foreign_keys = ON")

    def close(self) -> None:
        self._db.close()

    def migrate(self) -> None:
        applied = self._db.execute("PRAGMA user_version").fetchone()[0]
        if applied > len(MIGRATIONS):
            raise RuntimeError(f"the catalogue has schema version {applied}, newer than this adapter knows")
        for number, script in enumerate(MIGRATIONS[applied:], start=applied + 1):
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
    def transaction(self, commit_on: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
        """One transaction. An exception rolls it back, except those in `commit_on`: they are answers that
        follow what was already learnt (a file found gone is removed from the catalogue, then NotFound)."""
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
            f"""
            WITH RECURSIVE chain (node_id, up, depth) AS (
                SELECT id, parent_id, 0 FROM nodes WHERE id = ?
                UNION ALL
                SELECT nodes.id, nodes.parent_id, chain.depth + 1 FROM nodes JOIN chain ON nodes.id = chain.up
                WHERE chain.depth < ?
            )
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

    def insert(self, node: Node) -> None:
        self._db.execute(f"INSERT INTO nodes ({_NODE_COLUMNS}) VALUES ({', '.join('?' * 20)})", _from_node(node))

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
        self._db.execute("DELETE FROM nodes WHERE id = ?", (node_id,))  # cascades to children and versions
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

    def _node(self, query: str, parameters: tuple[object, ...]) -> Node | None:
        row = self._db.execute(query.format(_NODE_COLUMNS), parameters).fetchone()
        return _to_node(row) if row is not None else None


def _to_node(row: tuple[Any, ...]) -> Node:
    (
        node_id, parent_id, name, is_file, owner_id, owner_name, created_us, dev, ino, size, mtime_ns, version,
        modified_us, modified_by_id, modified_by_name, sha256, lock_id, lock_expires_us, lock_by_id, lock_by_name,
    ) = row  # fmt: skip
    lock = None
    if lock_id is not None:
        lock = LockState(LockId(str(lock_id)), from_us(lock_expires_us), Principal(str(lock_by_id), str(lock_by_name)))
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

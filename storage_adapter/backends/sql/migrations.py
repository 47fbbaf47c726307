"""Versioned schema migrations, applied in order at start, each in a transaction of its own.

`schema_migrations` records which versions ran (and when). Several replicas may start at once on one database:
on PostgreSQL every migration transaction first takes one transaction-level advisory lock
(`pg_advisory_xact_lock`), so replicas apply migrations one at a time and each sees what the previous one
recorded; on SQLite `BEGIN IMMEDIATE` already holds the database's only write lock. A migration's DDL and its
row in `schema_migrations` commit together (both databases have transactional DDL), so a migration runs once or
not at all.

Never edit a migration that has shipped: append a new one.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from storage_adapter.backends.sql.database import Database, Dialect, Mode, Tx

# The advisory lock key of this schema's migrations: the bytes "wopimigr" as a signed 64-bit integer.
ADVISORY_LOCK_KEY = int.from_bytes(b"wopimigr", "big", signed=True)


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: Callable[[Dialect], list[str]]
    after: Callable[[Tx], None] | None = None  # data to insert once the statements ran


def _initial_schema(dialect: Dialect) -> list[str]:
    binary = dialect.binary
    statements = [
        # Containers and files share one table, so one UNIQUE constraint keeps names unique in a container
        # whatever the kind of item: it, not a check made beforehand, decides a race between two creates.
        f"""CREATE TABLE items (
            id TEXT PRIMARY KEY,
            parent_id TEXT REFERENCES items (id),  -- NULL for the root container only
            name TEXT NOT NULL,                    -- '' for the root container
            is_file INTEGER NOT NULL,
            owner_id TEXT NOT NULL,
            owner_name TEXT NOT NULL,
            created_us BIGINT NOT NULL,            -- microseconds since 1970 (UTC), as every time here
            -- files only: the current contents and who made them
            blob_id TEXT,
            size BIGINT NOT NULL DEFAULT 0,
            version TEXT NOT NULL DEFAULT '',
            modified_us BIGINT NOT NULL DEFAULT 0,
            modified_by_id TEXT NOT NULL DEFAULT '',
            modified_by_name TEXT NOT NULL DEFAULT '',
            sha256 {binary},
            -- the lock, if any; an expired lock is kept here but is no lock (every read applies the expiry)
            lock_id TEXT,
            lock_expires_us BIGINT,
            lock_by_id TEXT,
            lock_by_name TEXT,
            CONSTRAINT items_unique_name UNIQUE (parent_id, name),
            CONSTRAINT items_files_have_parents CHECK (is_file = 0 OR parent_id IS NOT NULL)
        )""",
        # At most one root: every root has is_file = 0.
        "CREATE UNIQUE INDEX items_one_root ON items (is_file) WHERE parent_id IS NULL",
        # Earlier versions, newest = highest seq. Rows of one file are added only under its row lock, so seq
        # order is commit order.
        f"""CREATE TABLE versions (
            seq {dialect.identity},
            file_id TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
            version TEXT NOT NULL,
            blob_id TEXT NOT NULL,
            size BIGINT NOT NULL,
            modified_us BIGINT NOT NULL,
            modified_by_id TEXT NOT NULL,
            modified_by_name TEXT NOT NULL,
            sha256 {binary} NOT NULL
        )""",
        "CREATE INDEX versions_file ON versions (file_id, seq)",
        "CREATE TABLE user_info (user_id TEXT PRIMARY KEY, info TEXT NOT NULL)",
        # The database content store: immutable blobs cut in rows of at most chunk_size bytes.
        f"""CREATE TABLE blobs (
            blob_id TEXT PRIMARY KEY,
            chunk_size INTEGER NOT NULL,
            size BIGINT,                -- NULL while the upload is in progress
            sha256 {binary},
            touched_us BIGINT NOT NULL  -- created, last chunk added, or completed: the GC grace counts from here
        )""",
        "CREATE INDEX blobs_touched ON blobs (touched_us)",
        f"""CREATE TABLE blob_chunks (
            blob_id TEXT NOT NULL REFERENCES blobs (blob_id),
            seq INTEGER NOT NULL,
            data {binary} NOT NULL,
            PRIMARY KEY (blob_id, seq)
        )""",
    ]
    if dialect.is_postgres:
        # Out of line, uncompressed: documents are mostly compressed already (docx, xlsx and pptx are zips).
        statements.append("ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL")
    return statements


def _insert_root(tx: Tx) -> None:
    now_us = (datetime.now(UTC) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1_000_000
    tx.execute(
        "INSERT INTO items (id, parent_id, name, is_file, owner_id, owner_name, created_us) "
        "VALUES (?, NULL, '', 0, '', '', ?)",
        (secrets.token_hex(12), int(now_us)),
    )


def _grants(dialect: Dialect) -> list[str]:
    """Access control (proto "Access control"): the grants, and no owner for what existed before it.

    `items.owner_id` recorded each item's creator from the start, but nobody was its owner in the sense of access
    control then: every user could use every item. Were those creators to own their items now, an upgrade would
    shut every team out of each other's documents. So the items of a database made before access control become
    unowned, governed by the adapter's `unowned_access` setting (by default every identified user edits them,
    as before); what is created from now on is its creator's."""
    # Grantee ids compare byte by byte on both databases, so that ListSharedWithMe's order (and its page
    # tokens) do not depend on a PostgreSQL locale.
    byte_order = ' COLLATE "C"' if dialect.is_postgres else ""
    return [
        f"""CREATE TABLE grants (
            item_id TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
            on_file INTEGER NOT NULL,
            grantee_kind INTEGER NOT NULL,     -- 0: a user, 1: a group (access.GranteeKind)
            grantee_id TEXT{byte_order} NOT NULL,
            role INTEGER NOT NULL,             -- access.Role: 1 viewer, 2 editor, 3 manager
            granted_by_id TEXT NOT NULL,
            granted_by_name TEXT NOT NULL,
            granted_us BIGINT NOT NULL,
            PRIMARY KEY (item_id, grantee_kind, grantee_id)
        )""",
        # ListSharedWithMe: a principal's grants in (item id, grantee) order.
        "CREATE INDEX grants_grantee ON grants (grantee_kind, grantee_id, item_id)",
        "UPDATE items SET owner_id = '', owner_name = '' WHERE owner_id <> ''",
    ]


def _children_index(dialect: Dialect) -> list[str]:
    """ListChildrenPage reads a page of a container's children, containers first, then files, each by name in
    code-point order (UTF-8 bytes: SQLite's BINARY collation, PostgreSQL's "C"), from this index: a page costs
    the same whatever the size of the container (`metadata.children_after`)."""
    byte_order = ' COLLATE "C"' if dialect.is_postgres else ""
    return [f"CREATE INDEX items_children ON items (parent_id, is_file, name{byte_order})"]


def _activities(dialect: Dialect) -> list[str]:
    """AddActivities and ListActivities: each file's activities (the columns of `activity_rows.py`), numbered by
    `seq` in the order recorded (under the file's row lock: per file, also the order of their commits), and
    deleted with their file (ON DELETE CASCADE, whose lookup the unique index serves). A page and the drop of a
    file's oldest read one range of `activities_file`."""
    return [
        f"""CREATE TABLE activities (
            seq {dialect.identity},       -- the position: a file's newest has the highest
            file_id TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
            activity_id TEXT NOT NULL,    -- the client's, unique per file
            recorded_us BIGINT NOT NULL,
            actor_id TEXT NOT NULL,
            actor_name TEXT NOT NULL,
            occurred_us BIGINT,           -- NULL: the client did not tell
            content_id TEXT NOT NULL,
            navigation_id TEXT NOT NULL,
            comment_action INTEGER NOT NULL,  -- the proto CommentAction number
            comment_text TEXT NOT NULL,
            is_reply INTEGER NOT NULL,
            people TEXT NOT NULL,         -- JSON (activity_rows.py)
            CONSTRAINT activities_unique_id UNIQUE (file_id, activity_id)
        )""",
        "CREATE INDEX activities_file ON activities (file_id, seq)",
    ]


def _audit_trail(dialect: Dialect) -> list[str]:
    """ListAuditEvents: each item's events (the columns of `audit_rows.py`), numbered by `seq` in the order
    recorded (each under the row lock of its trail's item: per trail, also the order of their commits), deleted
    with the item (ON DELETE CASCADE); and, for ListLockedFiles, when each lock was taken."""
    return [
        f"""CREATE TABLE audit_events (
            seq {dialect.identity},       -- the position: a trail's newest has the highest
            trail_id TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
            item_id TEXT NOT NULL,        -- the item changed: trail_id, or a child deleted
            on_file INTEGER NOT NULL,
            action INTEGER NOT NULL,      -- the proto AuditAction number
            at_us BIGINT NOT NULL,
            actor_id TEXT NOT NULL,
            actor_name TEXT NOT NULL,
            details TEXT NOT NULL         -- JSON (audit_rows.py)
        )""",
        "CREATE INDEX audit_events_trail ON audit_events (trail_id, seq)",
        "ALTER TABLE items ADD COLUMN lock_since_us BIGINT",
    ]


def _locks_index(dialect: Dialect) -> list[str]:
    """ListLockedFiles: the locked files alone (a partial index) by (expiry, id), so that a page reads one range of
    it, past the expired locks that stay in their rows until the next lock change."""
    return ["CREATE INDEX items_locks ON items (lock_expires_us, id) WHERE lock_id IS NOT NULL"]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1, "items, versions, user info, blobs and their chunks; the root container", _initial_schema, _insert_root
    ),
    Migration(2, "grants (access control); items made before it have no owner", _grants),
    Migration(3, "an index of each container's children in listing order (ListChildrenPage)", _children_index),
    Migration(4, "each file's activities (AddActivities, ListActivities)", _activities),
    Migration(5, "each item's audit trail, and when each lock was taken", _audit_trail),
    Migration(6, "an index of the locked files by expiry (ListLockedFiles)", _locks_index),
)


def _serialize(tx: Tx) -> None:
    """Make concurrent migrators (other replicas starting now) wait for this transaction to end."""
    if tx.dialect.is_postgres:
        tx.one("SELECT pg_advisory_xact_lock(?)", (ADVISORY_LOCK_KEY,))


def _bootstrap(tx: Tx) -> list[int]:
    _serialize(tx)
    # The one table whose existence cannot be a migration of its own.
    tx.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    return [row[0] for row in tx.all("SELECT version FROM schema_migrations ORDER BY version")]


def _apply(migration: Migration) -> Callable[[Tx], bool]:
    def transaction(tx: Tx) -> bool:
        _serialize(tx)
        if tx.one("SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)) is not None:
            return False  # another replica applied it while we waited for the lock
        for statement in migration.statements(tx.dialect):
            tx.execute(statement)
        if migration.after is not None:
            migration.after(tx)
        tx.execute(
            "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)",
            (migration.version, migration.description, datetime.now(UTC).isoformat()),
        )
        return True

    return transaction


async def migrate(database: Database) -> list[int]:
    """Apply the migrations this database lacks; the versions applied by this call. RuntimeError if the
    database was migrated by a newer release (it has versions this code does not know)."""
    applied = await database.run(_bootstrap, Mode.WRITE)
    known = {migration.version for migration in MIGRATIONS}
    unknown = sorted(set(applied) - known)
    if unknown:
        raise RuntimeError(f"the database has schema versions {unknown} that this release does not know: upgrade it")
    done: list[int] = []
    for migration in MIGRATIONS:
        if migration.version not in applied and await database.run(_apply(migration), Mode.WRITE):
            done.append(migration.version)
    return done

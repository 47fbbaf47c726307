"""One database, SQLite or PostgreSQL, behind one small seam: a pool of connections, explicit transactions run
in worker threads, and the few SQL differences between the two (`Dialect`).

Both drivers (the standard `sqlite3`, and psycopg 3) block, so every database call runs in a worker thread
(`asyncio.to_thread`) and the event loop keeps serving other requests.

Why nothing can interleave inside a transaction: a transaction runs from BEGIN to COMMIT inside ONE
worker-thread call, on ONE connection that the pool lends to one caller at a time. The pool takes a connection
back only once its thread is done with it, even when the caller is cancelled meanwhile (a thread cannot be
stopped: `_to_end` waits for it), so no request ever sees another one's half-done transaction. Connections are
acquired on the event loop, never in a worker thread, so waiting for a connection never ties up a thread that
another request needs in order to give its connection back.

Transaction kinds:
- WRITE: PostgreSQL `BEGIN` (READ COMMITTED; the statements lock the rows they check: `SELECT ... FOR UPDATE`),
  SQLite `BEGIN IMMEDIATE` (the database's write lock, taken up front). SQLite writers of one process also
  queue on a lock of their own per database file, instead of polling SQLite's busy handler.
- SNAPSHOT: a consistent read of several statements: PostgreSQL `REPEATABLE READ READ ONLY`, SQLite a deferred
  `BEGIN` (in WAL mode its first read fixes the snapshot; writers go on meanwhile).
- AUTOCOMMIT: one statement, no transaction around it.

What a WRITE transaction's COMMIT waits for is its `Durability` (see `docs/backends.md`): on disk by default;
lock changes only as far as every process crash; blob chunks not at all, since the commit that makes a blob a
file's contents is durable and a database's log is written in order (that commit's flush carries them too).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import os
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from storage_adapter.backends.sqlite_wal import enable_wal
from storage_adapter.errors import Unavailable

T = TypeVar("T")
Params = Sequence[Any]


class Mode(enum.Enum):
    WRITE = "write"
    SNAPSHOT = "snapshot"
    AUTOCOMMIT = "autocommit"


class Durability(enum.Enum):
    """What the COMMIT of a WRITE transaction waits for. Both databases write their log (SQLite's WAL,
    PostgreSQL's WAL) in commit order and a flush covers everything before it, so once a POWER_LOSS commit
    returns, every commit before it is on disk too, whatever its own durability."""

    POWER_LOSS = "power-loss"  # on disk before COMMIT returns (SQLite synchronous FULL, PostgreSQL's default)
    # Survives a crash of any process at once (SQLite: the WAL is in the OS's page cache; PostgreSQL: unchanged,
    # it has no level between flushed and lost on its own crash); an OS crash or power loss may lose it.
    PROCESS_CRASH = "process-crash"
    # Not waited for at all (SQLite synchronous NORMAL, PostgreSQL synchronous_commit off): only for rows that a
    # later POWER_LOSS commit depends on (blob chunks before the commit that points the file at the blob).
    LATER_COMMIT = "later-commit"


class RowLock(enum.Enum):
    """PostgreSQL row-lock strengths. SQLite needs none: a write transaction holds the whole database."""

    NONE = ""
    UPDATE = " FOR UPDATE"  # changes or deletes the row: waits for every other lock on it
    NO_KEY_UPDATE = " FOR NO KEY UPDATE"  # changes the row, but children may still be added under it
    KEY_SHARE = " FOR KEY SHARE"  # the row must stay while we add a child under it


@dataclass(frozen=True)
class Dialect:
    name: str  # "sqlite" or "postgresql"
    binary: str  # the column type of byte strings
    identity: str  # an auto-incremented integer primary key

    @property
    def is_postgres(self) -> bool:
        return self.name == "postgresql"


SQLITE = Dialect("sqlite", "BLOB", "INTEGER PRIMARY KEY AUTOINCREMENT")
POSTGRES = Dialect("postgresql", "BYTEA", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY")

_BEGIN = {
    (SQLITE, Mode.WRITE): "BEGIN IMMEDIATE",
    (SQLITE, Mode.SNAPSHOT): "BEGIN",
    (POSTGRES, Mode.WRITE): "BEGIN",
    (POSTGRES, Mode.SNAPSHOT): "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
}

# Set before each SQLite write transaction (the level is the connection's, so each one states its own).
_SQLITE_SYNCHRONOUS = {
    Durability.POWER_LOSS: "PRAGMA synchronous = FULL",
    Durability.PROCESS_CRASH: "PRAGMA synchronous = NORMAL",  # in WAL mode: no fsync at COMMIT
    Durability.LATER_COMMIT: "PRAGMA synchronous = NORMAL",
}
# Each connection's page cache, in KiB (SQLite's default is about 2 MiB). Blob chunks pass through it and are
# not read again soon, and the metadata's hot pages are few: a small cache per pooled connection keeps the
# service's memory low; the OS's page cache still serves what it no longer holds.
SQLITE_CACHE_KIB = 512

_SQLITE_WRITERS: dict[str, threading.Lock] = {}
_SQLITE_WRITERS_GUARD = threading.Lock()


def parse_url(url: str) -> tuple[Dialect, str]:
    """`sqlite:///relative/path.db`, `sqlite:////absolute/path.db` (SQLAlchemy's spelling), or
    `postgresql://user:password@host:port/database` (also `postgres://` and `postgresql+psycopg://`)."""
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if not path or path.startswith(":memory:") or "?" in path:
            raise ValueError("a sqlite URL names a database file: sqlite:///path/to/file.db")
        return SQLITE, path
    scheme, separator, rest = url.partition("://")
    if separator and scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return POSTGRES, f"postgresql://{rest}"
    raise ValueError("the database URL must start with sqlite:/// or postgresql://")


@functools.lru_cache(maxsize=512)
def _postgres_sql(sql: str) -> str:
    if "%" in sql:
        raise ValueError("SQL text must not contain '%': parameters are written '?'")
    return sql.replace("?", "%s")


class Tx:
    """The statements of one transaction. SQL is written once, with `?` parameters, for both databases."""

    def __init__(self, connection: Any, dialect: Dialect) -> None:
        self._connection = connection
        self.dialect = dialect

    def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement; the number of rows it changed."""
        return int(self._cursor(sql, params).rowcount)

    def one(self, sql: str, params: Params = (), *, binary: bool = False) -> tuple[Any, ...] | None:
        row = self._cursor(sql, params, binary=binary).fetchone()
        return tuple(row) if row is not None else None

    def all(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._cursor(sql, params).fetchall()]

    def lock(self, strength: RowLock) -> str:
        """The clause to append to a one-table SELECT to lock its rows until the transaction ends."""
        return strength.value if self.dialect.is_postgres else ""

    def insert_with_blob(
        self, table: str, columns: Sequence[str], params: Params, blob_column: str, data: bytes
    ) -> None:
        """INSERT a row of `columns` = `params` whose `blob_column` is a large byte string (a blob chunk). On
        SQLite the row is inserted with a zeroblob of that size, then filled through incremental blob I/O: a
        parameter bound to a cached statement stays allocated until the statement runs again, so binding 1 MiB
        chunks would keep 1 MiB per pooled connection for good."""
        names = ", ".join([*columns, blob_column])
        marks = ", ".join("?" * len(columns))
        if self.dialect.is_postgres:
            self.execute(f"INSERT INTO {table} ({names}) VALUES ({marks}, ?)", (*params, data))
            return
        cursor = self._connection.execute(
            f"INSERT INTO {table} ({names}) VALUES ({marks}, zeroblob(?))", (*params, len(data))
        )
        with self._connection.blobopen(table, blob_column, cursor.lastrowid) as blob:
            blob.write(data)

    def unless_taken(self, sql: str, params: Params = ()) -> bool:
        """Run an INSERT or UPDATE that a UNIQUE constraint may refuse (another transaction won the race for
        the same key). False if refused; the transaction stays usable (a savepoint undoes the statement)."""
        self.execute("SAVEPOINT unless_taken")
        try:
            self.execute(sql, params)
        except Exception as error:
            if not _is_unique_violation(error):
                raise
            self.execute("ROLLBACK TO SAVEPOINT unless_taken")
            self.execute("RELEASE SAVEPOINT unless_taken")
            return False
        self.execute("RELEASE SAVEPOINT unless_taken")
        return True

    def _cursor(self, sql: str, params: Params, *, binary: bool = False) -> Any:
        if self.dialect.is_postgres:
            return self._connection.execute(_postgres_sql(sql), params, binary=binary)
        return self._connection.execute(sql, params)


def _is_unique_violation(error: Exception) -> bool:
    if isinstance(error, sqlite3.IntegrityError):
        return "UNIQUE constraint failed" in str(error)
    if type(error).__module__.startswith("psycopg"):
        import psycopg.errors

        return isinstance(error, psycopg.errors.UniqueViolation)
    return False


def _translate(error: Exception) -> Exception | None:
    """A driver error that means "try again later" as the storage error UNAVAILABLE; None for any other."""
    if isinstance(error, sqlite3.OperationalError):
        text = str(error)
        return Unavailable(f"the database is busy: {text}") if "locked" in text or "busy" in text else None
    if type(error).__module__.startswith("psycopg"):
        import psycopg

        if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
            return Unavailable(f"the database is unavailable: {type(error).__name__}")
    return None


async def _to_end(awaitable: Awaitable[T]) -> T:
    """Await a worker thread's job to its end even if cancelled meanwhile (the thread cannot be stopped, and its
    connection must not be lent again while it runs); the cancellation is re-raised once the job is done."""
    task = asyncio.ensure_future(awaitable)
    cancelled = False
    while not task.done():
        try:
            await asyncio.wait([task])
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        if not task.cancelled():
            task.exception()  # retrieved: the caller hears of the cancellation instead
        raise asyncio.CancelledError
    return task.result()


class Session:
    """One connection held across several calls: a snapshot read that spans a whole download."""

    def __init__(self, database: Database, connection: Any) -> None:
        self._database = database
        self._connection: Any = connection

    async def call(self, work: Callable[[Tx], T]) -> T:
        if self._connection is None:
            raise RuntimeError("the session is closed")
        tx = Tx(self._connection, self._database.dialect)
        return await _to_end(asyncio.to_thread(_translated, lambda: work(tx)))

    async def close(self) -> None:
        """End the transaction and give the connection back. Idempotent."""
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await _to_end(asyncio.to_thread(_rollback, connection))
            finally:
                self._database._release(connection)


class Database:
    def __init__(self, url: str, *, pool_size: int = 10, pool_timeout: float = 30.0) -> None:
        self.dialect, self._target = parse_url(url)
        self._pool_timeout = pool_timeout
        self._slots = asyncio.Semaphore(pool_size)
        self._idle: list[Any] = []
        self._closed = False
        self._writer: threading.Lock | None = None
        if not self.dialect.is_postgres:
            with _SQLITE_WRITERS_GUARD:
                self._writer = _SQLITE_WRITERS.setdefault(os.path.realpath(self._target), threading.Lock())

    async def run(
        self, work: Callable[[Tx], T], mode: Mode = Mode.WRITE, durability: Durability = Durability.POWER_LOSS
    ) -> T:
        """Run `work` as one transaction of the given kind, in a worker thread, on a connection of its own.
        `durability`: what a WRITE transaction's COMMIT waits for."""
        connection = await self._acquire()
        try:
            return await _to_end(
                asyncio.to_thread(_translated, lambda: self._transact(connection, work, mode, durability))
            )
        finally:
            self._release(connection)

    async def session(self) -> Session:
        """A connection with an open SNAPSHOT transaction, for a read made of many calls. Close it."""
        connection = await self._acquire()
        begin = _BEGIN[self.dialect, Mode.SNAPSHOT]
        try:
            await _to_end(asyncio.to_thread(_translated, lambda: connection.execute(begin)))
        except BaseException:
            self._release(connection)
            raise
        return Session(self, connection)

    async def close(self) -> None:
        """Close the idle connections; those still lent out are closed when they come back."""
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            await asyncio.to_thread(connection.close)

    # ---- the pool ----

    async def _acquire(self) -> Any:
        if self._closed:
            raise RuntimeError("the database is closed")
        try:
            await asyncio.wait_for(self._slots.acquire(), self._pool_timeout)
        except TimeoutError:
            raise Unavailable("every database connection is busy") from None
        if self._idle:
            return self._idle.pop()
        connecting = asyncio.ensure_future(asyncio.to_thread(_translated, self._connect))
        try:
            return await _to_end(connecting)
        except BaseException:
            if not connecting.cancelled() and connecting.exception() is None:  # cancelled once it had connected
                self._idle.append(connecting.result())
            self._slots.release()
            raise

    def _release(self, connection: Any) -> None:
        if not self._closed and self._reusable(connection):
            self._idle.append(connection)
        else:
            with contextlib.suppress(Exception):  # a broken connection may fail to close; it is dropped anyway
                connection.close()
        self._slots.release()

    def _connect(self) -> Any:
        if self.dialect.is_postgres:
            try:
                import psycopg
            except ImportError:
                raise RuntimeError("the sql backend needs psycopg for PostgreSQL: install wopi-host[sql]") from None
            return psycopg.connect(self._target, autocommit=True, application_name="wopi-storage")
        # isolation_level=None: the module never opens transactions by itself; ours are explicit.
        connection = sqlite3.connect(self._target, isolation_level=None, check_same_thread=False, timeout=30)
        connection.execute("PRAGMA busy_timeout = 30000")  # other processes' writers: wait, do not fail
        enable_wal(connection)  # readers never block the writer, nor it them
        connection.execute("PRAGMA synchronous = FULL")  # a returned write survives a power cut
        connection.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        # A blob chunk's transaction dirties more pages than that cache holds: spilled to the log mid-transaction,
        # they were written twice (the zeroblob, then its bytes). Unspilled, the cache outgrows its size only
        # for that transaction (about one chunk) and each page reaches the log once, at COMMIT.
        connection.execute("PRAGMA cache_spill = OFF")
        connection.execute("PRAGMA foreign_keys = ON")
        return connection

    def _reusable(self, connection: Any) -> bool:
        if self.dialect.is_postgres:
            from psycopg.pq import TransactionStatus

            return not connection.closed and connection.info.transaction_status == TransactionStatus.IDLE
        return not connection.in_transaction

    def _transact(self, connection: Any, work: Callable[[Tx], T], mode: Mode, durability: Durability) -> T:
        """In the worker thread: BEGIN, work, COMMIT (ROLLBACK if anything fails), the COMMIT waiting for what
        `durability` asks (WRITE only: the other kinds change nothing)."""
        tx = Tx(connection, self.dialect)
        if mode is Mode.AUTOCOMMIT:
            return work(tx)
        writer = self._writer if mode is Mode.WRITE else None
        if writer is not None:
            writer.acquire()
        try:
            if mode is Mode.WRITE and not self.dialect.is_postgres:
                connection.execute(_SQLITE_SYNCHRONOUS[durability])  # outside the transaction, where it applies
            connection.execute(_BEGIN[self.dialect, mode])
            try:
                if mode is Mode.WRITE and self.dialect.is_postgres and durability is Durability.LATER_COMMIT:
                    connection.execute("SET LOCAL synchronous_commit TO OFF")  # this transaction only
                result = work(tx)
                connection.execute("COMMIT")
            except BaseException:
                _rollback(connection)
                raise
            return result
        finally:
            if writer is not None:
                writer.release()


def _translated(call: Callable[[], T]) -> T:
    """Run `call`, turning the driver errors that mean "try again later" into Unavailable."""
    try:
        return call()
    except Exception as error:
        translated = _translate(error)
        if translated is None:
            raise
        raise translated from error


def _rollback(connection: Any) -> None:
    with contextlib.suppress(Exception):  # nothing to roll back, or the connection is broken (and is dropped)
        connection.execute("ROLLBACK")

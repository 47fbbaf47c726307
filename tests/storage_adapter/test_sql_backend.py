"""What the contract suite cannot see of the sql backend, on SQLite and on a real PostgreSQL server: state that
survives a restart, migrations applied once, no blob left by a failed upload, garbage collection, bounded
memory, and several backends ("replicas") on one database racing each other.

Each test runs its own event loop (`asyncio.run`); PostgreSQL is a throwaway cluster shared by the session
(`tests/infra/postgres.py`), with a fresh database per test.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import sqlite3
import threading
import tracemalloc
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from storage_adapter import access
from storage_adapter.access import AccessPolicy, Grantee, GranteeKind, Role, UnownedAccess
from storage_adapter.backends.base import utc_now
from storage_adapter.backends.content_store import StoredBlob
from storage_adapter.backends.sql import DatabaseContentStore, SqlBackend, metadata, migrations
from storage_adapter.backends.sql.database import Database, Durability, Mode, RowLock, Tx, parse_url
from storage_adapter.backends.sql.guard import Guard
from storage_adapter.backends.sql.migrations import MIGRATIONS
from storage_adapter.errors import LockConflict, NameConflict, NotFound, PermissionDenied, Unsupported
from storage_adapter.types import (
    NO_PRECONDITIONS,
    UNRESTRICTED_FILE,
    ContainerId,
    ContainerMeta,
    FileId,
    FileMeta,
    LockId,
    Permissions,
    Preconditions,
    Principal,
)
from tests.infra import postgres

T = TypeVar("T")
MIB = 1024 * 1024
ROUNDS = 5
ALICE = Principal("alice", "Alice")
BOB = Principal("bob", "Bob")
OPEN = Guard(Principal(), access.DEFAULT_POLICY, enforcing=False)  # the guard of a backend without access control


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'storage.db'}"
    server: postgres.PostgresServer = request.getfixturevalue("postgres_server")
    return server.fresh_database()


def run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(main())


@asynccontextmanager
async def started(url: str, **options: Any) -> AsyncIterator[SqlBackend]:
    backend = SqlBackend(url, **options)
    await backend.start()
    try:
        yield backend
    finally:
        await backend.close()


async def query(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows read through a connection of the test's own, not the backend's."""
    database = Database(url, pool_size=1)
    try:
        return await database.run(lambda tx: tx.all(sql, params), Mode.AUTOCOMMIT)
    finally:
        await database.close()


async def chunks_of(data: bytes, size: int = 256 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def read_all(backend: SqlBackend, file_id: FileId, version: str | None = None) -> bytes:
    reader = await backend.open_file(file_id, 0, 0, version)  # type: ignore[arg-type]
    return b"".join([chunk async for chunk in reader.chunks])


async def new_file(backend: SqlBackend, name: str, data: bytes, container: ContainerId | None = None) -> FileMeta:
    parent = container or (await backend.root_container()).container_id
    return await backend.create_file(parent, name, chunks_of(data), ALICE)


def lock_held(lock_id: str) -> Preconditions:
    return Preconditions(lock_id=lock_id)


# ---------------------------------------------------------------------------------------------------------


def test_database_urls_are_checked() -> None:
    assert parse_url("sqlite:////abs/file.db")[1] == "/abs/file.db"
    assert parse_url("sqlite:///rel/file.db")[1] == "rel/file.db"
    assert parse_url("postgres://u:p@h:1/d")[1] == "postgresql://u:p@h:1/d"
    for bad in ("sqlite:///:memory:", "sqlite://", "mysql://h/d", "file.db"):
        with pytest.raises(ValueError):
            parse_url(bad)


def test_restart_keeps_everything(database_url: str) -> None:
    async def main() -> None:
        async with started(database_url) as backend:
            root = await backend.root_container()
            folder = await backend.create_container(root.container_id, "Reports", BOB)
            first = await new_file(backend, "plan.docx", b"first", folder.container_id)
            second = await backend.write_file(first.file_id, NO_PRECONDITIONS, chunks_of(b"second"), BOB)
            locked = await backend.lock(first.file_id, LockId("lock-1"), timedelta(hours=1), BOB)
            await backend.set_user_info("alice", "dark mode")
        async with started(database_url) as backend:
            assert await backend.root_container() == root
            assert await backend.get_container(folder.container_id) == folder
            assert await backend.stat_file(first.file_id) == locked
            assert locked.version == second.version and locked.sha256 == hashlib.sha256(b"second").digest()
            assert await backend.lookup_child(folder.container_id, "plan.docx") == locked
            assert await read_all(backend, first.file_id) == b"second"
            [old] = await backend.list_versions(first.file_id)
            assert (old.version, old.size, old.modified_by) == (first.version, 5, ALICE)
            assert await read_all(backend, first.file_id, first.version) == b"first"
            assert await backend.get_user_info("alice") == "dark mode"
            assert [item async for item in backend.list_children(root.container_id, frozenset())] == [folder]

    run(main)


def test_each_write_commits_with_the_durability_it_asks_for(database_url: str) -> None:
    """A save's commit waits for the disk; a lock change survives any process crash without an fsync (SQLite
    synchronous NORMAL); the chunks of a blob wait for nothing, since the save's commit that follows carries
    them to disk. Each transaction states its level, so none leaks into the next one on a pooled connection."""
    is_postgres = database_url.startswith("postgresql")
    probe = "SHOW synchronous_commit" if is_postgres else "PRAGMA synchronous"

    async def main() -> None:
        database = Database(database_url, pool_size=1)  # one connection: every transaction below shares it
        try:
            if is_postgres:  # the server's own setting stays, but for blob chunks (the test server's is off)
                server = await database.run(lambda tx: tx.one(probe), Mode.AUTOCOMMIT)
                assert server is not None
                expected = {Durability.POWER_LOSS: server[0], Durability.PROCESS_CRASH: server[0]}
                expected[Durability.LATER_COMMIT] = "off"
            else:
                expected = {Durability.POWER_LOSS: "2", Durability.PROCESS_CRASH: "1", Durability.LATER_COMMIT: "1"}
            for durability in (Durability.LATER_COMMIT, Durability.POWER_LOSS, Durability.PROCESS_CRASH) * 2:
                row = await database.run(lambda tx: tx.one(probe), durability=durability)
                assert row is not None and str(row[0]) == expected[durability], durability
        finally:
            await database.close()

        async with started(database_url) as backend:
            asked: list[Durability] = []
            real_run = backend._database.run

            async def recording(work: Callable[[Tx], T], mode: Mode = Mode.WRITE, durability: Any = None) -> T:
                if mode is Mode.WRITE:
                    asked.append(durability or Durability.POWER_LOSS)
                return await real_run(work, mode, durability or Durability.POWER_LOSS)

            backend._database.run = recording  # type: ignore[method-assign]
            file = await new_file(backend, "saved.docx", b"first")
            assert asked[-1] is Durability.POWER_LOSS and set(asked[:-1]) == {Durability.LATER_COMMIT}
            asked.clear()
            await backend.lock(file.file_id, LockId("lock-1"), timedelta(hours=1), BOB)
            assert asked == [Durability.PROCESS_CRASH]
            asked.clear()
            contents = os.urandom(3 * MIB + 1)  # whole rows and a partial one
            await backend.write_file(file.file_id, lock_held("lock-1"), chunks_of(contents, MIB), BOB)
            assert asked[-1] is Durability.POWER_LOSS and set(asked[:-1]) == {Durability.LATER_COMMIT}
            assert await read_all(backend, file.file_id) == contents

    run(main)


def test_migrations_are_applied_once_by_concurrent_starts(database_url: str) -> None:
    async def main() -> None:
        one, two = SqlBackend(database_url), SqlBackend(database_url)
        await asyncio.gather(one.start(), two.start())
        try:
            assert await one.root_container() == await two.root_container()
            created = await new_file(one, "both.txt", b"seen by both")
            assert await two.stat_file(created.file_id) == created
        finally:
            await asyncio.gather(one.close(), two.close())
        async with started(database_url):  # a later start finds nothing to do
            pass
        rows = await query(database_url, "SELECT version, description, applied_at FROM schema_migrations")
        assert sorted(row[0] for row in rows) == [migration.version for migration in MIGRATIONS]
        assert all(row[1] and datetime.fromisoformat(row[2]).tzinfo is not None for row in rows)
        assert await query(database_url, "SELECT count(*) FROM items WHERE parent_id IS NULL") == [(1,)]

        # A database migrated by a newer release is refused, not half-understood.
        newer = "INSERT INTO schema_migrations (version, description, applied_at) VALUES (999, 'future', 'x')"
        database = Database(database_url)
        try:
            await database.run(lambda tx: tx.execute(newer))
        finally:
            await database.close()
        with pytest.raises(RuntimeError, match="999"):
            await SqlBackend(database_url).start()

    run(main)


def test_a_start_waits_for_another_connection_converting_a_fresh_sqlite_database(tmp_path: Path) -> None:
    """The race of two services starting at once on a new SQLite file, made certain: one holds the write lock
    of the file, still in rollback-journal mode, while converting it to WAL, and the other asks for WAL too.
    SQLite answers that at once ("database is locked"), without its busy timeout: the start must wait instead."""
    path = tmp_path / "storage.db"
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the write lock, as the other service's conversion to WAL holds it
    met_the_writer = threading.Event()

    class Retries(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            met_the_writer.set()

    sqlite_log = logging.getLogger("storage_adapter.sqlite")
    handler, level = Retries(logging.DEBUG), sqlite_log.level
    sqlite_log.addHandler(handler)
    sqlite_log.setLevel(logging.DEBUG)

    async def main() -> None:
        backend = SqlBackend(f"sqlite:///{path}")
        starting = asyncio.ensure_future(backend.start())
        waiting = asyncio.ensure_future(asyncio.to_thread(met_the_writer.wait, 60))
        await asyncio.wait([starting, waiting], return_when=asyncio.FIRST_COMPLETED)  # failed, or waits for it
        other.execute("COMMIT")  # the other service's conversion is done
        met_the_writer.set()  # (if the start failed already, the waiting thread is let go at once)
        await waiting
        await starting
        try:
            root = await backend.root_container()
            assert await backend.get_container(root.container_id) == root
        finally:
            await backend.close()

    try:
        run(main)
    finally:
        sqlite_log.removeHandler(handler)
        sqlite_log.setLevel(level)
        other.close()
    assert journal_mode(path) == "wal"


def journal_mode(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        return str(connection.execute("PRAGMA journal_mode").fetchone()[0])
    finally:
        connection.close()


class CountingTx:
    """A transaction that counts the statements run through it."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx
        self.dialect = tx.dialect
        self.statements = 0

    def one(self, sql: str, params: Any = (), **options: Any) -> tuple[Any, ...] | None:
        self.statements += 1
        return self._tx.one(sql, params, **options)

    def all(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        self.statements += 1
        return self._tx.all(sql, params)

    def lock(self, strength: RowLock) -> str:
        return self._tx.lock(strength)


def test_ancestors_are_one_query_at_any_depth(database_url: str) -> None:
    """GetAncestors read the parents one query per level (a cost that grew with the depth); it is one recursive
    query at any depth, on both databases."""

    async def main() -> None:
        async with started(database_url) as backend:
            chain = [await backend.root_container()]
            for _ in range(20):
                chain.append(await backend.create_container(chain[-1].container_id, "level", ALICE))
            file = await new_file(backend, "deep.txt", b"x", chain[-1].container_id)
        database = Database(database_url, pool_size=1)

        def counted(item_id: str, is_file: bool) -> Callable[[Tx], tuple[list[ContainerMeta], int]]:
            def work(tx: Tx) -> tuple[list[ContainerMeta], int]:
                counting = CountingTx(tx)
                return metadata.ancestors(counting, item_id, is_file, OPEN), counting.statements  # type: ignore[arg-type]

            return work

        try:
            for depth in (1, 20):
                found = await database.run(counted(chain[depth].container_id, False), Mode.SNAPSHOT)
                assert found == (chain[:depth], 1)
            assert await database.run(counted(file.file_id, True), Mode.SNAPSHOT) == (chain, 1)
            assert await database.run(counted(chain[0].container_id, False), Mode.SNAPSHOT) == ([], 1)
            with pytest.raises(NotFound):
                await database.run(counted(file.file_id, False), Mode.SNAPSHOT)
        finally:
            await database.close()

    run(main)


def test_failed_uploads_leave_no_blob_behind(database_url: str) -> None:
    async def broken(data: bytes) -> AsyncIterator[bytes]:
        async for chunk in chunks_of(data):
            yield chunk
        raise ConnectionResetError("the caller went away")

    async def main() -> None:
        async with started(database_url) as backend:
            file = await new_file(backend, "kept.bin", b"original")
            blobs_before = await query(database_url, "SELECT blob_id FROM blobs ORDER BY blob_id")
            with pytest.raises(ConnectionResetError):
                await backend.write_file(file.file_id, NO_PRECONDITIONS, broken(os.urandom(3 * MIB)), BOB)
            with pytest.raises(ConnectionResetError):
                await backend.create_file(file.parent_id, "new.bin", broken(os.urandom(2 * MIB + 7)), BOB)

            # A lock taken while the upload streams: the upload is refused at commit, its blob deleted.
            async def lock_midway() -> AsyncIterator[bytes]:
                yield b"x" * MIB
                await backend.lock(file.file_id, LockId("late"), timedelta(minutes=5), ALICE)
                yield b"y" * MIB

            with pytest.raises(LockConflict):
                await backend.write_file(file.file_id, NO_PRECONDITIONS, lock_midway(), BOB)

            # A request cancelled mid-upload (the caller hung up).
            first_chunk_stored = asyncio.Event()

            async def stalls() -> AsyncIterator[bytes]:
                yield b"z" * MIB
                yield b"z" * MIB  # the first chunk row is written once this one arrives
                first_chunk_stored.set()
                await asyncio.Event().wait()
                yield b"never"

            upload = asyncio.create_task(backend.create_file(file.parent_id, "cancelled.bin", stalls(), BOB))
            await first_chunk_stored.wait()
            upload.cancel()
            with pytest.raises(asyncio.CancelledError):
                await upload
            assert await query(database_url, "SELECT blob_id FROM blobs ORDER BY blob_id") == blobs_before
            assert await query(database_url, "SELECT count(*) FROM blob_chunks") == [(1,)]
            assert await read_all(backend, file.file_id) == b"original"
            assert (await backend.stat_file(file.file_id)).version == file.version
            with pytest.raises(NotFound):
                await backend.lookup_child(file.parent_id, "new.bin")
            with pytest.raises(NotFound):
                await backend.lookup_child(file.parent_id, "cancelled.bin")

    run(main)


def test_garbage_collection_removes_old_unreferenced_blobs_only(database_url: str) -> None:
    now = [datetime(2030, 1, 1, tzinfo=UTC)]

    def clock() -> datetime:
        return now[0]

    async def main() -> None:
        async with started(database_url, clock=clock, max_versions_kept=2) as backend:
            file = await new_file(backend, "doc.txt", b"v1")
            for data in (b"v2", b"v3", b"v4"):  # v1 falls out of the history and its blob is deleted
                await backend.write_file(file.file_id, NO_PRECONDITIONS, chunks_of(data), ALICE)
            database = Database(database_url)
            try:  # an upload that was never committed (its adapter crashed, say)
                orphan: StoredBlob = await DatabaseContentStore(database, clock=clock).put(chunks_of(b"orphan"))
            finally:
                await database.close()
            assert await backend.collect_garbage() == 0  # younger than the grace period
            now[0] += timedelta(hours=2)
            assert await backend.collect_garbage() == 1
            remaining = {blob_id for (blob_id,) in await query(database_url, "SELECT blob_id FROM blobs")}
            assert orphan.blob_id not in remaining and len(remaining) == 3  # the current version and two earlier
            assert await read_all(backend, file.file_id) == b"v4"
            assert [
                await read_all(backend, file.file_id, v.version) for v in await backend.list_versions(file.file_id)
            ] == [
                b"v3",
                b"v2",
            ]
            await backend.delete_file(file.file_id, NO_PRECONDITIONS)
            assert await query(database_url, "SELECT count(*) FROM blobs") == [(0,)]
            assert await query(database_url, "SELECT count(*) FROM blob_chunks") == [(0,)]

    run(main)


def test_a_read_keeps_its_snapshot_when_the_file_is_deleted(database_url: str) -> None:
    async def main() -> None:
        async with started(database_url) as backend:
            data = os.urandom(3 * MIB + 5)
            file = await new_file(backend, "going.bin", data)
            reader = await backend.open_file(file.file_id, 0, 0, None)
            first = await anext(reader.chunks)
            await backend.delete_file(file.file_id, NO_PRECONDITIONS)
            rest = b"".join([chunk async for chunk in reader.chunks])
            assert first + rest == data
            assert await query(database_url, "SELECT count(*) FROM blobs") == [(0,)]

    run(main)


def test_a_64_mib_write_and_read_stay_in_bounded_memory(database_url: str) -> None:
    size = 64 * MIB

    async def source() -> AsyncIterator[bytes]:
        for index in range(size // MIB):
            yield index.to_bytes(4, "big") * (MIB // 4)

    async def main() -> None:
        async with started(database_url) as backend:
            tracemalloc.start()
            try:
                file = await new_file(backend, "big.bin", b"")
                written = await backend.write_file(file.file_id, NO_PRECONDITIONS, source(), ALICE)
                digest, total = hashlib.sha256(), 0
                reader = await backend.open_file(file.file_id, 0, 0, None)
                async for chunk in reader.chunks:
                    digest.update(chunk)
                    total += len(chunk)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert total == written.size == size
            assert digest.digest() == written.sha256
            assert peak < 16 * MIB, f"peak traced memory {peak / MIB:.1f} MiB"

    run(main)


def test_two_replicas_on_one_database_race_correctly(database_url: str) -> None:
    racers = 16

    async def main() -> None:
        async with started(database_url) as one, started(database_url) as two:
            replicas = (one, two)
            root = (await one.root_container()).container_id
            # Open every pooled connection first, so that the racers start together rather than as they connect.
            await asyncio.gather(*(replica.get_container(root) for replica in replicas for _ in range(racers)))

            for round_ in range(ROUNDS):
                # 16 Locks with different ids, split across both replicas: exactly one wins.
                file = await new_file(one, f"contended-{round_}.docx", b"x")
                outcomes = await asyncio.gather(
                    *(
                        replicas[index % 2].lock(file.file_id, LockId(f"lock-{index}"), timedelta(minutes=30), ALICE)
                        for index in range(racers)
                    ),
                    return_exceptions=True,
                )
                winners = [outcome for outcome in outcomes if isinstance(outcome, FileMeta)]
                assert len(winners) == 1, outcomes
                winner = winners[0].lock
                assert winner is not None
                conflicts = [outcome for outcome in outcomes if not isinstance(outcome, FileMeta)]
                assert all(isinstance(error, LockConflict) and error.current == winner for error in conflicts)
                assert (await two.stat_file(file.file_id)).lock == winner

                # 16 creates of one name: exactly one wins, the others are told which item has the name.
                created = await asyncio.gather(
                    *(
                        replicas[index % 2].create_file(root, f"race-{round_}.txt", chunks_of(b"%d" % index), BOB)
                        for index in range(racers)
                    ),
                    return_exceptions=True,
                )
                made = [outcome for outcome in created if isinstance(outcome, FileMeta)]
                assert len(made) == 1, created
                refused = [outcome for outcome in created if not isinstance(outcome, FileMeta)]
                assert all(isinstance(error, NameConflict) and error.existing == made[0] for error in refused)

                # A write through one replica is visible through the other at once.
                data = b"round %d" % round_
                written = await one.write_file(file.file_id, lock_held(winner.lock_id), chunks_of(data), BOB)
                assert await two.stat_file(file.file_id) == written
                assert await read_all(two, file.file_id) == data

            # Every loser's blob is gone: one blob per file and one per earlier version.
            files = await query(database_url, "SELECT count(*) FROM items WHERE is_file = 1")
            versions = await query(database_url, "SELECT count(*) FROM versions")
            assert await query(database_url, "SELECT count(*) FROM blobs") == [(files[0][0] + versions[0][0],)]

    run(main)


# ---- access control (issue 9): grants in the database, facts read in the transaction they guard ----


def as_user(principal: Principal) -> None:
    """The principal of the calls that follow in this task, as the interceptor binds it for an RPC."""
    access.bind_principal(principal)


def test_existing_data_upgrades_to_access_control_and_stays_everyones(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database made before access control (schema 1, no grants) gets the grants table by migration 2 at the
    next start, and its items no owner: they follow the unowned-access setting (by default every identified user
    edits them, as before the upgrade), while what is created after it is its creator's."""

    async def main() -> None:
        with monkeypatch.context() as before_access_control:
            # Schema 1, and what today's code needs to run on it at all: the audit trail that every change records
            # (migration 5: its table, and the lock column it reads).
            audit_trail = next(migration for migration in MIGRATIONS if migration.version == 5)
            before_access_control.setattr(migrations, "MIGRATIONS", (*MIGRATIONS[:1], audit_trail))
            async with started(database_url) as old:
                root = (await old.root_container()).container_id
                folder = await old.create_container(root, "alice's", ALICE)
                made = await old.create_file(folder.container_id, "made.txt", chunks_of(b"alice's"), ALICE)
        async with started(database_url, access_control=True) as upgraded:
            applied = await query(database_url, "SELECT version FROM schema_migrations ORDER BY version")
            assert applied == [(migration.version,) for migration in MIGRATIONS]
            assert upgraded.capabilities.access_control
            as_user(BOB)
            seen = await upgraded.stat_file(made.file_id)
            assert seen.owner == Principal() and seen.permissions.write and not seen.permissions.manage_sharing
            await upgraded.write_file(made.file_id, NO_PRECONDITIONS, chunks_of(b"bob's"), BOB)
            assert await read_all(upgraded, made.file_id) == b"bob's"
            as_user(ALICE)
            new = await upgraded.create_file(folder.container_id, "new.txt", chunks_of(b"after"), ALICE)
            assert new.owner.user_id == "alice"
            as_user(BOB)
            with pytest.raises(NotFound):
                await upgraded.stat_file(new.file_id)
        policy = AccessPolicy(unowned=UnownedAccess.VIEWER)
        async with started(database_url, access_control=True, policy=policy) as viewers:
            as_user(BOB)
            assert (await viewers.stat_file(made.file_id)).permissions == Permissions(read=True)
            with pytest.raises(PermissionDenied):
                await viewers.write_file(made.file_id, NO_PRECONDITIONS, chunks_of(b"bob again"), BOB)
            assert await read_all(viewers, made.file_id) == b"bob's"

    run(main)


def test_grants_are_durable_and_go_with_their_item(database_url: str) -> None:
    """A grant survives a restart (it is a row, not process memory); deleting the item deletes its grants."""
    viewer = Grantee(GranteeKind.USER, BOB.user_id)

    async def main() -> None:
        async with started(database_url, access_control=True) as backend:
            as_user(ALICE)
            root = (await backend.root_container()).container_id
            file = await backend.create_file(root, "shared.txt", chunks_of(b"x"), ALICE)
            await backend.grant_access(file.file_id, True, viewer, Role.VIEWER, ALICE)
        async with started(database_url, access_control=True) as restarted:
            as_user(BOB)
            assert (await restarted.stat_file(file.file_id)).permissions == Permissions(read=True)
            as_user(ALICE)
            assert [grant.grantee for grant in await restarted.list_grants(file.file_id, True)] == [viewer]
            await restarted.delete_file(file.file_id, NO_PRECONDITIONS)
        assert await query(database_url, "SELECT count(*) FROM grants") == [(0,)]

    run(main)


def test_a_checked_stat_is_one_query_at_any_depth(database_url: str) -> None:
    """With access control, StatFile reads the file, every container above it and every grant on them in one
    recursive query, whatever the depth: the check costs no round trip per level."""

    async def main() -> None:
        async with started(database_url, access_control=True) as backend:
            as_user(ALICE)
            parent = (await backend.root_container()).container_id
            files = []
            for depth in range(20):
                parent = (await backend.create_container(parent, "level", ALICE)).container_id
                await backend.grant_access(parent, False, Grantee(GranteeKind.GROUP, f"g{depth}"), Role.VIEWER, ALICE)
                files.append(await new_file(backend, "deep.txt", b"x", parent))
        database = Database(database_url, pool_size=1)
        guard = Guard(Principal("carol", groups=frozenset({"g0"})), access.DEFAULT_POLICY, enforcing=True)

        def counted(file_id: FileId) -> Callable[[Tx], tuple[FileMeta, int]]:
            def work(tx: Tx) -> tuple[FileMeta, int]:
                counting = CountingTx(tx)
                return metadata.stat_file(counting, file_id, utc_now(), guard), counting.statements  # type: ignore[arg-type]

            return work

        try:
            for file in (files[0], files[-1]):
                seen, statements = await database.run(counted(file.file_id), Mode.AUTOCOMMIT)
                assert (seen.file_id, seen.permissions, statements) == (file.file_id, Permissions(read=True), 1)
        finally:
            await database.close()

    run(main)


def test_without_access_control_everything_is_allowed_as_before(database_url: str) -> None:
    """The setting off (the default): no capability, no principal needed, every permission reported, and the
    sharing calls are Unsupported."""

    async def main() -> None:
        async with started(database_url) as backend:
            assert not backend.capabilities.access_control
            as_user(Principal())
            file = await new_file(backend, "open.txt", b"x")
            assert (await backend.stat_file(file.file_id)).permissions == UNRESTRICTED_FILE
            with pytest.raises(Unsupported):
                await backend.list_grants(file.file_id, True)
            with pytest.raises(Unsupported):
                await backend.grant_access(file.file_id, True, Grantee(GranteeKind.USER, "bob"), Role.VIEWER, ALICE)

    run(main)

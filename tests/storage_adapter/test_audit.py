"""What the contract suite cannot see of the audit trail and lock administration: a trail keeps its most recent
`MAX_PER_ITEM` events; events survive a restart and go with their item (its rows deleted, the deletion kept by the
container); a lock left by a crashed editor expires on its own and then shows nowhere, proven with an injected
clock on every backend; the catalogue made before the audit trail upgrades; and the pure rules of `audit.py`,
`locked_files.py` and the servicer (bounds, page tokens, which lock transitions are recorded, UNIMPLEMENTED without
the capabilities, administrators only).

Each backend test runs its own event loop (`asyncio.run`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest

from storage_adapter import access, activities, audit, locked_files, locks
from storage_adapter.access import AccessPolicy
from storage_adapter.audit import AuditAction
from storage_adapter.backends.base import StorageBackend
from storage_adapter.backends.filesystem import FilesystemBackend
from storage_adapter.backends.memory import CAPABILITIES, MemoryBackend
from storage_adapter.backends.sql import SqlBackend
from storage_adapter.backends.sql.database import Database, Mode
from storage_adapter.errors import InvalidArgument, PermissionDenied, Unsupported
from storage_adapter.servicer import StorageServicer
from storage_adapter.types import NO_PRECONDITIONS, FileId, FileMeta, LockId, LockState, Principal
from tests.infra import postgres
from wopi_proto.storage_v1 import storage_pb2 as pb

T = TypeVar("T")
ALICE = Principal("alice", "Alice")
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
HALF_AN_HOUR = timedelta(minutes=30)


class Clock:
    """A clock the test moves: expiry without sleeping."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["memory", "filesystem", "sql-sqlite"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["filesystem", "sql-sqlite", "sql-postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a durable backend keeps its state: a filesystem root, or a database URL."""
    if request.param == "filesystem":
        return str(tmp_path / "root")
    if request.param == "sql-sqlite":
        return f"sqlite:///{tmp_path / 'storage.db'}"
    server: postgres.PostgresServer = request.getfixturevalue("postgres_server")
    return server.fresh_database()


def backend_on(store: str, clock: Callable[[], datetime] | None = None) -> StorageBackend:
    options = {} if clock is None else {"clock": clock}
    if store == "memory":
        return MemoryBackend(**options)  # type: ignore[arg-type]
    if store.startswith(("sqlite:", "postgresql:")):
        return SqlBackend(store, **options)  # type: ignore[arg-type]
    return FilesystemBackend(Path(store), **options)  # type: ignore[arg-type]


def store_of(kind: str, tmp_path: Path) -> str:
    return {"memory": "memory", "filesystem": str(tmp_path / "root")}.get(kind, f"sqlite:///{tmp_path / 'db.sqlite'}")


def run(store: str, test: Callable[[StorageBackend], Awaitable[T]], clock: Callable[[], datetime] | None = None) -> T:
    """Start a backend on `store`, run `test` with it as alice, and close it whatever happens."""

    async def main() -> T:
        backend = backend_on(store, clock)
        await backend.start()
        access.bind_principal(ALICE)
        try:
            return await test(backend)
        finally:
            await backend.close()

    return asyncio.run(main())


async def chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def new_file(backend: StorageBackend, name: str, container_id: str | None = None) -> FileMeta:
    parent = container_id or (await backend.root_container()).container_id
    return await backend.create_file(parent, name, chunks(b"document"), ALICE)  # type: ignore[arg-type]


async def whole_trail(backend: StorageBackend, item_id: str, is_file: bool = True) -> list[audit.AuditEvent]:
    events: list[audit.AuditEvent] = []
    before = None
    while True:
        page = await backend.list_audit_events(item_id, is_file, audit.MAX_PAGE_SIZE, before)  # type: ignore[arg-type]
        events += page.events
        if page.last is None:
            return events
        before = page.last


def trail_rows(store: str, trail_id: str) -> int:
    """How many rows of the audit table belong to a trail, read beside the backend."""
    if not store.startswith(("sqlite:", "postgresql:")):
        with sqlite3.connect(Path(store) / ".wopi-storage" / "catalogue.sqlite3") as db:
            count = int(db.execute("SELECT count(*) FROM audit_events WHERE trail_id = ?", (trail_id,)).fetchone()[0])
        db.close()
        return count

    async def count() -> int:
        database = Database(store, pool_size=1)
        try:
            sql = "SELECT count(*) FROM audit_events WHERE trail_id = ?"
            return int(await database.run(lambda tx: (tx.one(sql, (trail_id,)) or (0,))[0], Mode.AUTOCOMMIT))
        finally:
            await database.close()

    return asyncio.run(count())


# ---- on the backends ----


def test_a_trail_keeps_only_its_most_recent_events(kind: str, tmp_path: Path) -> None:
    """One event past MAX_PER_ITEM drops the oldest (the file's creation), in the same step; the trail's rows are
    never more than the bound."""
    store = store_of(kind, tmp_path)

    async def main(backend: StorageBackend) -> tuple[FileId, list[audit.AuditEvent]]:
        file = await new_file(backend, "busy.docx")
        for _ in range(audit.MAX_PER_ITEM // 2):  # 1,000 events and the creation: one too many
            await backend.lock(file.file_id, LockId("editor"), HALF_AN_HOUR, ALICE)
            await backend.unlock(file.file_id, LockId("editor"))
        return file.file_id, await whole_trail(backend, file.file_id)

    file_id, events = run(store, main)
    assert len(events) == audit.MAX_PER_ITEM
    assert [event.action for event in events[:2]] == [AuditAction.UNLOCKED, AuditAction.LOCKED]
    assert AuditAction.CREATED not in {event.action for event in events}
    if kind != "memory":
        assert trail_rows(store, file_id) == audit.MAX_PER_ITEM


def test_events_survive_a_restart_and_go_with_their_item(store: str) -> None:
    """The events are rows: a restart keeps them. Deleting a file deletes its trail's rows and records the deletion
    in the folder's trail; deleting the folder does the same one level up."""

    async def before(backend: StorageBackend) -> tuple[str, str, str]:
        root = (await backend.root_container()).container_id
        folder = await backend.create_container(root, "Reports", ALICE)
        file = await new_file(backend, "q1.docx", folder.container_id)
        await backend.write_file(file.file_id, NO_PRECONDITIONS, chunks(b"v2"), ALICE)
        return root, folder.container_id, file.file_id

    root, folder, file = run(store, before)

    async def after(backend: StorageBackend) -> None:
        assert [event.action for event in await whole_trail(backend, file)] == [
            AuditAction.WRITTEN,
            AuditAction.CREATED,
        ]
        await backend.delete_file(FileId(file), NO_PRECONDITIONS)
        [deleted, created] = await whole_trail(backend, folder, is_file=False)
        assert (deleted.action, deleted.item_id, deleted.name, deleted.on_file) == (
            AuditAction.DELETED,
            file,
            "q1.docx",
            True,
        )
        assert created.action is AuditAction.CREATED
        await backend.delete_container(folder)  # type: ignore[arg-type]
        newest = (await backend.list_audit_events(root, False, 1, None)).events  # type: ignore[arg-type]
        assert [(event.action, event.item_id, event.on_file) for event in newest] == [
            (AuditAction.DELETED, folder, False)
        ]

    run(store, after)
    assert trail_rows(store, file) == 0 and trail_rows(store, folder) == 0


def test_a_lock_left_by_a_crashed_editor_expires_and_then_shows_nowhere(kind: str, tmp_path: Path) -> None:
    """The editor locks and never comes back. While the lock lives, StatFile, the folder's page and ListLockedFiles
    show it (with when it was taken); a moment past its expiry none of them does, nothing is recorded for the
    expiry (it is not a change), and the next editor's lock is a new one, taken then."""
    clock = Clock()
    store = store_of(kind, tmp_path)

    async def main(backend: StorageBackend) -> None:
        root = (await backend.root_container()).container_id
        file = await new_file(backend, "abandoned.docx")
        await backend.lock(file.file_id, LockId("crashed-editor"), HALF_AN_HOUR, ALICE)
        assert (await backend.stat_file(file.file_id)).lock == LockState(
            LockId("crashed-editor"), T0 + HALF_AN_HOUR, ALICE, T0
        )
        [listed] = (await backend.list_locked_files(100, None)).files
        assert listed.file_id == file.file_id and listed.lock is not None and listed.lock.locked_at == T0

        clock.now = T0 + HALF_AN_HOUR  # the expiry itself: from `expires_time` on, the lock is no lock
        assert (await backend.stat_file(file.file_id)).lock is None
        assert await backend.get_lock(file.file_id) is None
        [child] = (await backend.list_children_page(root, frozenset(), 100, "")).items  # type: ignore[arg-type]
        assert isinstance(child, FileMeta) and child.lock is None
        assert (await backend.list_locked_files(100, None)).files == []
        actions = [event.action for event in await whole_trail(backend, file.file_id)]
        assert actions == [AuditAction.LOCKED, AuditAction.CREATED]

        clock.now += timedelta(minutes=5)
        relocked = await backend.lock(file.file_id, LockId("next-editor"), HALF_AN_HOUR, ALICE)
        assert relocked.lock is not None and relocked.lock.locked_at == clock.now
        newest, *_ = await whole_trail(backend, file.file_id)
        assert newest.action is AuditAction.LOCKED

    run(store, main, clock)


def test_locked_files_are_read_by_expiry_past_the_expired_ones(kind: str, tmp_path: Path) -> None:
    """Pages of one, soonest expiry first; the expired lock stored in its row is never listed (nor reached)."""
    clock = Clock()
    store = store_of(kind, tmp_path)

    async def main(backend: StorageBackend) -> list[list[str]]:
        names = {}
        for minutes, name in ((5, "expires-first.docx"), (40, "last.docx"), (20, "middle.docx"), (1, "expired.docx")):
            file = await new_file(backend, name)
            names[file.file_id] = name
            await backend.lock(file.file_id, LockId(name), timedelta(minutes=minutes), ALICE)
        clock.now = T0 + timedelta(minutes=2)
        pages, after = [], None
        while True:
            page = await backend.list_locked_files(1, after)
            pages.append([names[meta.file_id] for meta in page.files])
            if page.after is None:
                return pages
            after = page.after

    assert run(store, main, clock) == [["expires-first.docx"], ["middle.docx"], ["last.docx"]]


def test_a_catalogue_from_before_the_audit_trail_upgrades(tmp_path: Path) -> None:
    """A filesystem catalogue of schema 4 (no audit table, no lock times) gets both at the next start: its lock is
    listed with no time known, and changes are recorded from then on."""
    clock = Clock()

    async def before(backend: StorageBackend) -> FileId:
        file = await new_file(backend, "old.docx")
        await backend.lock(file.file_id, LockId("old-lock"), HALF_AN_HOUR, ALICE)
        return file.file_id

    file_id = run(str(tmp_path), before, clock)
    db = sqlite3.connect(tmp_path / ".wopi-storage" / "catalogue.sqlite3", isolation_level=None)
    db.executescript(
        "DROP INDEX nodes_locks; DROP TABLE audit_events; ALTER TABLE nodes DROP COLUMN lock_since_us;"
        " PRAGMA user_version = 4;"
    )
    db.close()

    async def upgraded(backend: StorageBackend) -> None:
        [listed] = (await backend.list_locked_files(10, None)).files
        assert listed.lock is not None and listed.lock.locked_at is None  # taken before its time was kept
        assert await whole_trail(backend, file_id) == []
        await backend.unlock(file_id, LockId("old-lock"))
        assert [event.action for event in await whole_trail(backend, file_id)] == [AuditAction.UNLOCKED]

    run(str(tmp_path), upgraded, clock)


# ---- the rules, in one place ----


def test_only_lock_changes_are_recorded_never_refreshes() -> None:
    held = LockState(LockId("a"), T0 + HALF_AN_HOUR, ALICE, T0)
    later = T0 + timedelta(minutes=10)
    refreshed = locks.refresh(LockId("a"), HALF_AN_HOUR)(held, later)
    assert refreshed is not None and refreshed.locked_at == T0  # a refresh keeps when it was taken
    assert audit.lock_changed(FileId("f"), held, refreshed, later) is None
    same = locks.unlock_and_relock(LockId("a"), LockId("a"), HALF_AN_HOUR, ALICE)(held, later)
    assert audit.lock_changed(FileId("f"), held, same, later) is None
    other = locks.unlock_and_relock(LockId("a"), LockId("b"), HALF_AN_HOUR, ALICE)(held, later)
    relocked = audit.lock_changed(FileId("f"), held, other, later)
    assert relocked is not None and relocked.action is AuditAction.RELOCKED and other is not None
    assert other.locked_at == later
    broken = audit.lock_changed(FileId("f"), held, None, later, breaking="crashed")
    assert broken is not None and (broken.action, broken.lock_holder, broken.reason) == (
        AuditAction.LOCK_BROKEN,
        ALICE,
        "crashed",
    )


@pytest.mark.parametrize("reason", ["", " \t ", "x" * 501, "two\nlines", "bell\x07", "c1\x85"])
def test_a_bad_reason_is_invalid_argument(reason: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        audit.reason(reason)
    assert refused.value.field == "reason"


def test_page_tokens_are_each_rpcs_own() -> None:
    """An audit token names its item and position; an activities token of the same file, another item's token and
    a ListLockedFiles token are refused, and the other way round."""
    token = audit.page_token("file-1", 41)
    assert audit.page_before(token, "file-1") == 41 and audit.page_before("", "file-1") is None
    for bad in (audit.page_token("file-2", 41), activities.page_token("file-1", 41), locked_files.page_token((1, "f"))):
        with pytest.raises(InvalidArgument):
            audit.page_before(bad, "file-1")
    with pytest.raises(InvalidArgument):
        activities.page_before(token, "file-1")
    assert locked_files.page_after(locked_files.page_token((123, "file-1"))) == (123, "file-1")
    for bad in (token, "x", locked_files.page_token((1, "f")) + "x"):
        with pytest.raises(InvalidArgument) as refused:
            locked_files.page_after(bad)
        assert refused.value.field == "page_token"


def test_without_the_capabilities_the_rpcs_are_unimplemented() -> None:
    caps = dataclasses.replace(CAPABILITIES, audit_trail=False, max_audit_events_per_item=0, lock_administration=False)
    servicer = StorageServicer(MemoryBackend(caps))

    async def main() -> None:
        access.bind_principal(ALICE)
        answer = await servicer.GetCapabilities(pb.GetCapabilitiesRequest(), None)  # type: ignore[arg-type]
        assert not answer.audit_trail and not answer.lock_administration and answer.max_audit_events_per_item == 0
        for rpc, request in (
            (servicer.ListAuditEvents, pb.ListAuditEventsRequest(file_id="f")),
            (servicer.ListLockedFiles, pb.ListLockedFilesRequest()),
            (servicer.BreakLock, pb.BreakLockRequest(file_id="f", reason="r")),
        ):
            with pytest.raises(Unsupported):
                await rpc(request, None)  # type: ignore[operator]

    asyncio.run(main())


def test_only_an_administrator_lists_locked_files() -> None:
    servicer = StorageServicer(MemoryBackend(policy=AccessPolicy(admins=frozenset({"operator"}))))

    async def main() -> None:
        access.bind_principal(ALICE)
        with pytest.raises(PermissionDenied) as denied:
            await servicer.ListLockedFiles(pb.ListLockedFilesRequest(), None)  # type: ignore[arg-type]
        assert denied.value.permission == access.ADMINISTRATOR
        access.bind_principal(Principal("operator"))
        answer = await servicer.ListLockedFiles(pb.ListLockedFilesRequest(), None)  # type: ignore[arg-type]
        assert list(answer.files) == [] and not answer.next_page_token

    asyncio.run(main())

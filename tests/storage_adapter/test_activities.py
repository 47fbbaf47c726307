"""What the contract suite cannot see of activities (AddActivities, ListActivities): on the backends that keep
them on disk, they survive a restart of the filesystem and sql backends (SQLite, PostgreSQL; the s3 backend keeps
them in the sql backend's tables), the schema migration that adds them runs on an existing store, and deleting a
file deletes their rows, through the host or, for the filesystem backend, by another program; the page tokens
of `activities.py`; and the servicer's UNIMPLEMENTED for a backend without the capability.

Each backend test runs its own event loop (`asyncio.run`) and starts a backend twice on one store.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from storage_adapter import access, activities
from storage_adapter.backends.base import StorageBackend
from storage_adapter.backends.filesystem import FilesystemBackend
from storage_adapter.backends.memory import CAPABILITIES, MemoryBackend
from storage_adapter.backends.sql import SqlBackend
from storage_adapter.backends.sql.database import Database, Mode
from storage_adapter.errors import InvalidArgument, NotFound, Unsupported
from storage_adapter.servicer import StorageServicer
from storage_adapter.types import (
    NO_PRECONDITIONS,
    Activity,
    ActivityPerson,
    CommentAction,
    CommentActivity,
    FileId,
    FileMeta,
    Principal,
)
from tests.infra import postgres
from wopi_proto.storage_v1 import storage_pb2 as pb

T = TypeVar("T")
ALICE = Principal("alice", "Alice")


@pytest.fixture(params=["filesystem", "sql-sqlite", "sql-postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a backend keeps its state: a filesystem root, or a database URL."""
    if request.param == "filesystem":
        return str(tmp_path / "root")
    if request.param == "sql-sqlite":
        return f"sqlite:///{tmp_path / 'storage.db'}"
    server: postgres.PostgresServer = request.getfixturevalue("postgres_server")
    return server.fresh_database()


def backend_on(store: str) -> StorageBackend:
    if store.startswith(("sqlite:", "postgresql:")):
        return SqlBackend(store)
    return FilesystemBackend(Path(store))


def run(store: str, test: Callable[[StorageBackend], Awaitable[T]]) -> T:
    """Start a backend on `store`, run `test` with it as alice, and close it whatever happens."""

    async def main() -> T:
        backend = backend_on(store)
        await backend.start()
        access.bind_principal(ALICE)
        try:
            return await test(backend)
        finally:
            await backend.close()

    return asyncio.run(main())


async def chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def new_file(backend: StorageBackend, name: str) -> FileMeta:
    root = (await backend.root_container()).container_id
    return await backend.create_file(root, name, chunks(b"document"), ALICE)


def rows_left(store: str) -> int:
    """How many rows the activities table holds, read beside the backend."""
    if not store.startswith(("sqlite:", "postgresql:")):
        with sqlite3.connect(Path(store) / ".wopi-storage" / "catalogue.sqlite3") as db:
            count = int(db.execute("SELECT count(*) FROM activities").fetchone()[0])
        db.close()
        return count

    async def count() -> int:
        database = Database(store, pool_size=1)
        try:
            return int(
                await database.run(lambda tx: (tx.one("SELECT count(*) FROM activities") or (0,))[0], Mode.AUTOCOMMIT)
            )
        finally:
            await database.close()

    return asyncio.run(count())


FULL = Activity(
    activity_id="00000001-ABCD-ABCD-ABCD-ABCDEFABCDEF",
    comment=CommentActivity("cid-1", CommentAction.UPDATED, navigation_id="nid-1", text="préface 😀", is_reply=True),
    occurred_at=datetime(2017, 2, 15, 13, 47, 13, 123456, tzinfo=UTC),
    people=(ActivityPerson("Zoë", "zoe@example.com", "AAD", mentioned=True), ActivityPerson("Bob", replied_to=True)),
)
MINIMAL = Activity(activity_id="minimal", comment=CommentActivity("cid-2", CommentAction.CREATED))


def test_activities_survive_a_restart_and_go_with_their_file(store: str) -> None:
    async def before(backend: StorageBackend) -> tuple[FileMeta, list[Activity]]:
        file = await new_file(backend, "commented.docx")
        recorded = await backend.add_activities(file.file_id, [FULL, MINIMAL], ALICE)
        assert recorded[0].recorded_at is not None and recorded[0].actor == ALICE
        return file, recorded

    file, recorded = run(store, before)

    async def after(backend: StorageBackend) -> None:
        page = await backend.list_activities(file.file_id, 50, None)
        assert page.activities == recorded[::-1] and page.last is None
        [retried] = await backend.add_activities(file.file_id, [MINIMAL], ALICE)  # still known: a retry
        assert retried == recorded[1]
        await backend.delete_file(file.file_id, NO_PRECONDITIONS)
        with pytest.raises(NotFound):
            await backend.list_activities(file.file_id, 50, None)

    run(store, after)
    assert rows_left(store) == 0


def test_a_file_removed_by_another_program_takes_its_activities_along(tmp_path: Path) -> None:
    root = tmp_path / "root"

    async def main(backend: StorageBackend) -> FileId:
        file = await new_file(backend, "outside.docx")
        await backend.add_activities(file.file_id, [MINIMAL], ALICE)
        (root / "outside.docx").unlink()
        with pytest.raises(NotFound):
            await backend.list_activities(file.file_id, 50, None)
        return file.file_id

    run(str(root), main)
    assert rows_left(str(root)) == 0


def test_an_existing_store_gains_activities_by_migration(store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store made before activities existed: its files get activities after the upgrade."""
    from storage_adapter.backends.filesystem import catalogue
    from storage_adapter.backends.sql import migrations

    with monkeypatch.context() as older:
        older.setattr(catalogue, "MIGRATIONS", catalogue.MIGRATIONS[:-1])
        older.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:-1])
        file = run(store, lambda backend: new_file(backend, "old.docx"))

    async def upgraded(backend: StorageBackend) -> Any:
        await backend.add_activities(file.file_id, [MINIMAL], ALICE)
        return (await backend.list_activities(file.file_id, 50, None)).activities

    [activity] = run(store, upgraded)
    assert activity.activity_id == MINIMAL.activity_id


def test_page_tokens_name_their_file_and_position() -> None:
    token = activities.page_token("file-1", 41)
    assert activities.page_before(token, "file-1") == 41
    assert activities.page_before("", "file-1") is None
    assert len(token) <= activities.MAX_TOKEN_LENGTH and token.replace("-", "").replace("_", "").isalnum()
    for bad in (activities.page_token("file-2", 41), "x", "W10", activities.page_token("file-1", -1), "é"):
        with pytest.raises(InvalidArgument) as refused:
            activities.page_before(bad, "file-1")
        assert refused.value.field == "page_token"


def test_without_the_capability_both_rpcs_are_unimplemented() -> None:
    backend = MemoryBackend(dataclasses.replace(CAPABILITIES, activities=False, max_activities_per_file=0))
    servicer = StorageServicer(backend)

    async def main() -> None:
        access.bind_principal(ALICE)
        caps = await servicer.GetCapabilities(pb.GetCapabilitiesRequest(), None)  # type: ignore[arg-type]
        assert not caps.activities and caps.max_activities_per_file == 0
        adding = pb.AddActivitiesRequest(file_id="f", activities=[pb.Activity(activity_id="a")])
        with pytest.raises(Unsupported):
            await servicer.AddActivities(adding, None)  # type: ignore[arg-type]
        with pytest.raises(Unsupported):
            await servicer.ListActivities(pb.ListActivitiesRequest(file_id="f"), None)  # type: ignore[arg-type]

    asyncio.run(main())

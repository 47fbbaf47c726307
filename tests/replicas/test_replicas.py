"""Several replicas of each service, as a scaled-out deployment runs them: two `wopi-storage` processes on one
database (sql on PostgreSQL; s3 on SeaweedFS with its metadata in PostgreSQL), front-end A in front of storage 1
and front-end B in front of storage 2. Over real HTTP, with real concurrency, races between the replicas must
have exactly one winner, and what one replica writes the other serves at once.

Each race is repeated ROUNDS times on a fresh file, the contenders split between the two front-ends.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
import random
import secrets
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from tests.replicas.services import Deployment, backend_settings
from tests.replicas.wopi import WopiFile, async_http, race

ROUNDS = 50
LOCK_CONTENDERS = 32
RELOCK_CONTENDERS = 16


@pytest.fixture(scope="module", params=["sql-postgresql", "s3-seaweedfs-postgresql"])
def deployment(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """Two storage replicas on one fresh database (and, for s3, one fresh bucket), two front-ends."""
    base = tmp_path_factory.mktemp(f"replicas-{request.param}")
    settings = backend_settings(request.param, request, base)
    with Deployment(base, [settings, settings]) as started:
        yield started


def views(deployment: Deployment, http: httpx.AsyncClient, file_id: str) -> tuple[WopiFile, WopiFile]:
    """The same file through front-end A and front-end B, with one token (both front-ends share the key)."""
    token = deployment.token(file_id)
    a, b = deployment.frontends
    return WopiFile(http, a.file_url(file_id), token), WopiFile(http, b.file_url(file_id), token)


def lock_of(response: httpx.Response) -> str | None:
    return response.headers.get("X-WOPI-Lock")


def outcome(responses: list[httpx.Response]) -> str:
    return ", ".join(
        f"{status}: {count}" for status, count in sorted(Counter(r.status_code for r in responses).items())
    )


def test_lock_race_has_one_winner(deployment: Deployment) -> None:
    """32 concurrent Locks with different ids on an unlocked file, half through each front-end: one 200, 31
    409s whose X-WOPI-Lock names the winner, and both front-ends' GetLock then name the winner."""
    file_ids = deployment.create_files([f"lock-race-{secrets.token_hex(4)}-{n}.docx" for n in range(ROUNDS)])

    won_through: Counter[str] = Counter()

    async def scenario() -> None:
        async with async_http() as http:
            for round_number, file_id in enumerate(file_ids):
                a, b = views(deployment, http, file_id)
                lock_ids = [
                    f'{{"round":{round_number},"contender":{n},"s":"{secrets.token_hex(6)}"}}'
                    for n in range(LOCK_CONTENDERS)
                ]
                responses = await race(
                    [functools.partial((a, b)[n % 2].lock, lock_ids[n]) for n in range(LOCK_CONTENDERS)]
                )
                context = f"round {round_number}: {outcome(responses)}"
                winners = [n for n, response in enumerate(responses) if response.status_code == 200]
                assert len(winners) == 1, context
                winner = lock_ids[winners[0]]
                won_through["AB"[winners[0] % 2]] += 1
                losers = [response for response in responses if response.status_code != 200]
                assert all(response.status_code == 409 for response in losers), context
                assert [lock_of(response) for response in losers] == [winner] * (LOCK_CONTENDERS - 1), context
                for view in (a, b):
                    answer = await view.get_lock()
                    assert (answer.status_code, lock_of(answer)) == (200, winner), context

    asyncio.run(scenario())
    # Both replicas won some rounds: the contenders really raced, neither front-end always came first.
    assert won_through["A"] and won_through["B"], won_through


def test_unlock_and_relock_race_has_one_winner(deployment: Deployment) -> None:
    """16 concurrent UnlockAndRelock from the same old lock to different new locks, split across the
    front-ends: one 200, 15 409s naming the winner's new lock, and GetLock is the winner's."""
    file_ids = deployment.create_files([f"relock-race-{secrets.token_hex(4)}-{n}.xlsx" for n in range(ROUNDS)])

    won_through: Counter[str] = Counter()

    async def scenario() -> None:
        async with async_http() as http:
            for round_number, file_id in enumerate(file_ids):
                a, b = views(deployment, http, file_id)
                old_lock = f"old-{round_number}-{secrets.token_hex(4)}"
                assert (await (a if round_number % 2 else b).lock(old_lock)).status_code == 200
                new_locks = [f"new-{round_number}-{n}-{secrets.token_hex(4)}" for n in range(RELOCK_CONTENDERS)]
                responses = await race(
                    [
                        functools.partial((a, b)[n % 2].unlock_and_relock, old_lock, new_locks[n])
                        for n in range(RELOCK_CONTENDERS)
                    ]
                )
                context = f"round {round_number}: {outcome(responses)}"
                winners = [n for n, response in enumerate(responses) if response.status_code == 200]
                assert len(winners) == 1, context
                winner = new_locks[winners[0]]
                won_through["AB"[winners[0] % 2]] += 1
                losers = [response for response in responses if response.status_code != 200]
                assert all(response.status_code == 409 for response in losers), context
                assert [lock_of(response) for response in losers] == [winner] * (RELOCK_CONTENDERS - 1), context
                for view in (a, b):
                    answer = await view.get_lock()
                    assert (answer.status_code, lock_of(answer)) == (200, winner), context

    asyncio.run(scenario())
    # Both replicas won some rounds: the contenders really raced, neither front-end always came first.
    assert won_through["A"] and won_through["B"], won_through


def test_put_file_is_visible_through_the_other_replica(deployment: Deployment) -> None:
    """Each PutFile through one front-end (alternating A and B) is served at once by the other: the same bytes
    from GetFile, and CheckFileInfo's Version and Size are the new ones; every write makes a new version."""
    (file_id,) = deployment.create_files([f"visible-{secrets.token_hex(4)}.pptx"], b"first")
    generator = random.Random(20240607)
    # Mostly small saves, some of several storage chunks (1 MiB) / part sizes (8 MiB), one empty.
    sizes = [
        generator.choice([0, 1, 1000, 70_000]) if n % 5 else generator.randrange(1, 9 * 2**20) for n in range(ROUNDS)
    ]
    sizes[7] = 0

    async def scenario() -> None:
        async with async_http() as http:
            a, b = views(deployment, http, file_id)
            lock_id = "visibility-lock"
            assert (await a.lock(lock_id)).status_code == 200
            versions = set()
            for round_number, size in enumerate(sizes):
                writer, reader = (a, b) if round_number % 2 == 0 else (b, a)
                data = os.urandom(size)
                put = await writer.put_file(data, lock_id)
                context = f"round {round_number} ({size} bytes)"
                assert put.status_code == 200, f"{context}: {put.status_code} {put.text}"
                version = put.headers["X-WOPI-ItemVersion"]
                assert version not in versions, f"{context}: version {version} was used before"
                versions.add(version)
                got = await reader.get_file()
                assert got.status_code == 200, context
                assert hashlib.sha256(got.content).hexdigest() == hashlib.sha256(data).hexdigest(), context
                assert len(got.content) == size, context
                assert got.headers["X-WOPI-ItemVersion"] == version, context
                info = await reader.check_file_info()
                assert info.status_code == 200, context
                assert (info.json()["Version"], info.json()["Size"]) == (version, size), context

    asyncio.run(scenario())

"""Crash safety of every persistent backend: `wopi-storage` killed with SIGKILL in the middle of a large PutFile
loses nothing. After a restart with the same settings the file holds exactly its old contents, its old version
and its lock; the front-end answered the interrupted PutFile with a server error, never 200; and saving works
again.

The PutFile goes through the front-end, as an office client sends it, over a raw HTTP connection that paces the
body (BODY_SIZE bytes, one CHUNK every PAUSE seconds); storage is killed once it has read KILL_AFTER bytes, far
from the end of the body.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.replicas.services import Deployment, backend_settings
from tests.replicas.wopi import WopiFile, async_http, slow_put_file

MIB = 1024 * 1024
BODY_SIZE = 128 * MIB
CHUNK = 256 * 1024
PAUSE = 0.004  # at most ~60 MiB/s: the kill lands well before the end
KILL_AFTER = 24 * MIB  # bytes of the body that must have reached storage's connections before it is killed
LOCK_ID = '{"S":"crash-test-lock","E":1}'


@pytest.fixture(params=["filesystem", "sql-sqlite", "sql-postgresql", "s3-seaweedfs"])
def case(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def deployment(case: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Deployment]:
    with Deployment(tmp_path, [backend_settings(case, request, tmp_path / "backend")]) as started:
        yield started


async def observe(file: WopiFile) -> tuple[bytes, str | None, str, int]:
    """(GetFile bytes, GetLock's X-WOPI-Lock, CheckFileInfo Version, CheckFileInfo Size)."""
    contents = await file.get_file()
    lock = await file.get_lock()
    info = await file.check_file_info()
    assert (contents.status_code, lock.status_code, info.status_code) == (200, 200, 200)
    return contents.content, lock.headers.get("X-WOPI-Lock"), info.json()["Version"], info.json()["Size"]


def test_storage_killed_mid_put_file_keeps_the_old_file(case: str, deployment: Deployment, tmp_path: Path) -> None:
    """SIGKILL mid-PutFile: 5xx to the client; after a restart, the old bytes, version and lock; saving works."""
    storage = deployment.storages[0]
    frontend = deployment.frontends[0]
    old_contents = b"the old contents, which must survive\n" + os.urandom(3 * MIB)
    (file_id,) = deployment.create_files(["crash.docx"], old_contents)
    token = deployment.token(file_id)

    async def prepare() -> tuple[bytes, str | None, str, int]:
        async with async_http() as http:
            file = WopiFile(http, frontend.file_url(file_id), token)
            assert (await file.lock(LOCK_ID)).status_code == 200
            return await observe(file)

    before = asyncio.run(prepare())
    assert before[:2] == (old_contents, LOCK_ID)
    old_version = before[2]

    # The large PutFile, and SIGKILL once storage has taken in KILL_AFTER bytes of it.
    read_at_start = storage.bytes_received()
    killed_at: list[int] = []  # bytes of the body sent when storage was killed

    def on_progress(sent: int) -> None:
        if not killed_at and storage.bytes_received() - read_at_start >= KILL_AFTER:
            storage.kill()
            killed_at.append(sent)

    started = time.monotonic()
    put = slow_put_file(
        frontend.file_url(file_id), token, LOCK_ID, BODY_SIZE, chunk=CHUNK, pause=PAUSE, on_progress=on_progress
    )
    assert killed_at, f"storage was never killed: too little of the body reached it ({put}): {deployment.logs()}"
    assert killed_at[0] < BODY_SIZE - 32 * MIB, f"storage was killed too late, after {killed_at[0]} bytes"
    # The front-end answered with a server error (storage is gone), not 200, and before the body ended.
    assert 500 <= put.status < 600, f"the interrupted PutFile got {put.status}, after {put.body_sent} bytes"
    assert put.body_sent < BODY_SIZE, put
    answered_in = time.monotonic() - started
    if case == "filesystem":
        # The document on disk is still the old one; the upload died in a temporary file, half written.
        documents = tmp_path / "backend" / "documents"
        assert (documents / "crash.docx").read_bytes() == old_contents
        partial = [entry.stat().st_size for entry in (documents / ".wopi-storage" / "tmp").iterdir()]
        assert partial and max(partial) >= 8 * MIB, f"no half-written upload in .wopi-storage/tmp: {partial}"

    storage.start()  # same backend, options, port and secret
    frontend.wait_healthy()
    if case == "filesystem":  # the restart removed what the crash left behind
        assert list((tmp_path / "backend" / "documents" / ".wopi-storage" / "tmp").iterdir()) == []

    async def check_after_restart() -> None:
        async with async_http() as http:
            file = WopiFile(http, frontend.file_url(file_id), token)
            contents, lock, version, size = await observe(file)
            assert hashlib.sha256(contents).hexdigest() == hashlib.sha256(old_contents).hexdigest(), (
                f"the file changed: {len(contents)} bytes instead of the old {len(old_contents)}"
            )
            assert (lock, version, size) == (LOCK_ID, old_version, len(old_contents))
            # Saving works again, and makes a new version.
            new_contents = b"saved after the restart\n" + os.urandom(2 * MIB)
            saved = await file.put_file(new_contents, LOCK_ID)
            assert saved.status_code == 200, saved.text
            contents, lock, version, size = await observe(file)
            assert (contents == new_contents, lock, size) == (True, LOCK_ID, len(new_contents))
            assert version != old_version and version == saved.headers["X-WOPI-ItemVersion"]

    asyncio.run(check_after_restart())
    assert answered_in < 60, f"the front-end took {answered_in:.1f} s to answer the interrupted PutFile"

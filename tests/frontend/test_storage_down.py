"""When storage is down or stuck, the front-end answers promptly with a server error; it never hangs."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.frontend.servers import WopiHost
from tests.frontend.wopi import WopiFile, http, open_file

STORAGE_TIMEOUT = 2.0
PROMPT = STORAGE_TIMEOUT + 8.0  # the storage deadline, plus generous room for a loaded machine: "no hang" is the point


@pytest.fixture
def host(tmp_path: Path) -> Iterator[WopiHost]:
    with WopiHost(tmp_path, WOPI_STORAGE_TIMEOUT=str(STORAGE_TIMEOUT)) as host:
        yield host


def timed(request: object) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = request()  # type: ignore[operator]
    return response, time.monotonic() - started


def assert_server_error(response: httpx.Response, elapsed: float) -> None:
    assert response.status_code in (500, 503), response
    assert response.headers.get("X-WOPI-ServerError")
    assert elapsed < PROMPT


def operations(file: WopiFile) -> dict[str, object]:
    return {
        "CheckFileInfo": file.check_file_info,
        "GetFile": file.get_file,
        "PutFile": lambda: file.put_file(b"new", lock="L"),
        "Lock": lambda: file.lock("L2"),
        "GetLock": file.get_lock,
        "RenameFile": lambda: file.rename("renamed"),
        "PutRelativeFile": lambda: file.put_relative({"X-WOPI-SuggestedTarget": ".wopitestx"}, b"x"),
    }


def test_storage_stopped(host: WopiHost) -> None:
    """Storage stopped: every operation answers 503 with X-WOPI-ServerError at once; /healthz says 503."""
    file = open_file(host, "down.wopitest", b"contents")
    assert file.lock("L").status_code == 200
    host.storage.stop()
    for name, operation in operations(file).items():
        response, elapsed = timed(operation)
        assert_server_error(response, elapsed)
        assert response.status_code == 503, name
    response, elapsed = timed(lambda: http.get(f"{host.url}/healthz"))
    assert response.status_code == 503 and elapsed < PROMPT
    # the front-end itself stays up: a bad token is still a 401
    assert file.with_token("INVALID").check_file_info().status_code == 401


def test_storage_stuck(host: WopiHost) -> None:
    """Storage frozen (connected, never answering): 503 + X-WOPI-ServerError within the storage timeout, no hang."""
    file = open_file(host, "stuck.wopitest", b"contents")
    assert file.lock("L").status_code == 200
    assert host.storage.process is not None
    host.storage.process.send_signal(signal.SIGSTOP)
    try:
        stream_and_call = ("CheckFileInfo", "GetFile", "PutFile", "Lock")  # each costs the whole storage timeout
        for name in stream_and_call:
            response, elapsed = timed(operations(file)[name])
            assert response.status_code == 503, name
            assert response.headers.get("X-WOPI-ServerError"), name
            assert STORAGE_TIMEOUT - 0.5 < elapsed < PROMPT, name
        response, elapsed = timed(lambda: http.get(f"{host.url}/healthz"))
        assert response.status_code == 503 and elapsed < PROMPT
    finally:
        host.storage.process.send_signal(signal.SIGCONT)
    # and once storage answers again, so does the front-end
    deadline = time.monotonic() + 10
    while file.check_file_info().status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert file.contents() == b"contents"

"""Slow, stalled and silent HTTP clients are bounded (ARCHITECTURE rule 10): what one of them may hold, and for
how long. Real connections to a real front-end process (`wopi-host frontend`, as `serve_frontend` runs it).

- A PutFile body that stops arriving is aborted after WOPI_CLIENT_IDLE_TIMEOUT and stores nothing.
- A second PutFile of a file while one is in progress gets 503 + Retry-After (storage's write gate).
- A GetFile client that stops reading is disconnected after WOPI_CLIENT_IDLE_TIMEOUT, and while it waits the
  front-end buffers a bounded amount for it (measured as the process's VmRSS).
- A connection that sends nothing, or half a request head, is closed after WOPI_CLIENT_HEADER_TIMEOUT.
- Connections beyond WOPI_MAX_CONNECTIONS get 503 at once.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.frontend.servers import WopiHost
from tests.frontend.wopi import WopiFile, open_file, status_lines

MIB = 1024 * 1024
IDLE_TIMEOUT = 2  # seconds, for the `slow_host`; the bounds below are generous multiples of it
HEADER_TIMEOUT = 1
BOUND = 30  # seconds: a connection still open this long was not timed out


@pytest.fixture(scope="module")
def slow_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WopiHost]:
    """A host with short client timeouts."""
    environment = {"WOPI_CLIENT_IDLE_TIMEOUT": str(IDLE_TIMEOUT), "WOPI_CLIENT_HEADER_TIMEOUT": str(HEADER_TIMEOUT)}
    with WopiHost(Path(tmp_path_factory.mktemp("wopi-slow")), **environment) as host:
        yield host


@pytest.fixture(scope="module")
def few_connections_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WopiHost]:
    """A host with the default timeouts and at most 64 connections."""
    with WopiHost(Path(tmp_path_factory.mktemp("wopi-few")), WOPI_MAX_CONNECTIONS="64") as host:
        yield host


def connect(host: WopiHost, receive_buffer: int | None = None) -> socket.socket:
    connection = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer is not None:  # before connecting, so the TCP window is small from the start
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    connection.connect(("127.0.0.1", host.port))
    return connection


def request_head(method: str, url: str, headers: dict[str, str] | None = None) -> bytes:
    parts = urlsplit(url)
    lines = [f"{method} {parts.path}?{parts.query} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def contents_url(file: WopiFile) -> str:
    return f"{file.wopi_src}/contents?access_token={file.access_token}"


def put_head(file: WopiFile, size: int) -> bytes:
    return request_head("POST", contents_url(file), {"X-WOPI-Override": "PUT", "Content-Length": str(size)})


def read_until_closed(connection: socket.socket, bound: float = BOUND) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection (EOF or reset), and how long that took;
    fails if it is still open after `bound` seconds."""
    started = time.monotonic()
    received = b""
    connection.settimeout(1)
    while time.monotonic() - started < bound:
        try:
            chunk = connection.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return received, time.monotonic() - started
        if not chunk:
            return received, time.monotonic() - started
        received += chunk
    raise AssertionError(f"the connection was still open after {bound} s (received {len(received)} bytes)")


def vm_rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc")


# ---- request bodies ----


def test_stalled_put_file_body_is_aborted_and_stores_nothing(slow_host: WopiHost, file_name: str) -> None:
    """A PutFile whose body stops after a few bytes gets 408 after the idle timeout and the connection is closed;
    the file keeps its contents and version, and the storage write was abandoned (no temp file left)."""
    file = open_file(slow_host, file_name, b"the old contents")
    version = file.version()
    with connect(slow_host) as connection:
        connection.sendall(put_head(file, MIB) + b"only a few bytes")
        answer, _ = read_until_closed(connection)
    assert status_lines(answer) == [408]
    assert file.contents() == b"the old contents"
    assert file.version() == version
    assert list((slow_host.documents / ".wopi-storage" / "tmp").iterdir()) == []


def test_second_concurrent_put_file_is_503_with_retry_after(wopi_host: WopiHost, file_name: str) -> None:
    """While one PutFile of a file is being received, another PutFile of the same file waits briefly, then gets
    503 with Retry-After and stores nothing; the first then completes."""
    file = open_file(wopi_host, file_name)
    first_body = b"x" * (3 * 1024 * 1024)  # more than storage gathers before it starts a temp file (2 MiB)
    staging = wopi_host.documents / ".wopi-storage" / "tmp"
    earlier = set(staging.iterdir())
    with connect(wopi_host) as first:
        first.sendall(put_head(file, 2 * len(first_body)) + first_body)
        wait_until_storage_receives_an_upload(staging, earlier)  # so the first save holds the file's gate
        second = file.put_file(b"the second save")
        assert second.status_code == 503
        assert second.headers["Retry-After"].isdigit()
        first.sendall(first_body)
        answer, _ = read_until_closed_or_answered(first)
    assert status_lines(answer) == [200]
    assert file.contents() == 2 * first_body


def wait_until_storage_receives_an_upload(staging: Path, earlier: set[Path]) -> None:
    """Until the filesystem backend writes a new upload's bytes into a temp file in `staging` (other than those
    in `earlier`): the front-end sends nothing to storage before a save has passed the file's write gate, so
    from then on the gate is held."""
    deadline = time.monotonic() + BOUND

    def received(entry: Path) -> bool:
        try:
            return entry not in earlier and entry.stat().st_size > 0
        except FileNotFoundError:  # another test's upload, finished meanwhile
            return False

    while not any(received(entry) for entry in staging.iterdir()):
        assert time.monotonic() < deadline, f"storage received no upload within {BOUND} s"
        time.sleep(0.01)


def read_until_closed_or_answered(connection: socket.socket) -> tuple[bytes, float]:
    """One whole HTTP response without a body, or what came before the server closed."""
    started = time.monotonic()
    received = b""
    connection.settimeout(BOUND)
    while b"\r\n\r\n" not in received:
        chunk = connection.recv(65536)
        if not chunk:
            break
        received += chunk
    return received, time.monotonic() - started


# ---- responses ----


def test_get_file_client_that_stops_reading_is_disconnected(slow_host: WopiHost, file_name: str) -> None:
    """A GetFile client that reads nothing of an 8 MiB answer is disconnected after the idle timeout, so it holds
    neither the connection nor the storage stream; other requests are served meanwhile."""
    file = open_file(slow_host, file_name, b"\x00" * (8 * MIB))
    with connect(slow_host, receive_buffer=4096) as stalled:
        stalled.sendall(request_head("GET", contents_url(file)))
        assert file.check_file_info().status_code == 200
        deadline = time.monotonic() + BOUND
        while tcp_state(stalled) == TCP_ESTABLISHED:  # the server's reset or close moves it on
            assert time.monotonic() < deadline, f"the stalled reader was still connected after {BOUND} s"
            time.sleep(0.2)
        received, _ = read_until_closed(stalled)
    assert len(received) < 8 * MIB, "the whole file was sent to a client that read nothing"


TCP_ESTABLISHED = 1


def tcp_state(connection: socket.socket) -> int:
    """The kernel's TCP state of the connection (Linux TCP_INFO's first byte)."""
    return connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]


def test_stalled_get_file_readers_hold_bounded_memory(few_connections_host: WopiHost, file_name: str) -> None:
    """50 clients that request an 8 MiB file and read none of it grow the front-end by a bounded amount: a few
    MiB each (what is on its way to one client), not the whole file each. Unbounded, the gRPC stream buffered
    about the whole file per reader (7 MiB here)."""
    host = few_connections_host
    assert host.process is not None
    readers, size, per_reader_bound = 50, 8 * MIB, 4 * MIB
    file = open_file(host, file_name, bytes(range(256)) * (size // 256))
    head = request_head("GET", contents_url(file))
    before = vm_rss_bytes(host.process.pid)
    held = []
    try:
        for _ in range(readers):
            connection = connect(host, receive_buffer=4096)
            connection.sendall(head)
            held.append(connection)
        # Watch the growth for a while (well inside the 30 s idle timeout): bounded buffering stops growing once
        # the buffers are full; unbounded buffering passes the bound within seconds.
        peak = 0
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and peak <= readers * per_reader_bound:
            peak = max(peak, vm_rss_bytes(host.process.pid) - before)
            time.sleep(0.25)
        assert peak <= readers * per_reader_bound, f"{peak / MIB:.0f} MiB for {readers} stalled readers"
        assert httpx.get(f"{host.url}/healthz", timeout=10).status_code == 200
    finally:
        for connection in held:
            connection.close()


# ---- connections ----


def test_connection_that_sends_nothing_is_closed(slow_host: WopiHost) -> None:
    with connect(slow_host) as connection:
        answer, elapsed = read_until_closed(connection)
    assert answer == b""
    assert elapsed < BOUND


def test_connection_that_sends_half_a_request_head_gets_408_and_is_closed(slow_host: WopiHost) -> None:
    with connect(slow_host) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ")
        answer, elapsed = read_until_closed(connection)
    assert status_lines(answer) == [408]
    assert elapsed < BOUND


def test_kept_alive_connection_that_starts_a_second_head_and_stalls_is_closed(slow_host: WopiHost) -> None:
    """The head timeout applies to every request on a connection, not only to the first."""
    with connect(slow_host) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /healthz HTTP/1.1\r\n")
        answer, elapsed = read_until_closed(connection)
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", answer) == [b"200", b"408"]  # the 408 follows the body directly
    assert elapsed < BOUND


def test_connections_beyond_the_limit_get_503(few_connections_host: WopiHost) -> None:
    """With WOPI_MAX_CONNECTIONS=64 and 64 connections open, a request on a new connection gets 503 at once;
    once they close, requests are served again."""
    host = few_connections_host
    held = [connect(host) for _ in range(64)]
    try:
        deadline = time.monotonic() + BOUND
        while True:  # the server registers the accepted connections asynchronously
            status = httpx.get(f"{host.url}/healthz", timeout=10).status_code
            if status == 503 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert status == 503
    finally:
        for connection in held:
            connection.close()
    deadline = time.monotonic() + BOUND
    while httpx.get(f"{host.url}/healthz", timeout=10).status_code != 200:
        assert time.monotonic() < deadline, "the closed connections never freed their places"
        time.sleep(0.1)

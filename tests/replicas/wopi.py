"""WOPI over real HTTP, as an office client speaks it: an async view of one file through one front-end, and a
PutFile whose body is sent slowly by hand (so a test can act in the middle of the upload)."""

from __future__ import annotations

import asyncio
import random
import select
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

import h11
import httpx

T = TypeVar("T")


@dataclass
class WopiFile:
    """One file seen through one front-end with one access token."""

    http: httpx.AsyncClient
    url: str  # the WOPISrc: http://host:port/wopi/files/<id>
    token: str

    async def _post(self, override: str, suffix: str = "", content: bytes = b"", **headers: str) -> httpx.Response:
        wopi_headers = {"X-WOPI-Override": override, **{name.replace("_", "-"): v for name, v in headers.items()}}
        return await self.http.post(
            self.url + suffix, params={"access_token": self.token}, headers=wopi_headers, content=content
        )

    async def lock(self, lock_id: str) -> httpx.Response:
        return await self._post("LOCK", X_WOPI_Lock=lock_id)

    async def unlock_and_relock(self, old_lock: str, new_lock: str) -> httpx.Response:
        return await self._post("LOCK", X_WOPI_Lock=new_lock, X_WOPI_OldLock=old_lock)

    async def unlock(self, lock_id: str) -> httpx.Response:
        return await self._post("UNLOCK", X_WOPI_Lock=lock_id)

    async def get_lock(self) -> httpx.Response:
        return await self._post("GET_LOCK")

    async def put_file(self, data: bytes, lock_id: str) -> httpx.Response:
        return await self._post("PUT", "/contents", data, X_WOPI_Lock=lock_id)

    async def get_file(self) -> httpx.Response:
        return await self.http.get(self.url + "/contents", params={"access_token": self.token})

    async def check_file_info(self) -> httpx.Response:
        return await self.http.get(self.url, params={"access_token": self.token})


async def race(calls: list[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run every call at once: each waits at a gate until all are ready, then all go, in a random order (so no
    contender always sends first). The results are in the order of `calls`."""
    gate = asyncio.Event()
    results: list[T | None] = [None] * len(calls)

    async def contender(index: int) -> None:
        await gate.wait()
        results[index] = await calls[index]()

    order = random.sample(range(len(calls)), len(calls))
    tasks = [asyncio.ensure_future(contender(index)) for index in order]
    await asyncio.sleep(0)  # every task reaches the gate
    gate.set()
    await asyncio.gather(*tasks)
    return results  # type: ignore[return-value]


def async_http(connections: int = 64) -> httpx.AsyncClient:
    """A client with enough keep-alive connections for every contender of a race to have its own."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(timeout=60, limits=limits)


# ---- a PutFile sent by hand ----


def pattern_chunks(total: int, chunk: int) -> Iterator[bytes]:
    """`total` bytes in pieces of `chunk`, each different (a counter in front of a fixed block), made on the fly."""
    block = bytes(range(256)) * (chunk // 256 + 1)
    sent = counter = 0
    while sent < total:
        size = min(chunk, total - sent)
        piece = (counter.to_bytes(8, "big") + block)[:size]
        counter += 1
        sent += size
        yield piece


@dataclass
class InterruptedPut:
    status: int  # the front-end's answer; 0 if none came
    body_sent: int  # bytes of the body sent before the answer (or the end)
    body_total: int


def slow_put_file(
    url: str,
    token: str,
    lock_id: str,
    total: int,
    *,
    chunk: int = 256 * 1024,
    pause: float = 0.004,
    on_progress: Callable[[int], None],
    timeout: float = 120,
) -> InterruptedPut:
    """POST a PutFile body of `total` bytes (with Content-Length), one `chunk` every `pause` seconds, calling
    `on_progress(bytes_sent)` after each. It reads the answer as soon as the front-end sends one, even while the
    body is still going (then stops sending): a real HTTP client that kept sending to a server that stopped
    reading would hang, and one that read only at the end would miss an early answer on a closed connection."""
    parts = urlsplit(url)
    connection = h11.Connection(h11.CLIENT)
    request = h11.Request(
        method="POST",
        target=f"{parts.path}/contents?access_token={token}",
        headers=[
            ("Host", parts.netloc),
            ("Content-Length", str(total)),
            ("Content-Type", "application/octet-stream"),
            ("X-WOPI-Override", "PUT"),
            ("X-WOPI-Lock", lock_id),
        ],
    )
    deadline = time.monotonic() + timeout
    sent = 0
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.setblocking(False)
        pending = memoryview(connection.send(request))
        chunks = pattern_chunks(total, chunk)
        next_chunk_at = time.monotonic()
        body_done = False
        while time.monotonic() < deadline:
            if not pending and not body_done and time.monotonic() >= next_chunk_at:
                piece = next(chunks, None)
                if piece is None:
                    pending = memoryview(connection.send(h11.EndOfMessage()))
                    body_done = True
                else:
                    pending = memoryview(connection.send(h11.Data(data=piece)))
                    sent += len(piece)
                    next_chunk_at = time.monotonic() + pause
                    on_progress(sent)
            wait_write = [sock] if pending else []
            readable, writable, _ = select.select([sock], wait_write, [], 0.01)
            if readable:
                try:
                    data = sock.recv(65536)
                except ConnectionResetError:
                    return InterruptedPut(0, sent, total)
                connection.receive_data(data)
                event = connection.next_event()
                if isinstance(event, h11.Response):
                    return InterruptedPut(event.status_code, sent, total)
                if not data:
                    return InterruptedPut(0, sent, total)
            if writable and pending:
                try:
                    written = sock.send(pending)
                except (BrokenPipeError, ConnectionResetError):
                    return InterruptedPut(_read_status(sock, connection, deadline), sent, total)
                pending = pending[written:]
    raise TimeoutError(f"no answer to the PutFile within {timeout} s ({sent} of {total} bytes sent)")


def _read_status(sock: socket.socket, connection: h11.Connection, deadline: float) -> int:
    """The status of an answer that may already be in the socket's receive buffer after the peer closed."""
    while time.monotonic() < deadline:
        readable, _, _ = select.select([sock], [], [], 0.05)
        if not readable:
            continue
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            return 0
        connection.receive_data(data)
        event = connection.next_event()
        if isinstance(event, h11.Response):
            return int(event.status_code)
        if not data:
            return 0
    return 0

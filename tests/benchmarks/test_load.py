"""The benchmark suite's wrk loads send exactly the requests they name: method, path, headers and body.

A load that silently sends something else measures something else. That happened: a script wrk could not parse
(a header written `[[==[name]==]]`, which Lua reads as a long string) made wrk fall back to its default request,
and every PutFile and Lock + PutFile figure was the file browser's page instead. So a real wrk drives a small
HTTP server here that records what it receives.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from benchmarks.suite.load import Request, wrk

Seen = tuple[str, str, tuple[tuple[str, str], ...], bytes]


class Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as wrk expects
    seen: list[Seen]

    def do_GET(self) -> None:
        self._record()

    def do_POST(self) -> None:
        self._record()

    def _record(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        wopi = tuple(sorted((name, value) for name, value in self.headers.items() if name.startswith("X-WOPI-")))
        self.seen.append((self.command, self.path, wopi, body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[Seen]]]:
    seen: list[Seen] = []
    handler = type("BoundRecorder", (Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_a_load_sends_its_requests_in_turn_with_their_headers_and_bodies(
    recorder: tuple[str, list[Seen]], tmp_path: Path
) -> None:
    url, seen = recorder
    body = tmp_path / "body.bin"
    body.write_bytes(b"contents \x00\xff of a save")
    lock = Request("/wopi/files/abc?access_token=T", "POST", (("X-WOPI-Override", "LOCK"), ("X-WOPI-Lock", "L1")))
    save = Request("/wopi/files/abc/contents?access_token=T", "POST", (("X-WOPI-Override", "PUT"),), body)
    measured = wrk(url, [lock, save], 1, 1)
    assert measured.requests and measured.requests >= 2
    expected = [
        ("POST", lock.path, (("X-WOPI-Lock", "L1"), ("X-WOPI-Override", "LOCK")), b""),
        ("POST", save.path, (("X-WOPI-Override", "PUT"),), body.read_bytes()),
    ]
    assert len(seen) >= measured.requests  # one more may have been in flight when wrk stopped
    start = expected.index(seen[0])  # wrk may call the script once before the first request: either comes first
    assert seen == [expected[(start + index) % 2] for index in range(len(seen))]  # in turn, as given


def test_a_load_without_headers_sends_its_path(recorder: tuple[str, list[Seen]]) -> None:
    url, seen = recorder
    wrk(url, [Request("/wopi/files/abc?access_token=T")], 1, 2)
    assert seen and set(seen) == {("GET", "/wopi/files/abc?access_token=T", (), b"")}

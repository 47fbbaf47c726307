"""A stand-in WOPI client's discovery endpoint: a tiny HTTP server on 127.0.0.1 in a thread of the test process.

It serves whatever document the test sets (or an error status), counts the fetches, and can be stopped and
started again on the same port to play a client that is down.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from tests.contract.process import free_port

PATH = "/hosting/discovery"


class DiscoveryServer:
    def __init__(self, document: bytes = b"", *, port: int | None = None) -> None:
        self.document = document
        self.status = 200
        self.fetches = 0
        self.port = port or free_port()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PATH}"

    def start(self) -> DiscoveryServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.fetches += 1
                if self.path != PATH:
                    self.send_error(404)
                    return
                body = owner.document if owner.status == 200 else b""
                self.send_response(owner.status)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # quiet test output
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="discovery-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> DiscoveryServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

"""Our own backends served in-process, over real gRPC on a loopback port, for the contract suite.

The server runs its own asyncio loop in a background thread, so the tests themselves stay plain synchronous
code using an ordinary gRPC channel, exactly as they would against a remote adapter.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Any

from storage_adapter.backends import create_backend
from storage_adapter.backends.base import StorageBackend
from storage_adapter.server import StorageServer, start_server
from storage_adapter.settings import AdapterSettings

IN_PROCESS_BACKENDS = ("memory", "filesystem", "sql-sqlite", "sql-postgresql", "s3-seaweedfs")
# Deeper than any other test of the suite nests containers (the workspace is at depth 1).
CONTRACT_MAX_CONTAINER_DEPTH = 6
# The principal that every adapter the suite starts (in-process or `wopi-storage`) treats as an administrator.
CONTRACT_ADMIN_PRINCIPAL = "contract-admin"


class InProcessAdapter:
    def __init__(self, backend_name: str, root: Path, **settings: object) -> None:
        """`backend_name` is one of IN_PROCESS_BACKENDS; `settings` add to AdapterSettings (the database URL,
        the bucket). The memory and sql-sqlite variants run with limits, so that the suite also exercises
        RESOURCE_EXHAUSTED and bounded history; the others run with their defaults, as operators run them,
        except for a shallow container depth limit on every variant, reached by the suite in a few calls (the
        wopi-storage process keeps the default), access control on, and `CONTRACT_ADMIN_PRINCIPAL` as an
        administrator."""
        self.secret = secrets.token_urlsafe(24)
        backend = backend_name.split("-", 1)[0]
        settings = {
            "max_container_depth": CONTRACT_MAX_CONTAINER_DEPTH,
            "admin_principals": (CONTRACT_ADMIN_PRINCIPAL,),
            "access_control": True,
            **settings,
        }
        if backend_name in ("memory", "sql-sqlite"):
            settings = {"max_file_size": 128 * 1024 * 1024, "max_versions_kept": 3, **settings}
        if backend_name == "sql-sqlite":
            settings.setdefault("database_url", f"sqlite:///{root / 'storage.db'}")
        self.settings = AdapterSettings(backend=backend, root=root, secret=self.secret, **settings)  # type: ignore[arg-type]
        self.backend: StorageBackend = create_backend(self.settings)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"adapter-{backend_name}", daemon=True)
        self._server: StorageServer | None = None
        self.target = ""

    def _run(self, coroutine: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout=30)

    def __enter__(self) -> InProcessAdapter:
        self._thread.start()
        self._run(self.backend.start())
        self._server = self._run(start_server(self.backend, "127.0.0.1:0", secret=self.secret))
        self.target = f"127.0.0.1:{self._server.port}"
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        try:
            if self._server is not None:
                self._run(self._server.stop(grace=None))
            self._run(self.backend.close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()

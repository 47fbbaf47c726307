"""Real processes for the replica and crash tests: `wopi-storage` with any backend and settings, and front-ends
pointed at a storage target of our choosing. Each process is started and stopped by its PID; a storage process
keeps its port across restarts, so a front-end pointed at it finds it again.

`backend_settings()` turns a backend case name into the `wopi-storage` options and environment it needs (a fresh
PostgreSQL database, a fresh SeaweedFS bucket, ...).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
import pytest

from tests.contract.client import StorageClient
from tests.contract.process import free_port, wait_until_serving
from wopi_frontend.tokens import TokenIssuer
from wopi_frontend.types import PERMISSION_SETS, FileId, Principal
from wopi_proto.storage_v1 import storage_pb2 as pb

# Settings a developer's shell may hold that must not leak into the processes under test.
_FOREIGN_PREFIXES = ("WOPI_", "AWS_")
# The person a deployment's files are made for and opened by (storage enforces access control by default).
REPLICA_USER = "replica-user"


def clean_environ() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith(_FOREIGN_PREFIXES)}


@dataclass
class BackendSettings:
    """How to run `wopi-storage` with one backend: its options (besides --listen) and extra environment."""

    backend: str
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


class StorageService:
    """One `wopi-storage` process on a fixed loopback port (the same one across restarts)."""

    def __init__(
        self, settings: BackendSettings, log_path: Path, *, secret: str | None = None, listen: str | None = None
    ) -> None:
        """`listen`: where to listen instead of a free loopback port, e.g. `unix:PATH` (then `port` is unused)."""
        self.settings = settings
        self.secret = secret or secrets.token_urlsafe(24)
        self.port = free_port()
        self.target = listen or f"127.0.0.1:{self.port}"
        self.log_path = log_path
        self.argv = [
            sys.executable,
            "-m",
            "storage_adapter",
            "--backend",
            settings.backend,
            "--listen",
            self.target,
            *settings.args,
        ]
        self.environment = {**clean_environ(), **settings.env, "WOPI_STORAGE_SECRET": self.secret}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None and self.process.poll() is None, "wopi-storage is not running"
        return self.process.pid

    def spawn(self) -> None:
        assert self.process is None or self.process.poll() is not None, "wopi-storage is already running"
        with self.log_path.open("ab") as log:
            log.write(f"\n==== start {time.strftime('%H:%M:%S')}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.environment
            )

    def wait_serving(self, timeout: float = 60) -> None:
        assert self.process is not None
        wait_until_serving(self.target, self.process, self.log_tail, timeout)

    def start(self, timeout: float = 60) -> StorageService:
        self.spawn()
        self.wait_serving(timeout)
        return self

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, as when the machine or the container dies."""
        assert self.process is not None and self.process.poll() is None, "wopi-storage is not running"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM, then SIGKILL if it does not exit in time. Idempotent."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)

    def bytes_received(self) -> int:
        """Bytes that have arrived on the service's port so far, over every open connection (the kernel's count)."""
        return tcp_bytes_received(self.port)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    @contextmanager
    def client(self, user_id: str = "replica-tests") -> Iterator[StorageClient]:
        """A synchronous gRPC client of the contract suite, on a channel of its own, acting as `user_id`."""
        with grpc.insecure_channel(self.target) as channel:
            yield StorageClient(channel, self.secret, user_id=user_id)


def start_all(services: list[StorageService], timeout: float = 60) -> None:
    """Start several storage processes at once (replicas of one deployment start together), wait for each."""
    for service in services:
        service.spawn()
    for service in services:
        service.wait_serving(timeout)


class Frontend:
    """`python -m wopi_frontend frontend` on a loopback port, pointed at one storage service."""

    def __init__(self, storage: StorageService, token_key: str, log_path: Path, **extra_env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        # WOPI_DISCOVERY_URL stays unset (clean_environ drops every WOPI_ variable): no proof keys to sign.
        self.environment = {
            **clean_environ(),
            "WOPI_TOKEN_KEY": token_key,
            "WOPI_STORAGE_TARGET": storage.target,
            "WOPI_STORAGE_SECRET": storage.secret,
            "WOPI_PUBLIC_URL": self.url,
            "WOPI_HOST": "127.0.0.1",
            "WOPI_PORT": str(self.port),
            "WOPI_SECRETS_DIR": str(log_path.parent / "unused-secrets"),
            "WOPI_LOG_LEVEL": "warning",
            **extra_env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def spawn(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "wopi_frontend", "frontend"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.environment,
            )

    def wait_healthy(self, timeout: float = 60) -> None:
        """Until GET /healthz answers 200: the front-end is up and reaches its storage."""
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2) as http:
            while True:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(f"the front-end exited with {self.process.returncode}: {self.log_tail()}")
                try:
                    if http.get(f"{self.url}/healthz").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the front-end did not become healthy: {self.log_tail()}")
                time.sleep(0.05)

    def start(self, timeout: float = 60) -> Frontend:
        self.spawn()
        self.wait_healthy(timeout)
        return self

    def stop(self, timeout: float = 15) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def file_url(self, file_id: str) -> str:
        return f"{self.url}/wopi/files/{file_id}"


class Deployment:
    """Storage services and front-ends (front-end i → storage i % len(storages)) sharing one token key.

    Use as a context manager: everything started is stopped on exit, front-ends first, each by its PID."""

    def __init__(self, base: Path, storages: list[BackendSettings], frontends: int | None = None) -> None:
        base.mkdir(parents=True, exist_ok=True)
        self.base = base
        secret = secrets.token_urlsafe(24)
        self.storages = [
            StorageService(settings, base / f"storage-{index + 1}.log", secret=secret)
            for index, settings in enumerate(storages)
        ]
        self.token_key = secrets.token_urlsafe(32)
        self.tokens = TokenIssuer(self.token_key, 3600)
        count = len(self.storages) if frontends is None else frontends
        self.frontends = [
            Frontend(
                self.storages[index % len(self.storages)],
                self.token_key,
                base / f"frontend-{chr(ord('A') + index)}.log",
            )
            for index in range(count)
        ]
        self._stack = ExitStack()

    def __enter__(self) -> Deployment:
        try:
            for storage in self.storages:
                self._stack.callback(storage.stop)
            start_all(self.storages)
            for frontend in self.frontends:
                self._stack.callback(frontend.stop)  # runs before the storages' (last in, first out)
                frontend.spawn()
            for frontend in self.frontends:
                frontend.wait_healthy()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()

    def token(self, file_id: str, user: str = REPLICA_USER) -> str:
        token, _ = self.tokens.issue(Principal(user, user.title()), FileId(file_id), PERMISSION_SETS["edit"])
        return token

    def create_files(
        self, names: list[str], contents: bytes = b"", storage: int = 0, owner: str = REPLICA_USER
    ) -> list[str]:
        """Files made directly in storage (gRPC CreateFile, root container) as `owner`, who may then do anything
        with them through a front-end (`token()`); their ids."""
        with self.storages[storage].client(owner) as client:
            root = client.call("GetRootContainer", pb.GetRootContainerRequest())
            return [client.create_file(root.container_id, name, contents).file_id for name in names]  # type: ignore[attr-defined]

    def logs(self) -> str:
        parts = [f"--- storage {s.target}:\n{s.log_tail()}" for s in self.storages]
        parts += [f"--- front-end {f.url}:\n{f.log_tail()}" for f in self.frontends]
        return "\n".join(parts)


# ---- how much a process has received ----

_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST_DUMP = 0x1 | 0x300
_NLMSG_ERROR, _NLMSG_DONE = 2, 3
_INET_DIAG_INFO = 2
_TCP_ESTABLISHED = 1
_BYTES_RECEIVED_OFFSET = 128  # of tcpi_bytes_received in struct tcp_info (Linux 4.1 and later)


def tcp_bytes_received(local_port: int) -> int:
    """The sum of `tcpi_bytes_received` over the established TCP connections whose local port is `local_port`:
    how many bytes their peers have delivered to the process that listens there (what `ss -ti` shows, asked of
    the kernel directly with sock_diag netlink dumps, so no tool needs to be installed). Both address families:
    gRPC serves 127.0.0.1 on an IPv6 socket (as ::ffff:127.0.0.1) where it can."""
    return sum(_bytes_received(family, local_port) for family in (socket.AF_INET, socket.AF_INET6))


def _bytes_received(family: int, local_port: int) -> int:
    request = struct.pack(
        "=BBBBI", family, socket.IPPROTO_TCP, 1 << (_INET_DIAG_INFO - 1), 0, 1 << _TCP_ESTABLISHED
    ) + bytes(48)  # inet_diag_req_v2 with an empty inet_diag_sockid: every socket
    header = struct.pack("=IHHII", 16 + len(request), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST_DUMP, 1, 0)
    total = 0
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, _NETLINK_SOCK_DIAG) as netlink:
        netlink.send(header + request)
        while True:
            data = netlink.recv(1 << 16)
            offset = 0
            while offset < len(data):
                length, kind = struct.unpack_from("=IH", data, offset)
                if kind == _NLMSG_DONE:
                    return total
                if kind == _NLMSG_ERROR:
                    (error,) = struct.unpack_from("=i", data, offset + 16)
                    if family == socket.AF_INET6 and error != 0:
                        return total  # a kernel without IPv6
                    raise OSError(-error, "the kernel refused the sock_diag request")
                message = offset + 16  # struct inet_diag_msg: 4 bytes, then the sockid (sport first)
                (port,) = struct.unpack_from(">H", data, message + 4)
                attribute, end = message + 72, offset + length
                while attribute + 4 <= end:
                    attribute_length, attribute_type = struct.unpack_from("=HH", data, attribute)
                    if attribute_length < 4:
                        break
                    if (
                        attribute_type == _INET_DIAG_INFO
                        and port == local_port
                        and attribute_length - 4 >= _BYTES_RECEIVED_OFFSET + 8
                    ):
                        total += struct.unpack_from("=Q", data, attribute + 4 + _BYTES_RECEIVED_OFFSET)[0]
                    attribute += (attribute_length + 3) & ~3
                offset += (length + 3) & ~3


# ---- backend cases ----


def postgres_url(request: pytest.FixtureRequest) -> str:
    """A new, empty database on the session's PostgreSQL cluster."""
    return str(request.getfixturevalue("postgres_server").fresh_database())


def backend_settings(case: str, request: pytest.FixtureRequest, base: Path) -> BackendSettings:
    """`wopi-storage` settings for a backend case, each on fresh state: a new folder, SQLite file, PostgreSQL
    database or bucket. `request` is the pytest FixtureRequest (for the session's PostgreSQL and SeaweedFS)."""
    base.mkdir(parents=True, exist_ok=True)
    if case == "memory":
        return BackendSettings("memory")
    if case == "filesystem":
        return BackendSettings("filesystem", ["--root", str(base / "documents")])
    if case == "sql-sqlite":
        return BackendSettings("sql", ["--database-url", f"sqlite:///{base / 'wopi.db'}"])
    if case == "sql-postgresql":
        return BackendSettings("sql", env={"WOPI_STORAGE_DATABASE_URL": postgres_url(request)})
    if case in ("s3-seaweedfs", "s3-seaweedfs-postgresql"):
        seaweed = request.getfixturevalue("seaweedfs_server")
        database_url = postgres_url(request) if case.endswith("postgresql") else f"sqlite:///{base / 'metadata.db'}"
        return BackendSettings(
            "s3",
            ["--s3-endpoint", seaweed.endpoint_url, "--s3-bucket", seaweed.fresh_bucket("replicas")],
            env={**seaweed.aws_environ(), "WOPI_STORAGE_DATABASE_URL": database_url},
        )
    raise ValueError(f"unknown backend case {case!r}")

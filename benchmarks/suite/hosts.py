"""A running host per backend: `wopi-storage` with that backend and the front-end before it, each a process on a
loopback port as an operator runs them (the front-end with its defaults), and the files the loads use, made over
gRPC as the user the tokens are minted for (storage enforces access control by default)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx

from benchmarks.suite.load import MIB
from tests.contract.client import StorageClient
from tests.frontend.servers import WopiHost
from tests.frontend.wopi import issuer_of
from tests.replicas.services import BackendSettings, StorageService
from wopi_frontend.types import PERMISSION_SETS, FileId, Principal
from wopi_proto.storage_v1 import storage_pb2 as pb

# filesystem-unix: the filesystem backend reached over a Unix socket, as `wopi-host run` does by default; the
# others over TCP loopback, as compose.yaml runs them.
BACKENDS = ("filesystem", "filesystem-unix", "sql-sqlite", "sql-postgresql", "s3-seaweedfs")
USER = "bench-user"
LOCK_ID = "benchmark-lock"
# The front-end refuses PutFile bodies over 512 MiB by default; the memory run sends 1 GiB.
MAX_FILE_SIZE = 2 * 1024 * MIB


@dataclass
class SharedServices:
    """PostgreSQL and SeaweedFS, started on first need and stopped with `stack`."""

    stack: contextlib.ExitStack
    scratch: Path
    postgres: object | None = None
    seaweedfs: object | None = None

    def database_url(self) -> str:
        if self.postgres is None:
            from tests.infra.postgres import PostgresServer

            self.postgres = self.stack.enter_context(PostgresServer())
        return self.postgres.fresh_database()  # type: ignore[attr-defined, no-any-return]

    def object_store(self) -> tuple[str, str, dict[str, str]]:
        """SeaweedFS's endpoint, a fresh bucket, and the AWS variables that reach it."""
        if self.seaweedfs is None:
            from tests.infra.seaweedfs import SeaweedServer

            self.seaweedfs = self.stack.enter_context(SeaweedServer(self.scratch / "seaweedfs"))
        server = self.seaweedfs
        return server.endpoint_url, server.fresh_bucket("benchmark"), server.aws_environ()  # type: ignore[attr-defined]


def storage_settings(backend: str, base: Path, shared: SharedServices) -> BackendSettings:
    if backend in ("filesystem", "filesystem-unix"):
        return BackendSettings("filesystem", ["--root", str(base / "documents")])
    if backend == "sql-sqlite":
        return BackendSettings("sql", env={"WOPI_STORAGE_DATABASE_URL": f"sqlite:///{base / 'storage.db'}"})
    if backend == "sql-postgresql":
        return BackendSettings("sql", env={"WOPI_STORAGE_DATABASE_URL": shared.database_url()})
    if backend == "s3-seaweedfs":
        endpoint, bucket, aws = shared.object_store()
        database = f"sqlite:///{base / 'metadata.db'}"
        args = ["--s3-endpoint", endpoint, "--s3-bucket", bucket]
        return BackendSettings("s3", args, env={**aws, "WOPI_STORAGE_DATABASE_URL": database})
    raise ValueError(f"unknown backend {backend!r} (one of {', '.join(BACKENDS)})")


@dataclass
class Files:
    """File ids of what the loads use."""

    by_size: dict[int, str] = field(default_factory=dict)  # GetFile sources
    put_targets: dict[int, list[str]] = field(default_factory=dict)  # PutFile targets, locked with LOCK_ID
    save_loop: str = ""  # Lock + PutFile, one client
    container: str = ""  # the big folder, filled by listing.py


class RunningHost:
    """One backend's host, with its files: `url_for` gives a file's WOPI URL with a token for USER."""

    def __init__(self, backend: str, host: WopiHost) -> None:
        self.backend = backend
        self.host = host
        self.files = Files()
        self.http = httpx.Client(timeout=60)
        self._tokens: dict[str, str] = {}

    @property
    def url(self) -> str:
        return self.host.url

    @property
    def storage(self) -> StorageService:
        return self.host.storage  # type: ignore[return-value]

    def storage_client(self, channel: grpc.Channel) -> StorageClient:
        return StorageClient(channel, self.storage.secret, user_id=USER)

    def token(self, file_id: str) -> str:
        if file_id not in self._tokens:
            token, _claims = issuer_of(self.host).issue(Principal(USER, USER), FileId(file_id), PERMISSION_SETS["edit"])
            self._tokens[file_id] = token
        return self._tokens[file_id]

    def path_for(self, file_id: str, suffix: str = "") -> str:
        """/wopi/files/ID[suffix]?access_token=..."""
        return f"/wopi/files/{file_id}{suffix}?access_token={self.token(file_id)}"

    def lock(self, file_id: str) -> None:
        """Take (or refresh: same lock id) the WOPI lock that the PutFile loads write under."""
        headers = {"X-WOPI-Override": "LOCK", "X-WOPI-Lock": LOCK_ID}
        response = self.http.post(self.url + self.path_for(file_id), headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"{self.backend}: LOCK answered {response.status_code}: {response.text[:200]}")

    def make_files(self, sizes: list[int], payloads: dict[int, Path], put_connections: int) -> None:
        """GetFile sources of each size, PutFile targets (one per connection, locked), the save loop's file."""
        with grpc.insecure_channel(self.storage.target) as channel:
            client = self.storage_client(channel)
            root = client.call("GetRootContainer", pb.GetRootContainerRequest()).container_id  # type: ignore[attr-defined]
            for size in sizes:
                self.files.by_size[size] = create(client, root, f"source-{size}.bin", payloads[size])
                count = 1 if size >= 100 * MIB else put_connections
                self.files.put_targets[size] = [
                    create(client, root, f"target-{size}-{n}.bin", payloads[min(sizes)]) for n in range(count)
                ]
            self.files.save_loop = create(client, root, "save-loop.docx", payloads[min(sizes)])
        for file_id in [self.files.save_loop, *(i for ids in self.files.put_targets.values() for i in ids)]:
            self.lock(file_id)
        confirm = self.http.get(self.url + self.path_for(self.files.by_size[min(sizes)]))
        if confirm.status_code != 200 or confirm.json()["Size"] != min(sizes):
            raise RuntimeError(f"{self.backend}: CheckFileInfo is not what the benchmark expects: {confirm.text[:300]}")

    def close(self) -> None:
        self.http.close()


def create(client: StorageClient, container_id: str, name: str, payload: Path) -> str:
    def chunks() -> Iterator[bytes]:
        with payload.open("rb") as source:
            while chunk := source.read(MIB):
                yield chunk

    info = client.create_file(container_id, name, chunks(), timeout=600)
    return info.file_id  # type: ignore[no-any-return]


@contextlib.contextmanager
def running_host(backend: str, base: Path, shared: SharedServices) -> Iterator[RunningHost]:
    base.mkdir(parents=True, exist_ok=True)
    # The file browser's user is the development user, without the login link (WopiHost's default for tests).
    host = WopiHost(base, WOPI_DEV_USER=USER, WOPI_MAX_FILE_SIZE=str(MAX_FILE_SIZE))
    listen = f"unix:{base / 'storage.sock'}" if backend.endswith("-unix") else None
    settings = storage_settings(backend, base, shared)
    host.storage = StorageService(settings, base / "storage.log", listen=listen)  # type: ignore[assignment]
    host.environment.update(WOPI_STORAGE_TARGET=host.storage.target, WOPI_STORAGE_SECRET=host.storage.secret)
    try:
        host.start(timeout=60)
        running = RunningHost(backend, host)
        try:
            yield running
        finally:
            running.close()
    finally:
        host.stop()  # both processes, also when one of them did not start

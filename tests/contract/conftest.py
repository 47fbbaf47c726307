"""Fixtures of the contract suite.

Without options, every test runs once per in-process backend (memory, filesystem, sql on SQLite, sql on a real
PostgreSQL, s3 on a real SeaweedFS), each on a fresh, empty instance (a new database, a new bucket) served over
real gRPC on a loopback port, and once more against a real `wopi-storage` process with
the filesystem backend (one process for the session, as a vendor's adapter would be) and its defaults, access
control on, with the suite's administrator. Tests marked `also_without_access_control` run once more, against
a `wopi-storage` process with `--access-control false`: the only variant where access control is off.

With `--storage-target HOST:PORT` (and `--storage-secret`, or WOPI_STORAGE_TARGET / WOPI_STORAGE_SECRET) every
test runs against that adapter instead. Tests always work inside a fresh container of their own and never
assume the adapter is empty.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest

from tests.contract.client import StorageClient
from tests.contract.inprocess import CONTRACT_ADMIN_PRINCIPAL, IN_PROCESS_BACKENDS, InProcessAdapter
from tests.contract.process import AdapterProcess
from tests.infra.seaweedfs import SeaweedServer
from wopi_proto.storage_v1 import storage_pb2 as pb


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wopi storage contract")
    group.addoption(
        "--storage-target",
        default=os.environ.get("WOPI_STORAGE_TARGET"),
        help="host:port of a running wopi.storage.v1 adapter to certify (default: the in-process backends)",
    )
    group.addoption(
        "--storage-secret",
        default=os.environ.get("WOPI_STORAGE_SECRET"),
        help="shared secret the target expects in 'authorization: Bearer <secret>'",
    )
    group.addoption(
        "--storage-admin-principal",
        default=os.environ.get("WOPI_STORAGE_ADMIN_PRINCIPAL"),
        help="a principal id the target treats as an administrator (the access-control tests of it skip without)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "also_without_access_control: also run against a wopi-storage process with access control off"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "adapter_address" in metafunc.fixturenames:
        target = metafunc.config.getoption("--storage-target")
        params = ["remote"] if target else [*IN_PROCESS_BACKENDS, "wopi-storage-process"]
        if not target and metafunc.definition.get_closest_marker("also_without_access_control"):
            params.append("wopi-storage-process-open")
        metafunc.parametrize("backend_name", params, scope="function")


@dataclass(frozen=True)
class AdapterAddress:
    target: str
    secret: str | None
    admin_principal: str | None = None  # a principal the adapter treats as an administrator, if known


@pytest.fixture(scope="session")
def adapter_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdapterProcess]:
    """`wopi-storage --backend filesystem` on a free loopback port, shared by the session. Its defaults, access
    control on, and one option more: an administrator, whom the access-control tests need."""
    base = tmp_path_factory.mktemp("wopi-storage-process")
    admin = ("--admin-principal", CONTRACT_ADMIN_PRINCIPAL)
    with AdapterProcess("filesystem", base / "root", base / "wopi-storage.log", admin) as process:
        yield process


@pytest.fixture(scope="session")
def open_adapter_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdapterProcess]:
    """`wopi-storage --backend filesystem --access-control false`, shared by the session: an adapter without
    the `access_control` capability, for the tests of what such an adapter reports."""
    base = tmp_path_factory.mktemp("wopi-storage-process-open")
    switched_off = ("--access-control", "false")
    with AdapterProcess("filesystem", base / "root", base / "wopi-storage.log", switched_off) as process:
        yield process


@pytest.fixture(scope="session")
def contract_bucket(seaweedfs_server: SeaweedServer) -> str:
    """One bucket for every s3 test of the session."""
    return seaweedfs_server.fresh_bucket("contract")


@pytest.fixture
def adapter_address(
    backend_name: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AdapterAddress]:
    if backend_name == "remote":
        config = request.config
        yield AdapterAddress(
            config.getoption("--storage-target"),
            config.getoption("--storage-secret"),
            config.getoption("--storage-admin-principal"),
        )
        return
    if backend_name == "wopi-storage-process":
        process = request.getfixturevalue("adapter_process")
        yield AdapterAddress(process.target, process.secret, CONTRACT_ADMIN_PRINCIPAL)
        return
    if backend_name == "wopi-storage-process-open":
        process = request.getfixturevalue("open_adapter_process")
        yield AdapterAddress(process.target, process.secret)
        return
    settings: dict[str, object] = {}
    if backend_name == "sql-postgresql":
        settings["database_url"] = request.getfixturevalue("postgres_server").fresh_database()
    if backend_name == "s3-seaweedfs":
        seaweed = request.getfixturevalue("seaweedfs_server")
        monkeypatch = request.getfixturevalue("monkeypatch")
        for name, value in seaweed.aws_environ().items():  # the S3 client reads the standard AWS variables
            monkeypatch.setenv(name, value)
        root = tmp_path_factory.mktemp("s3-metadata")
        settings.update(
            database_url=f"sqlite:///{root / 'metadata.db'}",
            s3_endpoint=seaweed.endpoint_url,
            s3_bucket=request.getfixturevalue("contract_bucket"),
            # A fresh key prefix per test: a fresh, empty store, without a bucket per test (SeaweedFS gives each
            # bucket volumes of its own, and a few hundred buckets exhaust them).
            s3_prefix=f"{uuid.uuid4().hex}/",
        )
    with InProcessAdapter(backend_name, tmp_path_factory.mktemp(f"{backend_name}-root"), **settings) as adapter:
        yield AdapterAddress(adapter.target, adapter.secret, CONTRACT_ADMIN_PRINCIPAL)


@pytest.fixture
def channel(adapter_address: AdapterAddress) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(adapter_address.target) as opened:
        yield opened


@pytest.fixture
def client(channel: grpc.Channel, adapter_address: AdapterAddress) -> StorageClient:
    return StorageClient(channel, adapter_address.secret)


@pytest.fixture
def caps(client: StorageClient) -> pb.Capabilities:
    return client.call("GetCapabilities", pb.GetCapabilitiesRequest())  # type: ignore[return-value]


@pytest.fixture
def root(client: StorageClient) -> pb.ContainerInfo:
    return client.call("GetRootContainer", pb.GetRootContainerRequest())  # type: ignore[return-value]


@dataclass(frozen=True)
class Workspace:
    """Where a test creates its items: a fresh container when the adapter has containers, else the root.

    `name()` makes names unique to the test, so tests never collide with what a remote adapter already holds.
    """

    container_id: str
    prefix: str

    def name(self, suffix: str) -> str:
        return f"{self.prefix}{suffix}"


@pytest.fixture
def workspace(client: StorageClient, caps: pb.Capabilities, root: pb.ContainerInfo) -> Workspace:
    unique = uuid.uuid4().hex[:10]
    if caps.containers:
        request = pb.CreateContainerRequest(parent_container_id=root.container_id, name=f"contract-{unique}")
        container = client.call("CreateContainer", request)
        return Workspace(container.container_id, "")  # type: ignore[attr-defined]
    return Workspace(root.container_id, f"contract-{unique}-")


def requires(caps: pb.Capabilities, capability: str) -> None:
    """Skip (by advertised capability, never by backend name) when the adapter lacks `capability`."""
    if not getattr(caps, capability):
        pytest.skip(f"the adapter does not advertise '{capability}'")

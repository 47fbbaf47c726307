"""The storage service's Prometheus metrics, scraped over HTTP from a real `wopi-storage` process and read with
prometheus-client's own text-format parser: every StorageService call counted by method and code and timed, the
file bytes read and written, the open streams back at zero once they end, health probes not counted, no id or
secret in any label; off by default (nothing more listens), on by option or variable, loopback by default.

The figures a test reads are recorded before the call's answer leaves the server, so a scrape made after the
answer finds them: no waiting, no timing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from storage_adapter import cli
from storage_adapter.settings import AdapterSettings
from tests.contract.client import StorageClient, expect_error
from tests.contract.process import AdapterProcess
from tests.infra.ports import free_port
from wopi_proto.storage_v1 import storage_pb2 as pb

Samples = Mapping[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    """Every sample at `url`, parsed as Prometheus parses the text format, by name and labels."""
    text = httpx.get(url, timeout=10).raise_for_status().text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 for a series not exported yet (prometheus-client adds a label set on first use)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def listening_ports(pid: int) -> set[int]:
    """The TCP ports process `pid` listens on (its socket descriptors matched against /proc/net/tcp{,6})."""
    inodes = set()
    for descriptor in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(descriptor)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target.removeprefix("socket:[").removesuffix("]"))
    ports = set()
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        for line in table.read_text().splitlines()[1:] if table.exists() else ():
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # state LISTEN, the socket's inode
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


class MeasuredAdapter:
    """`wopi-storage --metrics-port N`, a client of it, and its metrics URL."""

    def __init__(self, base: Path) -> None:
        self.metrics_port = free_port()
        self.process = AdapterProcess(
            "filesystem", base / "root", base / "adapter.log", ("--metrics-port", str(self.metrics_port))
        )
        self.url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        self.channel: grpc.Channel | None = None

    def __enter__(self) -> MeasuredAdapter:
        self.process.start()
        self.channel = grpc.insecure_channel(self.process.target)
        self.client = StorageClient(self.channel, self.process.secret)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.channel is not None:
            self.channel.close()
        self.process.stop()

    def scrape(self) -> Samples:
        return scrape(self.url)

    def root(self) -> str:
        return self.client.call("GetRootContainer", pb.GetRootContainerRequest()).container_id  # type: ignore[attr-defined,no-any-return]


@pytest.fixture(scope="module")
def adapter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MeasuredAdapter]:
    with MeasuredAdapter(Path(tmp_path_factory.mktemp("measured-storage"))) as measured:
        yield measured


def test_each_call_is_counted_by_method_and_code_and_timed(adapter: MeasuredAdapter) -> None:
    file = adapter.client.create_file(adapter.root(), "counted.txt", b"x")
    before = adapter.scrape()
    adapter.client.stat(file.file_id)
    with expect_error(grpc.StatusCode.NOT_FOUND):
        adapter.client.stat("NoSuchFile0123456789")
    after = adapter.scrape()
    assert moved(before, after, "wopi_storage_rpcs_total", method="StatFile", code="OK") == 1
    assert moved(before, after, "wopi_storage_rpcs_total", method="StatFile", code="NOT_FOUND") == 1
    assert moved(before, after, "wopi_storage_rpc_duration_seconds_count", method="StatFile") == 2
    assert moved(before, after, "wopi_storage_rpc_duration_seconds_sum", method="StatFile") > 0
    # Both calls fall in the histogram (its +Inf bucket holds every observation).
    assert moved(before, after, "wopi_storage_rpc_duration_seconds_bucket", method="StatFile", le="+Inf") == 2
    unrelated = {"GetFileContext", "ReadFile", "WriteFile"}
    assert all(moved(before, after, "wopi_storage_rpcs_total", method=m, code="OK") == 0 for m in unrelated)


def test_file_bytes_read_and_written_and_streams_closed(adapter: MeasuredAdapter) -> None:
    contents = os.urandom(300_000)  # several chunks each way
    root = adapter.root()
    before = adapter.scrape()
    file = adapter.client.create_file(root, "bytes.bin", contents)
    adapter.client.write_file(file.file_id, contents[:1000])
    _info, read = adapter.client.read_file(file.file_id)
    after = adapter.scrape()
    assert read == contents[:1000]
    assert moved(before, after, "wopi_storage_written_bytes_total") == len(contents) + 1000
    assert moved(before, after, "wopi_storage_read_bytes_total") == 1000
    for method in ("CreateFile", "WriteFile", "ReadFile"):
        assert moved(before, after, "wopi_storage_rpcs_total", method=method, code="OK") == 1, method
        assert value(after, "wopi_storage_open_streams", method=method) == 0, method


def test_a_refused_write_stores_nothing_and_counts_its_code(adapter: MeasuredAdapter) -> None:
    file = adapter.client.create_file(adapter.root(), "locked.txt", b"")
    adapter.client.lock(file.file_id, "holder")
    before = adapter.scrape()
    with expect_error(grpc.StatusCode.FAILED_PRECONDITION):
        adapter.client.write_file(file.file_id, b"not stored", pb.Preconditions(lock=pb.LockPrecondition(lock_id="x")))
    after = adapter.scrape()
    assert moved(before, after, "wopi_storage_rpcs_total", method="WriteFile", code="FAILED_PRECONDITION") == 1
    assert moved(before, after, "wopi_storage_written_bytes_total") == 0
    assert value(after, "wopi_storage_open_streams", method="WriteFile") == 0


def test_unauthenticated_calls_count_and_health_probes_do_not(adapter: MeasuredAdapter) -> None:
    assert adapter.channel is not None
    before = adapter.scrape()
    with expect_error(grpc.StatusCode.UNAUTHENTICATED):
        StorageClient(adapter.channel, secret=None).call("GetRootContainer", pb.GetRootContainerRequest())
    health_pb2_grpc.HealthStub(adapter.channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    after = adapter.scrape()
    assert moved(before, after, "wopi_storage_rpcs_total", method="GetRootContainer", code="UNAUTHENTICATED") == 1
    assert not any(dict(labels).get("method") == "Check" for _name, labels in after)


def test_no_label_names_an_item_a_principal_or_the_secret(adapter: MeasuredAdapter) -> None:
    file = adapter.client.create_file(adapter.root(), "private-name.txt", b"secret contents")
    adapter.client.read_file(file.file_id)
    text = httpx.get(adapter.url, timeout=10).text
    for needle in (file.file_id, "private-name", adapter.client.user_id, adapter.process.secret, "secret contents"):
        assert needle not in text


def test_metrics_are_off_by_default_nothing_more_listens(tmp_path: Path) -> None:
    with AdapterProcess("filesystem", tmp_path / "root", tmp_path / "adapter.log") as plain:
        assert plain.process is not None
        assert listening_ports(plain.process.pid) == {plain.port}


def test_the_variable_turns_them_on_on_loopback(tmp_path: Path) -> None:
    port = free_port()
    env = {"WOPI_STORAGE_METRICS_PORT": str(port)}
    with AdapterProcess("filesystem", tmp_path / "root", tmp_path / "adapter.log", env=env) as measured:
        assert measured.process is not None
        assert listening_ports(measured.process.pid) == {measured.port, port}
        assert value(scrape(f"http://127.0.0.1:{port}/metrics"), "wopi_storage_read_bytes_total") == 0
        bound = {line.split()[1] for line in Path("/proc/net/tcp").read_text().splitlines()[1:]}
        assert f"0100007F:{port:04X}" in bound  # 127.0.0.1, not every interface


def test_a_metrics_port_in_use_stops_the_start(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = [sys.executable, "-m", "storage_adapter", "--backend", "memory", "--allow-unauthenticated"]
        args += ["--listen", f"127.0.0.1:{free_port()}", "--metrics-port", str(port)]
        result = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert f"cannot serve metrics on 127.0.0.1:{port}" in result.stderr


def settings(argv: list[str], environ: dict[str, str] | None = None) -> AdapterSettings:
    args = cli.build_parser().parse_args(["--allow-unauthenticated", *argv])
    return cli.settings_from(args, environ or {})


def test_the_settings() -> None:
    assert settings([]).metrics_port is None
    assert settings([]).metrics_host == "127.0.0.1"
    assert settings(["--metrics-port", "9464", "--metrics-host", "0.0.0.0"]).metrics_port == 9464
    assert settings([], {"WOPI_STORAGE_METRICS_PORT": "9464"}).metrics_port == 9464
    assert settings(["--metrics-port", "9000"], {"WOPI_STORAGE_METRICS_PORT": "9464"}).metrics_port == 9000
    assert settings([], {"WOPI_STORAGE_METRICS_PORT": ""}).metrics_port is None  # compose's empty default: off
    assert settings([], {"WOPI_STORAGE_METRICS_HOST": "0.0.0.0"}).metrics_host == "0.0.0.0"
    for bad in ("0", "70000", "many"):
        with pytest.raises(ValueError, match="metrics_port"):
            settings([], {"WOPI_STORAGE_METRICS_PORT": bad})

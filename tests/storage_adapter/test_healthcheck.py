"""`python -m storage_adapter.healthcheck`, the container health check: exit 0 only when the adapter answers
SERVING, 1 otherwise (never 2, which Docker reserves), with a one-line reason on stderr."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from storage_adapter import healthcheck
from tests.contract.process import AdapterProcess, free_port


def run_healthcheck(*args: str, **environ: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("WOPI_STORAGE_")}
    return subprocess.run(
        [sys.executable, "-m", "storage_adapter.healthcheck", *args],
        env={**environment, **environ},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def assert_unhealthy(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 1, result
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


@pytest.fixture(scope="module")
def adapter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdapterProcess]:
    base = tmp_path_factory.mktemp("healthcheck")
    with AdapterProcess("filesystem", base / "root", base / "adapter.log") as process:
        yield process


def test_serving_adapter_exits_0(adapter: AdapterProcess) -> None:
    result = run_healthcheck(adapter.target)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_target_defaults_to_the_listen_address_with_wildcard_as_loopback(adapter: AdapterProcess) -> None:
    result = run_healthcheck(WOPI_STORAGE_LISTEN=f"0.0.0.0:{adapter.port}")
    assert (result.returncode, result.stderr) == (0, "")


def test_a_named_service(adapter: AdapterProcess) -> None:
    assert run_healthcheck(adapter.target, "--service", "wopi.storage.v1.StorageService").returncode == 0
    assert_unhealthy(run_healthcheck(adapter.target, "--service", "no.such.Service"), "NOT_FOUND")


def test_nothing_listening_exits_1() -> None:
    started = time.monotonic()
    result = run_healthcheck(f"127.0.0.1:{free_port()}")
    assert_unhealthy(result, "unhealthy:", "UNAVAILABLE")
    assert time.monotonic() - started < 20


def test_nothing_listening_on_the_default_address_exits_1() -> None:
    assert_unhealthy(run_healthcheck(WOPI_STORAGE_LISTEN=f"0.0.0.0:{free_port()}"), "127.0.0.1:")


def test_silent_peer_times_out() -> None:
    """A port that accepts connections but never speaks gRPC: the deadline ends the check."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        started = time.monotonic()
        result = run_healthcheck(f"127.0.0.1:{listener.getsockname()[1]}", "--timeout", "0.5")
        elapsed = time.monotonic() - started
    assert_unhealthy(result)
    assert elapsed < 15


def test_not_serving_exits_1() -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
        assert_unhealthy(run_healthcheck(f"127.0.0.1:{port}"), "NOT_SERVING")
        servicer.set("", health_pb2.HealthCheckResponse.SERVING)
        assert run_healthcheck(f"127.0.0.1:{port}").returncode == 0
    finally:
        server.stop(None)


@pytest.mark.parametrize("argv", [["--timeout", "0"], ["--timeout", "soon"], ["--unknown"], ["a:1", "b:2"]])
def test_bad_arguments_exit_1_not_2(argv: list[str]) -> None:
    result = run_healthcheck(*argv)
    assert result.returncode == 1
    assert result.stderr.strip()


def test_bad_listen_address_exits_1() -> None:
    assert_unhealthy(run_healthcheck(WOPI_STORAGE_LISTEN="no-port-here"), "host:port")


@pytest.mark.parametrize(
    ("listen", "target"),
    [
        ("0.0.0.0:50051", "127.0.0.1:50051"),
        (":50051", "127.0.0.1:50051"),
        ("[::]:50051", "[::1]:50051"),
        (":::50051", "[::1]:50051"),
        ("127.0.0.1:6000", "127.0.0.1:6000"),
        ("storage:50051", "storage:50051"),
        ("[::1]:7000", "[::1]:7000"),
        ("unix:/run/wopi/storage.sock", "unix:/run/wopi/storage.sock"),
    ],
)
def test_probe_target(listen: str, target: str) -> None:
    assert healthcheck.probe_target(listen) == target


def test_an_adapter_on_a_unix_socket_is_probed_there(tmp_path: Path) -> None:
    socket_dir = Path(tempfile.mkdtemp(prefix="wopi-sock-"))  # short: a socket path is at most 107 bytes
    adapter = AdapterProcess(
        "filesystem", tmp_path / "root", tmp_path / "adapter.log", listen=f"unix:{socket_dir / 'storage.sock'}"
    )
    try:
        with adapter:
            for result in (run_healthcheck(adapter.target), run_healthcheck(WOPI_STORAGE_LISTEN=adapter.target)):
                assert (result.returncode, result.stderr) == (0, "")
        assert_unhealthy(run_healthcheck(adapter.target, "--timeout", "1"), adapter.target)  # nothing there now
    finally:
        shutil.rmtree(socket_dir, ignore_errors=True)


def test_main_defaults_to_the_adapter_default(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    monkeypatch.setattr(healthcheck, "check", lambda target, **options: seen.append(target))
    assert healthcheck.main([], {}) == 0
    assert seen == ["127.0.0.1:50051"]


# --- TLS: the adapter started with --tls-cert/--tls-key ----------------------------------------------------------


class TlsAdapterProcess(AdapterProcess):
    """The adapter serving TLS; readiness is probed with the health check itself, over TLS."""

    def __init__(self, base: Path, cert: Path, key: Path) -> None:
        super().__init__(
            "memory", base / "root", base / "adapter.log", ("--tls-cert", str(cert), "--tls-key", str(key))
        )
        self.cert = cert

    def wait_serving(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"wopi-storage exited with {self.process.returncode}: {self.log_tail()}")
            try:
                healthcheck.check(self.target, root_certificates=self.cert.read_bytes(), server_name="storage")
                return
            except healthcheck.HealthcheckError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.05)


@pytest.fixture(scope="module")
def tls_adapter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsAdapterProcess]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a test certificate")
    base = tmp_path_factory.mktemp("healthcheck-tls")
    cert, key = base / "cert.pem", base / "key.pem"
    request = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=storage"]
    subprocess.run(
        [openssl, *request, "-addext", "subjectAltName=DNS:storage", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    with TlsAdapterProcess(base, cert, key) as process:
        yield process


def test_tls_trusts_the_adapter_certificate(tls_adapter: TlsAdapterProcess) -> None:
    cert = str(tls_adapter.cert)
    # The certificate names `storage`, not 127.0.0.1: --server-name says which name to check.
    assert run_healthcheck(tls_adapter.target, "--server-name", "storage", WOPI_STORAGE_TLS_CERT=cert).returncode == 0
    assert run_healthcheck(tls_adapter.target, "--server-name", "storage", "--tls-ca", cert).returncode == 0
    assert_unhealthy(run_healthcheck(tls_adapter.target, WOPI_STORAGE_TLS_CERT=cert), "UNAVAILABLE")
    assert_unhealthy(run_healthcheck(tls_adapter.target))  # plaintext against a TLS port
    assert_unhealthy(run_healthcheck(tls_adapter.target, "--tls-ca", "/nonexistent.pem"), "cannot read")

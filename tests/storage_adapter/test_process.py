"""The `wopi-storage` process as an operator runs it: reflection and health answer (as grpcurl shows), and it
stops cleanly on SIGTERM."""

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.contract.process import AdapterProcess

GRPCURL = shutil.which("grpcurl") or str(Path(sys.executable).parent / "grpcurl")


@pytest.fixture
def adapter(tmp_path: Path) -> AdapterProcess:
    process = AdapterProcess("filesystem", tmp_path / "root", tmp_path / "adapter.log").start()
    yield process
    process.stop()


def grpcurl(*args: str) -> str:
    result = subprocess.run([GRPCURL, "-plaintext", *args], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_reflection_lists_the_storage_service(adapter: AdapterProcess) -> None:
    services = grpcurl(adapter.target, "list").split()
    assert "wopi.storage.v1.StorageService" in services
    assert "grpc.health.v1.Health" in services
    methods = grpcurl(adapter.target, "list", "wopi.storage.v1.StorageService").split()
    assert "wopi.storage.v1.StorageService.WriteFile" in methods


def test_health_reports_serving(adapter: AdapterProcess) -> None:
    for service in ("", "wopi.storage.v1.StorageService"):
        answer = grpcurl("-d", f'{{"service": "{service}"}}', adapter.target, "grpc.health.v1.Health/Check")
        assert '"status": "SERVING"' in answer


def test_calls_without_the_secret_are_refused(adapter: AdapterProcess) -> None:
    result = subprocess.run(
        [GRPCURL, "-plaintext", adapter.target, "wopi.storage.v1.StorageService/GetRootContainer"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode != 0
    assert "Unauthenticated" in result.stderr
    answer = grpcurl(
        "-H",
        f"authorization: Bearer {adapter.secret}",
        adapter.target,
        "wopi.storage.v1.StorageService/GetRootContainer",
    )
    assert "container" in answer


def test_sigterm_stops_cleanly(adapter: AdapterProcess) -> None:
    assert adapter.stop(signal.SIGTERM) == 0
    assert "shutting down" in adapter.log_tail()


def test_second_process_on_the_same_root_is_refused(adapter: AdapterProcess, tmp_path: Path) -> None:
    second = AdapterProcess("filesystem", tmp_path / "root", tmp_path / "second.log")
    with pytest.raises(RuntimeError, match="exited with 1"):
        second.start(timeout=20)
    assert "another" in second.log_tail()

"""A real `wopi-storage` process on a loopback port, for running the contract suite over the network exactly
as a storage vendor would run it against their own adapter."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.infra.ports import free_port


def wait_until_serving(
    target: str, process: subprocess.Popen[bytes], log_tail: Callable[[], str], timeout: float
) -> None:
    """Wait until the adapter at `target` reports SERVING on grpc.health.v1; fail early if it exits."""
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"wopi-storage exited with {process.returncode}: {log_tail()}")
            try:
                answer = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
                if answer.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"wopi-storage did not become ready: {log_tail()}")
            time.sleep(0.05)


class AdapterProcess:
    """`wopi-storage --backend BACKEND --root ROOT --listen 127.0.0.1:PORT`, started and stopped by PID."""

    def __init__(
        self,
        backend: str,
        root: Path,
        log_path: Path,
        extra_args: tuple[str, ...] = (),
        *,
        listen: str | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        """`listen`: where to listen instead of a free loopback port, e.g. `unix:PATH` (then `port` is unused);
        `env`: more environment for the process (a backend's database URL, S3 credentials); `cwd`: where it runs
        (`python -m` puts it first on the import path: another checkout's code, for a benchmark's A/B)."""
        self.env = dict(env or {})
        self.cwd = cwd
        self.secret = secrets.token_urlsafe(24)
        self.port = free_port()
        self.target = listen or f"127.0.0.1:{self.port}"
        self.log_path = log_path
        self.args = [
            sys.executable,
            "-m",
            "storage_adapter",
            "--backend",
            backend,
            "--root",
            str(root),
            "--listen",
            self.target,
            *extra_args,
        ]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> AdapterProcess:
        environment = {**os.environ, **self.env, "WOPI_STORAGE_SECRET": self.secret}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.args, stdout=log, stderr=subprocess.STDOUT, env=environment, cwd=self.cwd
            )
        self.wait_serving(timeout)
        return self

    def wait_serving(self, timeout: float) -> None:
        assert self.process is not None
        wait_until_serving(self.target, self.process, self.log_tail, timeout)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout)

    def __enter__(self) -> AdapterProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

"""The ceilings of benchmarks/ceilings.py and `python -m http.server`, running as processes of their own on
loopback ports for the length of a run, all serving the same large file the hosts serve."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from tests.infra.ports import free_ports


class ReferenceServers:
    """The bare grpc.aio storage, the Starlette app in front of it, and http.server, for `big_file`."""

    def __init__(self, big_file: Path, scratch: Path) -> None:
        scratch.mkdir(parents=True, exist_ok=True)
        self.big_file = big_file
        self.scratch = scratch
        grpc_port, web_port, static_port = free_ports(3)
        self.storage_target = f"127.0.0.1:{grpc_port}"
        self.web_url = f"http://127.0.0.1:{web_port}"
        self.static_url = f"http://127.0.0.1:{static_port}/{big_file.name}"
        ceiling = [sys.executable, "-m", "benchmarks.ceilings"]
        storage_options = ["--listen", self.storage_target, "--file", str(big_file), "--scratch", str(scratch)]
        static_options = [str(static_port), "--bind", "127.0.0.1", "--directory", str(big_file.parent)]
        self.commands = {
            "storage": [*ceiling, "storage", *storage_options],
            "web": [*ceiling, "web", "--port", str(web_port), "--storage", self.storage_target],
            "http.server": [sys.executable, "-m", "http.server", *static_options],
        }
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, timeout: float = 30) -> ReferenceServers:
        try:
            for name, command in self.commands.items():
                with (self.scratch / f"{name}.log").open("ab") as log:
                    self.processes[name] = subprocess.Popen(
                        command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
                    )
            self._wait_ready(f"{self.web_url}/unary", timeout)  # through the web app: both ceiling processes
            self._wait_ready(self.static_url, timeout, method="HEAD")
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, url: str, timeout: float, method: str = "GET") -> None:
        deadline = time.monotonic() + timeout
        while True:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    log = (self.scratch / f"{name}.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"reference server {name} exited with {process.returncode}: {log}")
            try:
                if httpx.request(method, url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"reference server at {url} did not answer in {timeout} s")
            time.sleep(0.05)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        self.processes.clear()

    def __enter__(self) -> ReferenceServers:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

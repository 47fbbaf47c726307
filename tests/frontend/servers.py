"""Both services as real processes on loopback ports: `wopi-storage` (filesystem) and the front-end served by
uvicorn, exactly as an operator runs them. Tests talk to the front-end over real HTTP."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from tests.contract.process import AdapterProcess, free_port


class WopiHost:
    def __init__(
        self,
        base: Path,
        *,
        storage_args: tuple[str, ...] = (),
        storage_backend: str = "filesystem",
        storage_env: dict[str, str] | None = None,
        code: Path | None = None,
        **frontend_env: str,
    ) -> None:
        """`storage_args`: more `wopi-storage` options, e.g. `("--access-control",)`; `storage_backend` and
        `storage_env`: another backend than the filesystem in ./documents, and its settings; `code`: another
        checkout of this project whose code both services run (benchmarks/compare_checkouts.py)."""
        base.mkdir(parents=True, exist_ok=True)
        self.base = base
        self.code = code
        code_path = {"PYTHONPATH": f"{code}{os.pathsep}{code / 'proto' / 'python'}"} if code else {}
        self.storage = AdapterProcess(
            storage_backend,
            base / "documents",
            base / "storage.log",
            storage_args,
            env={**(storage_env or {}), **code_path},
            cwd=code,
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = base / "frontend.log"
        self.environment = {
            **os.environ,
            "WOPI_TOKEN_KEY": secrets.token_urlsafe(32),
            "WOPI_STORAGE_TARGET": self.storage.target,
            "WOPI_STORAGE_SECRET": self.storage.secret,
            "WOPI_PUBLIC_URL": self.url,
            "WOPI_HOST": "127.0.0.1",
            "WOPI_PORT": str(self.port),
            "WOPI_SECRETS_DIR": str(base / "unused-secrets"),
            # A development user (WOPI_DEV_USER) without the login link, for tests of everything else; the
            # login itself is tested against `wopi-host run` (tests/frontend/test_wopi_host_run.py).
            "WOPI_DEV_LOGIN_REQUIRED": "false",
            **code_path,
            **frontend_env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def documents(self) -> Path:
        return self.base / "documents"

    def start(self, timeout: float = 30) -> WopiHost:
        self.storage.start()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "wopi_frontend", "frontend"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.environment,
                cwd=self.code,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the front-end exited with {self.process.returncode}: {self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the front-end did not become ready: {self.log_tail()}")
            time.sleep(0.05)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def token(self, file: str, *, create: bool = True, permission: str = "edit", user: str = "test-user") -> Any:
        """`wopi-host token ...` run as a person would, with the services' configuration; the parsed JSON."""
        args = [sys.executable, "-m", "wopi_frontend", "token", "--file", file, "--permission", permission]
        args += ["--user", user] + (["--create"] if create else [])
        result = subprocess.run(
            args, env=self.environment, cwd=self.code, capture_output=True, text=True, timeout=30, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"wopi-host token failed: {result.stderr}")
        return json.loads(result.stdout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(15)
        self.storage.stop()

    def __enter__(self) -> WopiHost:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

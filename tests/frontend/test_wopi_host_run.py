"""The README's flow: `wopi-host run`, then `wopi-host token ...`, then CheckFileInfo over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.contract.process import free_port


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"wopi-host run exited with {process.returncode}: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"wopi-host run did not become healthy: {log.read_text()[-3000:]}")


def test_run_then_token_then_check_file_info(tmp_path: Path) -> None:
    port, storage_port = free_port(), free_port()
    environment = {
        **os.environ,
        "WOPI_SECRETS_DIR": str(tmp_path / "secrets"),
        "WOPI_STORAGE_TARGET": f"127.0.0.1:{storage_port}",
        "WOPI_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    log = tmp_path / "run.log"
    with log.open("wb") as output:
        run = subprocess.Popen(
            [sys.executable, "-m", "wopi_frontend", "run", "--data", str(tmp_path / "data"), "--port", str(port),
             "--storage-port", str(storage_port)],
            stdout=output, stderr=subprocess.STDOUT, env=environment,
        )  # fmt: skip
    try:
        wait_healthy(f"http://127.0.0.1:{port}", run, log)
        result = subprocess.run(
            [sys.executable, "-m", "wopi_frontend", "token", "--file", "example.wopitest", "--create"],
            env=environment, capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
        session = json.loads(result.stdout)
        assert set(session) == {"wopi_src", "access_token", "access_token_ttl"}
        assert session["access_token"].isalnum()
        assert session["access_token_ttl"] > time.time() * 1000
        response = httpx.get(session["wopi_src"], params={"access_token": session["access_token"]})
        assert response.status_code == 200
        assert response.json()["BaseFileName"] == "example.wopitest"
        assert (tmp_path / "data" / "example.wopitest").is_file()  # a plain file a person can browse
        # `--create` again finds the same file rather than making a second one.
        again = subprocess.run(
            [sys.executable, "-m", "wopi_frontend", "token", "--file", "example.wopitest", "--create"],
            env=environment, capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
        assert json.loads(again.stdout)["wopi_src"] == session["wopi_src"]
    finally:
        run.send_signal(signal.SIGTERM)
        run.wait(30)
    assert run.returncode == 0, log.read_text()[-3000:]
    with pytest.raises(httpx.HTTPError):  # both services are gone
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)


def test_token_for_a_missing_file_without_create_is_a_clear_error(tmp_path: Path) -> None:
    environment = {**os.environ, "WOPI_SECRETS_DIR": str(tmp_path), "WOPI_STORAGE_TARGET": f"127.0.0.1:{free_port()}"}
    result = subprocess.run(
        [sys.executable, "-m", "wopi_frontend", "token", "--file", "missing.docx"],
        env=environment, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "wopi-host" in result.stderr and "Traceback" not in result.stderr

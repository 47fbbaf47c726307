"""The README's flow: `wopi-host run`, then `wopi-host token ...`, then CheckFileInfo over HTTP; the login link
`run` prints for its development user; and how `token` finds the ports of the running `run`."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.contract.process import free_port
from tests.infra.ports import free_ports
from wopi_frontend import run_state


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


@dataclass
class Running:
    """A `wopi-host run` on ports of its own, with `alice` as its development user."""

    url: str
    storage_port: int
    environment: dict[str, str]
    secrets: Path
    data: Path
    log: Path

    def token(self, *args: str, **environment: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "wopi_frontend", "token", *args],
            env={**self.environment, **environment}, capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip

    def login_url(self) -> str:
        match = re.search(r"open (http://\S+/login\?token=\S+)", self.log.read_text())
        assert match, f"no login link printed: {self.log.read_text()[-3000:]}"
        return match.group(1)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    base = tmp_path_factory.mktemp("wopi-host-run")
    port, storage_port = free_ports(2)
    # Nothing in the environment says where `run` listens: `token` must learn it from `run` itself.
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("WOPI_PUBLIC_URL", "WOPI_STORAGE_TARGET", "WOPI_PORT", "WOPI_HOST")
    }
    environment.update({"WOPI_SECRETS_DIR": str(base / "secrets"), "WOPI_DEV_USER": "alice"})
    log = base / "run.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "wopi_frontend", "run", "--data", str(base / "data"), "--port", str(port),
             "--storage-port", str(storage_port)],
            stdout=output, stderr=subprocess.STDOUT, env=environment,
        )  # fmt: skip
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, log)
        yield Running(f"http://127.0.0.1:{port}", storage_port, environment, base / "secrets", base / "data", log)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    assert process.returncode == 0, log.read_text()[-3000:]
    assert not (base / "secrets" / run_state.FILE_NAME).exists()  # removed on exit: no stale ports left behind


def test_the_file_browser_is_only_for_the_browser_that_opened_the_login_link(running: Running) -> None:
    with httpx.Client(base_url=running.url, timeout=30) as stranger:
        refused = stranger.get("/")  # another local account, or a page on another site: no cookie
        assert refused.status_code == 401
        assert "login link" in refused.text and "wopi-host run" in refused.text
        assert stranger.get("/browse/versions/abc").status_code == 401
        wrong = stranger.get("/login", params={"token": "not-the-secret"}, follow_redirects=False)
        assert wrong.status_code == 403 and "set-cookie" not in wrong.headers
    login_url = running.login_url()
    assert login_url.startswith(f"{running.url}/login?token=")
    secret = login_url.rpartition("=")[2]
    with httpx.Client(timeout=30) as person:
        login = person.get(login_url, follow_redirects=False)
        assert login.status_code == 303
        assert login.headers["location"] == "/"  # the secret leaves the address bar, and is in no header
        assert secret not in str(login.headers) and "httponly" in login.headers["set-cookie"].lower()
        listing = person.get(f"{running.url}/")
        assert listing.status_code == 200 and "alice" in listing.text
    log = running.log.read_text()
    assert log.count(secret) == 1, "the secret appears only in the printed link, never in a log line"


def test_token_uses_the_ports_of_the_running_run(running: Running) -> None:
    result = running.token("--file", "ports.wopitest", "--create")
    assert result.returncode == 0, result.stderr
    session = json.loads(result.stdout)
    assert session["wopi_src"].startswith(f"{running.url}/wopi/files/")  # not the default port 8080
    response = httpx.get(session["wopi_src"], params={"access_token": session["access_token"]})
    assert response.status_code == 200 and response.json()["BaseFileName"] == "ports.wopitest"
    assert (running.data / "ports.wopitest").is_file()  # created through run's storage port, not 50051
    assert stat.S_IMODE((running.secrets / run_state.FILE_NAME).stat().st_mode) == 0o600  # beside the secrets
    # Asked explicitly for other ports than the running `run` uses: said so, never silently used.
    for environment, named in [
        ({"WOPI_PUBLIC_URL": "http://127.0.0.1:8080"}, "http://127.0.0.1:8080"),
        ({"WOPI_STORAGE_TARGET": "127.0.0.1:50051"}, "127.0.0.1:50051"),
    ]:
        mismatch = running.token("--file", "ports.wopitest", **environment)
        assert mismatch.returncode != 0 and mismatch.stdout == ""
        assert named in mismatch.stderr and "wopi-host run" in mismatch.stderr and "Traceback" not in mismatch.stderr
    mismatch = running.token("--file", "ports.wopitest", "--public-url", "http://localhost:1")
    assert mismatch.returncode != 0 and "http://localhost:1" in mismatch.stderr
    same = running.token("--file", "ports.wopitest", WOPI_PUBLIC_URL=running.url + "/")
    assert same.returncode == 0, same.stderr


def test_a_record_left_by_a_killed_run_is_ignored(tmp_path: Path) -> None:
    path = run_state.write(tmp_path, "http://127.0.0.1:9000", "127.0.0.1:9001")
    assert run_state.read(tmp_path) == run_state.RunState("http://127.0.0.1:9000", "127.0.0.1:9001", os.getpid())
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "pid": int(finished.stdout)}))
    assert run_state.read(tmp_path) is None  # its process is gone: `token` falls back to the configuration


def test_run_meets_its_storage_on_a_private_unix_socket_by_default(tmp_path: Path) -> None:
    """Without --storage-port the two services talk over a Unix domain socket in a folder only this user can
    enter (the shared secret is still required); `token` reaches it too, and it is gone when `run` ends."""
    port = free_port()
    environment = {
        name: value for name, value in os.environ.items() if name not in ("WOPI_STORAGE_TARGET", "WOPI_PUBLIC_URL")
    }
    environment["WOPI_SECRETS_DIR"] = str(tmp_path / "secrets")
    log = tmp_path / "run.log"
    with log.open("wb") as output:
        run = subprocess.Popen(
            [sys.executable, "-m", "wopi_frontend", "run", "--data", str(tmp_path / "data"), "--port", str(port)],
            stdout=output, stderr=subprocess.STDOUT, env=environment,
        )  # fmt: skip
    try:
        wait_healthy(f"http://127.0.0.1:{port}", run, log)
        state = run_state.read(tmp_path / "secrets")
        assert state is not None and state.storage_target.startswith("unix:/")
        socket_path = Path(state.storage_target.removeprefix("unix:"))
        assert stat.S_ISSOCK(socket_path.stat().st_mode)
        assert stat.S_IMODE(socket_path.parent.stat().st_mode) == 0o700
        result = subprocess.run(
            [sys.executable, "-m", "wopi_frontend", "token", "--file", "socket.wopitest", "--create"],
            env=environment, capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
        session = json.loads(result.stdout)
        response = httpx.get(session["wopi_src"], params={"access_token": session["access_token"]})
        assert response.status_code == 200 and response.json()["BaseFileName"] == "socket.wopitest"
        contents = os.urandom(2 * 1024 * 1024 + 7)  # more than one message each way
        locked = httpx.post(
            session["wopi_src"],
            params={"access_token": session["access_token"]},
            headers={"X-WOPI-Override": "LOCK", "X-WOPI-Lock": "socket-lock"},
        )
        assert locked.status_code == 200
        saved = httpx.post(
            session["wopi_src"] + "/contents",
            params={"access_token": session["access_token"]},
            headers={"X-WOPI-Override": "PUT", "X-WOPI-Lock": "socket-lock"},
            content=contents,
        )
        assert saved.status_code == 200, saved.text
        read = httpx.get(session["wopi_src"] + "/contents", params={"access_token": session["access_token"]})
        assert read.status_code == 200 and read.content == contents
    finally:
        run.send_signal(signal.SIGTERM)
        run.wait(30)
    assert run.returncode == 0, log.read_text()[-3000:]
    assert not socket_path.parent.exists()  # the socket's folder goes with the run

"""A throwaway PostgreSQL cluster for tests: started in a temp dir on a free 127.0.0.1 port, stopped at the end.

No Docker: the Debian `postgresql` package's binaries are run directly (see /work/shared/infra.md). `initdb`
refuses to run as root, so as root the cluster is created and run as the `postgres` user (`runuser`), in a
directory that user owns. Durability is switched off (fsync=off): the data is thrown away.

Use the session-scoped fixture `postgres_server` (register it by importing it into a conftest or test module)
and call `fresh_database()` for a new, empty database per test. If the binaries are missing or the server
cannot start, this raises with the reason: tests that need PostgreSQL never skip silently.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import pytest

from tests.infra.ports import free_port

BIN_GLOB_ROOT = Path("/usr/lib/postgresql")
SERVICE_USER = "postgres"


def find_bin_dir() -> Path:
    """The newest installed server's `bin` directory, or $POSTGRES_BIN_DIR."""
    override = os.environ.get("POSTGRES_BIN_DIR")
    candidates = [Path(override)] if override else []
    if BIN_GLOB_ROOT.is_dir():
        versions = [path for path in BIN_GLOB_ROOT.iterdir() if path.name.split(".")[0].isdigit()]
        versions.sort(key=lambda path: [int(part) for part in path.name.split(".") if part.isdigit()], reverse=True)
        candidates += [path / "bin" for path in versions]
    for candidate in candidates:
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    raise RuntimeError(
        "PostgreSQL server binaries not found (looked for initdb and pg_ctl under "
        f"{override or BIN_GLOB_ROOT / '<version>/bin'}); install them with `apt-get install -y postgresql`"
    )


class PostgresServer:
    """One PostgreSQL cluster. `url` connects to its `postgres` database as the superuser `postgres`."""

    def __init__(self, bin_dir: Path | None = None, start_timeout: float = 30) -> None:
        self.bin_dir = bin_dir
        self.start_timeout = start_timeout
        self.password = secrets.token_hex(16)
        self.port = 0
        self.base: Path | None = None
        self._started = False

    @property
    def url(self) -> str:
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/{database}"

    # ---- life cycle ----

    def start(self) -> PostgresServer:
        bin_dir = self.bin_dir or find_bin_dir()
        self.bin_dir = bin_dir
        self.base = Path(tempfile.mkdtemp(prefix="wopi-pg-"))
        atexit.register(self.stop)  # a test run that dies still stops its server
        try:
            self._init_cluster()
            last_error = ""
            for _ in range(3):  # a free port can be taken by someone else before the server binds it
                self.port = free_port()
                last_error = self._pg_ctl_start()
                if not last_error:
                    self._started = True
                    return self
            raise RuntimeError(f"PostgreSQL did not start: {last_error}")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (pg_ctl, then the postmaster's PID if need be) and remove its files. Idempotent."""
        atexit.unregister(self.stop)
        base, self.base = self.base, None
        if base is None:
            return
        data = base / "data"
        if self._started:
            self._started = False
            stopped = self._run(["pg_ctl", "-D", str(data), "-m", "fast", "-w", "-t", "30", "stop"], check=False)
            if stopped.returncode != 0:
                self._kill_postmaster(data)
        shutil.rmtree(base, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    # ---- databases ----

    def fresh_database(self) -> str:
        """Create a new, empty database with a unique name and return its URL."""
        import psycopg

        name = f"test_{secrets.token_hex(8)}"
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    # ---- helpers ----

    def _as_service_user(self) -> bool:
        return os.geteuid() == 0

    def _run(self, command: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert self.bin_dir is not None
        argv = [str(self.bin_dir / command[0]), *command[1:]]
        if self._as_service_user():
            argv = ["runuser", "-u", SERVICE_USER, "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        if check and result.returncode != 0:
            raise RuntimeError(f"{command[0]} failed ({result.returncode}): {result.stderr.strip() or result.stdout}")
        return result

    def _init_cluster(self) -> None:
        assert self.base is not None
        password_file = self.base / "password"
        password_file.write_text(self.password)
        if self._as_service_user():
            try:
                service = pwd.getpwnam(SERVICE_USER)
            except KeyError:
                raise RuntimeError(
                    f"running as root, and there is no {SERVICE_USER!r} user to run PostgreSQL"
                ) from None
            # mkdtemp makes the directory 0700: the service user must reach it (and every parent) to use it.
            for parent in [self.base, *self.base.parents]:
                mode = parent.stat().st_mode
                if mode & 0o011 != 0o011 and parent != self.base:
                    os.chmod(parent, mode | 0o011)
            os.chown(self.base, service.pw_uid, service.pw_gid)
            os.chown(password_file, service.pw_uid, service.pw_gid)
        os.chmod(password_file, 0o600)
        self._run(
            [
                "initdb",
                "-D",
                str(self.base / "data"),
                "-U",
                "postgres",
                f"--pwfile={password_file}",
                "--auth-host=scram-sha-256",
                "--auth-local=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )

    def _pg_ctl_start(self) -> str:
        """Start on `self.port`; '' when the server is up, else the reason it is not."""
        assert self.base is not None
        log = self.base / "postgres.log"
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.base} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=300"
        )
        command = ["pg_ctl", "-D", str(self.base / "data"), "-l", str(log), "-w", "-t", str(int(self.start_timeout))]
        result = self._run([*command, "-o", options, "start"], check=False)
        if result.returncode == 0 and self._accepts_connections():
            return ""
        self._run(["pg_ctl", "-D", str(self.base / "data"), "-m", "immediate", "-w", "stop"], check=False)
        log_tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        return f"pg_ctl exited {result.returncode}: {result.stderr.strip()}\n{log_tail}"

    def _accepts_connections(self) -> bool:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
            time.sleep(0.05)
        return False

    @staticmethod
    def _kill_postmaster(data: Path) -> None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((data / "postmaster.pid").read_text().splitlines()[0])
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL cluster for the test session; each test takes `fresh_database()` of its own."""
    with PostgresServer() as server:
        yield server

"""Peak memory and throughput of `wopi-storage` while one large file is written and read back over gRPC.

    python -m benchmarks.storage_memory [--size-mib 1024] [--backend filesystem]   (from the repository root)
    python -m benchmarks.storage_memory --backend sql [--database-url URL | --postgres]
    python -m benchmarks.storage_memory --backend s3 [--database-url URL | --postgres]
    python -m benchmarks.storage_memory --all --size-mib 100

Starts a real `wopi-storage` process on a loopback port, streams SIZE MiB into it with CreateFile (1 MiB chunks
made on the fly), reads it all back with ReadFile (hashing, never keeping it), and reads the server's resident
memory from /proc: the baseline after a warm-up, and the peak (VmHWM) over the whole run. The contents never
exist whole in either process, so the peak should stay within a few tens of MB of the baseline (except with the
`memory` backend, which keeps every file in memory by design).

Backends: `memory`; `filesystem` (a scratch folder); `sql` on a scratch SQLite file, on `--database-url`, or with
`--postgres` on a throwaway PostgreSQL cluster (tests/infra/postgres.py); `s3` on a throwaway SeaweedFS
(tests/infra/seaweedfs.py) with its metadata in SQLite (or `--database-url` / `--postgres`). `--all` measures
memory, filesystem, sql/SQLite, sql/PostgreSQL and s3/SeaweedFS one after the other and prints a markdown table.
Everything started is stopped at the end, by PID.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import grpc

from tests.contract.client import StorageClient
from tests.contract.process import AdapterProcess
from wopi_proto.storage_v1 import storage_pb2 as pb

if TYPE_CHECKING:
    from tests.infra.postgres import PostgresServer
    from tests.infra.seaweedfs import SeaweedServer

MIB = 1024 * 1024


def memory_of(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak resident set) of a process, in bytes."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) * 1024
    return values


def pattern(size: int, chunk: int = MIB) -> Iterator[bytes]:
    """Deterministic, incompressible-looking data, made one chunk at a time."""
    block = hashlib.sha256(b"wopi").digest() * (chunk // 32)
    sent = 0
    counter = 0
    while sent < size:
        piece = counter.to_bytes(8, "big") + block[8 : min(chunk, size - sent)]
        counter += 1
        sent += len(piece)
        yield piece


@dataclass
class Measurement:
    size: int
    baseline_rss: int
    peak_rss: int
    write_seconds: float
    read_seconds: float

    @property
    def growth(self) -> int:
        return self.peak_rss - self.baseline_rss

    def report(self) -> str:
        mib = self.size / MIB
        return (
            f"{mib:.0f} MiB: write {self.write_seconds:.1f} s ({mib / self.write_seconds:.0f} MiB/s), "
            f"read {self.read_seconds:.1f} s ({mib / self.read_seconds:.0f} MiB/s); "
            f"adapter RSS baseline {self.baseline_rss / MIB:.1f} MiB, peak {self.peak_rss / MIB:.1f} MiB, "
            f"growth {self.growth / MIB:.1f} MiB"
        )


class RunningAdapter(Protocol):
    """What `measure` needs of a started adapter process (`AdapterProcess`, or `tests.replicas.services.
    StorageService`)."""

    process: object
    target: str
    secret: str


def measure(adapter: AdapterProcess | RunningAdapter, size: int) -> Measurement:
    assert adapter.process is not None
    pid: int = adapter.process.pid  # type: ignore[attr-defined]
    with grpc.insecure_channel(adapter.target) as channel:
        client = StorageClient(channel, adapter.secret)
        root = client.call("GetRootContainer", pb.GetRootContainerRequest())
        warm = client.create_file(root.container_id, "warm-up.bin", pattern(8 * MIB))  # type: ignore[attr-defined]
        client.read_file(warm.file_id)
        time.sleep(0.2)
        baseline = memory_of(pid)["VmRSS"]

        expected = hashlib.sha256()

        def chunks() -> Iterator[bytes]:
            for piece in pattern(size):
                expected.update(piece)
                yield piece

        started = time.perf_counter()
        created = client.create_file(root.container_id, "large.bin", chunks(), timeout=3600)  # type: ignore[attr-defined]
        written = time.perf_counter()
        actual = hashlib.sha256()
        received = 0
        request = pb.ReadFileRequest(file_id=created.file_id)
        for message in client.call("ReadFile", request, timeout=3600):  # type: ignore[attr-defined]
            actual.update(message.data)
            received += len(message.data)
        read = time.perf_counter()
    if received != size or actual.digest() != expected.digest():
        raise AssertionError(f"read back {received} bytes that differ from the {size} bytes written")
    return Measurement(size, baseline, memory_of(pid)["VmHWM"], written - started, read - written)


# ---- backends ----

ALL_CASES = ("memory", "filesystem", "sql/SQLite", "sql/PostgreSQL", "s3/SeaweedFS")


@contextlib.contextmanager
def started_adapter(
    case: str, scratch: Path, services: contextlib.ExitStack, database_url: str | None = None
) -> Iterator[RunningAdapter]:
    """`wopi-storage` for one case (`memory`, `filesystem`, `sql/SQLite`, `sql/PostgreSQL`, `s3/SeaweedFS`,
    `s3/SeaweedFS+PostgreSQL`), on fresh state in `scratch`. PostgreSQL and SeaweedFS are started on first need
    and kept in `services` (stopped when it closes); `database_url`, if given, is used instead of either
    database."""
    from tests.replicas.services import BackendSettings, StorageService

    scratch.mkdir(parents=True, exist_ok=True)
    backend, _, variant = case.partition("/")

    def metadata_url() -> str:
        if database_url:
            return database_url
        if "PostgreSQL" in variant:
            return postgres(services).fresh_database()
        return f"sqlite:///{scratch / 'metadata.db'}"

    if backend in ("memory", "filesystem"):
        settings = BackendSettings(backend, ["--root", str(scratch / "root")])
    elif backend == "sql":
        settings = BackendSettings("sql", env={"WOPI_STORAGE_DATABASE_URL": metadata_url()})
    elif backend == "s3":
        seaweed = seaweedfs(services, scratch.parent)
        settings = BackendSettings(
            "s3",
            ["--s3-endpoint", seaweed.endpoint_url, "--s3-bucket", seaweed.fresh_bucket("benchmark")],
            env={**seaweed.aws_environ(), "WOPI_STORAGE_DATABASE_URL": metadata_url()},
        )
    else:
        raise SystemExit(f"unknown backend {case!r}")
    adapter = StorageService(settings, scratch / "adapter.log")
    try:
        yield adapter.start()  # type: ignore[misc]
    finally:
        adapter.stop()


_postgres: list[PostgresServer] = []  # started at most once per run, stopped by `services`
_seaweedfs: list[SeaweedServer] = []


def postgres(services: contextlib.ExitStack) -> PostgresServer:
    """A throwaway PostgreSQL cluster, started once (`fresh_database()` gives each run its own database)."""
    if not _postgres:
        from tests.infra.postgres import PostgresServer

        _postgres.append(services.enter_context(PostgresServer()))
        services.callback(_postgres.clear)
    return _postgres[0]


def seaweedfs(services: contextlib.ExitStack, scratch: Path) -> SeaweedServer:
    """A throwaway SeaweedFS (`fresh_bucket()` gives each run its own bucket)."""
    if not _seaweedfs:
        from tests.infra.seaweedfs import SeaweedServer

        _seaweedfs.append(services.enter_context(SeaweedServer(scratch / "seaweedfs")))
        services.callback(_seaweedfs.clear)
    return _seaweedfs[0]


def table(results: list[tuple[str, Measurement]]) -> str:
    lines = [
        "| backend | size | write s | read s | write MiB/s | read MiB/s "
        "| baseline RSS MiB | peak RSS MiB | growth MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for case, result in results:
        mib = result.size / MIB
        lines.append(
            f"| {case} | {mib:.0f} MiB | {result.write_seconds:.2f} | {result.read_seconds:.2f} "
            f"| {mib / result.write_seconds:.0f} | {mib / result.read_seconds:.0f} "
            f"| {result.baseline_rss / MIB:.1f} | {result.peak_rss / MIB:.1f} | {result.growth / MIB:.1f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--backend", default="filesystem", choices=["memory", "filesystem", "sql", "s3"])
    parser.add_argument("--database-url", help="sql and s3: the metadata database (default: a scratch SQLite file)")
    parser.add_argument("--postgres", action="store_true", help="sql and s3: metadata in a throwaway PostgreSQL")
    parser.add_argument("--all", action="store_true", help=f"measure each of: {', '.join(ALL_CASES)}")
    args = parser.parse_args()
    if args.all:
        cases = list(ALL_CASES)
    elif args.backend in ("sql", "s3"):
        database = "PostgreSQL" if args.postgres else ("URL" if args.database_url else "SQLite")
        cases = [f"{args.backend}/{'SeaweedFS+' if args.backend == 's3' else ''}{database}"]
    else:
        cases = [args.backend]
    results: list[tuple[str, Measurement]] = []
    with tempfile.TemporaryDirectory() as scratch, contextlib.ExitStack() as services:
        for number, case in enumerate(cases):
            url = None if args.all else args.database_url
            with started_adapter(case, Path(scratch) / f"run-{number}", services, url) as adapter:
                result = measure(adapter, args.size_mib * MIB)
            print(f"{case}: {result.report()}", flush=True)
            results.append((case, result))
    if len(results) > 1:
        print()
        print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

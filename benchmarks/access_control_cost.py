"""What storage's access control costs CheckFileInfo: requests/s and p50/p99 with the check off and on, same run.

    python -m benchmarks.access_control_cost [--rounds 3] [--seconds 5] [--connections 16] [--backend sql]

For each backend (filesystem, and sql on a scratch SQLite file), starts two hosts side by side, both services each
on loopback ports: storage with `--access-control false` on one and `--access-control true` on the other. On both,
alice owns shared/project/report.docx and bob holds an edit token for it; on the guarded host bob may use the file
only through an editor grant on `shared`, two levels above it, so every check walks the file's parents.

wrk (apt-get install wrk) measures bob's CheckFileInfo on each host in turn, for several rounds; the order flips
each round so that drift on a busy machine falls on both alike. The figures are medians over the rounds, and the
ratio is guarded / unguarded requests/s. A third row, bob with a view token on the guarded host, splits the cost:
with an edit token the front-end makes one storage call more when storage enforces access control (GetContainer,
for UserCanNotWriteRelative), with a view token it does not, so that row is storage's checks alone.

Each run also reads from /proc the CPU time storage and the front-end spent per request, a figure that other
work on a shared machine disturbs far less than requests/s. Everything started is stopped at the end, by PID.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import astuple, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import grpc
import httpx

from benchmarks.suite import load
from tests.contract.process import AdapterProcess
from tests.frontend.servers import WopiHost
from tests.frontend.wopi import issuer_of
from wopi_frontend.types import PERMISSION_SETS, FileId, Principal
from wopi_proto.storage_v1 import storage_pb2 as pb
from wopi_proto.storage_v1 import storage_pb2_grpc as pb_grpc

BACKENDS = ("filesystem", "sql")
OWNER = "alice"
READER = "bob"  # reaches the file only through the grant on the folder two levels above it
STRANGER = "carol"  # no grant: the guarded host must answer 404
DOCUMENT = b"a short report" * 64
CLOCK_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Measurement:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    storage_cpu_ms: float  # per request
    frontend_cpu_ms: float


@dataclass
class Side:
    """One host and token that wrk asks for CheckFileInfo, with its runs so far."""

    label: str
    host: WopiHost
    url: str
    runs: list[Measurement] = field(default_factory=list)

    def measure(self, seconds: int, connections: int) -> Measurement:
        storage, frontend = self.host.storage.process, self.host.process
        assert storage is not None and frontend is not None
        before = cpu_seconds(storage.pid), cpu_seconds(frontend.pid)
        parts = urlsplit(self.url)
        base, path = f"{parts.scheme}://{parts.netloc}", f"{parts.path}?{parts.query}"
        measured = load.wrk(base, [load.Request(path)], seconds, connections)
        after = cpu_seconds(storage.pid), cpu_seconds(frontend.pid)
        assert measured.requests and measured.p50_ms is not None and measured.p99_ms is not None
        storage_ms, frontend_ms = (
            (end - start) * 1000 / measured.requests for start, end in zip(before, after, strict=True)
        )
        return Measurement(measured.value, measured.p50_ms, measured.p99_ms, storage_ms, frontend_ms)

    def median(self) -> Measurement:
        """Each figure's median over the runs."""
        return Measurement(*(statistics.median(column) for column in zip(*map(astuple, self.runs), strict=True)))


def host_for(base: Path, backend: str, access_control: bool) -> WopiHost:
    """A host whose storage runs `backend` with access control explicitly on or off (the default may change)."""
    flag = ("--access-control", "true" if access_control else "false")
    host = WopiHost(base, storage_args=flag)
    if backend != "filesystem":
        # WopiHost starts the filesystem backend; another backend needs only another storage process, and the
        # front-end's environment pointed at it.
        database = ("--database-url", f"sqlite:///{base / 'storage.db'}")
        host.storage = AdapterProcess(backend, host.documents, base / "storage.log", (*flag, *database))
        host.environment.update(WOPI_STORAGE_TARGET=host.storage.target, WOPI_STORAGE_SECRET=host.storage.secret)
    return host


def shared_file(host: WopiHost, *, grant: bool) -> str:
    """alice's shared/project/report.docx, made over gRPC as alice; with `grant`, an editor grant for bob on
    `shared`. The file's id."""
    metadata = (("authorization", f"Bearer {host.storage.secret}"), ("x-wopi-principal-id", OWNER))
    with grpc.insecure_channel(host.storage.target) as channel:
        stub = pb_grpc.StorageServiceStub(channel)
        container_id = stub.GetRootContainer(pb.GetRootContainerRequest(), metadata=metadata, timeout=30).container_id
        folders = []
        for name in ("shared", "project"):
            request = pb.CreateContainerRequest(parent_container_id=container_id, name=name)
            container_id = stub.CreateContainer(request, metadata=metadata, timeout=30).container_id
            folders.append(container_id)
        upload = [
            pb.CreateFileRequest(header=pb.CreateFileHeader(container_id=container_id, name="report.docx")),
            pb.CreateFileRequest(data=DOCUMENT),
            pb.CreateFileRequest(end=pb.ContentEnd(size=len(DOCUMENT))),
        ]
        file = stub.CreateFile(iter(upload), metadata=metadata, timeout=30)
        if grant:
            grantee = pb.Grantee(user_id=READER)
            sharing = pb.GrantAccessRequest(container_id=folders[0], grantee=grantee, role=pb.ROLE_EDITOR)
            stub.GrantAccess(sharing, metadata=metadata, timeout=30)
    return file.file_id  # type: ignore[no-any-return]


def check_file_info_url(host: WopiHost, file_id: str, user: str, permission: str = "edit") -> str:
    """CheckFileInfo's URL with a token for `user` (an edit token: the most a token grants, storage decides)."""
    token, _claims = issuer_of(host).issue(Principal(user, user), FileId(file_id), PERMISSION_SETS[permission])
    return f"{host.url}/wopi/files/{file_id}?access_token={token}"


def confirm(side: Side, can_write: bool) -> None:
    info = httpx.get(side.url, timeout=30).raise_for_status().json()
    if info["UserCanWrite"] is not can_write or info["Size"] != len(DOCUMENT):
        raise SystemExit(f"{side.label}: bob's CheckFileInfo is not what the benchmark expects: {info}")


def confirm_stranger(host: WopiHost, file_id: str, guarded: bool) -> None:
    """Measure only what the labels say: only the guarded host refuses carol, who has no grant."""
    status = httpx.get(check_file_info_url(host, file_id, STRANGER), timeout=30).status_code
    if status != (404 if guarded else 200):
        raise SystemExit(f"carol's CheckFileInfo answered {status}: access control is not as labelled")


@contextlib.contextmanager
def sides(scratch: Path, backend: str) -> Iterator[list[Side]]:
    """The unguarded host, the guarded one, and the guarded one with a view token, all running and confirmed."""
    with (
        host_for(scratch / f"{backend}-off", backend, access_control=False) as off_host,
        host_for(scratch / f"{backend}-on", backend, access_control=True) as on_host,
    ):
        off_file, on_file = shared_file(off_host, grant=False), shared_file(on_host, grant=True)
        confirm_stranger(off_host, off_file, guarded=False)
        confirm_stranger(on_host, on_file, guarded=True)
        measured = [
            Side("off", off_host, check_file_info_url(off_host, off_file, READER)),
            Side("on", on_host, check_file_info_url(on_host, on_file, READER)),
            Side("on, view token", on_host, check_file_info_url(on_host, on_file, READER, "view")),
        ]
        for side, can_write in zip(measured, (True, True, False), strict=True):
            confirm(side, can_write)
        yield measured


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process `pid` so far (/proc/PID/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_SECOND


def measure(backend: str, scratch: Path, args: argparse.Namespace) -> list[Side]:
    with sides(scratch, backend) as measured:
        for side in measured:  # warm-up: connections, caches, and the first requests' imports
            side.measure(1, args.connections)
        for round_number in range(args.rounds):
            for side in measured if round_number % 2 == 0 else measured[::-1]:
                run = side.measure(args.seconds, args.connections)
                side.runs.append(run)
                print(
                    f"  {backend} round {round_number + 1}, access control {side.label:14}: "
                    f"{run.requests_per_second:5.0f} requests/s, p50 {run.p50_ms:6.2f} ms, p99 {run.p99_ms:6.2f} ms, "
                    f"CPU per request: storage {run.storage_cpu_ms:.2f} ms, front-end {run.frontend_cpu_ms:.2f} ms",
                    flush=True,
                )
        return measured


def report(results: dict[str, list[Side]], args: argparse.Namespace) -> None:
    print(
        f"\nCheckFileInfo, {args.connections} connections, medians of {args.rounds} rounds x {args.seconds} s; "
        "on: grant on the folder two levels above the file"
    )
    print("| backend | access control | requests/s | p50 ms | p99 ms | storage CPU ms/req | front-end CPU ms/req |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for backend, measured in results.items():
        for side in measured:
            m = side.median()
            print(
                f"| {backend} | {side.label} | {m.requests_per_second:.0f} | {m.p50_ms:.2f} | {m.p99_ms:.2f} "
                f"| {m.storage_cpu_ms:.2f} | {m.frontend_cpu_ms:.2f} |"
            )
    for backend, (off, *guarded) in results.items():
        before = off.median()
        for side in guarded:
            after = side.median()
            rate = after.requests_per_second / before.requests_per_second
            print(
                f"{backend}, {side.label} / off: requests/s {rate:.2f}"
                f", storage CPU per request {after.storage_cpu_ms / before.storage_cpu_ms:.2f}"
                f", front-end CPU per request {after.frontend_cpu_ms / before.frontend_cpu_ms:.2f}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--backend", action="append", choices=BACKENDS, help="repeatable (default: filesystem and sql/SQLite)"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for backend in args.backend or BACKENDS:
            results[backend] = measure(backend, Path(scratch), args)
    report(results, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

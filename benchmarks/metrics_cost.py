"""What Prometheus metrics cost CheckFileInfo and GetFile: requests/s, p50/p99 and CPU per request, metrics off and
on, side by side in one run.

    python -m benchmarks.metrics_cost [--rounds 5] [--seconds 5] [--connections 16] [--together]

Starts two hosts (each `wopi-storage` on the filesystem and the front-end, as WopiHost runs them), the same but for
the metrics: off on one; on the other, both services' metrics ports (WOPI_METRICS_PORT, `wopi-storage
--metrics-port`), scraped after each of its runs as Prometheus would, and checked: the front-end's request counter
moved by at least what wrk completed. Each host has one 10 KiB file and an edit token for it. wrk measures
CheckFileInfo and GetFile on each host in turn, for several rounds, the order flipping each round so that drift on
a shared machine falls on both alike; the figures are medians over the rounds, with the CPU time each host's two
processes spent per request (read from /proc, which other work on the machine disturbs far less than requests/s).
With --together, both hosts are loaded at once instead, each by a wrk of its own: whatever else the machine does
then falls on both in the same seconds, and as they share the cores, the cheaper one serves more (on a busy
shared machine the turns of the default drift by more than the few per cent measured here). Everything started is
stopped at the end, by PID.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from benchmarks.access_control_cost import Measurement, Side
from tests.frontend.servers import WopiHost
from tests.frontend.wopi import WopiFile
from tests.infra.ports import free_ports
from tests.storage_adapter.test_metrics import scrape, value

DOCUMENT = b"x" * 10 * 1024
OPERATIONS = {"CheckFileInfo": "", "GetFile": "/contents"}


@dataclass
class MeasuredSide:
    """A Side, with the front-end's metrics URL when they are on (to scrape after each run)."""

    side: Side
    operation: str
    metrics_url: str | None

    def run(self, seconds: int, connections: int) -> Measurement:
        before = self._counted()
        measured = self.side.measure(seconds, connections)
        counted = self._counted() - before
        if self.metrics_url is not None and measured.requests_per_second * seconds * 0.5 > counted:
            raise SystemExit(f"{self.side.label}: the metrics counted {counted:.0f} {self.operation} requests only")
        return measured

    def _counted(self) -> float:
        if self.metrics_url is None:
            return 0.0
        samples = scrape(self.metrics_url)
        return value(samples, "wopi_requests_total", operation=self.operation, client="office", status="200")


def host(base: Path, metrics: bool) -> tuple[WopiHost, str | None]:
    if not metrics:
        return WopiHost(base), None
    frontend_port, storage_port = free_ports(2)
    measured = WopiHost(base, storage_args=("--metrics-port", str(storage_port)), WOPI_METRICS_PORT=str(frontend_port))
    return measured, f"http://127.0.0.1:{frontend_port}/metrics"


def report(sides: list[MeasuredSide], args: argparse.Namespace) -> None:
    together = ", both hosts loaded at once" if args.together else ", one host at a time"
    print(
        f"\n{args.connections} connections, medians of {args.rounds} rounds x {args.seconds} s{together}, 10 KiB file"
    )
    print("| operation | metrics | requests/s | p50 ms | p99 ms | storage CPU ms/req | front-end CPU ms/req |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for measured in sides:
        m = measured.side.median()
        print(
            f"| {measured.operation} | {measured.side.label} | {m.requests_per_second:.0f} | {m.p50_ms:.2f} "
            f"| {m.p99_ms:.2f} | {m.storage_cpu_ms:.3f} | {m.frontend_cpu_ms:.3f} |"
        )
    for operation in OPERATIONS:
        off, on = (s.side.median() for s in sides if s.operation == operation)
        print(
            f"{operation}, on / off: requests/s {on.requests_per_second / off.requests_per_second:.3f}"
            f", storage CPU per request {on.storage_cpu_ms / off.storage_cpu_ms:.3f}"
            f", front-end CPU per request {on.frontend_cpu_ms / off.frontend_cpu_ms:.3f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--together", action="store_true", help="load both hosts at once (see above)")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    with tempfile.TemporaryDirectory(prefix="metrics-cost-") as scratch, contextlib.ExitStack() as stack:
        sides: list[MeasuredSide] = []
        for label, metrics in (("off", False), ("on", True)):
            wopi_host, metrics_url = host(Path(scratch) / label, metrics)
            stack.enter_context(wopi_host)
            file = WopiFile.from_session(wopi_host, wopi_host.token("measured.docx", create=True, permission="edit"))
            assert file.lock("L").status_code == 200 and file.put_file(DOCUMENT, lock="L").status_code == 200
            for operation, suffix in OPERATIONS.items():
                url = f"{file.wopi_src}{suffix}?access_token={file.access_token}"
                sides.append(MeasuredSide(Side(label, wopi_host, url), operation, metrics_url))
        sides.sort(key=lambda measured: list(OPERATIONS).index(measured.operation))  # off, on for each operation
        for measured in sides:  # warm up: first requests load modules and fill caches
            measured.run(1, args.connections)
        # Each turn loads its sides at once: one side a turn, or with --together both sides of an operation.
        by_operation = [[side for side in sides if side.operation == operation] for operation in OPERATIONS]
        turns = by_operation if args.together else [[side] for side in sides]
        for round_number in range(args.rounds):
            for turn in turns if round_number % 2 == 0 else reversed(turns):
                with ThreadPoolExecutor(len(turn)) as pool:
                    runs = list(pool.map(lambda measured: measured.run(args.seconds, args.connections), turn))
                for measured, run in zip(turn, runs, strict=True):
                    measured.side.runs.append(run)
                    print(
                        f"  round {round_number + 1}, {measured.operation:13} metrics {measured.side.label:3}: "
                        f"{run.requests_per_second:5.0f} requests/s, p99 {run.p99_ms:6.2f} ms, CPU per request: "
                        f"storage {run.storage_cpu_ms:.3f} ms, front-end {run.frontend_cpu_ms:.3f} ms",
                        flush=True,
                    )
        report(sides, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

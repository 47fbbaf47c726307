"""CheckFileInfo of two checkouts of this project, side by side in one run: did a change make it slower?

    python -m benchmarks.compare_checkouts BEFORE_DIR AFTER_DIR [--rounds 5] [--seconds 5] [--connections 16]
                                         [--together]

    (make one with `git worktree add /tmp/before COMMIT`)

Each checkout runs as a real host (`wopi-storage` on the filesystem and the front-end, both from that checkout's
code: they run with it as their working directory and on PYTHONPATH, ahead of the installed project), with the
same settings and an edit token for one file of 10 KiB. wrk measures CheckFileInfo on each in turn, for several
rounds, the order flipping each round so that drift on a shared machine falls on both alike; the figures are
medians over the rounds, with the CPU time each side's two processes spent per request (read from /proc, which
other work on the machine disturbs far less than requests/s). With --together both are loaded at once, each by a
wrk of its own, so that whatever else the machine does falls on both in the same seconds (on a busy shared machine
the turns drift by more than a few per cent; benchmarks/metrics_cost.py does the same). Everything started is
stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.access_control_cost import Measurement, Side
from tests.frontend.servers import WopiHost
from tests.frontend.wopi import WopiFile

DOCUMENT = b"x" * 10 * 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path, help="the checkout to compare against")
    parser.add_argument("after", type=Path, help="the checkout with the change")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--together", action="store_true", help="load both hosts at once (see above)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="compare-checkouts-") as scratch, contextlib.ExitStack() as stack:
        sides = []
        for label, code in (("before", args.before), ("after", args.after)):
            host = stack.enter_context(WopiHost(Path(scratch) / label, code=code.resolve()))
            file = WopiFile.from_session(host, host.token("compare.docx", create=True, permission="edit"))
            assert file.lock("L").status_code == 200 and file.put_file(DOCUMENT, lock="L").status_code == 200
            sides.append(Side(label, host, f"{file.wopi_src}?access_token={file.access_token}"))
        for side in sides:  # warm up: first requests load modules and fill caches
            side.measure(1, args.connections)
        for round_number in range(args.rounds):
            if args.together:
                with ThreadPoolExecutor(len(sides)) as pool:
                    runs = list(pool.map(lambda side: side.measure(args.seconds, args.connections), sides))
                for side, run in zip(sides, runs, strict=True):
                    side.runs.append(run)
                continue
            for side in sides if round_number % 2 == 0 else reversed(sides):
                side.runs.append(side.measure(args.seconds, args.connections))
        before, after = (side.median() for side in sides)
    how = "both at once" if args.together else "in turns"
    print(f"CheckFileInfo, {args.connections} connections, medians of {args.rounds} rounds of {args.seconds} s, {how}")
    for label, figures in (("before", before), ("after", after)):
        print(_line(label, figures))
    print(f"after / before: {after.requests_per_second / before.requests_per_second:.3f} (requests/s)")
    spread = [run.requests_per_second for side in sides for run in side.runs]
    print(f"(runs ranged {min(spread):,.0f} to {max(spread):,.0f} req/s; stdev {statistics.pstdev(spread):,.0f})")
    return 0


def _line(label: str, figures: Measurement) -> str:
    return (
        f"  {label:<7} {figures.requests_per_second:8,.0f} req/s  p50 {figures.p50_ms:5.1f} ms  "
        f"p99 {figures.p99_ms:5.1f} ms  CPU per request: storage {figures.storage_cpu_ms:.2f} ms, "
        f"front-end {figures.frontend_cpu_ms:.2f} ms"
    )


if __name__ == "__main__":
    sys.exit(main())

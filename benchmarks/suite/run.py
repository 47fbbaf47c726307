"""The order of a run: start everything, warm up, then rounds in which every load runs once on each ceiling and
each backend (the order flipped every other round, so that drift on a busy machine falls on all alike), then the
folder listing and the memory run, then the report. Everything started is stopped at the end, also on Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import grpc
import httpx

from benchmarks.suite import listing, machine, memory
from benchmarks.suite.hosts import BACKENDS, LOCK_ID, RunningHost, SharedServices, running_host
from benchmarks.suite.load import MIB, Measurement, Request, curl_download, curl_upload, write_payload, wrk
from benchmarks.suite.reference import ReferenceServers
from benchmarks.suite.report import Operation, listing_table, load_table, machine_table, memory_table, size_label

KIB = 1024
PUT_HEADERS = (("X-WOPI-Override", "PUT"), ("X-WOPI-Lock", LOCK_ID))
LOCK_HEADERS = (("X-WOPI-Override", "LOCK"), ("X-WOPI-Lock", LOCK_ID))
BARE_UNARY, NAIVE_STREAM, NAIVE_UPLOAD, HTTP_SERVER = "bare unary", "naive stream", "naive upload", "http.server"
BARE_SAVE = "bare save loop"
REPOSITORY = Path(__file__).resolve().parents[2]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.suite", description=__doc__)
    parser.add_argument("--backends", default=",".join(BACKENDS), help=f"comma-separated, of: {', '.join(BACKENDS)}")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 round, short loads, smaller sizes")
    parser.add_argument("--seconds", type=float, help="length of each wrk load (default 5, quick 2)")
    parser.add_argument("--rounds", type=int, help="rounds of every load (default 3, quick 1)")
    parser.add_argument("--output", type=Path, help="write the report there too (e.g. docs/performance.md)")
    parser.add_argument(
        "--loads",
        help="comma-separated load keys to run only those (e.g. cfi16,cfi64), without the listing and memory runs",
    )
    args = parser.parse_args(argv)
    args.loads = [key.strip() for key in args.loads.split(",") if key.strip()] if args.loads else None
    args.backends = [name.strip() for name in args.backends.split(",") if name.strip()]
    for name in args.backends:
        if name not in BACKENDS:
            parser.error(f"unknown backend {name!r} (one of {', '.join(BACKENDS)})")
    args.seconds = args.seconds or (2 if args.quick else 5)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.big = (10 if args.quick else 100) * MIB
    args.sizes = [10 * KIB, MIB, args.big]
    args.folder_files = 1_000 if args.quick else 10_000
    args.memory_size = (100 if args.quick else 1024) * MIB
    return args


def operations(big: int) -> list[Operation]:
    big_label = size_label(big)
    return [
        Operation("cfi16", "CheckFileInfo, 16 connections", "req/s", (BARE_UNARY,), (("cfi16", BARE_UNARY),)),
        Operation("cfi64", "CheckFileInfo, 64 connections", "req/s", (BARE_UNARY,), (("cfi64", BARE_UNARY),)),
        Operation("get10k", "GetFile 10 KiB, 16 connections", "MiB/s", size=10 * KIB),
        Operation("get1m", "GetFile 1 MiB, 16 connections", "MiB/s", size=MIB),
        Operation(
            "getbig",
            f"GetFile {big_label} (curl)",
            "MiB/s",
            (NAIVE_STREAM, HTTP_SERVER),
            (("getbig", NAIVE_STREAM), ("getbig", HTTP_SERVER)),
            size=big,
        ),
        Operation("put10k", "PutFile 10 KiB under a lock, 16 connections", "MiB/s", size=10 * KIB),
        Operation("put1m", "PutFile 1 MiB under a lock, 16 connections", "MiB/s", size=MIB),
        Operation(
            "putbig",
            f"PutFile {big_label} under a lock (curl)",
            "MiB/s",
            (NAIVE_UPLOAD,),
            (("putbig", NAIVE_UPLOAD),),
            big,
        ),
        Operation(
            "save",
            "Lock + PutFile 10 KiB, 1 connection",
            "req/s",
            (BARE_SAVE,),
            (("cfi16", BARE_UNARY), ("save", BARE_SAVE)),
            size=10 * KIB,
        ),
    ]


def ceiling_load(
    key: str, refs: ReferenceServers, payloads: dict[int, Path], args: argparse.Namespace
) -> Callable[[], Measurement]:
    payload, seconds = payloads[args.big], args.seconds
    if key == "save":  # the save loop's bare shape: a unary call, then a 10 KiB upload fsync'd before its answer
        save = [Request("/unary"), Request("/upload", "POST", (), payloads[args.sizes[0]])]
        return lambda: wrk(refs.web_url, save, seconds, 1)
    if key in ("cfi16", "cfi64"):
        connections = 16 if key == "cfi16" else 64
        return lambda: wrk(refs.web_url, [Request("/unary")], seconds, connections)
    if key == "getbig":
        return lambda: curl_download(f"{refs.web_url}/stream")
    if key == "putbig":
        return lambda: curl_upload(f"{refs.web_url}/upload", payload)
    raise KeyError(key)


def host_load(
    key: str, host: RunningHost, payloads: dict[int, Path], args: argparse.Namespace
) -> Callable[[], Measurement]:
    files, seconds = host.files, args.seconds
    small, _medium, big = args.sizes
    if key in ("cfi16", "cfi64"):
        request = Request(host.path_for(files.by_size[small]))
        return lambda: wrk(host.url, [request], seconds, 16 if key == "cfi16" else 64)
    if key in ("get10k", "get1m"):
        size = small if key == "get10k" else MIB
        request = Request(host.path_for(files.by_size[size], "/contents"))
        return lambda: as_mib(wrk(host.url, [request], seconds, 16), size)
    if key == "getbig":
        return lambda: curl_download(host.url + host.path_for(files.by_size[big], "/contents"))
    if key in ("put10k", "put1m"):
        size = small if key == "put10k" else MIB
        targets = files.put_targets[size]
        requests = [Request(host.path_for(i, "/contents"), "POST", PUT_HEADERS, payloads[size]) for i in targets]

        def put() -> Measurement:
            for file_id in targets:  # refresh the locks (they expire) before the load, outside its time
                host.lock(file_id)
            return as_mib(wrk(host.url, requests, seconds, 16), size)

        return put
    if key == "putbig":
        target = files.put_targets[big][0]

        def put_big() -> Measurement:
            host.lock(target)
            return curl_upload(host.url + host.path_for(target, "/contents"), payloads[big], PUT_HEADERS)

        return put_big
    if key == "save":
        # An editor's save loop: LOCK (a refresh: same lock id) then PutFile under it, again and again, one client.
        lock = Request(host.path_for(files.save_loop), "POST", LOCK_HEADERS)
        save = Request(host.path_for(files.save_loop, "/contents"), "POST", PUT_HEADERS, payloads[small])
        return lambda: wrk(host.url, [lock, save], seconds, 1)
    raise KeyError(key)


def as_mib(measured: Measurement, size: int) -> Measurement:
    return Measurement(measured.value * size / MIB, measured.p50_ms, measured.p99_ms)


def run_rounds(
    planned: list[Operation],
    loads: dict[tuple[str, str], Callable[[], Measurement]],
    rounds: int,
) -> None:
    for number in range(rounds):
        for operation in planned:
            targets = [target for key, target in loads if key == operation.key]
            for target in targets if number % 2 == 0 else targets[::-1]:
                # Nothing left for the kernel to write back from the load before (a 100 MiB upload leaves dirty
                # pages for seconds): their writeback would make this load's fsyncs wait for another's bytes.
                os.sync()
                try:
                    measured = loads[operation.key, target]()
                except (
                    RuntimeError,
                    httpx.HTTPError,
                    subprocess.CalledProcessError,
                ) as error:  # reported; the run goes on
                    operation.failures.setdefault(target, []).append(str(error).splitlines()[0])
                    print(f"  round {number + 1}: {operation.label:46} {target:16} FAILED: {error}", flush=True)
                    continue
                operation.runs.setdefault(target, []).append(measured)
                latency = f", p50 {measured.p50_ms:.1f} ms, p99 {measured.p99_ms:.1f} ms" if measured.p99_ms else ""
                print(
                    f"  round {number + 1}: {operation.label:46} {target:16} {measured.value:9.1f} "
                    f"{operation.unit}{latency}",
                    flush=True,
                )


def markdown(
    args: argparse.Namespace,
    planned: list[Operation],
    listings: dict[str, listing.Listing],
    memories: dict[str, memory.Memory],
    failures: list[str],
    about: list[tuple[str, str]],
    wall: float,
) -> str:
    backends = args.backends
    command = "make benchmark" if not args.quick else "python -m benchmarks.suite --quick"
    lines = [
        "# Performance",
        "",
        "Figures of one run of the benchmark suite (`make benchmark`, i.e. `python -m benchmarks.suite "
        "--output docs/performance.md`; `--quick` for a smoke run, `--backends filesystem,sql-sqlite` for some "
        "backends only, `--seconds`, `--rounds`). Every figure below comes from the same run on the same machine "
        "(at the end): compare figures of different runs only through their ratios to the ceilings.",
        "",
        "How to read it:",
        "",
        "- Each backend is a real host: `wopi-storage` with that backend and the front-end before it, two "
        "processes on loopback TCP (**filesystem-unix**: the same filesystem host with the two meeting on a Unix "
        "socket, as `wopi-host run` runs them), front-end defaults (access control on, no proof keys). Files "
        "belong to the user the access tokens are minted for.",
        "- *Ceilings* are the bare shape of the host with nothing of ours in it (benchmarks/ceilings.py, separate "
        "processes): **bare unary** is a Starlette route under uvicorn (httptools, like our front-end) answering "
        "small JSON from one grpc.aio unary call to a tiny grpc.aio server; **naive stream** is that server "
        "streaming the file from disk in 1 MiB messages into a `StreamingResponse`; **naive upload** the other "
        "way (1 MiB messages, fsync before the answer); **bare save loop** is the save loop's shape on them, "
        "one connection alternating a bare unary request and a 10 KiB naive upload (one fsync: the least a "
        "durable save costs); **http.server** is `python -m http.server` serving the same file. The ratio column "
        "divides a backend's figure by the ceiling named (same connection count).",
        f"- Request loads: wrk, one thread, {args.seconds:g} s each; transfers of one large file: curl. "
        f"Medians of {args.rounds} round(s); in each round every load runs once on every ceiling and backend, "
        "in an order that flips every round, each after a `sync` (no dirty pages of the load before). p50/p99 are "
        "per request, from wrk's latency distribution.",
        "- PutFile loads write under a WOPI lock taken beforehand (16 files, one lock id, round-robin over 16 "
        "connections). **Lock + PutFile** is an editor's save loop on one connection: LOCK (a refresh, same lock "
        "id) then PutFile 10 KiB under it, over and over; req/s counts each of the two requests (saves/s is "
        "half), and its ratios are to the bare unary ceiling at 16 connections (as issue 10 states its goal) "
        "and to the bare save loop.",
        f"- Listing: a folder of {args.folder_files:,} empty files made with CreateFile (16 in flight); "
        f"ListChildrenPage's first page of {listing.PAGE} over gRPC, just after the folder was filled and once "
        f"it settled; the ListChildren stream (kept for old callers) to its {listing.PAGE}th item and to its end; "
        "and the file browser's `GET /?container=ID` (its first page) to its last byte. "
        f"Medians of {args.rounds} round(s).",
        "- Memory: each service's resident set before, and its peak (VmHWM, reset just before) while one file "
        f"of {size_label(args.memory_size)} goes up (PutFile) and down (GetFile) through the front-end with curl.",
        "",
        f"Rerun: `{command}` (wall time of this run: {wall / 60:.1f} min).",
        "",
        "## Loads",
        "",
        *load_table(planned, backends),
        "",
        f"## A folder of {args.folder_files:,} files",
        "",
        *listing_table(listings),
        "",
        "## Memory",
        "",
        *memory_table(memories),
        "",
        *(["## Failed", "", *(f"- {failure}" for failure in failures), ""] if failures else []),
        "## Machine",
        "",
        *machine_table(about),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for tool in ("wrk", "curl"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (make benchmark-deps)")
    # SIGTERM unwinds like Ctrl-C, so that every process started is stopped and every temp dir removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    started, load_at_start = time.monotonic(), machine.load_average()
    planned = [operation for operation in operations(args.big) if args.loads is None or operation.key in args.loads]
    listings: dict[str, listing.Listing] = {}
    memories: dict[str, memory.Memory] = {}
    failures: list[str] = []
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="wopi-bench-")))
        payload_dir = scratch / "payloads"
        payload_dir.mkdir()
        sizes = sorted({*args.sizes, args.memory_size})
        payloads = {size: write_payload(payload_dir / f"payload-{size}.bin", size) for size in sizes}
        print(f"starting the ceilings and {len(args.backends)} host(s) in {scratch}", flush=True)
        refs = stack.enter_context(ReferenceServers(payloads[args.big], scratch / "ceilings"))
        shared = SharedServices(stack, scratch)
        hosts = {name: stack.enter_context(running_host(name, scratch / name, shared)) for name in args.backends}
        for name, host in hosts.items():
            host.make_files(args.sizes, payloads, put_connections=16)
            print(f"  {name}: host at {host.url}, files made", flush=True)
        loads: dict[tuple[str, str], Callable[[], Measurement]] = {}
        for operation in planned:
            for ceiling in operation.ceilings:
                if ceiling == HTTP_SERVER:
                    loads[operation.key, ceiling] = lambda: curl_download(refs.static_url)
                else:
                    loads[operation.key, ceiling] = ceiling_load(operation.key, refs, payloads, args)
            for name, host in hosts.items():
                loads[operation.key, name] = host_load(operation.key, host, payloads, args)
        print("warming up", flush=True)
        for (key, _target), load in loads.items():
            if key in ("cfi16", "getbig"):
                load()
        print(f"{args.rounds} round(s) of every load", flush=True)
        run_rounds(planned, loads, args.rounds)
        for name, host in hosts.items() if args.loads is None else ():
            print(f"  {name}: making a folder of {args.folder_files:,} files", flush=True)
            try:
                rate = listing.make_folder(host, args.folder_files)
                listings[name] = listing.measure(host, args.folder_files, rate, args.rounds)
            except (RuntimeError, grpc.RpcError, httpx.HTTPError) as error:
                failures.append(f"listing on {name}: {str(error).splitlines()[0]}")
            print(f"  {name}: {listings.get(name) or failures[-1]}", flush=True)
        for name, host in hosts.items() if args.loads is None else ():
            try:
                memories[name] = memory.measure(host, payloads[args.memory_size], host.files.put_targets[args.big][0])
            except (RuntimeError, httpx.HTTPError) as error:
                failures.append(f"memory on {name}: {str(error).splitlines()[0]}")
            print(f"  {name}: {memories.get(name) or failures[-1]}", flush=True)
        print("stopping everything", flush=True)
    about = machine.describe(load_at_start, machine.load_average(), machine.commit_of(REPOSITORY))
    report = markdown(args, planned, listings, memories, failures, about, time.monotonic() - started)
    print()
    print(report)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report)
        print(f"written to {args.output}")
    return 0

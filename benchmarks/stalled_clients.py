"""What stalled HTTP clients cost both services: front-end memory for readers that stop reading a GetFile, and
storage descriptors for PutFile bodies that stop after a few bytes.

    python -m benchmarks.stalled_clients [--readers 200] [--uploads 200] [--size-mib 8] [--settle 5]

Starts `wopi-storage` (filesystem) and the front-end (uvicorn) on loopback ports, as `tests/frontend` does, with
their default settings. Then:

- readers: opens that many connections that each send one GetFile request for an N MiB file and never read the
  answer, waits `--settle` seconds, and reports the front-end's VmRSS (from /proc) before and after;
- uploads: opens that many connections that each send the head of a PutFile (one edit token, one file) and a
  few bytes of its body, waits `--settle` seconds, and reports the storage process's open descriptors before and
  after (ls /proc/PID/fd).

Every connection is held open without reading until the figures are taken, then closed.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from tests.frontend.servers import WopiHost
from tests.frontend.wopi import open_file

MIB = 1024 * 1024


def vm_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def open_descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def stalled_connection(port: int, head: bytes, body: bytes = b"") -> socket.socket:
    """A connection that sends `head` (and `body`), with the smallest receive buffer, and then reads nothing."""
    connection = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    connection.connect(("127.0.0.1", port))
    connection.sendall(head + body)
    return connection


def request_head(method: str, url: str, headers: dict[str, str]) -> bytes:
    parts = urlsplit(url)
    lines = [f"{method} {parts.path}?{parts.query} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readers", type=int, default=200)
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--size-mib", type=int, default=8)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds to wait before measuring")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, WopiHost(Path(scratch) / "host") as host:
        assert host.process is not None and host.storage.process is not None
        frontend_pid, storage_pid = host.process.pid, host.storage.process.pid
        document = open_file(host, "stalled-readers.bin", bytes(range(256)) * (args.size_mib * MIB // 256))
        url = f"{document.wopi_src}/contents?access_token={document.access_token}"
        held: list[socket.socket] = []
        try:
            before = vm_rss_mib(frontend_pid)
            for _ in range(args.readers):
                held.append(stalled_connection(host.port, request_head("GET", url, {})))
            time.sleep(args.settle)
            after = vm_rss_mib(frontend_pid)
            print(
                f"{args.readers} stalled GetFile readers of {args.size_mib} MiB: front-end VmRSS {before:.0f} MiB "
                f"-> {after:.0f} MiB ({(after - before) / max(args.readers, 1):.2f} MiB per reader)"
            )
        finally:
            for connection in held:
                connection.close()
            held.clear()
        target = open_file(host, "stalled-uploads.bin")
        url = f"{target.wopi_src}/contents?access_token={target.access_token}"
        head = request_head("POST", url, {"X-WOPI-Override": "PUT", "Content-Length": str(MIB)})
        try:
            time.sleep(1)
            before_fds = open_descriptors(storage_pid)
            for _ in range(args.uploads):
                held.append(stalled_connection(host.port, head, b"stall"))
            time.sleep(args.settle)
            after_fds = open_descriptors(storage_pid)
            print(
                f"{args.uploads} stalled PutFile uploads (one token, one file): storage descriptors {before_fds} -> "
                f"{after_fds} ({after_fds - before_fds:+d})"
            )
        finally:
            for connection in held:
                connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

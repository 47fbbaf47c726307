"""Requests per second for CheckFileInfo, and MB/s for a 100 MB GetFile and PutFile, through both services.

    python -m benchmarks.frontend_throughput [--seconds 10] [--connections 16] [--size-mib 100]

Starts `wopi-storage` (filesystem) and the front-end (uvicorn) on loopback ports, then measures with the
tools an operator would use: `wrk` for CheckFileInfo (apt-get install wrk) and `curl` for the large transfers.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.frontend.servers import WopiHost

MIB = 1024 * 1024


def wrk_requests_per_second(url: str, seconds: int, connections: int) -> str:
    result = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    )
    rate = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
    p50 = re.search(r"50%\s+(\S+)", result.stdout)
    if errors:
        raise SystemExit(f"wrk saw {errors.group(1)} error responses:\n{result.stdout}")
    return f"{float(rate.group(1)):.0f} requests/s (median latency {p50.group(1) if p50 else '?'})" if rate else "?"


def curl_rate(args: list[str]) -> float:
    """Bytes per second as curl measured them (`%{speed_download}` / `%{speed_upload}`)."""
    result = subprocess.run(["curl", "-sS", "--fail", *args], capture_output=True, text=True, check=True)
    return float(result.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--size-mib", type=int, default=100)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    with tempfile.TemporaryDirectory() as scratch, WopiHost(Path(scratch) / "host") as host:
        session = host.token("benchmark.docx")
        file_url = f"{session['wopi_src']}?access_token={session['access_token']}"
        contents_url = f"{session['wopi_src']}/contents?access_token={session['access_token']}"
        payload = Path(scratch) / "payload.bin"
        with payload.open("wb") as out:
            for _ in range(args.size_mib):
                out.write(bytes(range(256)) * (MIB // 256))
        upload = curl_rate(
            [
                "-X",
                "POST",
                "-H",
                "X-WOPI-Override: PUT",
                "--data-binary",
                f"@{payload}",
                "-o",
                "/dev/null",
                "-w",
                "%{speed_upload}",
                contents_url,
            ]
        )
        download = curl_rate(["-o", "/dev/null", "-w", "%{speed_download}", contents_url])
        print(
            f"CheckFileInfo: {wrk_requests_per_second(file_url, args.seconds, args.connections)}, "
            f"{args.connections} connections, {args.seconds} s"
        )
        print(f"PutFile {args.size_mib} MiB: {upload / MIB:.0f} MiB/s")
        print(f"GetFile {args.size_mib} MiB: {download / MIB:.0f} MiB/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

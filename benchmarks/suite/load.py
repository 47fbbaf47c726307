"""The load generators an operator would use: wrk for request loads (p50/p99 from its latency distribution),
curl for single large transfers. Each call is one measurement; a failed request fails the run."""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024
LATENCY_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class Measurement:
    """One run of one load: `value` in the load's unit (requests/s or MiB/s), latencies when wrk measured them."""

    value: float
    p50_ms: float | None = None
    p99_ms: float | None = None
    requests: int | None = None  # how many requests wrk completed (for a cost per request)


@dataclass(frozen=True)
class Request:
    """One HTTP request of a wrk load: path (with query), method, headers, and the body read from a file."""

    path: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body_file: Path | None = None


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def _script(requests: list[Request]) -> str:
    """A wrk script that sends `requests` in turn, round-robin, on every connection."""
    lines = ["local requests = {}"]
    for index, request in enumerate(requests, 1):
        # `[ [==[name]==] ]`: the spaces matter, since `[[` would open a long string of its own (and wrk, finding
        # its script broken, would send its default request instead: GET of the base URL).
        headers = ", ".join(f"[ {_lua_string(name)} ] = {_lua_string(value)}" for name, value in request.headers)
        lines.append(f"local headers_{index} = {{{headers}}}")
        if request.body_file is not None:
            lines.append(f'local file_{index} = io.open({_lua_string(str(request.body_file))}, "rb")')
            lines.append(f"local body_{index} = file_{index}:read('*all')")
            lines.append(f"file_{index}:close()")
        else:
            lines.append(f'local body_{index} = ""')
        lines.append(
            f"requests[{index}] = function() return wrk.format({_lua_string(request.method)}, "
            f"{_lua_string(request.path)}, headers_{index}, body_{index}) end"
        )
    lines += [
        "local counter = 0",
        "request = function()",
        "  counter = counter + 1",
        "  return requests[(counter - 1) % #requests + 1]()",
        "end",
    ]
    return "\n".join(lines) + "\n"


def latency_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * LATENCY_UNITS_MS[unit]


def wrk(base_url: str, requests: list[Request], seconds: float, connections: int) -> Measurement:
    """Requests/s with p50 and p99, `connections` keep-alive connections sending `requests` round-robin."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(_script(requests))
        script.flush()
        # One wrk thread: it keeps up with thousands of requests/s, and the services need the other cores. A slow
        # answer is a latency to report, not an error: wrk's default 2 s timeout would count it as a failure.
        command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "60s", "--latency"]
        result = subprocess.run(
            [*command, "-s", script.name, base_url],
            capture_output=True,
            text=True,
            check=True,
        )
    output = result.stdout
    if result.stderr.strip():  # wrk reports a script it cannot run there, and then runs without it
        raise RuntimeError(f"wrk could not run its script: {result.stderr.strip()[:500]}")
    for failure in (r"Non-2xx or 3xx responses: (\d+)", r"Socket errors: (.*)"):
        if found := re.search(failure, output):
            where = requests[0].path.split("?")[0]  # never the access token in the query
            raise RuntimeError(f"wrk saw failures ({found.group(0)}) on {where}:\n{output}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    completed = re.search(r"(\d+) requests in", output)
    if not (rate and p50 and p99 and completed):
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    return Measurement(
        float(rate.group(1)), latency_ms(p50.group(1)), latency_ms(p99.group(1)), int(completed.group(1))
    )


def curl_download(url: str) -> Measurement:
    """MiB/s of one GET, body thrown away."""
    return Measurement(_curl(["-o", "/dev/null", "-w", "%{speed_download}", url]) / MIB)


def curl_upload(url: str, body_file: Path, headers: tuple[tuple[str, str], ...] = ()) -> Measurement:
    """MiB/s of one POST of `body_file`'s contents (curl's upload speed, until the answer is complete)."""
    header_args = [part for name, value in headers for part in ("-H", f"{name}: {value}")]
    # --upload-file streams the file (--data-binary would read it whole into curl first); POST as WOPI wants.
    args = ["-X", "POST", *header_args, "-H", "Expect:", "--upload-file", str(body_file), "-o", "/dev/null"]
    size = body_file.stat().st_size
    seconds = _curl([*args, "-w", "%{time_total}", url])
    return Measurement(size / MIB / seconds)


def _curl(args: list[str]) -> float:
    result = subprocess.run(["curl", "-sS", "--fail", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"curl failed ({result.returncode}): {result.stderr.strip()}")
    return float(result.stdout.strip())


def write_payload(path: Path, size: int) -> Path:
    """A file of `size` bytes that does not compress to nothing (a pattern with a counter in each MiB)."""
    block = bytes(range(256)) * (MIB // 256)
    with path.open("wb") as out:
        written = 0
        while written < size:
            piece = written.to_bytes(8, "big") + block[8 : min(MIB, size - written)]
            out.write(piece[: size - written])
            written += len(piece[: size - written])
    return path

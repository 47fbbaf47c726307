"""What a run ran on: the figures mean little without the machine, and the load on it before and after."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib.metadata import version
from pathlib import Path


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def tool_version(command: list[str]) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "missing"
    words = (result.stdout or result.stderr).split()
    return words[1] if len(words) > 1 else "unknown"  # "wrk debian/4.1.0-3 [epoll] ...", "curl 7.88.1 (x86_64..."


def describe(load_at_start: str, load_at_end: str, commit: str) -> list[tuple[str, str]]:
    return [
        ("CPU", f"{cpu_model()}, {os.cpu_count()} cores"),
        ("RAM", f"{memory_gib():.1f} GiB"),
        ("Kernel", platform.release()),
        ("Python", platform.python_version()),
        ("grpcio / uvicorn / starlette", f"{version('grpcio')} / {version('uvicorn')} / {version('starlette')}"),
        ("wrk / curl", f"{tool_version(['wrk', '-v'])} / {tool_version(['curl', '--version'])}"),
        ("Code", commit),
        ("Load average (1, 5, 15 min) at start / end", f"{load_at_start} / {load_at_end}"),
    ]


def commit_of(directory: Path) -> str:
    """The checkout's commit, or what is known of it (a `git archive` snapshot has no .git)."""
    result = subprocess.run(
        ["git", "-C", str(directory), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    if result.returncode == 0:
        dirty = subprocess.run(["git", "-C", str(directory), "status", "--porcelain"], capture_output=True, text=True)
        return result.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")
    return os.environ.get("BENCHMARK_COMMIT", "unknown (not a git checkout; set BENCHMARK_COMMIT)")

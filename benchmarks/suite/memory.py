"""Peak resident memory of each service while one large file goes up (PutFile) and down (GetFile) through the
front-end. The kernel's high-water mark (VmHWM) is reset first (`/proc/PID/clear_refs`), so earlier loads do
not count; the baseline is the resident set (VmRSS) just before."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from benchmarks.suite.hosts import LOCK_ID, RunningHost
from benchmarks.suite.load import curl_download, curl_upload


@dataclass(frozen=True)
class Memory:
    size: int
    storage_baseline_mib: float
    storage_peak_mib: float
    frontend_baseline_mib: float
    frontend_peak_mib: float
    put_mib_per_second: float
    get_mib_per_second: float


def status_mib(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name == key:
            return int(rest.split()[0]) / 1024
    raise RuntimeError(f"no {key} in /proc/{pid}/status")


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # 5: reset the peak resident set size to the current one


def measure(host: RunningHost, payload: Path, file_id: str) -> Memory:
    storage_pid, frontend_pid = host.storage.pid, host.host.process.pid  # type: ignore[union-attr]
    baselines = [status_mib(pid, "VmRSS") for pid in (storage_pid, frontend_pid)]
    for pid in (storage_pid, frontend_pid):
        reset_peak(pid)
    host.lock(file_id)
    contents_url = host.url + host.path_for(file_id, "/contents")
    up = curl_upload(contents_url, payload, (("X-WOPI-Override", "PUT"), ("X-WOPI-Lock", LOCK_ID)))
    down = curl_download(contents_url)
    peaks = [status_mib(pid, "VmHWM") for pid in (storage_pid, frontend_pid)]
    info = host.http.get(host.url + host.path_for(file_id)).json()
    if info["Size"] != payload.stat().st_size:
        raise RuntimeError(f"{host.backend}: after PutFile the file has {info['Size']} bytes")
    return Memory(payload.stat().st_size, baselines[0], peaks[0], baselines[1], peaks[1], up.value, down.value)

"""Peak memory and throughput of `wopi-storage` while one large file is written and read back over gRPC.

    python -m benchmarks.storage_memory [--size-mib 1024] [--backend filesystem]   (from the repository root)

Starts a real `wopi-storage` process on a loopback port, streams SIZE MiB into it with CreateFile (1 MiB chunks
made on the fly), reads it all back with ReadFile (hashing, never keeping it), and reads the server's resident
memory from /proc: the baseline after a warm-up, and the peak (VmHWM) over the whole run. The contents never
exist whole in either process, so the peak should stay within a few tens of MB of the baseline.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc

from tests.contract.client import StorageClient
from tests.contract.process import AdapterProcess
from wopi_proto.storage_v1 import storage_pb2 as pb

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


def measure(adapter: AdapterProcess, size: int) -> Measurement:
    assert adapter.process is not None
    pid = adapter.process.pid
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--backend", default="filesystem")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch_path = Path(scratch)
        with AdapterProcess(args.backend, scratch_path / "root", scratch_path / "adapter.log") as adapter:
            result = measure(adapter, args.size_mib * MIB)
    print(f"{args.backend}: {result.report()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Contents stream through `wopi-storage` in bounded chunks: a 256 MiB write and read-back over gRPC must not
raise the adapter's peak resident memory by more than a few tens of MB. (The 1 GiB figure and throughput are in
`benchmarks/storage_memory.py`; this checks only the bound, which does not depend on machine speed.)"""

from pathlib import Path

from benchmarks.storage_memory import MIB, measure
from tests.contract.process import AdapterProcess


def test_filesystem_adapter_memory_stays_bounded(tmp_path: Path) -> None:
    with AdapterProcess("filesystem", tmp_path / "root", tmp_path / "adapter.log") as adapter:
        result = measure(adapter, 256 * MIB)
    assert result.growth < 48 * MIB, result.report()

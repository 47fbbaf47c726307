"""The committed stubs in proto/python/wopi_proto must be exactly what proto/generate.py makes now."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_generated_stubs_match_proto() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "proto" / "generate.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_services_do_not_import_each_other() -> None:
    """Neither service imports the other; both import only the generated wopi_proto package."""
    for package, other in (("storage_adapter", "wopi_frontend"), ("wopi_frontend", "storage_adapter")):
        for module in (REPO / package).rglob("*.py"):
            text = module.read_text()
            assert f"import {other}" not in text and f"from {other}" not in text, module

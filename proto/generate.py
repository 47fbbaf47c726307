"""Regenerate the Python gRPC stubs from `proto/`, or check that the committed ones are current.

    python proto/generate.py          # rewrite proto/python/wopi_proto/
    python proto/generate.py --check  # exit 1 if the committed stubs differ from a fresh generation

The stubs form their own package, `wopi_proto`, that both services import and neither owns. protoc writes
imports named after the proto package (`from wopi.storage.v1 import ...`); they are rewritten to point into
`wopi_proto`, so no top-level `wopi` package is installed. The output depends on the exact grpcio-tools
version, which `pyproject.toml` pins.
"""

from __future__ import annotations

import argparse
import difflib
import filecmp
import re
import shutil
import sys
import tempfile
from pathlib import Path

PROTO_ROOT = Path(__file__).resolve().parent
PACKAGE_ROOT = PROTO_ROOT / "python" / "wopi_proto"

# proto file (relative to PROTO_ROOT) -> subpackage of wopi_proto that receives its stubs
PROTO_FILES = {"wopi/storage/v1/storage.proto": "storage_v1"}

HEADER = '"""Generated from proto/ by `python proto/generate.py`. Do not edit."""\n'


def generate(out: Path) -> None:
    from grpc_tools import protoc  # imported here so that --help works without grpcio-tools

    include = Path(protoc.__file__).parent / "_proto"
    with tempfile.TemporaryDirectory() as raw:
        for proto in PROTO_FILES:
            args = [
                "protoc",
                f"-I{PROTO_ROOT}",
                f"-I{include}",
                f"--python_out={raw}",
                f"--pyi_out={raw}",
                f"--grpc_python_out={raw}",
                str(PROTO_ROOT / proto),
            ]
            if protoc.main(args) != 0:
                raise SystemExit(f"protoc failed on {proto}")
        (out / "__init__.py").write_text(HEADER)
        for proto, subpackage in PROTO_FILES.items():
            source_dir = Path(raw) / Path(proto).parent
            target_dir = out / subpackage
            target_dir.mkdir(parents=True)
            (target_dir / "__init__.py").write_text(HEADER)
            module_path = ".".join(Path(proto).parent.parts)
            for generated in sorted(source_dir.iterdir()):
                text = generated.read_text()
                text = re.sub(
                    rf"^from {re.escape(module_path)} import ",
                    f"from wopi_proto.{subpackage} import ",
                    text,
                    flags=re.MULTILINE,
                )
                (target_dir / generated.name).write_text(text)


def differences(expected: Path, actual: Path) -> list[str]:
    comparison = filecmp.dircmp(expected, actual, ignore=["__pycache__"])
    problems: list[str] = []

    def walk(cmp: filecmp.dircmp[str], prefix: str) -> None:
        problems.extend(f"missing: {prefix}{name}" for name in cmp.left_only)
        problems.extend(f"not generated: {prefix}{name}" for name in cmp.right_only)
        for name in cmp.diff_files:
            left = (Path(cmp.left) / name).read_text().splitlines()
            right = (Path(cmp.right) / name).read_text().splitlines()
            diff = difflib.unified_diff(right, left, f"committed/{prefix}{name}", f"generated/{prefix}{name}")
            problems.append("\n".join(list(diff)[:40]))
        for name, sub in cmp.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(comparison, "")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if the committed stubs are stale")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch) / "wopi_proto"
        fresh.mkdir()
        generate(fresh)
        if args.check:
            problems = differences(fresh, PACKAGE_ROOT) if PACKAGE_ROOT.exists() else ["stubs missing"]
            if problems:
                print("Generated gRPC code is stale; run `python proto/generate.py`:", file=sys.stderr)
                print("\n".join(problems), file=sys.stderr)
                return 1
            print("generated gRPC code matches proto/")
            return 0
        if PACKAGE_ROOT.exists():
            shutil.rmtree(PACKAGE_ROOT)
        shutil.copytree(fresh, PACKAGE_ROOT)
    print(f"wrote {PACKAGE_ROOT.relative_to(PROTO_ROOT.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

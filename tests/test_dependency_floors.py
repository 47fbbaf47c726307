"""The version ranges in pyproject.toml admit no release with a known security advisory.

Each row names a release that an advisory covers (the newest affected one, where the advisory gives a range); the
range we declare for that package must exclude it. docs/dependencies.md says the same in prose: when an advisory is
published, add its row here, and raise the floor in pyproject.toml until this test passes.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"

# (package, a release the advisory covers, advisory)
VULNERABLE_RELEASES = [
    ("starlette", "0.47.1", "CVE-2025-54121"),
    ("starlette", "0.49.0", "CVE-2025-62727"),
    ("starlette", "1.0.0", "CVE-2026-48710"),
    ("starlette", "1.0.1", "CVE-2026-48818"),
    ("starlette", "1.3.0", "CVE-2026-54282, CVE-2026-54283, CVE-2026-48817"),
    ("cryptography", "44.0.0", "GHSA-79v4-65xg-pq4g"),
    ("cryptography", "46.0.6", "CVE-2026-39892"),
    ("cryptography", "48.0.0", "GHSA-537c-gmf6-5ccf"),
    ("cryptography", "49.0.0", "GHSA-g6cj-pr64-35w5, GHSA-jwv3-5hgf-82ww"),
    ("lxml", "5.3.1", "CVE-2025-24928"),
    ("lxml", "6.0.9", "CVE-2026-41066"),
    ("protobuf", "6.31.0", "CVE-2025-4565"),
    ("protobuf", "6.33.4", "CVE-2026-0994"),
    ("grpcio", "1.56.1", "CVE-2023-33953"),
    ("h11", "0.15.0", "CVE-2025-43859"),
    ("anyio", "4.14.1", "CVE-2026-63349"),
    ("idna", "3.6", "CVE-2024-3651"),
    ("certifi", "2024.6.2", "CVE-2024-39689"),
    ("urllib3", "2.6.3", "CVE-2026-44431, CVE-2026-44432"),
    ("pytest", "9.0.2", "CVE-2025-71176"),
    ("setuptools", "78.1.0", "CVE-2025-47273"),
]


def _declared() -> dict[str, list[Requirement]]:
    """Every requirement in pyproject.toml (runtime, extras, build), by package name."""
    document = tomllib.loads(PYPROJECT.read_text())
    lines = list(document["project"]["dependencies"]) + list(document["build-system"]["requires"])
    for extra in document["project"]["optional-dependencies"].values():
        lines += extra
    requirements: dict[str, list[Requirement]] = {}
    for line in lines:
        requirement = Requirement(line)
        requirements.setdefault(requirement.name.lower(), []).append(requirement)
    return requirements


@pytest.mark.parametrize(("package", "release", "advisory"), VULNERABLE_RELEASES)
def test_no_declared_range_admits_a_release_with_an_advisory(package: str, release: str, advisory: str) -> None:
    requirements = _declared().get(package)
    assert requirements, f"{package} has no floor in pyproject.toml, so any release of it may be installed ({advisory})"
    for requirement in requirements:
        assert not requirement.specifier.contains(Version(release), prereleases=True), (
            f"{requirement} admits {package} {release}, which {advisory} covers"
        )


def test_the_installed_packages_meet_the_floors() -> None:
    """The environment the tests run in is one the floors allow (a stale virtual environment fails here)."""
    for name, requirements in _declared().items():
        try:
            installed = Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            continue  # an extra's package that this environment does not need (the build backend, for one)
        for requirement in requirements:
            if requirement.marker is None or requirement.marker.evaluate():
                assert requirement.specifier.contains(installed, prereleases=True), f"{name} {installed}: {requirement}"

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.frontend.servers import WopiHost


@pytest.fixture(scope="module")
def wopi_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WopiHost]:
    """Both services, shared by the tests of one module (each test uses files of its own). The host page and the
    file browser serve a development user, so the URLs that lead there (HostViewUrl, ShareUrl) can be followed."""
    with WopiHost(Path(tmp_path_factory.mktemp("wopi-host")), WOPI_DEV_USER="test-user") as host:
        yield host


@pytest.fixture(scope="module")
def limited_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WopiHost]:
    """A host with a 1000-byte file size limit and 1-second locks, for the 413 and lock-expiry rules."""
    base = Path(tmp_path_factory.mktemp("wopi-limited"))
    with WopiHost(base, WOPI_MAX_FILE_SIZE="1000", WOPI_LOCK_TTL="1") as host:
        yield host


@pytest.fixture(scope="module")
def api_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WopiHost]:
    """A host with the sessions API enabled (its key: `host.environment["WOPI_API_KEY"]`)."""
    with WopiHost(Path(tmp_path_factory.mktemp("wopi-api")), WOPI_API_KEY="test-api-key-0123456789") as host:
        yield host


@pytest.fixture
def file_name(request: pytest.FixtureRequest) -> str:
    """A file name of this test's own: `<test name>.wopitest`, safe for every storage backend."""
    import hashlib
    import re

    name = request.node.name
    readable = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:100]
    return f"{readable}-{hashlib.sha256(name.encode()).hexdigest()[:6]}.wopitest"


@pytest.fixture(scope="session", autouse=True)
def close_http_client() -> Iterator[None]:
    """Closes the keep-alive client of tests/frontend/wopi.py after the run."""
    yield
    from tests.frontend.wopi import http

    http.close()

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.frontend.servers import WopiHost


@pytest.fixture(scope="module")
def wopi_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WopiHost]:
    """Both services, shared by the tests of one module (each test uses files of its own)."""
    with WopiHost(Path(tmp_path_factory.mktemp("wopi-host"))) as host:
        yield host

"""The front-end's Prometheus metrics over real HTTP: both services as real processes with their metrics ports on,
scraped with prometheus-client's own text-format parser, and the values move as WOPI requests are made: one
CheckFileInfo is one CheckFileInfo counted here and one GetFileContext call counted on both sides of the gRPC hop;
PutFile and GetFile add their bytes; lock conflicts, save conflicts (1010) and proof-key failures count; the
public port has no /metrics; no label carries an id, a user or a token; off by default, nothing more listens.

Every figure a test reads is recorded before the answer's last byte leaves (the front-end's middleware records on
the final body message; storage records before it answers), so a scrape made after the answer finds it: no test
waits or depends on timing."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.frontend import discovery_samples as samples
from tests.frontend.discovery_samples import KeyPair
from tests.frontend.discovery_server import DiscoveryServer
from tests.frontend.servers import WopiHost
from tests.frontend.wopi import WopiFile, http, mint
from tests.infra.ports import free_ports
from tests.storage_adapter.test_metrics import Samples, listening_ports, moved, scrape, value
from wopi_frontend.settings import FrontendSettings


@dataclass
class MeasuredHost:
    host: WopiHost
    frontend_metrics: str  # URL
    storage_metrics: str

    def scrape(self) -> tuple[Samples, Samples]:
        """(the front-end's samples, storage's)."""
        return scrape(self.frontend_metrics), scrape(self.storage_metrics)

    def file(self, name: str) -> WopiFile:
        return WopiFile.from_session(self.host, mint(self.host, name))


def measured_host(base: Path, **frontend_env: str) -> tuple[WopiHost, MeasuredHost]:
    frontend_port, storage_port = free_ports(2)
    host = WopiHost(
        base, storage_args=("--metrics-port", str(storage_port)), WOPI_METRICS_PORT=str(frontend_port), **frontend_env
    )
    urls = (f"http://127.0.0.1:{frontend_port}/metrics", f"http://127.0.0.1:{storage_port}/metrics")
    return host, MeasuredHost(host, *urls)


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MeasuredHost]:
    host, measured = measured_host(Path(tmp_path_factory.mktemp("measured-host")))
    with host:
        yield measured


def test_a_check_file_info_counts_once_here_and_once_in_storage(measured: MeasuredHost) -> None:
    file = measured.file("counted.wopitest")
    assert file.check_file_info().status_code == 200  # the capabilities are read and cached by the first one
    before, storage_before = measured.scrape()
    assert file.check_file_info().status_code == 200
    after, storage_after = measured.scrape()
    assert moved(before, after, "wopi_requests_total", operation="CheckFileInfo", client="office", status="200") == 1
    assert moved(before, after, "wopi_request_duration_seconds_count", operation="CheckFileInfo") == 1
    assert moved(before, after, "wopi_request_duration_seconds_sum", operation="CheckFileInfo") > 0
    # The one storage call it makes, as the front-end's client saw it and as storage served it.
    assert moved(before, after, "wopi_storage_client_rpcs_total", method="GetFileContext", code="OK") == 1
    assert moved(before, after, "wopi_storage_client_rpc_duration_seconds_count", method="GetFileContext") == 1
    assert moved(storage_before, storage_after, "wopi_storage_rpcs_total", method="GetFileContext", code="OK") == 1
    # ...and nothing else: no other WOPI operation, no other storage call on either side.
    requests = [k for k in after if k[0] == "wopi_requests_total" and after[k] != before.get(k, 0.0)]
    assert len(requests) == 1
    calls = [
        k for k in storage_after if k[0] == "wopi_storage_rpcs_total" and storage_after[k] != storage_before.get(k, 0.0)
    ]
    assert len(calls) == 1


def test_put_file_and_get_file_add_their_bytes(measured: MeasuredHost) -> None:
    file = measured.file("bytes.wopitest")
    contents = bytes(range(256)) * 700  # 179,200 bytes: several chunks over HTTP and gRPC
    assert file.lock("writer").status_code == 200
    before, storage_before = measured.scrape()
    assert file.put_file(contents, lock="writer").status_code == 200
    assert file.contents() == contents
    after, storage_after = measured.scrape()
    assert moved(before, after, "wopi_content_written_bytes_total", operation="PutFile") == len(contents)
    assert moved(before, after, "wopi_content_read_bytes_total", operation="GetFile") == len(contents)
    assert moved(storage_before, storage_after, "wopi_storage_written_bytes_total") == len(contents)
    assert moved(storage_before, storage_after, "wopi_storage_read_bytes_total") == len(contents)
    for operation, method in (("PutFile", "WriteFile"), ("GetFile", "ReadFile")):
        assert moved(before, after, "wopi_requests_total", operation=operation, client="office", status="200") == 1
        assert moved(before, after, "wopi_storage_client_rpcs_total", method=method, code="OK") == 1
        assert value(after, "wopi_open_streams", operation=operation) == 0  # both ended
        assert value(storage_after, "wopi_storage_open_streams", method=method) == 0


def test_lock_conflicts_count_by_operation(measured: MeasuredHost) -> None:
    file = measured.file("conflict.wopitest")
    assert file.lock("first").status_code == 200
    before, _ = measured.scrape()
    assert file.lock("second").status_code == 409
    refused = file.put_file(b"not stored", lock="second")
    assert refused.status_code == 409 and refused.headers["X-WOPI-Lock"] == "first"
    assert file.unlock_and_relock("third", old_lock="wrong").status_code == 409
    after, _ = measured.scrape()
    for operation in ("Lock", "PutFile", "UnlockAndRelock"):
        assert moved(before, after, "wopi_lock_conflicts_total", operation=operation) == 1, operation
        assert moved(before, after, "wopi_requests_total", operation=operation, client="office", status="409") == 1
    assert moved(before, after, "wopi_content_written_bytes_total", operation="PutFile") == 0  # nothing stored
    assert moved(before, after, "wopi_storage_client_rpcs_total", method="Lock", code="FAILED_PRECONDITION") == 1


def test_a_stale_save_is_a_save_conflict_not_a_lock_conflict(measured: MeasuredHost) -> None:
    file = measured.file("stale.wopitest")
    assert file.lock("editor").status_code == 200
    before, _ = measured.scrape()
    stale = {"X-COOL-WOPI-Timestamp": "2001-01-01T00:00:00.0000000Z"}
    refused = file.put_file(b"based on an old copy", lock="editor", headers=stale)
    assert refused.status_code == 409 and refused.json()["COOLStatusCode"] == 1010
    after, _ = measured.scrape()
    assert moved(before, after, "wopi_save_conflicts_total") == 1
    assert moved(before, after, "wopi_lock_conflicts_total", operation="PutFile") == 0
    assert moved(before, after, "wopi_requests_total", operation="PutFile", client="office", status="409") == 1


def test_operations_are_named_from_the_route_and_the_override(measured: MeasuredHost) -> None:
    file = measured.file("named.wopitest")
    before, _ = measured.scrape()
    assert file.get_lock().status_code == 200
    assert file.post("NO_SUCH_OVERRIDE").status_code == 501
    assert http.get(f"{file.wopi_src}/nothing-here", params={"access_token": file.access_token}).status_code == 404
    after, _ = measured.scrape()
    assert moved(before, after, "wopi_requests_total", operation="GetLock", client="office", status="200") == 1
    assert moved(before, after, "wopi_requests_total", operation="Unknown", client="office", status="501") == 1
    assert moved(before, after, "wopi_requests_total", operation="Unknown", client="office", status="404") == 1
    operations = {dict(labels).get("operation") for name, labels in after if name == "wopi_requests_total"}
    assert "NO_SUCH_OVERRIDE" not in operations  # what a client sends never becomes a label


def test_the_public_port_serves_no_metrics(measured: MeasuredHost) -> None:
    for path in ("/metrics", "/metrics/", "/wopi/metrics"):
        assert http.get(measured.host.url + path).status_code == 404, path
    assert httpx.get(measured.frontend_metrics, timeout=10).status_code == 200


def test_no_label_carries_an_id_a_user_or_a_token(measured: MeasuredHost) -> None:
    file = measured.file("private-name.wopitest")
    assert file.check_file_info().status_code == 200
    assert file.get_file().status_code == 200
    exposed = httpx.get(measured.frontend_metrics, timeout=10).text + httpx.get(measured.storage_metrics).text
    for needle in (file.file_id, file.access_token, "private-name", "test-user", measured.host.storage.secret):
        assert needle not in exposed


def test_without_a_discovery_there_is_no_discovery_age(measured: MeasuredHost) -> None:
    frontend, _ = measured.scrape()
    assert not any(name == "wopi_discovery_age_seconds" for name, _labels in frontend)


def test_proof_key_failures_the_client_and_the_discovery_age(tmp_path: Path) -> None:
    """A host whose WOPI client is Collabora with proof keys: an unsigned request is refused, counted as a proof
    failure and under the client's name; the discovery, fetched at start, has a finite age."""
    with DiscoveryServer(samples.collabora(KeyPair.generate())) as server:
        host, measured = measured_host(tmp_path, WOPI_DISCOVERY_URL=server.url)
        with host:
            file = measured.file("unsigned.wopitest")
            before, _ = measured.scrape()
            assert file.check_file_info().status_code == 500  # no X-WOPI-Proof
            after, _ = measured.scrape()
    assert moved(before, after, "wopi_proof_key_failures_total", reason="unsigned") == 1
    assert moved(before, after, "wopi_requests_total", operation="CheckFileInfo", client="collabora", status="500") == 1
    assert moved(before, after, "wopi_storage_client_rpcs_total", method="GetFileContext", code="OK") == 0
    age = value(after, "wopi_discovery_age_seconds")
    assert 0 <= age < math.inf


def test_metrics_are_off_by_default_nothing_more_listens(tmp_path: Path) -> None:
    with WopiHost(tmp_path) as host:
        assert host.process is not None and host.storage.process is not None
        assert listening_ports(host.process.pid) == {host.port}
        assert listening_ports(host.storage.process.pid) == {host.storage.port}
        assert http.get(host.url + "/metrics").status_code == 404


def test_with_metrics_on_the_front_end_listens_on_loopback_for_them(measured: MeasuredHost) -> None:
    assert measured.host.process is not None
    metrics_port = int(measured.frontend_metrics.split(":")[2].split("/")[0])
    assert listening_ports(measured.host.process.pid) == {measured.host.port, metrics_port}


def test_the_settings() -> None:
    base = {"WOPI_TOKEN_KEY": "k" * 32}
    assert FrontendSettings.from_environ(base).metrics_port is None
    assert FrontendSettings.from_environ({**base, "WOPI_METRICS_PORT": ""}).metrics_port is None  # empty: unset
    on = FrontendSettings.from_environ({**base, "WOPI_METRICS_PORT": "9464"})
    assert (on.metrics_port, on.metrics_host) == (9464, "127.0.0.1")
    assert FrontendSettings.from_environ({**base, "WOPI_METRICS_HOST": "0.0.0.0"}).metrics_host == "0.0.0.0"
    for bad in ("0", "8080", "65536"):  # 8080: the WOPI port itself
        with pytest.raises(ValueError, match="metrics_port"):
            FrontendSettings.from_environ({**base, "WOPI_METRICS_PORT": bad})
    with pytest.raises(ValueError, match="WOPI_METRICS_PORT"):
        FrontendSettings.from_environ({**base, "WOPI_METRICS_PORT": "many"})

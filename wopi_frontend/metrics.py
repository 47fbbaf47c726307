"""The front-end's Prometheus metrics: what it answers WOPI clients, and what its storage calls cost.

Off unless `WOPI_METRICS_PORT` is set. Then `serve` exposes them on that port alone (`WOPI_METRICS_HOST`, loopback
by default), never on the public router: a WOPI client or a browser cannot read them, and a scrape never competes
with a WOPI request for a connection slot.

The metric objects live here, at module level, as prometheus-client means them: a counter is one per process (in
its multiprocess mode, one file per process), and a rare event such as a save conflict (1010) is counted where it
is answered, without threading the app through to it. What costs something per request (the `WopiMetrics`
middleware, `observe_storage_call`) is installed by `create_app` only when metrics are on, so a host without
them pays nothing for them.

Every label is bounded: an operation name from the table below, the client profile, a status code, a gRPC method
and code, a proof failure's kind. Never a file id, a user, a token or a path.

The front-end runs as one process (cli.serve_frontend: one uvicorn server, no worker processes); replicas scale
it, each scraped on its own metrics port. Should it ever run several workers, prometheus-client's multiprocess
mode applies as it stands: PROMETHEUS_MULTIPROC_DIR set (a fresh folder per start) before this module is
imported, and `serve` exposing a registry with a `MultiProcessCollector`. The open-streams gauge already says how
to add up processes (`livesum`); the discovery age, read from this process's discovery service at scrape time,
would have to become a per-process timestamp gauge (`max`) then (docs/operations.md).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIServer

import grpc
from prometheus_client import REGISTRY, Counter, Gauge, Histogram, disable_created_metrics, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wopi_frontend.client_profiles import profile_for

if TYPE_CHECKING:
    from wopi_frontend.context import WopiContext
    from wopi_frontend.discovery import DiscoveryService

# From a fast CheckFileInfo (about a millisecond) to a large upload (a minute).
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
STORAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

REQUESTS = Counter(
    "wopi_requests_total",
    "WOPI requests answered, by operation, WOPI client profile and HTTP status code.",
    ("operation", "client", "status"),
)
REQUEST_DURATION = Histogram(
    "wopi_request_duration_seconds",
    "Time from a WOPI request's arrival to the end of its answer (a content stream's whole transfer), by operation.",
    ("operation",),
    buckets=REQUEST_BUCKETS,
)
LOCK_CONFLICTS = Counter(
    "wopi_lock_conflicts_total",
    "WOPI answers 409 with X-WOPI-Lock (the file's lock does not match the request's), by operation.",
    ("operation",),
)
SAVE_CONFLICTS = Counter(
    "wopi_save_conflicts_total",
    'PutFile saves refused with 409 {"COOLStatusCode": 1010}: the file changed since the client last read it.',
)
PROOF_KEY_FAILURES = Counter(
    "wopi_proof_key_failures_total",
    "WOPI requests refused by the proof-key check, by why (unsigned, timestamp, signature, replay, no_discovery).",
    ("reason",),
)
CONTENT_READ = Counter(
    "wopi_content_read_bytes_total", "File bytes sent to WOPI clients (GetFile bodies), by operation.", ("operation",)
)
CONTENT_WRITTEN = Counter(
    "wopi_content_written_bytes_total",
    "File bytes stored from WOPI clients (bodies of successful PutFile and PutRelativeFile), by operation.",
    ("operation",),
)
OPEN_STREAMS = Gauge(
    "wopi_open_streams",
    "WOPI requests streaming file contents right now (GetFile, PutFile, PutRelativeFile), by operation.",
    ("operation",),
    multiprocess_mode="livesum",
)
STORAGE_CALLS = Counter(
    "wopi_storage_client_rpcs_total",
    "Storage RPCs the front-end made, by method and gRPC status code.",
    ("method", "code"),
)
STORAGE_CALL_DURATION = Histogram(
    "wopi_storage_client_rpc_duration_seconds",
    "Duration of the front-end's storage RPCs (a content stream: its whole transfer), by method.",
    ("method",),
    buckets=STORAGE_BUCKETS,
)

# ---- the operation of a WOPI request: named here, once, for every route ------------------------------------------

UNKNOWN = "Unknown"  # a /wopi/ path or override that names no operation (answered 404, 400 or 501)
_FILE_OVERRIDES = {
    "LOCK": "Lock",  # UnlockAndRelock when X-WOPI-OldLock is present
    "UNLOCK": "Unlock",
    "REFRESH_LOCK": "RefreshLock",
    "GET_LOCK": "GetLock",
    "PUT_RELATIVE": "PutRelativeFile",
    "RENAME_FILE": "RenameFile",
    "DELETE": "DeleteFile",
    "PUT_USER_INFO": "PutUserInfo",
    "GET_SHARE_URL": "GetShareUrl",
    "ADD_ACTIVITIES": "AddActivities",
}
_CONTAINER_OVERRIDES = {
    "CREATE_CHILD_FILE": "CreateChildFile",
    "CREATE_CHILD_CONTAINER": "CreateChildContainer",
    "RENAME_CONTAINER": "RenameContainer",
    "DELETE_CONTAINER": "DeleteContainer",
    "GET_SHARE_URL": "GetShareUrl",
}
# (collection, the path segment after the id, method) -> the operation, or a POST's operations by X-WOPI-Override.
# The routes of app.py; /wopi/ecosystem has no id, so its next segment stands where the others have theirs.
_OPERATIONS: dict[tuple[str, str, str], str | dict[str, str]] = {
    ("files", "", "GET"): "CheckFileInfo",
    ("files", "", "POST"): _FILE_OVERRIDES,
    ("files", "contents", "GET"): "GetFile",
    ("files", "contents", "POST"): {"PUT": "PutFile"},
    ("files", "ancestry", "GET"): "EnumerateAncestors",
    ("files", "ecosystem_pointer", "GET"): "GetEcosystem",
    ("containers", "", "GET"): "CheckContainerInfo",
    ("containers", "", "POST"): _CONTAINER_OVERRIDES,
    ("containers", "children", "GET"): "EnumerateChildren",
    ("containers", "ancestry", "GET"): "EnumerateAncestors",
    ("containers", "ecosystem_pointer", "GET"): "GetEcosystem",
    ("ecosystem", "", "GET"): "CheckEcosystem",
    ("ecosystem", "", "POST"): {"GET_WOPI_SRC_WITH_ACCESS_TOKEN": "GetFileWopiSrc"},
    ("ecosystem", "root_container_pointer", "GET"): "GetRootContainer",
}
CONTENT_READS = frozenset({"GetFile"})
CONTENT_WRITES = frozenset({"PutFile", "PutRelativeFile"})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def operation_of(scope: Scope) -> str | None:
    """The WOPI operation an HTTP request asks for (from its path, method and X-WOPI-Override); None for a request
    outside /wopi/. Made from the request alone, before routing: a request refused before it reaches a route (its
    proof, its Host) is counted under its operation too."""
    path: str = scope["path"]
    if not path.startswith("/wopi/"):
        return None
    parts = path.split("/", 6)  # "", "wopi", collection, id, sub-resource, (nothing more in a WOPI URL)
    collection = parts[2]
    after = parts[3:] if collection == "ecosystem" else parts[4:] if len(parts) > 3 and parts[3] else None
    if after is None or len(after) > 1 or after == [""]:  # a trailing slash: no WOPI URL has one (404)
        return UNKNOWN
    method = "GET" if scope["method"] == "HEAD" else scope["method"]
    found = _OPERATIONS.get((collection, after[0] if after else "", method))
    if found is None or isinstance(found, str):
        return found or UNKNOWN
    override = _header(scope, b"x-wopi-override")
    operation = found.get(override.strip().upper(), UNKNOWN) if override is not None else UNKNOWN
    if operation == "Lock" and _header(scope, b"x-wopi-oldlock") is not None:
        return "UnlockAndRelock"
    return operation


# ---- recording ---------------------------------------------------------------------------------------------------


class _OperationSeries:
    """One operation's label children, made on its first request and kept: prometheus-client's `labels()` takes a
    lock and checks its arguments on every call, a dictionary lookup here does not."""

    def __init__(self, operation: str) -> None:
        self.operation = operation
        self.duration = REQUEST_DURATION.labels(operation)
        self.reads = CONTENT_READ.labels(operation) if operation in CONTENT_READS else None
        self.writes = CONTENT_WRITTEN.labels(operation) if operation in CONTENT_WRITES else None
        self.streams = OPEN_STREAMS.labels(operation) if self.reads or self.writes else None
        self._answers: dict[tuple[str, int], Any] = {}

    def answered(self, client: str, status: int) -> None:
        counter = self._answers.get((client, status))
        if counter is None:
            counter = self._answers[(client, status)] = REQUESTS.labels(self.operation, client, str(status))
        counter.inc()


_SERIES: dict[str, _OperationSeries] = {}


def _series(operation: str) -> _OperationSeries:
    series = _SERIES.get(operation)
    if series is None:
        series = _SERIES[operation] = _OperationSeries(operation)
    return series


class WopiMetrics:
    """ASGI middleware: counts and times each WOPI request by operation, client and status, with its lock
    conflicts, file bytes and open streams. Outermost, so that refusals before routing are counted as well."""

    def __init__(self, app: ASGIApp, context: WopiContext) -> None:
        self.app = app
        self.context = context
        self._profile_source: object = self  # the discovery the client label was worked out from (self: none yet)
        self._client = ""

    def _client_label(self) -> str:
        """The client profile's name, worked out again only when the discovery is replaced ("auto" reads it from
        the discovery's actions, too much to do for every request)."""
        service = self.context.discovery
        current = service.current if service is not None else None
        if current is not self._profile_source:
            self._client = profile_for(self.context.settings.wopi_client, current).client.value
            self._profile_source = current
        return self._client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        operation = operation_of(scope) if scope["type"] == "http" else None
        if operation is None:
            await self.app(scope, receive, send)
            return
        series = _series(operation)
        client = self._client_label()
        status = 500  # if the app fails before answering: the error middleware outside answers 500
        lock_conflict = False
        sent = received = 0
        recorded = False

        def record() -> None:
            nonlocal recorded
            if recorded:
                return
            recorded = True
            series.duration.observe(time.perf_counter() - started)
            series.answered(client, status)
            if lock_conflict:
                LOCK_CONFLICTS.labels(operation).inc()
            if series.streams is not None:
                series.streams.dec()
            if series.reads is not None:
                series.reads.inc(sent)
            if series.writes is not None and 200 <= status < 300:
                series.writes.inc(received)

        async def send_and_watch(message: Message) -> None:
            nonlocal status, lock_conflict, sent
            if message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
                if not message.get("more_body", False):
                    # Recorded before the answer's end leaves: a client that has the whole answer, and then
                    # scrapes, finds it counted.
                    record()
            elif message["type"] == "http.response.start":
                status = message["status"]
                # WOPI's lock mismatch answer is a 409 that names the current lock; a save conflict (1010) does not.
                lock_conflict = status == 409 and any(name == b"x-wopi-lock" for name, _ in message["headers"])
            await send(message)

        async def receive_and_count() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
            return message

        if series.streams is not None:
            series.streams.inc()
        started = time.perf_counter()
        try:
            await self.app(scope, receive_and_count if series.writes is not None else receive, send_and_watch)
        finally:
            record()  # an answer cut short, or none at all (an error the middleware outside answers 500)


_CALLS: dict[tuple[str, grpc.StatusCode], Any] = {}
_CALL_DURATIONS: dict[str, Any] = {}


def observe_storage_call(method: str, code: grpc.StatusCode, seconds: float) -> None:
    """StorageClient's `on_call`: one storage RPC ended with `code` after `seconds`."""
    counter = _CALLS.get((method, code))
    if counter is None:
        counter = _CALLS[(method, code)] = STORAGE_CALLS.labels(method, code.name)
    counter.inc()
    duration = _CALL_DURATIONS.get(method)
    if duration is None:
        duration = _CALL_DURATIONS[method] = STORAGE_CALL_DURATION.labels(method)
    duration.observe(seconds)


class DiscoveryAge(Collector):
    """`wopi_discovery_age_seconds`, worked out at each scrape from the discovery service's last good fetch: +Inf
    until one succeeded (an alert on the age fires then too); absent when no discovery URL is configured."""

    NAME = "wopi_discovery_age_seconds"
    HELP = "Seconds since the WOPI client's discovery was last fetched and parsed successfully (+Inf: never)."

    def __init__(self) -> None:
        self.service: DiscoveryService | None = None

    def describe(self) -> Iterable[Metric]:
        return [GaugeMetricFamily(self.NAME, self.HELP)]

    def collect(self) -> Iterable[Metric]:
        service = self.service  # read once: the scrape runs in the metrics server's thread
        if service is None:
            return []
        age = service.seconds_since_success()
        return [GaugeMetricFamily(self.NAME, self.HELP, value=math.inf if age is None else age)]


DISCOVERY_AGE = DiscoveryAge()
REGISTRY.register(DISCOVERY_AGE)


def watch_discovery(service: DiscoveryService | None) -> None:
    """Report `service`'s age (the app's discovery service; None: no discovery configured)."""
    DISCOVERY_AGE.service = service


def serve(host: str, port: int) -> WSGIServer:
    """Serve every metric (with prometheus-client's process and Python ones) at host:port, on any path (/metrics
    for Prometheus), from a daemon thread: a scrape takes the event loop no time beyond the GIL. Raises OSError
    when the port cannot be bound. Multiprocess mode would pass a registry with a MultiProcessCollector here."""
    disable_created_metrics()  # a `_created` series beside each counter doubles a scrape, and Prometheus skips them
    server, _thread = start_http_server(port, addr=host)
    return server

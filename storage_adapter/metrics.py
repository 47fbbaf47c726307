"""The storage service's Prometheus metrics: its RPCs by method and status code with their latency, the content
streams open, and the file bytes read and written.

Off unless `--metrics-port` (WOPI_STORAGE_METRICS_PORT) is given. Then `serve` exposes them over HTTP on that port
of their own (`--metrics-host`, loopback by default), and the interceptor times every StorageService call
(`measured_unary`, `measured_stream`), so an adapter without metrics pays nothing for the timing. The byte counters
are bumped once per content call either way: a lock and an addition, next to a whole file's transfer.

The metric objects live here, at module level, as prometheus-client means them (one per process). Every label is
bounded: a method of the service and a gRPC status code name; never a file id, a principal or a secret. Health and
reflection calls are not counted: they are not the storage contract, and probes would drown the figures.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from wsgiref.simple_server import WSGIServer

import grpc
from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics, start_http_server

# From a catalogue lookup (well under a millisecond) to a large upload committed to disk.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

RPCS = Counter(
    "wopi_storage_rpcs_total", "StorageService RPCs handled, by method and gRPC status code.", ("method", "code")
)
RPC_DURATION = Histogram(
    "wopi_storage_rpc_duration_seconds",
    "Time StorageService RPCs took, from the call's start to its answer (a stream: its whole transfer), by method.",
    ("method",),
    buckets=BUCKETS,
)
OPEN_STREAMS = Gauge(
    "wopi_storage_open_streams",
    "Streaming StorageService calls in progress (ReadFile, WriteFile, CreateFile, ListChildren), by method.",
    ("method",),
    multiprocess_mode="livesum",
)
READ_BYTES = Counter("wopi_storage_read_bytes_total", "File bytes sent to callers by ReadFile.")
WRITTEN_BYTES = Counter(
    "wopi_storage_written_bytes_total", "File bytes stored by WriteFile and CreateFile (successful calls only)."
)

Behaviour = Callable[..., Any]


class MethodMetrics:
    """One method's label children, made once when the interceptor first serves it: `labels()` takes a lock and
    checks its arguments each time, this costs a dictionary lookup."""

    def __init__(self, full_method: str, streaming: bool) -> None:
        self.method = full_method.rpartition("/")[2]  # "/wopi.storage.v1.StorageService/ReadFile" -> "ReadFile"
        self.duration = RPC_DURATION.labels(self.method)
        self.open_streams = OPEN_STREAMS.labels(self.method) if streaming else None
        self._by_code: dict[grpc.StatusCode, Any] = {}

    def ended(self, code: grpc.StatusCode, started: float) -> None:
        self.duration.observe(time.perf_counter() - started)
        counter = self._by_code.get(code)
        if counter is None:
            counter = self._by_code[code] = RPCS.labels(self.method, code.name)
        counter.inc()


def _final_code(error: BaseException, context: grpc.aio.ServicerContext) -> grpc.StatusCode:
    """The status an RPC that raised `error` ends with. An abort has set it on the context (the interceptor aborts
    for every StorageError); a cancelled handler's caller went away or ran out of time (CANCELLED for both: the
    server cannot tell them apart); anything else is a bug gRPC answers UNKNOWN."""
    if isinstance(error, grpc.aio.AbortError):
        return context.code() or grpc.StatusCode.UNKNOWN  # type: ignore[no-any-return]
    if isinstance(error, asyncio.CancelledError | GeneratorExit):
        return grpc.StatusCode.CANCELLED
    return grpc.StatusCode.UNKNOWN


def measured_unary(behaviour: Behaviour, metrics: MethodMetrics) -> Behaviour:
    """`behaviour` (a unary-response handler, its request streamed or not) timed and counted."""

    async def measured(request: Any, context: grpc.aio.ServicerContext) -> Any:
        if metrics.open_streams is not None:
            metrics.open_streams.inc()
        started = time.perf_counter()
        code = grpc.StatusCode.OK
        try:
            return await behaviour(request, context)
        except BaseException as error:
            code = _final_code(error, context)
            raise
        finally:
            if metrics.open_streams is not None:
                metrics.open_streams.dec()
            metrics.ended(code, started)

    return measured


def measured_stream(behaviour: Behaviour, metrics: MethodMetrics) -> Behaviour:
    """`behaviour` (a streaming-response handler) timed from its start to its last message, and counted."""

    async def measured(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        if metrics.open_streams is not None:
            metrics.open_streams.inc()
        started = time.perf_counter()
        code = grpc.StatusCode.OK
        try:
            async for response in behaviour(request, context):
                yield response
        except BaseException as error:
            code = _final_code(error, context)
            raise
        finally:
            if metrics.open_streams is not None:
                metrics.open_streams.dec()
            metrics.ended(code, started)

    return measured


def serve(host: str, port: int) -> WSGIServer:
    """Serve every metric (with prometheus-client's process and Python ones) over HTTP at host:port, any path
    (/metrics for Prometheus), from a daemon thread. RuntimeError when the port cannot be bound (cli.main says so
    and exits)."""
    disable_created_metrics()  # a `_created` series beside each counter doubles a scrape, and Prometheus skips them
    try:
        server, _thread = start_http_server(port, addr=host)
    except OSError as error:
        raise RuntimeError(f"cannot serve metrics on {host}:{port}: {error}") from None
    return server

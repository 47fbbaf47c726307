"""Builds and runs the gRPC server: the storage service, health, and reflection on one port."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from storage_adapter import content_wire
from storage_adapter.backends.base import StorageBackend
from storage_adapter.health_watch import BoundedHealthServicer
from storage_adapter.interceptors import StorageInterceptor
from storage_adapter.servicer import StorageServicer
from storage_adapter.settings import AdapterSettings
from storage_adapter.write_gate import UploadGate
from wopi_proto.storage_v1 import storage_pb2

logger = logging.getLogger("storage_adapter")

SERVICE_NAME = storage_pb2.DESCRIPTOR.services_by_name["StorageService"].full_name
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
_DEFAULTS = AdapterSettings(allow_unauthenticated=True)


@dataclass(frozen=True)
class ServerLimits:
    """What one caller may hold, and for how long (ARCHITECTURE rule 10). Seconds; 0 disables an age or idle limit.

    - stream_idle_timeout: an upload whose next message does not come within this is aborted (DEADLINE_EXCEEDED)
      and discarded (streams.py).
    - keepalive_time / keepalive_timeout: the server pings every connection this often and closes one whose peer
      does not answer in time, so a caller that vanished without closing frees its streams and descriptors.
    - max_connection_idle: a connection without calls for this long is closed (callers reconnect on demand).
    - max_connection_age / max_connection_age_grace: a connection is asked to go away (GOAWAY) after this age;
      its calls in flight get the grace to finish. gRPC clients reconnect transparently.
    - max_streams_per_connection: concurrent calls on one connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS).
      The front-end multiplexes all its calls over one connection, so this is well above what it needs; a
      client over the limit waits for a free stream rather than failing.
    - max_health_watchers: open Health.Watch streams in all (health_watch.py).
    - max_concurrent_uploads: WriteFile and CreateFile streams received at once (write_gate.py).
    """

    stream_idle_timeout: float = _DEFAULTS.stream_idle_timeout
    keepalive_time: float = _DEFAULTS.keepalive_time
    keepalive_timeout: float = _DEFAULTS.keepalive_timeout
    max_connection_idle: float = _DEFAULTS.max_connection_idle
    max_connection_age: float = _DEFAULTS.max_connection_age
    max_connection_age_grace: float = _DEFAULTS.max_connection_age_grace
    max_streams_per_connection: int = _DEFAULTS.max_streams_per_connection
    max_health_watchers: int = _DEFAULTS.max_health_watchers
    max_concurrent_uploads: int = _DEFAULTS.max_concurrent_uploads

    @classmethod
    def of(cls, settings: AdapterSettings) -> ServerLimits:
        return cls(**{name: getattr(settings, name) for name in cls.__dataclass_fields__})

    def channel_options(self) -> list[tuple[str, int]]:
        def ms(seconds: float) -> int:
            return int(seconds * 1000)

        options = [
            ("grpc.keepalive_time_ms", ms(self.keepalive_time)),
            ("grpc.keepalive_timeout_ms", ms(self.keepalive_timeout)),
            ("grpc.http2.ping_timeout_ms", ms(self.keepalive_timeout)),  # the wait for a ping's answer (else 60 s)
            ("grpc.keepalive_permit_without_calls", 1),  # ping idle connections too: a vanished peer is found
            ("grpc.http2.max_pings_without_data", 0),  # keep pinging a connection whose streams send nothing...
            ("grpc.http2.min_sent_ping_interval_without_data_ms", ms(self.keepalive_time)),  # ...this often
            ("grpc.max_concurrent_streams", self.max_streams_per_connection),
        ]
        if self.max_connection_idle:
            options.append(("grpc.max_connection_idle_ms", ms(self.max_connection_idle)))
        if self.max_connection_age:
            options.append(("grpc.max_connection_age_ms", ms(self.max_connection_age)))
            options.append(("grpc.max_connection_age_grace_ms", ms(self.max_connection_age_grace)))
        return options


class StorageServer:
    """A started gRPC server around one backend. `port` is the bound port (useful with port 0)."""

    def __init__(self, server: grpc.aio.Server, health_servicer: BoundedHealthServicer, port: int) -> None:
        self.server = server
        self.health = health_servicer
        self.port = port

    async def stop(self, grace: float | None = 5.0) -> None:
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)


async def start_server(
    backend: StorageBackend,
    listen: str,
    *,
    secret: str | None,
    credentials: grpc.ServerCredentials | None = None,
    limits: ServerLimits | None = None,
    measured: bool = False,
) -> StorageServer:
    """Start serving `backend` (already started) on `listen`: "host:port" (port 0 picks a free one), or
    "unix:PATH" for a Unix domain socket (a front-end on the same machine: no TCP stack in the data path).
    `measured`: time and count every storage call for the metrics (metrics.py)."""
    limits = limits or ServerLimits()
    server = grpc.aio.server(
        interceptors=[StorageInterceptor(secret, measured=measured)],
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            *limits.channel_options(),
        ],
    )
    servicer = StorageServicer(
        backend,
        gate=UploadGate(max_uploads=limits.max_concurrent_uploads),
        stream_idle_timeout=limits.stream_idle_timeout,
    )
    content_wire.add_servicer(servicer, server)  # the generated handlers, contents encoded by hand
    health_servicer = BoundedHealthServicer(limits.max_health_watchers)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    port = server.add_insecure_port(listen) if credentials is None else server.add_secure_port(listen, credentials)
    if port == 0:
        raise OSError(f"cannot listen on {listen}")
    await server.start()
    for name in ("", SERVICE_NAME):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return StorageServer(server, health_servicer, port)


async def serve(
    backend: StorageBackend,
    listen: str,
    *,
    secret: str | None,
    credentials: grpc.ServerCredentials | None = None,
    limits: ServerLimits | None = None,
    measured: bool = False,
) -> None:
    """Run until SIGINT or SIGTERM, then drain in-flight calls and close the backend."""
    await backend.start()
    try:
        running = await start_server(
            backend, listen, secret=secret, credentials=credentials, limits=limits, measured=measured
        )
        caps = backend.capabilities
        control = "access control on" if caps.access_control else "access control OFF: every caller may do everything"
        where = listen if listen.startswith("unix:") else f"port {running.port}"
        logger.info("serving %s (%s backend, %s) on %s", SERVICE_NAME, caps.adapter_name, control, where)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        logger.info("shutting down")
        await running.stop()
    finally:
        await backend.close()

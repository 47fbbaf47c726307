"""Builds and runs the gRPC server: the storage service, health, and reflection on one port."""

from __future__ import annotations

import asyncio
import logging
import signal

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from storage_adapter.backends.base import StorageBackend
from storage_adapter.interceptors import StorageInterceptor
from storage_adapter.servicer import StorageServicer
from wopi_proto.storage_v1 import storage_pb2, storage_pb2_grpc

logger = logging.getLogger("storage_adapter")

SERVICE_NAME = storage_pb2.DESCRIPTOR.services_by_name["StorageService"].full_name
MAX_MESSAGE_BYTES = 4 * 1024 * 1024


class StorageServer:
    """A started gRPC server around one backend. `port` is the bound port (useful with port 0)."""

    def __init__(self, server: grpc.aio.Server, health_servicer: health.aio.HealthServicer, port: int) -> None:
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
) -> StorageServer:
    """Start serving `backend` (already started) on `listen` ("host:port"; port 0 picks a free one)."""
    server = grpc.aio.server(
        interceptors=[StorageInterceptor(secret)],
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ],
    )
    storage_pb2_grpc.add_StorageServiceServicer_to_server(StorageServicer(backend), server)
    health_servicer = health.aio.HealthServicer()
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
    backend: StorageBackend, listen: str, *, secret: str | None, credentials: grpc.ServerCredentials | None = None
) -> None:
    """Run until SIGINT or SIGTERM, then drain in-flight calls and close the backend."""
    await backend.start()
    try:
        running = await start_server(backend, listen, secret=secret, credentials=credentials)
        logger.info("serving %s (%s backend) on port %d", SERVICE_NAME, backend.capabilities.adapter_name, running.port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        logger.info("shutting down")
        await running.stop()
    finally:
        await backend.close()

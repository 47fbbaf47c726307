"""The server interceptor: authenticates callers and maps errors to statuses, for every RPC in one place.

Servicer methods and backends raise `StorageError`s; this module turns them into statuses with `google.rpc`
details (`error_status.py`). Anything else is a bug: it is logged with its traceback and answered INTERNAL,
without the exception's text (which may hold paths or data).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from storage_adapter import access, error_status, metrics, principal
from storage_adapter.errors import StorageError, Unauthenticated

logger = logging.getLogger("storage_adapter")

AUTHORIZATION_KEY = "authorization"

# Health checks and reflection reveal nothing about stored data, and probes (compose, Kubernetes) must reach
# them without the secret.
PUBLIC_METHOD_PREFIXES = (
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/grpc.reflection.v1.ServerReflection/",
)

Behaviour = Callable[..., Any]


class StorageInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, secret: str | None, *, measured: bool = False) -> None:
        """`secret` None disables authentication (local development only). `measured`: time and count every call of
        the storage service (metrics.py)."""
        self._expected = f"Bearer {secret}".encode() if secret is not None else None
        self._measured = measured
        # Each method's handler as served, wrapped (or public), made on the method's first call: a server's
        # handlers never change once it serves, so a call costs a lookup here instead of a new handler and
        # closures. Only methods the server has are kept (a bounded set).
        self._served: dict[str, grpc.RpcMethodHandler] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        method: str = handler_call_details.method  # type: ignore[attr-defined]
        served = self._served.get(method)
        if served is not None:
            return served
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        if method.startswith(PUBLIC_METHOD_PREFIXES):
            served = handler
        else:
            streaming = handler.request_streaming or handler.response_streaming
            measured = metrics.MethodMetrics(method, streaming) if self._measured else None
            served = _wrap(handler, method, self._admit, measured)
        self._served[method] = served
        return served

    def _admit(self, context: grpc.aio.ServicerContext) -> None:
        """Refuse an unauthenticated caller; else bind the call's principal (with its groups) for the backend's
        access checks (access.py). Runs in the RPC's own task, so the binding ends with the call. The metadata
        is read once for both."""
        entries = dict(context.invocation_metadata() or ())
        if self._expected is not None:
            presented = entries.get(AUTHORIZATION_KEY, "")
            presented_bytes = presented.encode() if isinstance(presented, str) else presented
            if not hmac.compare_digest(presented_bytes, self._expected):
                _refuse()
        access.bind_principal(principal.from_entries(entries))


async def _abort_for(error: Exception, method: str, context: grpc.aio.ServicerContext) -> None:
    if isinstance(error, StorageError):
        logger.debug("%s: %s: %s", method, type(error).__name__, error.message)
        status = error_status.to_status(error)
    else:
        logger.exception("%s: unexpected error", method, exc_info=error)
        status = error_status.internal_status()
    await context.abort(status.code, status.details, status.trailing_metadata)


def _refuse() -> None:
    raise Unauthenticated("missing or wrong shared secret in the 'authorization' metadata (Bearer <secret>)")


def _wrap(
    handler: grpc.RpcMethodHandler,
    method: str,
    admit: Callable[[grpc.aio.ServicerContext], None],
    measured: metrics.MethodMetrics | None = None,
) -> grpc.RpcMethodHandler:
    def unary_response(behaviour: Behaviour) -> Behaviour:
        async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
            try:
                admit(context)
                return await behaviour(request, context)
            except grpc.aio.AbortError:
                raise
            except Exception as error:
                await _abort_for(error, method, context)

        return wrapped if measured is None else metrics.measured_unary(wrapped, measured)

    def stream_response(behaviour: Behaviour) -> Behaviour:
        async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            try:
                admit(context)
                async for response in behaviour(request, context):
                    yield response
            except grpc.aio.AbortError:
                raise
            except Exception as error:
                await _abort_for(error, method, context)

        return wrapped if measured is None else metrics.measured_stream(wrapped, measured)

    serializers = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(unary_response(handler.unary_unary), **serializers)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(unary_response(handler.stream_unary), **serializers)
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(stream_response(handler.unary_stream), **serializers)
    return grpc.stream_stream_rpc_method_handler(stream_response(handler.stream_stream), **serializers)

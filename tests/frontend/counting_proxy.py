"""A gRPC proxy that counts the storage calls the front-end makes, by RPC name.

It sits on a loopback port between the real front-end process and the real storage process and forwards every
call unchanged (messages as raw bytes, metadata as sent, streams in both directions), so a test can assert how
many storage round trips one WOPI request costs: a count, never a timing.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent import futures
from types import TracebackType
from typing import Any

import grpc

from tests.infra.ports import free_port
from wopi_proto.storage_v1 import storage_pb2 as pb

_SERVICE = pb.DESCRIPTOR.services_by_name["StorageService"]
_FORWARDED_METADATA = ("authorization", "x-wopi-principal-id", "x-wopi-principal-name-bin", "x-wopi-principal-groups")
# The RPCs an optional capability brings: a proxy that hides the capability answers them UNIMPLEMENTED.
CAPABILITY_RPCS = {"file_context": ("GetFileContext",)}


class CountingProxy:
    def __init__(self, upstream: str, *, hidden_capabilities: tuple[str, ...] = ()) -> None:
        """`hidden_capabilities`: the proxy plays an adapter that predates these (GetCapabilities says false,
        their RPCs are UNIMPLEMENTED), to test the front-end's way without them."""
        self.target = f"127.0.0.1:{free_port()}"
        self.hidden_capabilities = hidden_capabilities
        self.hidden_rpcs = {rpc for name in hidden_capabilities for rpc in CAPABILITY_RPCS[name]}
        self._upstream = grpc.insecure_channel(upstream)
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        self._server.add_generic_rpc_handlers([_Forwarder(self)])
        self._server.add_insecure_port(self.target)
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()

    def count(self, rpc: str) -> None:
        with self._lock:
            self._calls[rpc] += 1

    def calls(self) -> Counter[str]:
        with self._lock:
            return Counter(self._calls)

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()

    def upstream_callable(self, path: str, client_streaming: bool, server_streaming: bool) -> Any:
        kind = {
            (False, False): self._upstream.unary_unary,
            (True, False): self._upstream.stream_unary,
            (False, True): self._upstream.unary_stream,
            (True, True): self._upstream.stream_stream,
        }[client_streaming, server_streaming]
        return kind(path)  # no (de)serializers: bytes in, bytes out

    def start(self) -> CountingProxy:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop(grace=None).wait(10)
        self._upstream.close()

    def __enter__(self) -> CountingProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


class _Forwarder(grpc.GenericRpcHandler):
    def __init__(self, proxy: CountingProxy) -> None:
        self._proxy = proxy

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        path = handler_call_details.method
        method = _SERVICE.methods_by_name.get(path.rsplit("/", 1)[-1])
        if method is None or not path.startswith(f"/{_SERVICE.full_name}/"):
            return None  # health, reflection: not storage calls
        proxy = self._proxy
        upstream = proxy.upstream_callable(path, method.client_streaming, method.server_streaming)

        def metadata(context: grpc.ServicerContext) -> list[tuple[str, Any]]:
            return [(key, value) for key, value in context.invocation_metadata() if key in _FORWARDED_METADATA]

        def forward_error(error: grpc.RpcError, context: grpc.ServicerContext) -> None:
            context.set_trailing_metadata(error.trailing_metadata() or ())  # google.rpc details travel here
            context.abort(error.code(), error.details() or "")

        def answer(request: Any, context: grpc.ServicerContext) -> Any:
            proxy.count(method.name)
            if method.name in proxy.hidden_rpcs:
                context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{method.name} is not implemented")
            try:
                answered = upstream(request, metadata=metadata(context), timeout=context.time_remaining())
            except grpc.RpcError as error:
                forward_error(error, context)
            if method.name == "GetCapabilities" and proxy.hidden_capabilities:
                caps = pb.Capabilities.FromString(answered)
                for name in proxy.hidden_capabilities:
                    caps.ClearField(name)
                answered = caps.SerializeToString()
            return answered

        def answer_stream(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            proxy.count(method.name)
            try:
                yield from upstream(request, metadata=metadata(context), timeout=context.time_remaining())
            except grpc.RpcError as error:
                forward_error(error, context)

        if method.server_streaming:
            factory = (
                grpc.stream_stream_rpc_method_handler
                if method.client_streaming
                else grpc.unary_stream_rpc_method_handler
            )
            return factory(answer_stream)
        factory = (
            grpc.stream_unary_rpc_method_handler if method.client_streaming else grpc.unary_unary_rpc_method_handler
        )
        return factory(answer)

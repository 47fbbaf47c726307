"""The standard gRPC health service, with a bound on `Health.Watch` streams.

Health answers without the shared secret (probes must reach it), and a Watch stream stays open for as long as
its caller likes, so without a bound anyone who can connect could open thousands and grow the process. Watch
streams beyond `max_watchers` are refused with RESOURCE_EXHAUSTED; `Health.Check`, which probes use, is a unary
call and never refused, and the storage service's own RPCs do not count against the bound.
"""

from __future__ import annotations

import grpc
from grpc_health.v1 import health, health_pb2

DEFAULT_MAX_WATCHERS = 100


class BoundedHealthServicer(health.aio.HealthServicer):
    def __init__(self, max_watchers: int = DEFAULT_MAX_WATCHERS) -> None:
        super().__init__()
        self._max_watchers = max_watchers
        self._watchers = 0

    async def Watch(self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext) -> None:
        if self._watchers >= self._max_watchers:
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"too many health watchers (at most {self._max_watchers}); use Health.Check or retry later",
            )
        self._watchers += 1
        try:
            await super().Watch(request, context)
        finally:
            self._watchers -= 1

"""`create_app(settings, storage)`: the Starlette application, built from plain data."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wopi_frontend import dev_login, host_check, host_page, metrics, sessions_api
from wopi_frontend.context import WopiContext
from wopi_frontend.discovery import DiscoveryService
from wopi_frontend.errors import NotFound, NotImplementedByHost, WopiError, handle_error
from wopi_frontend.proof_check import ProofKeyCheck
from wopi_frontend.routes import (
    activity_page,
    blank,
    browser,
    container_changes,
    containers,
    contents,
    details_page,
    ecosystem,
    file_url,
    files,
)
from wopi_frontend.settings import FrontendSettings
from wopi_frontend.storage_client import StorageCallError, StorageClient
from wopi_frontend.tokens import TokenIssuer

access_logger = logging.getLogger("wopi_frontend.access")


async def healthz(request: Request) -> Response:
    """Liveness and readiness: the front-end answers, and storage answers too. The probe is GetCapabilities,
    the one RPC that names no item and needs no principal (an adapter with access control refuses the others
    without one); it is cached after the first answer, so later probes ask storage directly."""
    try:
        await request.app.state.wopi.storage.probe()
    except StorageCallError as error:
        return JSONResponse({"status": "storage unavailable", "storage": error.code.name}, status_code=503)
    return JSONResponse({"status": "ok"})


async def no_such_wopi_route(request: Request) -> Response:
    """Anything under /wopi/ that no WOPI route matched (a trailing slash, an extra or empty segment): 404."""
    raise NotFound("no such WOPI endpoint")


async def containers_not_offered(request: Request) -> Response:
    """A container or ecosystem operation while the operator has them off (settings.containers)."""
    raise NotImplementedByHost("this host offers no container operations")


def container_routes(settings: FrontendSettings) -> list[Route]:
    """The WOPI operations that reach beyond a token's one file: the ancestors, containers and the ecosystem. Off
    (settings.containers), each answers 501, before reading its token."""
    routes = [
        Route("/wopi/files/{file_id}/ancestry", files.enumerate_ancestors, methods=["GET"]),
        Route("/wopi/files/{file_id}/ecosystem_pointer", ecosystem.file_ecosystem_pointer, methods=["GET"]),
        Route("/wopi/containers/{container_id}", containers.check_container_info, methods=["GET"]),
        Route("/wopi/containers/{container_id}", container_changes.post_container, methods=["POST"]),
        Route("/wopi/containers/{container_id}/children", containers.enumerate_children, methods=["GET"]),
        Route("/wopi/containers/{container_id}/ancestry", containers.enumerate_ancestors, methods=["GET"]),
        Route(
            "/wopi/containers/{container_id}/ecosystem_pointer", ecosystem.container_ecosystem_pointer, methods=["GET"]
        ),
        Route("/wopi/ecosystem", ecosystem.check_ecosystem, methods=["GET"]),
        Route("/wopi/ecosystem", ecosystem.get_file_wopi_src, methods=["POST"]),
        Route("/wopi/ecosystem/root_container_pointer", ecosystem.root_container_pointer, methods=["GET"]),
    ]
    if settings.containers:
        return routes
    return [Route(route.path, containers_not_offered, methods=route.methods) for route in routes]


class AccessLog:
    """Logs method, path, status and duration, never the query string: it holds the access token."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # With the access log off (a level above INFO), a request costs one cached level check here and nothing
        # else: no timer, no wrapped `send`, no line formatted.
        if scope["type"] != "http" or not access_logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            # The path percent-encoded again: decoded, it could carry newlines and forge log lines.
            path = quote(scope["path"], safe="/")
            access_logger.info("%s %s %d %.1fms", scope["method"], path, status, (time.perf_counter() - started) * 1000)


def create_app(settings: FrontendSettings, storage: StorageClient | None = None) -> Starlette:
    measured = settings.metrics_port is not None  # metrics.py: nothing of it runs per request unless they are on
    storage = storage or StorageClient(
        settings.storage_target,
        settings.storage_secret,
        timeout=settings.storage_timeout,
        stream_timeout=settings.storage_stream_timeout,
        on_call=metrics.observe_storage_call if measured else None,
    )
    discovery = (
        DiscoveryService(settings.discovery_url, refresh_interval=settings.discovery_refresh)
        if settings.discovery_url
        else None
    )
    context = WopiContext(settings, storage, TokenIssuer(settings.token_key, settings.token_ttl), discovery)
    access_logger.setLevel(logging.NOTSET if settings.access_log else logging.WARNING)  # NOTSET: the parents' level
    if measured:
        metrics.watch_discovery(discovery)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if discovery is not None:
            await discovery.start()  # never fails: an unreachable client is retried in the background
        try:
            yield
        finally:
            if discovery is not None:
                await discovery.close()
            await storage.close()

    routes = [
        Route("/wopi/files/{file_id}", files.check_file_info_route, methods=["GET"]),
        Route("/wopi/files/{file_id}", files.post_file, methods=["POST"]),
        Route("/wopi/files/{file_id}/contents", contents.get_file, methods=["GET"]),
        Route("/wopi/files/{file_id}/contents", contents.post_contents, methods=["POST"]),
        *container_routes(settings),
        Route("/wopi/{path:path}", no_such_wopi_route, methods=["GET", "POST"]),
        Route("/wopi-file/{file_id}", file_url.get_from_file_url, methods=["GET"]),
        Route("/blank/{extension}", blank.get_blank_document, methods=["GET"]),
        Route("/api/v1/sessions", sessions_api.create_session, methods=["POST"]),
        Route("/host/{file_id}", host_page.host_page, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/login", dev_login.login, methods=["GET"]),
        *browser.ROUTES,
        *activity_page.ROUTES,
        *details_page.ROUTES,
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={WopiError: handle_error, StorageCallError: handle_error, Exception: handle_error},
        # Every /wopi/ request's proof is checked here, before routing: a refused one touches nothing.
        # Before anything else, a request must be addressed to one of our names (host_check.py: DNS rebinding).
        # With metrics on, every /wopi/ request is counted first, also those the next two refuse.
        middleware=[
            *([Middleware(metrics.WopiMetrics, context=context)] if measured else []),
            host_check.middleware(settings),
            Middleware(ProofKeyCheck, context=context),
        ],
        lifespan=lifespan,
    )
    # No redirect to the path with its trailing slash toggled: it would repeat the query, and with it an access
    # token, in the Location header. None of our URLs ends in a slash, so such a path is simply not found.
    app.router.redirect_slashes = False
    app.state.wopi = context
    return app


def create_asgi_app(settings: FrontendSettings) -> ASGIApp:
    return AccessLog(create_app(settings))

"""Answers only requests addressed to this server's own name: the defence against DNS rebinding.

A page at `http://rebind.example:8080/` whose DNS name is made to resolve to 127.0.0.1 is, for the browser,
same-origin with itself: it could read our pages and post our forms with whatever identity the front-end gives
loopback callers. The browser still sends the name it resolved, in `Host`, so a request is served only when its
`Host` is one of ours:

- the public URL's host and port (a `Host` without a port means the default port of the public URL's scheme:
  a TLS proxy in front forwards `Host: docs.example.org` over plain HTTP);
- when listening on loopback, `127.0.0.1`, `localhost` and `[::1]` with the listening port (tools on this
  machine, and `wopi-host run` reached by another of its names);
- the names in `allowed_hosts` (WOPI_ALLOWED_HOSTS), for a proxy that rewrites `Host`.

Names and ports are compared exactly, case-insensitively. A missing, repeated or malformed `Host` gets 400; a
name that is not ours gets 421 Misdirected Request. `/healthz` is exempt: it reveals only whether the service is
up and changes nothing, and container health checks and orchestrator probes address the container by an
address of their own (127.0.0.1, a pod IP) that is none of its public names.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from urllib.parse import urlsplit

from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from wopi_frontend.settings import FrontendSettings

logger = logging.getLogger(__name__)

# host[:port]: a bracketed IPv6 literal, or a DNS name / IPv4 address. No user info, no path, no spaces.
_AUTHORITY = re.compile(r"(?P<host>\[[0-9a-f:.]+\]|[a-z0-9_][a-z0-9_.-]*)(?::(?P<port>[0-9]{1,5}))?")
_DEFAULT_PORTS = {"http": 80, "https": 443}
EXEMPT_PATHS = frozenset({"/healthz"})

Authority = tuple[str, int]


def parse_authority(text: str, default_port: int) -> Authority | None:
    """`(host, port)` of `host[:port]`, lower case; None when it is not a well-formed authority."""
    match = _AUTHORITY.fullmatch(text.strip().lower())
    if match is None:
        return None
    port = int(match["port"]) if match["port"] is not None else default_port
    if not 0 < port < 65536:
        return None
    return match["host"], port


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_authorities(settings: FrontendSettings) -> frozenset[Authority]:
    """Every `(host, port)` this front-end answers to. ValueError for an unusable WOPI_ALLOWED_HOSTS entry."""
    public = urlsplit(settings.public_url)
    default_port = _DEFAULT_PORTS[public.scheme.lower()]
    own = parse_authority(public.netloc.rpartition("@")[2], default_port)
    if own is None:
        raise ValueError(f"public_url has a host this server cannot recognise in requests: {public.netloc!r}")
    allowed = {own}
    if _is_loopback(settings.host):
        allowed |= {(alias, settings.port) for alias in ("127.0.0.1", "localhost", "[::1]")}
    for entry in (settings.allowed_hosts or "").split(","):
        if not entry.strip():
            continue
        authority = parse_authority(entry, default_port)
        if authority is None:
            raise ValueError(f"allowed_hosts: {entry.strip()!r} is not host[:port]")
        allowed.add(authority)
    return frozenset(allowed)


def middleware(settings: FrontendSettings) -> Middleware:
    """The HostCheck for these settings, its names worked out now: a bad WOPI_ALLOWED_HOSTS stops the start."""
    default_port = _DEFAULT_PORTS[urlsplit(settings.public_url).scheme.lower()]
    return Middleware(HostCheck, allowed=allowed_authorities(settings), default_port=default_port)


class HostCheck:
    """ASGI middleware: refuses, before anything else runs, a request whose `Host` is not one of ours."""

    def __init__(self, app: ASGIApp, allowed: frozenset[Authority], default_port: int) -> None:
        self.app = app
        self.allowed = allowed
        self.default_port = default_port

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        """(status, reason) when the request must be refused, None when it is addressed to us."""
        hosts = [value for name, value in scope["headers"] if name == b"host"]
        if len(hosts) != 1:
            return 400, "The request must carry exactly one Host header."
        try:
            text = hosts[0].decode("ascii")
        except UnicodeDecodeError:
            return 400, "The Host header is not a host name."
        authority = parse_authority(text, self.default_port)
        if authority is None:
            return 400, "The Host header is not a host name."
        if authority not in self.allowed:
            # Well-formed (checked above), so safe to log: no newlines, nothing but a name and a port.
            logger.info("refused a request for host %s:%d (not this server's name)", *authority)
            return 421, (
                "This server answers only to its own address (WOPI_PUBLIC_URL, or a name listed in "
                "WOPI_ALLOWED_HOSTS). Open it by that address."
            )
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        status, reason = refusal
        body = (reason + "\n").encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

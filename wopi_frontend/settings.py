"""The front-end's settings: one frozen object, built once from the environment (or `wopi-host` options)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit

ENV_PREFIX = "WOPI_"
TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class FrontendSettings:
    # The externally visible base URL (scheme://host[:port][/prefix]): WOPISrc, Url and HostViewUrl are built
    # from it, so it must be what the WOPI client and browsers reach, e.g. behind a TLS proxy.
    public_url: str = "http://127.0.0.1:8080"
    host: str = "127.0.0.1"
    port: int = 8080
    # The storage adapter (wopi.storage.v1) and the shared secret it expects: host:port, or unix:PATH for a Unix
    # domain socket (what `wopi-host run` uses).
    storage_target: str = "127.0.0.1:50051"
    storage_secret: str | None = None
    storage_timeout: float = 10.0  # seconds, for every gRPC call, and for each step of a content stream
    storage_stream_timeout: float = 3600.0  # seconds, for whole GetFile / PutFile streams
    # Slow or stalled HTTP clients (seconds): a request body or response that makes no progress for
    # client_idle_timeout is aborted (nothing is stored); a request head must be complete within
    # client_header_timeout; at most max_connections connections are served at once (503 beyond); an idle
    # kept-alive connection is closed after keep_alive_timeout.
    client_idle_timeout: float = 30.0
    client_header_timeout: float = 10.0
    max_connections: int = 1000
    keep_alive_timeout: int = 5
    # HMAC key that signs access tokens (at least 32 characters). All front-end replicas share it.
    token_key: str = ""
    token_ttl: int = 10 * 3600  # seconds; WOPI recommends 10 hours
    # API key for POST /api/v1/sessions (embedding applications). None disables the API.
    api_key: str | None = None
    max_file_size: int = 512 * 1024 * 1024  # bytes: PutFile and PutRelativeFile bodies over this get 413
    lock_ttl: int = 30 * 60  # seconds: WOPI locks expire 30 minutes after they were set or refreshed
    brand_name: str = "wopi-host"
    log_level: str = "info"
    # One line per request (method, path without the query, status, duration) in the `wopi_frontend.access`
    # logger. Off, a request spends nothing on it (app.AccessLog).
    access_log: bool = True
    # The WOPI client (Office for the web, Collabora Online, ONLYOFFICE): its discovery XML, fetched at start
    # and refreshed every `discovery_refresh` seconds (and at once when a proof check fails or passes only
    # with the old key). None: no editor; the pages say so.
    discovery_url: str | None = None
    discovery_refresh: int = 12 * 3600
    # Verify X-WOPI-Proof on every WOPI request when the discovery has a proof key. Switch off only for a
    # client that cannot sign (the open-source validator CLI without keys).
    proof_keys: bool = True
    # How many accepted proofs each replica remembers to refuse their replay (proof_replay.py): about 210 bytes
    # each (20 MB by default); one lives until its timestamp is 20 minutes old. When full, the oldest is forgotten
    # and every proof as old is refused from then on, so nothing is let through unremembered; the refused are
    # only proofs about capacity / rate seconds older than the newest (100 s at 1,000 signed requests a second).
    proof_replay_capacity: int = 100_000
    # Which client's conventions to follow: "auto" (from the discovery), "office", "collabora", "onlyoffice".
    wopi_client: str = "auto"
    # Who uses the file browser and host pages: the user named by this request header, set by a trusted
    # reverse proxy that authenticates people (e.g. X-Forwarded-User), or, in development, one fixed user.
    identity_header: str | None = None
    # The header in which that proxy names the user's groups, comma-separated (e.g. X-Forwarded-Groups, as
    # oauth2-proxy sends it; Remote-Groups, as Authelia does): storage applies grants to a group to its members.
    # Only with identity_header, and only when the proxy strips it from what clients send: never derived from
    # identity_header, so that a proxy set up before groups existed cannot be made to pass on a forged one.
    groups_header: str | None = None
    dev_user: str | None = None
    # The development user is granted only to a browser that opened the login link `/login?token=<secret>`
    # (`wopi-host run` and `wopi-host frontend` make a secret per run and print the link). Never logged.
    dev_login_secret: str | None = None
    # False: everyone who reaches the port is `dev_user`, without the link (tests, or a trusted single-user box).
    dev_login_required: bool = True
    # The WOPI container and ecosystem operations (CheckContainerInfo, EnumerateChildren, CreateChildFile, ...,
    # GetRootContainer): with them, the office client may browse, from the document it was opened for, the
    # user's other folders and files and create, rename and delete there, as far as the token and storage allow.
    # Off, a token reaches its one file only: those operations answer 501 and CheckFileInfo says
    # SupportsContainers and SupportsEcosystem false.
    containers: bool = True
    # A folder on this machine of the organisation's templates: "New" in the file browser also offers each file
    # there the editor can edit, or that is a template (.dotx, .xltx, .potx, .ott, .ots, .otp: the new document is
    # a .docx... made from it), by its name without extension; read when the menu is shown (template_folder.py).
    templates_dir: str | None = None
    # Extra `host[:port]` names (comma-separated) requests may be addressed to, besides the public URL's (and
    # the loopback names when listening on loopback): for a reverse proxy that rewrites `Host`.
    allowed_hosts: str | None = None
    # Prometheus metrics (metrics.py), served on a port of their own, never on the public one: None, off.
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"

    def __post_init__(self) -> None:
        parts = urlsplit(self.public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError("public_url must be an absolute http(s) URL without query or fragment")
        if len(self.token_key) < 32:
            raise ValueError("token_key must be at least 32 characters (set WOPI_TOKEN_KEY)")
        if self.dev_login_secret is not None and len(self.dev_login_secret) < 32:
            raise ValueError("dev_login_secret must be at least 32 characters")
        if self.api_key is not None and len(self.api_key) < 16:
            raise ValueError("api_key must be at least 16 characters")
        if self.max_file_size <= 0 or self.token_ttl <= 0 or self.lock_ttl <= 0 or self.storage_timeout <= 0:
            raise ValueError("sizes and durations must be positive")
        if self.proof_replay_capacity <= 0:
            raise ValueError("proof_replay_capacity must be positive")
        client_limits = (self.client_idle_timeout, self.client_header_timeout, self.keep_alive_timeout)
        if min(client_limits) <= 0 or self.max_connections <= 0:
            raise ValueError("client timeouts and max_connections must be positive")
        if not 12 * 3600 <= self.discovery_refresh <= 24 * 3600:
            raise ValueError("discovery_refresh must be between 12 and 24 hours (43200-86400 seconds)")
        if self.wopi_client not in ("auto", "office", "collabora", "onlyoffice"):
            raise ValueError("wopi_client must be auto, office, collabora or onlyoffice")
        if self.groups_header is not None and self.identity_header is None:
            raise ValueError("groups_header needs identity_header: groups come from the same authenticating proxy")
        if self.discovery_url is not None and urlsplit(self.discovery_url).scheme not in ("http", "https"):
            raise ValueError("discovery_url must be an http(s) URL")
        if self.metrics_port is not None and not (0 < self.metrics_port < 65536 and self.metrics_port != self.port):
            raise ValueError("metrics_port must be a TCP port (1-65535) other than the WOPI port")

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/")

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> FrontendSettings:
        """Every field from `WOPI_<FIELD>` (e.g. WOPI_PUBLIC_URL); `overrides` (command-line options) win.

        Secrets may instead be given as files: `WOPI_<FIELD>_FILE` (e.g. WOPI_TOKEN_KEY_FILE), which suits
        Docker secrets.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for field in fields(cls):
            key = ENV_PREFIX + field.name.upper()
            raw = environ.get(key)
            if raw is None and environ.get(key + "_FILE"):
                raw = Path(environ[key + "_FILE"]).read_text().strip()
            if raw is None:
                continue
            if raw == "" and field.type in ("str | None", "int | None"):
                continue  # an optional setting left empty (e.g. `WOPI_DISCOVERY_URL: ${WOPI_DISCOVERY_URL:-}`) is unset
            values[field.name] = _convert(field.name, field.type, raw)
        values.update({name: value for name, value in overrides.items() if value is not None})
        return cls(**values)  # type: ignore[arg-type]


def _convert(name: str, kind: object, raw: str) -> object:
    try:
        if kind in ("int", int, "int | None"):
            return int(raw)
        if kind in ("float", float):
            return float(raw)
        if kind in ("bool", bool):
            lowered = raw.strip().lower()
            if lowered not in TRUE | FALSE:
                raise ValueError(f"expected true or false, got {raw!r}")
            return lowered in TRUE
    except ValueError as error:
        raise ValueError(f"{ENV_PREFIX}{name.upper()}: {error}") from None
    return raw


def local_secret(directory: Path, name: str) -> str:
    """A secret kept in `directory/name` for local use, made on first use (mode 600)."""
    path = directory / name
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
    return path.read_text().strip()

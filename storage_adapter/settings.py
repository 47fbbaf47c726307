"""The adapter's settings: one frozen object, built once in `cli.main()` and passed down."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

BackendName = Literal["memory", "filesystem", "sql", "s3"]

_PRINCIPAL_ID = re.compile(r"[\x21-\x7e]{1,256}")  # as `x-wopi-principal-id`


@dataclass(frozen=True)
class AdapterSettings:
    backend: BackendName = "filesystem"
    # filesystem backend: the folder that holds the documents
    root: Path = Path("data")
    listen: str = "127.0.0.1:50051"  # host:port, or unix:PATH for a Unix domain socket (a front-end beside it)
    # Callers must send `authorization: Bearer <secret>`. None only with allow_unauthenticated.
    secret: str | None = None
    allow_unauthenticated: bool = False
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # 0: no limit
    max_file_size: int = 0
    max_versions_kept: int = 10
    # The deepest a new container may be (the root is at depth 0); 0: no limit. Bounds what a request on an
    # item costs, whatever the backend (each resolves an item's chain of parents).
    max_container_depth: int = 64
    log_level: str = "info"
    # Access control (proto "Access control"). `access_control` switches enforcement on for the filesystem, sql
    # and s3 backends (the memory backend always enforces). On by default: the front-end sends the signed-in user
    # on every call, and items without an owner (put in the folder by another program, made without a principal)
    # stay usable by everyone identified through `unowned_access`. Principal ids that hold every permission
    # everywhere (operator tools), and who may use items without an owner.
    access_control: bool = True
    admin_principals: tuple[str, ...] = ()
    unowned_access: str = "editor"  # editor (every identified user), viewer, or none
    # sql and s3 backends: where metadata (and, for sql, contents) live: sqlite:///relative.db,
    # sqlite:////absolute/path.db, or postgresql://user:password@host:port/database
    database_url: str | None = None
    database_pool_size: int = 10  # connections per adapter process
    # s3 backend: contents as objects in an S3-compatible store; credentials from the standard AWS_* variables
    s3_endpoint: str = ""  # empty: AWS's own endpoint
    s3_bucket: str = ""
    s3_prefix: str = "blobs/"
    s3_region: str | None = None
    s3_create_bucket: bool = True
    # What one caller may hold, and for how long (server.py ServerLimits). Seconds; 0: no idle or age limit.
    stream_idle_timeout: float = 30.0  # an upload that sends nothing for this long is aborted and discarded
    keepalive_time: float = 60.0  # ping each connection this often...
    keepalive_timeout: float = 20.0  # ...and close it when the ping is not answered in this time
    max_connection_idle: float = 900.0
    max_connection_age: float = 3600.0
    max_connection_age_grace: float = 3600.0  # the front-end's default whole-stream timeout
    max_streams_per_connection: int = 1000
    max_health_watchers: int = 100
    max_concurrent_uploads: int = 256  # each holds a descriptor: keep well under the `nofile` limit
    # Prometheus metrics over HTTP on a port of their own (metrics.py); None: off.
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"

    def __post_init__(self) -> None:
        if self.secret is None and not self.allow_unauthenticated:
            raise ValueError(
                "no shared secret: set WOPI_STORAGE_SECRET (or --secret-file), or allow unauthenticated "
                "callers explicitly for local development with --allow-unauthenticated"
            )
        if self.secret is not None and len(self.secret) < 16:
            raise ValueError("the shared secret must be at least 16 characters")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("TLS needs both a certificate and a key")
        if self.max_file_size < 0 or self.max_versions_kept < 0 or self.max_container_depth < 0:
            raise ValueError("limits cannot be negative")
        if self.backend in ("sql", "s3") and not self.database_url:
            raise ValueError(
                f"the {self.backend} backend needs a database URL: set WOPI_STORAGE_DATABASE_URL, "
                "--database-url or --database-url-file"
            )
        if self.backend == "s3" and not self.s3_bucket:
            raise ValueError("the s3 backend needs a bucket: set WOPI_STORAGE_S3_BUCKET or --s3-bucket")
        if self.unowned_access not in ("editor", "viewer", "none"):
            raise ValueError("unowned_access: choose editor, viewer or none")
        if not all(_PRINCIPAL_ID.fullmatch(admin) for admin in self.admin_principals):
            raise ValueError("admin_principals: each is a principal id of 1-256 printable ASCII characters")
        if self.database_pool_size < 1:
            raise ValueError("database_pool_size must be at least 1")
        if self.stream_idle_timeout <= 0 or self.keepalive_time <= 0 or self.keepalive_timeout <= 0:
            raise ValueError("stream_idle_timeout, keepalive_time and keepalive_timeout must be positive")
        if min(self.max_connection_idle, self.max_connection_age, self.max_connection_age_grace) < 0:
            raise ValueError("connection idle and age limits cannot be negative")
        if min(self.max_streams_per_connection, self.max_health_watchers, self.max_concurrent_uploads) < 1:
            raise ValueError("max_streams_per_connection, max_health_watchers and max_concurrent_uploads must be >= 1")
        if self.metrics_port is not None and not 0 < self.metrics_port < 65536:
            raise ValueError("metrics_port must be a TCP port, 1-65535")

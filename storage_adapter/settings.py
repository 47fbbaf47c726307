"""The adapter's settings: one frozen object, built once in `cli.main()` and passed down."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

BackendName = Literal["memory", "filesystem", "sql", "s3"]


@dataclass(frozen=True)
class AdapterSettings:
    backend: BackendName = "filesystem"
    # filesystem backend: the folder that holds the documents
    root: Path = Path("data")
    listen: str = "127.0.0.1:50051"
    # Callers must send `authorization: Bearer <secret>`. None only with allow_unauthenticated.
    secret: str | None = None
    allow_unauthenticated: bool = False
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # 0: no limit
    max_file_size: int = 0
    max_versions_kept: int = 10
    log_level: str = "info"
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
        if self.max_file_size < 0 or self.max_versions_kept < 0:
            raise ValueError("limits cannot be negative")
        if self.backend in ("sql", "s3") and not self.database_url:
            raise ValueError(
                f"the {self.backend} backend needs a database URL: set WOPI_STORAGE_DATABASE_URL, "
                "--database-url or --database-url-file"
            )
        if self.backend == "s3" and not self.s3_bucket:
            raise ValueError("the s3 backend needs a bucket: set WOPI_STORAGE_S3_BUCKET or --s3-bucket")
        if self.database_pool_size < 1:
            raise ValueError("database_pool_size must be at least 1")

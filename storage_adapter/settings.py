"""The adapter's settings: one frozen object, built once in `cli.main()` and passed down."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

BackendName = Literal["memory", "filesystem"]


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

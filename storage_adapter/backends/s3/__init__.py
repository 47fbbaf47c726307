"""The `s3` backend: the `sql` backend's metadata (files, versions, locks, containers in a database) with file
contents as immutable objects in an S3-compatible object store. Needs the `s3` extra (boto3).

    backend = create_s3_backend("postgresql://...", "https://s3.example.com", "wopi-contents")
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from storage_adapter.backends.s3.store import MiB, S3ContentStore

if TYPE_CHECKING:
    from storage_adapter.backends.sql import SqlBackend

__all__ = ["S3ContentStore", "create_s3_backend"]


def create_s3_backend(
    database_url: str,
    endpoint_url: str,
    bucket: str,
    *,
    prefix: str = "blobs/",
    region: str | None = None,
    part_size: int = 8 * MiB,
    create_bucket: bool = True,
    **backend_options: Any,
) -> SqlBackend:
    """A `SqlBackend` on `database_url` whose contents live in `bucket` under `prefix`. `backend_options` go to
    `SqlBackend` unchanged (limits, clock...). Credentials come from the standard AWS variables and files."""
    from storage_adapter.backends.sql import SqlBackend  # imported late: the sql backend has its own deps

    store = S3ContentStore(
        endpoint_url, bucket, prefix=prefix, region=region, part_size=part_size, create_bucket=create_bucket
    )
    backend = SqlBackend(database_url, content_store=store, **backend_options)
    backend.capabilities = replace(backend.capabilities, adapter_name="s3")
    return backend

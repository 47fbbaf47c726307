"""The closed table of backends, imported lazily so that a backend's dependencies stay optional."""

from __future__ import annotations

import dataclasses

from storage_adapter.backends.base import StorageBackend
from storage_adapter.settings import AdapterSettings, BackendName

BACKENDS: tuple[BackendName, ...] = ("memory", "filesystem", "sql", "s3")


def create_backend(settings: AdapterSettings) -> StorageBackend:
    backend = _construct(settings)
    # Limits that the servicer enforces in the same way whatever the backend: set here, once for all.
    backend.capabilities = dataclasses.replace(backend.capabilities, max_container_depth=settings.max_container_depth)
    return backend


def _construct(settings: AdapterSettings) -> StorageBackend:
    match settings.backend:
        case "memory":
            from dataclasses import replace

            from storage_adapter.access import AccessPolicy, UnownedAccess
            from storage_adapter.backends.memory import CAPABILITIES, MemoryBackend

            return MemoryBackend(
                replace(
                    CAPABILITIES, max_file_size=settings.max_file_size, max_versions_kept=settings.max_versions_kept
                ),
                policy=AccessPolicy(frozenset(settings.admin_principals), UnownedAccess(settings.unowned_access)),
            )
        case "filesystem":
            from storage_adapter.access import AccessPolicy, UnownedAccess
            from storage_adapter.backends.filesystem import FilesystemBackend

            return FilesystemBackend(
                settings.root,
                max_versions_kept=settings.max_versions_kept,
                max_file_size=settings.max_file_size,
                access_control=settings.access_control,
                policy=AccessPolicy(frozenset(settings.admin_principals), UnownedAccess(settings.unowned_access)),
            )
        case "sql":
            from storage_adapter.access import AccessPolicy, UnownedAccess
            from storage_adapter.backends.sql import SqlBackend
            from storage_adapter.backends.sql.malloc_tuning import tune_malloc

            tune_malloc()  # before the worker threads exist: see the module

            assert settings.database_url is not None  # checked by AdapterSettings
            return SqlBackend(
                settings.database_url,
                max_versions_kept=settings.max_versions_kept,
                max_file_size=settings.max_file_size,
                pool_size=settings.database_pool_size,
                access_control=settings.access_control,
                policy=AccessPolicy(frozenset(settings.admin_principals), UnownedAccess(settings.unowned_access)),
            )
        case "s3":
            from storage_adapter.access import AccessPolicy, UnownedAccess
            from storage_adapter.backends.s3 import create_s3_backend
            from storage_adapter.backends.sql.malloc_tuning import tune_malloc

            tune_malloc()  # before the worker threads exist: see the module

            assert settings.database_url is not None  # checked by AdapterSettings
            return create_s3_backend(
                settings.database_url,
                settings.s3_endpoint,
                settings.s3_bucket,
                prefix=settings.s3_prefix,
                region=settings.s3_region,
                create_bucket=settings.s3_create_bucket,
                max_versions_kept=settings.max_versions_kept,
                max_file_size=settings.max_file_size,
                pool_size=settings.database_pool_size,
                access_control=settings.access_control,
                policy=AccessPolicy(frozenset(settings.admin_principals), UnownedAccess(settings.unowned_access)),
            )
    raise ValueError(f"unknown backend {settings.backend!r}; choose one of {', '.join(BACKENDS)}")

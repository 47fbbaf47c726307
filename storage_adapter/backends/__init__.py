"""The closed table of backends, imported lazily so that a backend's dependencies stay optional."""

from __future__ import annotations

from storage_adapter.backends.base import StorageBackend
from storage_adapter.settings import AdapterSettings, BackendName

BACKENDS: tuple[BackendName, ...] = ("memory", "filesystem")


def create_backend(settings: AdapterSettings) -> StorageBackend:
    match settings.backend:
        case "memory":
            from dataclasses import replace

            from storage_adapter.backends.memory import CAPABILITIES, MemoryBackend

            return MemoryBackend(
                replace(
                    CAPABILITIES, max_file_size=settings.max_file_size, max_versions_kept=settings.max_versions_kept
                )
            )
        case "filesystem":
            from storage_adapter.backends.filesystem import FilesystemBackend

            return FilesystemBackend(
                settings.root, max_versions_kept=settings.max_versions_kept, max_file_size=settings.max_file_size
            )
    raise ValueError(f"unknown backend {settings.backend!r}; choose one of {', '.join(BACKENDS)}")

"""Rows of `items` and `versions` as Python values, and back: the one place that knows the column order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage_adapter.backends.catalogue_row import CatalogueRow
from storage_adapter.timestamps import EPOCH, from_us, to_us
from storage_adapter.types import (
    ANONYMOUS,
    ContainerMeta,
    FileMeta,
    Item,
    LockId,
    LockState,
    Principal,
    Version,
    VersionMeta,
)

ITEM_COLUMNS = (
    "id, parent_id, name, is_file, owner_id, owner_name, created_us, blob_id, size, version, modified_us, "
    "modified_by_id, modified_by_name, sha256, lock_id, lock_expires_us, lock_by_id, lock_by_name, lock_since_us"
)
VERSION_COLUMNS = "version, blob_id, size, modified_us, modified_by_id, modified_by_name, sha256"


@dataclass(frozen=True)
class ItemRow(CatalogueRow):
    """One row of `items`: a container or a file. The stored lock may have expired; `file_meta` drops it then."""

    id: str
    parent_id: str | None
    name: str
    is_file: bool
    owner: Principal
    created_at: datetime
    blob_id: str | None = None
    size: int = 0
    version: str = ""
    modified_at: datetime = EPOCH
    modified_by: Principal = ANONYMOUS
    sha256: bytes = b""
    lock: LockState | None = None

    @classmethod
    def of(cls, row: tuple[Any, ...]) -> ItemRow:
        (
            id_,
            parent_id,
            name,
            is_file,
            owner_id,
            owner_name,
            created_us,
            blob_id,
            size,
            version,
            modified_us,
            modified_by_id,
            modified_by_name,
            sha256,
            lock_id,
            lock_expires_us,
            lock_by_id,
            lock_by_name,
            lock_since_us,
        ) = row
        lock = None
        if lock_id is not None:
            lock = LockState(
                LockId(lock_id),
                from_us(lock_expires_us),
                Principal(lock_by_id or "", lock_by_name or ""),
                None if lock_since_us is None else from_us(lock_since_us),
            )
        return cls(
            id=id_,
            parent_id=parent_id,
            name=name,
            is_file=bool(is_file),
            owner=Principal(owner_id, owner_name),
            created_at=from_us(created_us),
            blob_id=blob_id,
            size=size,
            version=version,
            modified_at=from_us(modified_us),
            modified_by=Principal(modified_by_id, modified_by_name),
            sha256=bytes(sha256 or b""),
            lock=lock,
        )

    def item(self, now: datetime) -> Item:
        return self.file_meta(now) if self.is_file else self.container_meta()


@dataclass(frozen=True)
class VersionRow:
    """One row of `versions`: an earlier version of a file and the blob that holds its bytes."""

    meta: VersionMeta
    blob_id: str

    @classmethod
    def of(cls, row: tuple[Any, ...]) -> VersionRow:
        version, blob_id, size, modified_us, modified_by_id, modified_by_name, sha256 = row
        meta = VersionMeta(
            Version(version), size, from_us(modified_us), Principal(modified_by_id, modified_by_name), bytes(sha256)
        )
        return cls(meta, blob_id)


def file_params(meta: FileMeta, blob_id: str) -> tuple[Any, ...]:
    """The values of ITEM_COLUMNS for a new file (unlocked)."""
    return (
        meta.file_id,
        meta.parent_id,
        meta.name,
        1,
        meta.owner.user_id,
        meta.owner.display_name,
        to_us(meta.created_at),
        blob_id,
        meta.size,
        meta.version,
        to_us(meta.modified_at),
        meta.modified_by.user_id,
        meta.modified_by.display_name,
        meta.sha256,
        None,
        None,
        None,
        None,
        None,
    )


def container_params(meta: ContainerMeta) -> tuple[Any, ...]:
    """The values of INSERT_CONTAINER's parameters."""
    owner = meta.owner
    return (meta.container_id, meta.parent_id, meta.name, owner.user_id, owner.display_name, to_us(meta.created_at))


INSERT_FILE = f"INSERT INTO items ({ITEM_COLUMNS}) VALUES ({', '.join('?' * 19)})"
INSERT_CONTAINER = (
    "INSERT INTO items (id, parent_id, name, is_file, owner_id, owner_name, created_us) VALUES (?, ?, ?, 0, ?, ?, ?)"
)

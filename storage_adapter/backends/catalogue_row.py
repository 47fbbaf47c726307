"""What the filesystem and sql catalogues share: turning one stored row (a file or a container) into metadata."""

from __future__ import annotations

from datetime import datetime

from storage_adapter import locks
from storage_adapter.types import ContainerId, ContainerMeta, FileId, FileMeta, LockState, Principal, Version


class CatalogueRow:
    """Mixed into each catalogue's row dataclass, which provides these attributes."""

    id: str
    parent_id: str | None
    name: str
    is_file: bool
    owner: Principal
    created_at: datetime
    size: int
    version: str
    modified_at: datetime
    modified_by: Principal
    sha256: bytes
    lock: LockState | None  # as stored: it may have expired

    def file_meta(self, now: datetime) -> FileMeta:
        """The file's metadata, with its lock only while it is live."""
        assert self.is_file and self.parent_id is not None
        return FileMeta(
            file_id=FileId(self.id),
            name=self.name,
            size=self.size,
            version=Version(self.version),
            parent_id=ContainerId(self.parent_id),
            owner=self.owner,
            created_at=self.created_at,
            modified_at=self.modified_at,
            modified_by=self.modified_by,
            lock=locks.live(self.lock, now),
            sha256=self.sha256,
        )

    def container_meta(self) -> ContainerMeta:
        assert not self.is_file
        parent = ContainerId(self.parent_id) if self.parent_id is not None else None
        return ContainerMeta(ContainerId(self.id), self.name, parent, self.owner, self.created_at)

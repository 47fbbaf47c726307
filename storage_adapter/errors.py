"""Storage errors: small classes that carry data. `error_status.py` maps them to gRPC statuses in one place."""

from __future__ import annotations

from storage_adapter.types import ContainerId, Item, LockState


class StorageError(Exception):
    """Base of every error a backend may raise on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(StorageError):
    """No such file, container or version."""


class InvalidArgument(StorageError):
    """The request is malformed; `field` names the offending request field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class LockConflict(StorageError):
    """A lock precondition failed. `current` is the file's live lock, None when unlocked."""

    def __init__(self, current: LockState | None, reason: str) -> None:
        super().__init__(reason)
        self.current = current


class ContainerNotEmpty(StorageError):
    def __init__(self, container_id: ContainerId) -> None:
        super().__init__("the container is not empty")
        self.container_id = container_id


class VersionConflict(StorageError):
    def __init__(self, current_version: str) -> None:
        super().__init__("the file's version is not the expected one")
        self.current_version = current_version


class NameConflict(StorageError):
    """The name is taken in the container by `existing`."""

    def __init__(self, container_id: ContainerId, name: str, existing: Item, *, hidden: bool = False) -> None:
        """`hidden`: the principal may not read `existing`, so the answer tells only its kind."""
        super().__init__("an item with this name already exists in the container")
        self.container_id = container_id
        self.name = name
        self.existing = existing
        self.hidden = hidden


class PermissionDenied(StorageError):
    """The principal may read the item but lacks `permission` (a `Permissions` field name) for this call."""

    def __init__(self, permission: str) -> None:
        super().__init__(f"the principal lacks the {permission!r} permission on this item")
        self.permission = permission


class OutOfRange(StorageError):
    """A read starts past the end of the file."""


class TooLarge(StorageError):
    """Contents or user info over the adapter's limit."""


class Unsupported(StorageError):
    """An optional capability this adapter does not have."""


class Unavailable(StorageError):
    """A transient failure of the storage behind the adapter; the caller may retry."""


class Unauthenticated(StorageError):
    """The caller did not present the adapter's shared secret."""

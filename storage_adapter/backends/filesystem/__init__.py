"""The filesystem backend: plain files and folders under a root, with a SQLite catalogue beside them."""

from storage_adapter.backends.filesystem.backend import FilesystemBackend

__all__ = ["FilesystemBackend"]

"""The hidden state directory `root/.wopi-storage/`: its layout, the ownership lock, and crash clean-up.

.wopi-storage/
    lock                  flock'd by the one adapter process that serves the root
    catalogue.sqlite3     the catalogue (WAL)
    tmp/                  writes being received; on the same file system as the tree, so os.replace is atomic
    versions/             earlier versions' contents, hard links of the files they once were
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
from collections.abc import Iterable
from pathlib import Path

STATE_DIR_NAME = ".wopi-storage"


class StateDir:
    def __init__(self, root: Path) -> None:
        self.path = root / STATE_DIR_NAME
        self.catalogue = self.path / "catalogue.sqlite3"
        self.tmp = self.path / "tmp"
        self.versions = self.path / "versions"
        self._lock_fd: int | None = None

    def open(self) -> None:
        """Create the layout and take the root for this process. RuntimeError if another process has it."""
        _make_dir(self.path)
        fd = os.open(self.path / "lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RuntimeError(
                f"another wopi-storage process serves {self.path.parent} (it holds {self.path / 'lock'}); "
                "only one adapter process may own a filesystem root"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        self._lock_fd = fd
        _make_dir(self.tmp)
        _make_dir(self.versions)

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the only descriptor releases the flock
            self._lock_fd = None

    def remove_leftovers(self, known_blobs: Iterable[str]) -> None:
        """Remove what a crash left behind: unfinished writes, and history blobs the catalogue never recorded."""
        for entry in os.scandir(self.tmp):
            _remove(Path(entry.path))
        known = set(known_blobs)
        for entry in os.scandir(self.versions):
            if entry.name not in known:
                _remove(Path(entry.path))

    def blob(self, name: str) -> Path:
        return self.versions / name

    def remove_blobs(self, names: Iterable[str]) -> None:
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.blob(name))


def _make_dir(path: Path) -> None:
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    if not stat.S_ISDIR(os.lstat(path).st_mode):
        raise RuntimeError(f"{path} must be a directory (and not a symbolic link)")


def _remove(path: Path) -> None:
    if stat.S_ISDIR(os.lstat(path).st_mode):
        for entry in os.scandir(path):
            _remove(Path(entry.path))
        os.rmdir(path)
    else:
        os.unlink(path)

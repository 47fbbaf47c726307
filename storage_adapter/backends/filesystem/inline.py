"""Metadata reads answered on the event loop, with no hop to a worker thread and without the backend's lock.

ARCHITECTURE rule 10: a metadata answer needs no thread hop and no global lock. A read (StatFile,
GetFileContext, GetContainer, ReadFile's opening...) runs the very section the locked path would run, but over
the read-only view of the sections (`Sections.read_only`): a second connection to the catalogue, inside one
read transaction. In WAL mode that transaction is a snapshot of the last committed write; it never waits for the
writer, nor the writer for it. Its cost is a few indexed queries and an lstat or two: far less than the hop.

It answers only when the snapshot and the disk agree. Whatever the section would have to write first (a file
edited or removed by another program, an entry to adopt, an item our own writer is moving at this moment) SQLite
refuses on that connection, and the read falls back to the locked section, which reconciles. Every error falls
back too, so that errors always come from the locked path. Hence an inline answer is the one the locked section
would have given at that instant: a write is seen once its section committed, and a section still running
(between its change on disk and its commit) is seen as not yet done, or makes the read fall back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from storage_adapter.backends.filesystem.sections import Sections
from storage_adapter.errors import StorageError

P = ParamSpec("P")
T = TypeVar("T")


class InlineReads:
    def __init__(self, sections: Sections) -> None:
        self._view = sections.read_only()

    def close(self) -> None:
        self._view.catalogue.close()

    def attempt(self, section: Callable[Concatenate[Sections, P], T], *args: P.args, **kwargs: P.kwargs) -> T | None:
        """The section's answer from a snapshot, or None when only the locked section may answer."""
        try:
            with self._view.catalogue.snapshot():
                return section(self._view, *args, **kwargs)
        except (StorageError, sqlite3.Error, OSError):  # a write refused, an item missing or denied, a busy file
            return None

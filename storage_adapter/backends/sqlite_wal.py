"""Switching an SQLite database to WAL mode when other connections may be opening it at the same moment.

SQLite does not call the busy handler (`PRAGMA busy_timeout`) for `PRAGMA journal_mode = WAL` when it finds
another connection writing to a database still in rollback-journal mode: waiting there could deadlock, so it
fails at once with "database is locked". That is exactly what two services starting together on a fresh
database meet: one is converting the new file to WAL (a write) while the other asks for the same. Once the
file is in WAL mode the statement never fails this way, so a short, bounded retry is all it takes.

Used by the sql backend's SQLite connections and by the filesystem backend's catalogue.
"""

from __future__ import annotations

import logging
import sqlite3
import time

logger = logging.getLogger("storage_adapter.sqlite")

# As long as the busy timeout our connections give other writers: a conversion takes milliseconds.
RETRY_FOR_SECONDS = 30.0
_FIRST_DELAY = 0.001
_LONGEST_DELAY = 0.1


def enable_wal(connection: sqlite3.Connection, retry_for: float = RETRY_FOR_SECONDS) -> None:
    """`PRAGMA journal_mode = WAL`, retried with a growing delay while another connection holds the database's
    write lock; the last "database is locked" is raised once `retry_for` seconds have passed."""
    deadline = time.monotonic() + retry_for
    delay = _FIRST_DELAY
    while True:
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() + delay > deadline:
                raise
            logger.debug("another connection is writing to the database; switching to WAL again in %.3f s", delay)
        time.sleep(delay)
        delay = min(delay * 2, _LONGEST_DELAY)

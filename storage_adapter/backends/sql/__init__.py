"""The sql backend: metadata in SQLite or PostgreSQL, contents in a ContentStore (by default, the same database).

Modules, in reading order: `backend.py` (the StorageBackend), `metadata.py` (one function per transaction),
`content.py` (the default ContentStore: blobs as chunk rows), `database.py` (connections, transactions and the
two SQL dialects), `migrations.py` (the versioned schema), `rows.py` (rows to domain types).
"""

from storage_adapter.backends.sql.backend import SqlBackend
from storage_adapter.backends.sql.content import DatabaseContentStore

__all__ = ["DatabaseContentStore", "SqlBackend"]

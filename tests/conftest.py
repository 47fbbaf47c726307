"""Session-wide real servers, shared by every test directory: one PostgreSQL cluster and one SeaweedFS.

Registered here, once, so that a test run starts each at most once (and only if some test asks for it).
"""

from tests.infra.postgres import postgres_server
from tests.infra.seaweedfs import seaweedfs_server

__all__ = ["postgres_server", "seaweedfs_server"]

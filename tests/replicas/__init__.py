"""Several replicas of the services on one database, and crash safety of every backend."""

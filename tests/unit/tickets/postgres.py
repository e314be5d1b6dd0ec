"""A throwaway PostgreSQL cluster for tests (moved to :mod:`kefu.local_servers`, shared with the cluster)."""

from kefu.local_servers import create_database, find_pg_bin, postgres_cluster

__all__ = ["create_database", "find_pg_bin", "postgres_cluster"]

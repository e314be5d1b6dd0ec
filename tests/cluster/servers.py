"""A throwaway Redis server on loopback for cluster tests (see :mod:`kefu.local_servers`)."""

from kefu.local_servers import redis_server

__all__ = ["redis_server"]

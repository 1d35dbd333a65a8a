"""One Redis connection pool per process for Django's cache.

Django keeps a cache object per async context (``caches`` is a context-local handler), and
its Redis cache builds the connection pool on that object: under ASGI each request gets a new
cache object, so each request that touched the cache opened a new TCP connection to Redis
(the REST rate limit touches it on every call). Django builds pools through
``OPTIONS["pool_class"].from_url``; this class answers that with the process's pool for the
same URL and options, so connections are reused from request to request. redis-py's pool is
thread-safe and makes new connections in a forked child.
"""

import threading
from typing import Any

from redis import ConnectionPool

_pools: dict[tuple[str, tuple[tuple[str, Any], ...]], ConnectionPool] = {}
_lock = threading.Lock()
_DRIVER_TAGS = ("driver_info", "lib_name")


class ProcessConnectionPool(ConnectionPool):
    @classmethod
    def from_url(cls, url: str, **options: Any) -> ConnectionPool:  # type: ignore[override]
        # The driver's name tag is a new object on each cache object: not part of the key.
        key = (
            url,
            tuple(sorted((k, v) for k, v in options.items() if k not in _DRIVER_TAGS)),
        )
        with _lock:
            pool = _pools.get(key)
            if pool is None:
                pool = _pools[key] = ConnectionPool.from_url(url, **options)
            return pool

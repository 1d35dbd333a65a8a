"""SQLite as the embedded default uses it: connections kept between requests.

Under ASGI, Django runs each request's view in a thread of its own, and a connection belongs to
the thread that opened it, so every request opened a connection and closed it at its end (and
the embedded task worker's loop does the same every poll). A new SQLite connection parses the
whole schema (over 200 tables and indexes) and prepares every statement anew: about a sixth of
the server's CPU time per REST process start (bench/rest_start.py). Here a closed connection
goes back to a small pool of the process instead — unless a transaction is still open on it,
which closing rolls back as before — and the next connection opened takes it.
"""

import atexit
import os
import sqlite3
import threading
from typing import Any

from django.db.backends.sqlite3 import base

POOL_SIZE = 8  # idle connections kept per database file

_pools: dict[str, list[tuple[sqlite3.Connection, tuple[int, int]]]] = {}
_lock = threading.Lock()


def pool_close() -> None:
    """Closes the idle connections: at exit, and before a fork (SQLite forbids carrying a
    connection into the child)."""
    with _lock:
        idle = [connection for pool in _pools.values() for connection, _file in pool]
        _pools.clear()
    for connection in idle:
        connection.close()


atexit.register(pool_close)
os.register_at_fork(before=pool_close)


def _file_id(name: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(name)
    except OSError:  # an in-memory database, or a file gone
        return None
    return stat.st_dev, stat.st_ino


class DatabaseWrapper(base.DatabaseWrapper):
    _file: tuple[int, int] | None = None  # the file this wrapper's connection has open

    def get_new_connection(self, conn_params: dict[str, Any]) -> sqlite3.Connection:
        name = self.settings_dict["NAME"]
        with _lock:
            pool = _pools.get(name)
            kept = pool.pop() if pool else None
        if kept is not None:
            connection, file = kept
            if file == _file_id(name):
                self._file = file
                # As on a new connection: a migration turns the checks off while it rebuilds.
                connection.execute("PRAGMA foreign_keys = ON")
                return connection
            connection.close()  # the file was replaced: it would read and write the old one
        connection = super().get_new_connection(conn_params)
        self._file = _file_id(name)
        return connection

    def _close(self) -> None:
        connection, file = self.connection, self._file
        if connection is not None and file is not None and not connection.in_transaction:
            with _lock:
                pool = _pools.setdefault(self.settings_dict["NAME"], [])
                if len(pool) < POOL_SIZE:
                    pool.append((connection, file))
                    return
        super()._close()

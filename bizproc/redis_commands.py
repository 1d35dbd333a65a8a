"""Round trips to the cache's Redis on the hot paths, on connections this module keeps.

Every process start and REST call goes to Redis: the list counts' generation twice a record
write (``crm.counts``) and the REST rate limit once a call (``rest.services``). Through
redis-py's client, each round trip built a client or a pipeline and took a connection from the
pool and gave it back (a lock, events, metrics): about 110 µs of CPU for the generation's two
commands, where sending them on a connection at hand takes 50. So these few round trips send on
connections kept here, made with the settings of the cache's own pool: a thread takes one for
the round trip and puts it back (a ``deque`` is safe across threads). A forked child keeps none
of its parent's.
"""

import os
from collections import deque
from collections.abc import Sequence
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis import ConnectionPool
from redis.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

_idle: dict[ConnectionPool, deque[AbstractConnection]] = {}


def _forget_connections() -> None:
    _idle.clear()


os.register_at_fork(after_in_child=_forget_connections)


def redis_commands_run(*, cache: RedisCache, commands: Sequence[Sequence[Any]]) -> list[Any]:
    """Sends ``commands`` to the Redis server the cache writes to, in one round trip, and
    returns their replies in order. Raises the first error Redis replied with, once every reply
    is read; redis-py's ``ConnectionError`` or ``TimeoutError`` when Redis cannot be reached.

    A kept connection that fails (Redis restarted, or closed it while idle) is dropped and the
    commands are sent once more on a new one, as redis-py's client retries."""
    pool: ConnectionPool = cache._cache._get_connection_pool(write=True)  # type: ignore[attr-defined]
    idle = _idle.get(pool)
    if idle is None:
        idle = _idle.setdefault(pool, deque())
    try:
        connection, kept = idle.pop(), True
    except IndexError:
        connection, kept = pool.connection_class(**pool.connection_kwargs), False
    try:
        replies = _round_trip(connection, commands)
    except (RedisConnectionError, RedisTimeoutError, OSError):
        connection.disconnect()
        if not kept:
            raise
        connection = pool.connection_class(**pool.connection_kwargs)
        try:
            replies = _round_trip(connection, commands)
        except BaseException:
            connection.disconnect()
            raise
    except BaseException:
        connection.disconnect()  # a reply may be left unread: the connection is out of step
        raise
    idle.append(connection)
    for reply in replies:
        if isinstance(reply, ResponseError):
            raise reply
    return replies


def _round_trip(connection: AbstractConnection, commands: Sequence[Sequence[Any]]) -> list[Any]:
    connection.send_packed_command(connection.pack_commands(commands))
    replies: list[Any] = []
    for _command in commands:
        try:
            replies.append(connection.read_response())
        except ResponseError as refused:  # read in full: the next reply follows it
            replies.append(refused)
    return replies

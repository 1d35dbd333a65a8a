"""Round trips to the cache's Redis on connections the process keeps (``redis_commands``)."""

import os
import warnings

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from bizproc.redis_commands import redis_commands_run

pytestmark = pytest.mark.redis

KEY = "tests:redis-commands"


@pytest.fixture
def cache() -> RedisCache:
    backend = caches["default"]
    assert isinstance(backend, RedisCache)
    backend._cache.get_client(write=True).delete(KEY)
    return backend


def own_connection_id(cache: RedisCache) -> int:
    return redis_commands_run(cache=cache, commands=[("CLIENT", "ID")])[0]


def test_the_commands_go_in_one_round_trip_and_their_replies_come_back_in_order(cache) -> None:
    replies = redis_commands_run(
        cache=cache, commands=[("SET", KEY, 7, "NX"), ("SET", KEY, 9, "NX"), ("INCR", KEY)]
    )
    assert replies == [b"OK", None, 8]  # the second SET found the key: no reply
    assert cache._cache.get_client().get(KEY) == b"8"


def test_a_refused_command_raises_and_leaves_the_connection_in_step(cache) -> None:
    connection_id = own_connection_id(cache)
    with pytest.raises(ResponseError):
        redis_commands_run(
            cache=cache, commands=[("SET", KEY, "text"), ("INCR", KEY), ("SET", KEY, 1)]
        )
    # The commands after the refused one ran, and the next round trip reads its own replies.
    assert redis_commands_run(cache=cache, commands=[("INCR", KEY)]) == [2]
    assert own_connection_id(cache) == connection_id


def test_a_connection_redis_closed_is_replaced_without_the_caller_noticing(cache) -> None:
    connection_id = own_connection_id(cache)
    cache._cache.get_client(write=True).client_kill_filter(_id=connection_id)

    assert redis_commands_run(cache=cache, commands=[("INCR", KEY)]) == [1]
    assert own_connection_id(cache) != connection_id


def test_a_redis_that_cannot_be_reached_raises() -> None:
    unreachable = RedisCache("redis://127.0.0.1:1/0", {})
    with pytest.raises(RedisConnectionError):
        redis_commands_run(cache=unreachable, commands=[("INCR", KEY)])


def test_a_forked_child_talks_to_redis_on_connections_of_its_own(cache) -> None:
    parent_connection = own_connection_id(cache)
    reading, writing = os.pipe()
    with warnings.catch_warnings():  # the test runner's threads: the child only talks to Redis
        warnings.simplefilter("ignore", DeprecationWarning)
        child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        try:
            answer = str(own_connection_id(cache)).encode()
        except BaseException as error:
            answer = repr(error).encode()
        os.write(writing, answer)
        os._exit(0)
    os.close(writing)
    os.waitpid(child, 0)
    with os.fdopen(reading, "rb") as pipe:
        child_connection = pipe.read().decode()
    assert child_connection.isdigit(), child_connection
    assert int(child_connection) != parent_connection
    assert own_connection_id(cache) == parent_connection  # the parent's is still in step

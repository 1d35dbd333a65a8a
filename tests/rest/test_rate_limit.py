"""The REST rate limit: one leaky bucket per user, in the cache, each batch command counted."""

import contextvars
import os
import subprocess
import sys
import threading
import time

import pytest
from django.core.cache import cache, caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import Deal
from rest.models import Webhook
from rest.services import LAST_USED_PRECISION, bucket_name, rest_quota_take
from tests.crm.factories import UserFactory
from tests.rest.test_methods import call, hook

pytestmark = pytest.mark.django_db

LIMITED = {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}


@pytest.fixture
def admin():
    user = UserFactory(is_crm_admin=True)
    cache.delete(bucket_name(user_id=user.pk))  # a Redis others share may hold an old bucket
    return user


@pytest.fixture
def slow(settings):
    """A bucket of 3 that leaks one request a second."""
    settings.REST_RATE_LIMIT_PER_SECOND = 1
    settings.REST_RATE_LIMIT_BURST = 3


def test_two_webhooks_of_one_user_share_the_bucket(client, admin, slow) -> None:
    first, second = hook(admin), hook(admin)
    assert [call(client, first, "crm.deal.fields")[0] for _ in range(2)] == [200, 200]
    assert call(client, second, "crm.deal.fields")[0] == 200
    assert call(client, second, "crm.deal.fields") == (503, LIMITED)
    assert call(client, first, "crm.deal.fields") == (503, LIMITED)


def test_another_users_bucket_is_their_own(client, admin, slow) -> None:
    base = hook(admin)
    for _ in range(3):
        call(client, base, "crm.deal.fields")
    assert call(client, base, "crm.deal.fields")[0] == 503
    assert call(client, hook(UserFactory(is_crm_admin=True)), "crm.deal.fields")[0] == 200


def test_the_bucket_leaks_at_the_rate(admin, settings) -> None:
    """The bucket is filled straight through the service: three requests over HTTP can take
    longer than the 1/20 s it stays full (a process's first request, on PostgreSQL, on a busy
    machine), and the third would pass."""
    settings.REST_RATE_LIMIT_PER_SECOND = 20
    settings.REST_RATE_LIMIT_BURST = 2
    assert [rest_quota_take(user_id=admin.pk) for _ in range(3)] == [True, True, False]
    deadline = time.monotonic() + 5
    while not rest_quota_take(user_id=admin.pk):  # one leaks within 1/20 s
        assert time.monotonic() < deadline


def test_each_command_of_a_batch_counts(client, admin, slow) -> None:
    base = hook(admin)
    commands = {"cmd": ["crm.deal.add?fields[TITLE]=One", "crm.deal.add?fields[TITLE]=Two"]}
    status, body = call(client, base, "batch", commands)
    assert status == 200
    assert body["result"]["result_error"] == []
    assert call(client, base, "crm.deal.fields")[0] == 200  # 2 commands + this = 3
    assert call(client, base, "crm.deal.fields") == (503, LIMITED)


def test_a_batch_over_the_limit_is_refused_whole(client, admin, slow) -> None:
    base = hook(admin)
    commands = [f"crm.deal.add?fields[TITLE]=Deal {n}" for n in range(4)]
    assert call(client, base, "batch", {"cmd": commands}) == (503, LIMITED)
    assert not Deal.objects.exists()
    # The refused commands did not count: the bucket holds just the batch's own request.
    assert call(client, base, "batch", {"cmd": commands[:2]})[0] == 200
    assert Deal.objects.count() == 2


def test_a_rate_of_zero_turns_the_limit_off(client, admin, settings) -> None:
    settings.REST_RATE_LIMIT_PER_SECOND = 0
    settings.REST_RATE_LIMIT_BURST = 1
    base = hook(admin)
    statuses = {call(client, base, "crm.deal.fields")[0] for _ in range(5)}
    commands = [f"crm.deal.add?fields[TITLE]=Deal {n}" for n in range(50)]
    statuses.add(call(client, base, "batch", {"cmd": commands})[0])
    assert statuses == {200}
    assert Deal.objects.count() == 50


def test_requests_write_nothing_to_the_database_but_the_last_use_each_minute(client, admin) -> None:
    base = hook(admin)
    call(client, base, "crm.deal.fields")
    used = Webhook.objects.get().last_used_at
    assert used is not None
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert call(client, base, "crm.deal.fields")[0] == 200
    writes = [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert writes == []
    Webhook.objects.update(last_used_at=used - LAST_USED_PRECISION)
    call(client, base, "crm.deal.fields")
    assert Webhook.objects.get().last_used_at > used


def _admitted_concurrently(user_id: int, threads: int, attempts: int) -> int:
    admitted = []
    barrier = threading.Barrier(threads)

    def attempt() -> None:
        barrier.wait()
        admitted.extend(rest_quota_take(user_id=user_id) for _ in range(attempts))

    workers = [threading.Thread(target=attempt) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(admitted)


def test_concurrent_requests_never_pass_more_than_the_bucket_holds(settings) -> None:
    settings.REST_RATE_LIMIT_PER_SECOND = 1
    settings.REST_RATE_LIMIT_BURST = 40
    user_id = 10**12  # no one's: a bucket of its own
    cache.delete(bucket_name(user_id=user_id))
    started = time.monotonic()
    admitted = _admitted_concurrently(user_id, threads=8, attempts=25)
    leaked = int(time.monotonic() - started) + 1
    assert 40 <= admitted <= 40 + leaked


_FILL = """
import django
django.setup()
from rest.services import rest_quota_take
print(sum(rest_quota_take(user_id={user_id}) for _ in range(30)))
"""


@pytest.mark.redis
def test_server_processes_share_the_bucket_in_redis(settings) -> None:
    """Two other processes (as two servers would) and this one draw on one bucket in Redis:
    together they pass no more than it holds."""
    from django.core.cache.backends.redis import RedisCache

    assert isinstance(caches["default"], RedisCache)
    settings.REST_RATE_LIMIT_PER_SECOND = 1
    settings.REST_RATE_LIMIT_BURST = 40
    user_id = 10**12 + 1
    cache.delete(bucket_name(user_id=user_id))
    env = os.environ | {"REST_RATE_LIMIT_PER_SECOND": "1", "REST_RATE_LIMIT_BURST": "40"}
    started = time.monotonic()
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _FILL.format(user_id=user_id)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=60)[0] for process in processes]
    assert all(process.returncode == 0 for process in processes)
    admitted = sum(int(output.strip().splitlines()[-1]) for output in outputs)
    admitted += sum(rest_quota_take(user_id=user_id) for _ in range(5))
    leaked = int(time.monotonic() - started) + 1
    assert 40 <= admitted <= 40 + leaked


@pytest.mark.redis
def test_requests_reuse_the_process_connection_to_redis() -> None:
    """Under ASGI each request runs in a context of its own and Django makes it a cache object
    of its own: the counting still goes over a connection the process keeps, not a new one per
    request."""
    user_id = 10**12 + 2
    redis_server = caches["default"]._cache.get_client(write=True)

    def one_request() -> bool:
        return rest_quota_take(user_id=user_id)

    assert contextvars.Context().run(one_request)
    opened = redis_server.info("stats")["total_connections_received"]
    assert all(contextvars.Context().run(one_request) for _ in range(5))
    assert redis_server.info("stats")["total_connections_received"] == opened


@pytest.mark.redis
def test_a_redis_that_forgot_the_script_learns_it_again(settings) -> None:
    """Redis keeps its scripts only until it restarts (or is told to forget them): the bucket
    still counts, and still refuses when full."""
    settings.REST_RATE_LIMIT_PER_SECOND = 1
    settings.REST_RATE_LIMIT_BURST = 2
    user_id = 10**12 + 3
    cache.delete(bucket_name(user_id=user_id))
    caches["default"]._cache.get_client(write=True).script_flush()
    assert [rest_quota_take(user_id=user_id) for _ in range(3)] == [True, True, False]

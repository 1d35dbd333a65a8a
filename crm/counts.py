"""Exact counts of CRM record lists, kept in Django's cache until a CRM record changes.

A REST list answers with its ``total``; over 100,000 deals that COUNT takes milliseconds on
every page, although the records change far less often than they are paged. A count is kept
under its model, a hash of the database and of the query's SQL and parameters (so the user's
rights scope and the filters are part of the key; processes on other databases may share the
cache) and the *generation* of the CRM records: a number that every write of any record bumps,
which makes every count taken before it unreachable at once, without knowing which lists the
write touched. There is one generation for all record types, as some writes reach other types
without signals of their own (deleting a company sets the ``COMPANY_ID`` of its deals to null).
With Redis as the cache (``REDIS_URL``), every server and worker process reads and bumps the
same generation.

The generation follows the models' ``post_save`` and ``post_delete`` signals; writes that send
none (``bulk_create``, ``QuerySet.update``, raw SQL) call ``counts_invalidate``. The deal ↔
contacts links (``m2m_changed``) are left out on purpose: no list filter can join them
(``CONTACT_IDS`` is not filterable), so no count depends on them. Counts expire after
``COUNT_SECONDS`` only to free the cache of those of old generations; no correctness rests on
that.
"""

import hashlib
import secrets
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import QuerySet
from django.db.models.signals import post_delete, post_save

from bizproc.redis_commands import redis_commands_run
from crm.models import RECORD_MODELS, Record

GENERATION_KEY = "crm:records:generation"
COUNT_SECONDS = 3600


def _generation() -> int:
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        # A random start rather than 0: after the key is lost (an eviction, a restarted
        # cache), old numbers, under which counts may still be stored, are not used again.
        fresh = secrets.randbits(48)
        added = cache.add(GENERATION_KEY, fresh, timeout=None)
        generation = fresh if added else cache.get(GENERATION_KEY, fresh)
    return generation


def _generation_bump() -> None:
    backend = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(backend, RedisCache):
        # Every record write bumps twice: one round trip to Redis each, not the cache API's
        # two (its ``incr`` asks whether the key exists first).
        key = backend.make_and_validate_key(GENERATION_KEY)
        redis_commands_run(
            cache=backend,
            commands=[
                ("SET", key, secrets.randbits(48), "NX"),  # none stored: any fresh one
                ("INCR", key),
            ],
        )
        return
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # no generation stored: any fresh one will do
        if not cache.add(GENERATION_KEY, secrets.randbits(48), timeout=None):
            cache.incr(GENERATION_KEY)


def counts_invalidate(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Makes every cached count stale: now, and again when the current transaction commits.

    The first bump hides the counts taken before the write from the moment the write can be
    seen (outside a transaction, that is now). It is not enough on its own: until the commit,
    other connections cannot see the write, so a count another process takes between the first
    bump and the commit is stored under the new generation without the write in it. The bump
    after the commit leaves such counts behind.
    """
    _generation_bump()
    transaction.on_commit(_generation_bump, using=using, robust=True)


def _record_written(sender: type[Record], *, using: str, **kwargs: Any) -> None:
    counts_invalidate(using=using)


for _model in RECORD_MODELS.values():
    post_save.connect(_record_written, sender=_model, dispatch_uid=f"crm.counts.{_model.__name__}")
    post_delete.connect(
        _record_written, sender=_model, dispatch_uid=f"crm.counts.{_model.__name__}"
    )


def record_count(*, queryset: QuerySet[Record]) -> int:
    """``queryset.count()``, exact, from the cache while no CRM record has changed."""
    queryset = queryset.order_by()
    if not transaction.get_autocommit(using=queryset.db):
        # Inside a transaction a count may include its own uncommitted writes, which a
        # rollback undoes without any signal: it is neither taken from the cache nor stored.
        return queryset.count()
    try:
        sql, params = queryset.values_list("pk").query.get_compiler(queryset.db).as_sql()
    except EmptyResultSet:  # a filter that matches nothing (``@ID: []``): no query at all
        return queryset.count()
    database = connections[queryset.db].settings_dict
    where = (database["HOST"], database["PORT"], database["NAME"])
    digest = hashlib.sha256(repr((where, sql, params)).encode()).hexdigest()
    # The generation is read before counting, so a write that lands during the count bumps
    # it past the key this count is stored under.
    key = f"crm:count:{queryset.model._meta.label_lower}:{digest}:{_generation()}"
    count = cache.get(key)
    if count is None:
        count = queryset.count()
        cache.set(key, count, COUNT_SECONDS)
    return count

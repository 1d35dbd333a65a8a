"""Shared fixtures, and the markers that need PostgreSQL or Redis.

Tests marked ``postgres`` run only when DATABASE_URL points at PostgreSQL, tests marked
``redis`` only when REDIS_URL is set; otherwise they are deselected and the summary says so.
"""

import os

import pytest

NEEDS = {
    "postgres": (
        lambda: os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
        "DATABASE_URL=postgresql://…",
    ),
    "redis": (lambda: bool(os.environ.get("REDIS_URL")), "REDIS_URL=redis://…"),
}

_left_out: dict[str, int] = {}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept, deselected = [], []
    for item in items:
        database = item.get_closest_marker("django_db")
        if (
            database
            and database.kwargs.get("transaction")
            and not database.kwargs.get("serialized_rollback")
        ):
            # Its flush would add the content types back, which the next test restoring the
            # serialized database then inserts twice: tests run in random order.
            raise pytest.UsageError(f"{item.nodeid}: transaction=True needs serialized_rollback")
        missing = [
            name
            for name, (available, _hint) in NEEDS.items()
            if item.get_closest_marker(name) and not available()
        ]
        if missing:
            deselected.append(item)
            for name in missing:
                _left_out[name] = _left_out.get(name, 0) + 1
        else:
            kept.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


def pytest_terminal_summary(terminalreporter) -> None:
    for name, count in _left_out.items():
        hint = NEEDS[name][1]
        terminalreporter.write_line(
            f"{count} test(s) marked '{name}' were left out: set {hint} to run them.",
            yellow=True,
        )


@pytest.fixture(autouse=True)
def _fresh_record_counts() -> None:
    """Each test starts without cached list counts: between tests the database is rolled back
    or flushed without any signal, while the cache (memory, or a Redis that earlier runs used
    too) keeps what it held. Dropping the generation makes every stored count unreachable,
    without clearing a Redis others may share."""
    from django.core.cache import cache

    from crm.counts import GENERATION_KEY

    cache.delete(GENERATION_KEY)


@pytest.fixture(autouse=True)
def _fresh_custom_fields() -> None:
    """Each test reads the custom field definitions its own database holds: the process keeps
    them between calls, and a rollback sends no signal."""
    from crm.custom_fields import definitions_forget

    definitions_forget()


@pytest.fixture(autouse=True)
def _fresh_list_schemas() -> None:
    """Each test reads the list properties its own database holds: the process keeps each
    list's schema (by list id, which SQLite hands out again after a rollback)."""
    from lists.properties import schemas_clear

    schemas_clear()


@pytest.fixture(autouse=True)
def _fresh_work_calendar() -> None:
    """Each test reads the working calendar its own database holds: the process keeps it,
    and a rollback sends no signal."""
    from bizproc.calendars import calendar_forget

    calendar_forget()


@pytest.fixture(autouse=True)
def _fresh_local_cache() -> None:
    """Each test starts with an empty cache when the cache is this process's memory: on SQLite
    user ids start again at the same number after each test's rollback, and a REST rate-limit
    bucket (kept per user id) left by an earlier test would count against the next one. Redis
    is not cleared, as others may share it; PostgreSQL does not reuse ids."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    if isinstance(caches["default"], LocMemCache):
        caches["default"].clear()


@pytest.fixture(autouse=True)
def _language_restored():
    """Each test ends in the language it started in: a request of a user
    who reads Russian activates Russian in the test's thread (as each request does in a
    server's), and it would otherwise stay for the tests after it."""
    from django.utils import translation

    language = translation.get_language()
    yield
    translation.activate(language)


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Each test gets a channel layer of its own. Every test's sockets run in an event loop of
    their own (``async_to_sync``), and a layer keeps state per loop (the in-memory layer's
    queues belong to the loop that reads them; channels_redis keeps its connections and
    subscriptions per loop): a fresh layer keeps one test's groups away from the next's."""
    from channels.layers import channel_layers

    yield
    channel_layers.backends.clear()

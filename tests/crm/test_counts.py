"""Cached record counts (``crm.counts``): exact after every kind of write, shared through the cache.

The tests commit for real (``transaction=True``), as a server does: inside a transaction counts
are never cached.
"""

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from crm.counts import GENERATION_KEY, _generation_bump, record_count
from crm.demo import demo_records_create, demo_users_create
from crm.models import Deal, Lead
from tests.crm.factories import RECORD_FACTORIES, ContactFactory, DealFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def counted(queryset) -> tuple[int, int]:
    """(the count, how many COUNT queries it ran)."""
    with CaptureQueriesContext(connection) as queries:
        count = record_count(queryset=queryset)
    return count, sum("COUNT(" in query["sql"] for query in queries.captured_queries)


def generation() -> int:
    record_count(queryset=Deal.objects.all())  # makes sure there is one
    return cache.get(GENERATION_KEY)


def test_a_second_count_comes_from_the_cache_until_a_record_changes() -> None:
    owner = UserFactory()
    DealFactory.create_batch(3, assigned_by=owner)
    assert counted(Deal.objects.all()) == (3, 1)
    assert counted(Deal.objects.order_by("-title")) == (3, 0)  # the order is not part of it
    assert counted(Deal.objects.filter(assigned_by=owner)) == (3, 1)  # the filter is

    DealFactory(assigned_by=owner)
    assert counted(Deal.objects.all()) == (4, 1)
    assert counted(Deal.objects.all()) == (4, 0)


@pytest.mark.parametrize("entity_type", ["LEAD", "CONTACT", "COMPANY", "DEAL"])
def test_saving_or_deleting_a_record_of_any_type_bumps_the_generation(entity_type) -> None:
    before = generation()
    record = RECORD_FACTORIES[entity_type]()
    created = cache.get(GENERATION_KEY)
    assert created != before

    record.save()
    assert cache.get(GENERATION_KEY) != created
    updated = cache.get(GENERATION_KEY)
    record.delete()
    assert cache.get(GENERATION_KEY) != updated


def test_deleting_a_contact_that_deals_point_at_makes_their_counts_stale() -> None:
    """The database sets the deals' CONTACT_ID to null without a signal of the deals."""
    contact = ContactFactory()
    DealFactory.create_batch(2, contact=contact)
    assert record_count(queryset=Deal.objects.filter(contact__isnull=True)) == 0
    contact.delete()
    assert record_count(queryset=Deal.objects.filter(contact__isnull=True)) == 2


def test_the_generation_is_bumped_again_when_the_write_commits() -> None:
    """Another process may count between the write and the commit (without the write): what
    it stores under the generation the write made must not be read after the commit."""
    before = generation()
    with transaction.atomic():
        DealFactory()
        during = cache.get(GENERATION_KEY)
        assert during != before
    assert cache.get(GENERATION_KEY) != during


def test_a_count_another_process_invalidated_is_taken_again() -> None:
    """What a write in another server process leaves behind: a new generation in the shared
    cache, and rows this process has not seen written."""
    DealFactory.create_batch(2)
    assert counted(Deal.objects.all()) == (2, 1)
    Deal.objects.bulk_create([Deal(title="Elsewhere", **_owner_fields(UserFactory()))])
    cache.incr(GENERATION_KEY)
    assert counted(Deal.objects.all()) == (3, 1)


def _owner_fields(user) -> dict:
    return {"assigned_by": user, "created_by": user, "modified_by": user}


def test_a_count_inside_a_transaction_that_rolls_back_is_not_kept() -> None:
    DealFactory.create_batch(2)
    with pytest.raises(RuntimeError), transaction.atomic():
        DealFactory()
        assert counted(Deal.objects.all()) == (3, 1)
        assert counted(Deal.objects.all()) == (3, 1)  # not from the cache
        raise RuntimeError
    assert counted(Deal.objects.all()) == (2, 1)


def test_a_filter_that_matches_nothing_counts_without_a_query() -> None:
    DealFactory()
    assert counted(Deal.objects.filter(pk__in=[])) == (0, 0)


def test_the_demo_bulk_load_makes_counts_stale() -> None:
    users = demo_users_create()
    assert record_count(queryset=Lead.objects.all()) == 0
    demo_records_create(users=users, deals=3)
    assert record_count(queryset=Lead.objects.all()) == 3


def test_a_bump_with_no_generation_stored_starts_a_fresh_one_then_counts_up() -> None:
    cache.delete(GENERATION_KEY)
    _generation_bump()
    fresh = cache.get(GENERATION_KEY)
    _generation_bump()

    assert isinstance(fresh, int)
    assert cache.get(GENERATION_KEY) == fresh + 1

"""The ``total`` of ``crm.*.list`` stays exact while it is cached (``crm.counts``).

A first page shorter than 50 rows needs no COUNT, so each test starts with more deals than
that. The tests commit for real (``transaction=True``), as the server does: inside a
transaction counts are never cached.
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import Deal, RolePermission
from tests.crm.factories import UserFactory, user_with
from tests.rest.test_methods import call, hook

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

DEALS = 60


@pytest.fixture
def admin():
    return UserFactory(is_crm_admin=True, username="boss")


@pytest.fixture
def base(admin) -> str:
    return hook(admin)


def deals_of(user, count: int = DEALS, opportunity: int = 500) -> list[int]:
    Deal.objects.bulk_create(
        Deal(
            title=f"Deal {i}",
            opportunity=Decimal(opportunity),
            assigned_by=user,
            created_by=user,
            modified_by=user,
        )
        for i in range(count)
    )
    return list(Deal.objects.filter(assigned_by=user).values_list("pk", flat=True))


def total(client, base: str, params: dict | None = None) -> int:
    status, body = call(client, base, "crm.deal.list", {"select": ["ID"], **(params or {})})
    assert status == 200, body
    return body["total"]


def test_a_second_identical_list_runs_no_count(client, base, admin) -> None:
    deals_of(admin)
    assert total(client, base) == DEALS
    with CaptureQueriesContext(connection) as queries:
        assert total(client, base) == DEALS
    assert not [query for query in queries.captured_queries if "COUNT(" in query["sql"]]


def test_the_total_counts_a_deal_added_right_before(client, base, admin) -> None:
    deals_of(admin)
    assert total(client, base) == DEALS
    status, body = call(
        client, base, "crm.deal.add", {"fields": {"TITLE": "New", "ASSIGNED_BY_ID": admin.pk}}
    )
    assert status == 200, body
    assert total(client, base) == DEALS + 1


def test_the_total_leaves_out_a_deal_deleted_right_before(client, base, admin) -> None:
    ids = deals_of(admin)
    assert total(client, base) == DEALS
    status, body = call(client, base, "crm.deal.delete", {"id": ids[0]})
    assert status == 200, body
    assert total(client, base) == DEALS - 1


def test_the_total_follows_an_update_that_moves_a_deal_out_of_the_filter(
    client, base, admin
) -> None:
    ids = deals_of(admin, opportunity=500)
    rich = {"filter": {">OPPORTUNITY": 100}}
    assert total(client, base, rich) == DEALS
    status, body = call(
        client, base, "crm.deal.update", {"id": ids[0], "fields": {"OPPORTUNITY": 50}}
    )
    assert status == 200, body
    assert total(client, base, rich) == DEALS - 1
    assert total(client, base, {"filter": {"<=OPPORTUNITY": 100}}) == 1


def test_the_total_follows_a_change_of_the_users_rights(client) -> None:
    anna = user_with({("DEAL", "read"): "own"})
    deals_of(anna)
    deals_of(UserFactory(), count=5)
    anna_hook = hook(anna)
    assert total(client, anna_hook) == DEALS
    RolePermission.objects.filter(role__users=anna, entity_type="DEAL", action="read").update(
        level="all"
    )
    assert total(client, anna_hook) == DEALS + 5

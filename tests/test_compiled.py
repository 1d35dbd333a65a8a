"""Queries compiled once (bizproc.compiled): the same instances as the ORM's own query."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from bizproc.compiled import CompiledQuery
from crm.models import Deal
from tests.crm.factories import DealFactory

pytestmark = pytest.mark.django_db

PLACEHOLDER = -(2**62) + 7919


def test_each_run_finds_the_row_of_its_own_values_as_the_orm_builds_it() -> None:
    first, second = DealFactory(title="First", opportunity=10), DealFactory(title="Second")
    by_title = CompiledQuery(
        lambda pk, title: Deal.objects.filter(pk=pk, title=title).only("title", "modified_at"),
        pk=PLACEHOLDER,
        title="\x00title",
    )

    found = by_title.first(pk=first.pk, title="First")
    again = by_title.first(pk=second.pk, title="Second")

    stored = Deal.objects.get(pk=first.pk)
    assert (found.pk, found.title, found.modified_at) == (first.pk, "First", stored.modified_at)
    assert (
        found.get_deferred_fields()
        == Deal.objects.only("title", "modified_at").get(pk=first.pk).get_deferred_fields()
    )
    assert found.opportunity == stored.opportunity  # a deferred field loads on access
    assert again.title == "Second"
    assert by_title.first(pk=first.pk, title="Second") is None


def test_a_placeholder_the_query_does_not_pass_on_is_refused() -> None:
    ignored = CompiledQuery(lambda pk: Deal.objects.all(), pk=PLACEHOLDER)

    with pytest.raises(ImproperlyConfigured):
        ignored.first(pk=1)

"""Queries and inserts compiled once (bizproc.compiled): the same objects and rows as the ORM's."""

from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import F

from bizproc.compiled import CompiledInsert, CompiledQuery, CompiledUpdate
from bizproc.models import Instance
from crm.models import Deal
from tests.bizproc.builders import node, published
from tests.crm.factories import CompanyFactory, DealFactory

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


def test_select_related_objects_are_built_and_attached_as_the_orm_does(
    django_assert_num_queries,
) -> None:
    with_company = DealFactory(title="Linked", company=CompanyFactory(title="Acme"))
    without = DealFactory(title="Alone", company=None)
    with_links = CompiledQuery(
        lambda pk: Deal.objects.select_related("company", "assigned_by").filter(pk=pk),
        pk=PLACEHOLDER,
    )

    found = with_links.first(pk=with_company.pk)
    alone = with_links.first(pk=without.pk)

    orm = Deal.objects.select_related("company", "assigned_by").get(pk=with_company.pk)
    assert (found.title, found.company.title) == ("Linked", "Acme")
    assert found.company.__dict__.keys() == orm.company.__dict__.keys()
    assert found.assigned_by.username == orm.assigned_by.username
    assert alone.company is None
    with django_assert_num_queries(0):  # attached: reading them asks nothing more
        assert (found.company.pk, found.assigned_by.pk) == (orm.company_id, orm.assigned_by_id)
        assert found.company.title == "Acme"


def test_annotations_are_not_compiled() -> None:
    annotated = CompiledQuery(
        lambda pk: Deal.objects.filter(pk=pk).annotate(doubled=F("opportunity") * 2),
        pk=PLACEHOLDER,
    )

    with pytest.raises(ImproperlyConfigured):
        annotated.first(pk=1)


def test_a_placeholder_the_query_does_not_pass_on_is_refused() -> None:
    ignored = CompiledQuery(lambda pk: Deal.objects.all(), pk=PLACEHOLDER)

    with pytest.raises(ImproperlyConfigured):
        ignored.first(pk=1)


def test_compiled_inserts_store_each_object_as_save_would(django_user_model) -> None:

    user = django_user_model.objects.create_user(pk=7101, username="inserter")
    template = published(node("LogActivity", Text="hi"), user=user)
    insert = CompiledInsert(Instance)
    made = []
    for document_id in ("DEAL_1", "DEAL_2"):
        instance = Instance(
            template=template,
            version=template.latest_version,
            module=template.module,
            entity=template.entity,
            document_type=template.document_type,
            document_id=document_id,
            started_by=user,
            variables={"Note": '«quoted» "text"'},
        )
        assert insert.plain(instance)
        with connection.cursor() as cursor:
            cursor.execute(*insert.as_sql(instance, connection))
        made.append(instance)

    assert len(insert.statements) == 1  # compiled once
    for instance in made:
        stored = Instance.objects.get(pk=instance.pk)
        assert instance.started_at is not None
        assert [getattr(instance, f.attname) for f in Instance._meta.concrete_fields] == [
            getattr(stored, f.attname) for f in Instance._meta.concrete_fields
        ]


def test_an_object_with_a_value_the_database_hands_back_is_not_plain() -> None:

    assert not CompiledInsert(Deal).plain(Deal(title="No id yet"))
    assert not CompiledInsert(Instance).plain(Instance(document_id="DEAL_1"))  # db_default


AT_VERSION = CompiledUpdate(
    Deal,
    lambda pk, version: Deal.objects.filter(pk=pk, version=version),
    pk=PLACEHOLDER,
    version=2**31 - 7919,
)


def run(statement: tuple[str, list]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(*statement)
        return cursor.rowcount


def test_a_compiled_update_writes_its_own_values_to_the_row_its_filter_finds() -> None:
    deal, other = DealFactory(title="Old", opportunity=5), DealFactory(title="Other")
    version = Deal.objects.get(pk=deal.pk).version
    # A value equal to a placeholder is a value like any other.
    values = {"title": "New «one»", "opportunity": Decimal(2**31 - 7919), "version": version + 1}

    assert run(AT_VERSION.as_sql(values, connection, pk=deal.pk, version=version)) == 1
    assert run(AT_VERSION.as_sql(values, connection, pk=deal.pk, version=version)) == 0  # moved on
    again = {"title": "Newer", "opportunity": Decimal("7.50"), "version": version + 2}
    assert run(AT_VERSION.as_sql(again, connection, pk=deal.pk, version=version + 1)) == 1

    assert len(AT_VERSION.statements) == 1  # the same columns: compiled once
    stored = Deal.objects.get(pk=deal.pk)
    assert (stored.title, stored.opportunity, stored.version) == (
        "Newer",
        Decimal("7.50"),
        version + 2,
    )
    assert Deal.objects.get(pk=other.pk).title == "Other"


def test_a_compiled_update_of_an_expression_is_compiled_as_django_compiles_it() -> None:
    deal = DealFactory(title="Counted")
    version = Deal.objects.get(pk=deal.pk).version

    statement = AT_VERSION.as_sql(
        {"version": F("version") + 10}, connection, pk=deal.pk, version=version
    )

    assert run(statement) == 1
    assert Deal.objects.get(pk=deal.pk).version == version + 10

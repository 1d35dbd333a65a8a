"""The published version a template points at: what new processes start, read once per process."""

import importlib

import pytest
from django.apps import apps
from django.db import connection, transaction

from bizproc import services
from bizproc.models import Template, TemplateVersion
from bizproc.runtime import workflow_start
from crm.documents import DOCUMENT_TYPES
from tests.bizproc.builders import node, notes, published
from tests.crm.factories import DealFactory, UserFactory

pytestmark = pytest.mark.django_db

REPORT = 6


@pytest.fixture
def user():
    return UserFactory(is_crm_admin=True)


@pytest.fixture
def deal(user):
    return DealFactory(assigned_by=user)


def log(text: str) -> dict:
    return node("LogActivity", Text=text, Title="Log")


def republished(template: Template, user, *blocks: dict) -> TemplateVersion:
    template.tree["Children"] = list(blocks)
    template.save()
    return services.template_publish(template=template, user=user)


def reports(template: Template, deal, user) -> list[str]:
    instance = workflow_start(template=template, document_id=deal.document_id, user=user)
    return notes(instance, REPORT)


def test_a_process_starts_the_version_published_when_its_template_was_read(user, deal) -> None:
    template = published(log("first version ran"), user=user)
    read_before = Template.objects.get(pk=template.pk)
    second = republished(template, user, log("second version ran"))

    assert (template.published_version_id, template.latest_version.number) == (second.pk, 2)
    assert Template.objects.get(pk=template.pk).latest_version.number == 2
    assert reports(template, deal, user) == ["second version ran"]
    assert reports(read_before, deal, user) == ["first version ran"]


def test_a_published_version_is_read_once_per_process(user, django_assert_num_queries) -> None:
    template = published(log("ran"), user=user)
    with django_assert_num_queries(1):
        assert template.latest_version.number == 1
    read_again = Template.objects.get(pk=template.pk)
    with django_assert_num_queries(0):
        assert read_again.latest_version.number == 1
    draft = services.template_create(document_type=DOCUMENT_TYPES["DEAL"], name="New", user=user)
    with django_assert_num_queries(0):
        assert draft.latest_version is None


class Rollback(Exception):
    pass


def test_a_new_template_never_runs_the_version_of_a_rolled_back_one(user, deal) -> None:
    with pytest.raises(Rollback), transaction.atomic():
        gone = published(log("the rolled back template ran"), user=user)
        assert reports(gone, deal, user) == ["the rolled back template ran"]
        gone_ids = (gone.pk, gone.published_version_id)
        raise Rollback
    template = published(log("the new template ran"), user=user)
    if connection.vendor == "sqlite":  # it hands the same ids out again: the case at stake
        assert (template.pk, template.published_version_id) == gone_ids
    assert reports(template, deal, user) == ["the new template ran"]


def test_running_a_process_leaves_its_version_as_published(user, deal) -> None:
    """Processes of one version share its blocks: a block without properties stays so."""
    bare = {"Type": "EmptyBlockActivity", "Name": "A_bare", "Children": [log("inside ran")]}
    template = published(bare, user=user)
    assert reports(template, deal, user) == ["inside ran"]
    assert template.latest_version.tree == TemplateVersion.objects.get().tree
    assert "Properties" not in template.latest_version.tree["Children"][0]


def test_the_migration_points_each_template_at_its_highest_numbered_version(user) -> None:
    template = published(log("first"), user=user)
    latest = republished(template, user, log("second"))
    never_published = services.template_create(
        document_type=DOCUMENT_TYPES["DEAL"], name="Draft", user=user
    )
    Template.objects.update(published_version=None, published_token=None)
    TemplateVersion.objects.update(token=0)  # adding the field gave every row the same one

    migration = importlib.import_module("bizproc.migrations.0015_published_version")
    migration.published_versions_backfill(apps, None)

    template.refresh_from_db()
    latest.refresh_from_db()
    assert (template.published_version_id, template.published_token) == (latest.pk, latest.token)
    assert len(set(TemplateVersion.objects.values_list("token", flat=True))) == 2
    assert template.latest_version.tree["Children"][0]["Properties"]["Text"] == "second"
    never_published.refresh_from_db()
    assert never_published.published_version_id is None

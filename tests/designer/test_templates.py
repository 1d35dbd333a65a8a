"""The template list per entity type, creating, duplicating, activating and deleting templates.

Deleting a template whose versions have processes keeps it (inactive and hidden) for them:
a process keeps the version it started with, and its journal."""

import pytest
from django.urls import reverse

from bizproc.models import AutoExecute, Instance, Template, TemplateVersion
from bizproc.runtime import workflow_start
from bizproc.services import template_publish
from crm.documents import DOCUMENT_TYPES
from tests.bizproc.builders import node, published
from tests.crm.factories import DealFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client, designer_user):
    client.force_login(designer_user)
    return client


def listed(client, **query) -> str:
    return client.get(reverse("designer:template-list"), query).text


def test_the_list_shows_the_types_the_user_designs_filtered_and_searched(editor, admin, template):
    lead = published(node("LogActivity", Text="x"), user=admin, entity="LEAD", name="Lead intake")
    other = published(node("LogActivity", Text="x"), user=admin, name="Invoice reminder")
    page = listed(editor)
    assert "Deal flow" in page and "Invoice reminder" in page
    assert lead.name not in page  # leads are not the user's to design
    assert "version 1" in page and "Not published" in page
    assert "<td>Manual</td>" in page
    assert "Deal flow" not in listed(editor, q="invoice")
    assert other.name in listed(editor, q="invoice")
    partial = editor.get(
        reverse("designer:template-list"),
        {"type": "DEAL"},
        headers={"HX-Request": "true", "HX-Target": "template-table"},
    )
    assert partial.text.lstrip().startswith('<div id="template-table">')


def test_creating_a_template_opens_its_editor(editor):
    response = editor.post(
        reverse("designer:template-create"),
        {
            "name": "Welcome",
            "description": "New deals",
            "document_type": "crm.CCrmDocumentDeal.DEAL",
            "auto_execute": str(AutoExecute.CREATE),
        },
    )
    template = Template.objects.get(name="Welcome")
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("designer:template-edit", args=[template.pk])
    assert template.document_type_triple == DOCUMENT_TYPES["DEAL"]
    assert template.auto_execute == AutoExecute.CREATE


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "document_type": "crm.CCrmDocumentDeal.DEAL"}, "This field is required."),
        ({"name": "X", "document_type": "crm.CCrmDocumentLead.LEAD"}, "Select a valid choice."),
    ],
)
def test_creating_is_refused_with_a_message(editor, data, message):
    response = editor.post(reverse("designer:template-create"), data | {"auto_execute": "0"})
    assert response.status_code == 422
    assert message in response.text
    assert not Template.objects.listed().exists()


def test_duplicating_copies_the_draft_not_the_versions(editor, admin):
    original = published(node("LogActivity", "A_log", Text="x"), user=admin, name="Original")
    response = editor.post(reverse("designer:template-duplicate", args=[original.pk]))
    copy = Template.objects.get(name="Original (copy)")
    assert response.headers["Location"] == reverse("designer:template-edit", args=[copy.pk])
    assert copy.tree == original.tree
    assert not copy.versions.exists()


def test_deactivating_and_activating(editor, template):
    url = reverse("designer:template-activate", args=[template.pk])
    editor.post(url, {"active": "0"})
    template.refresh_from_db()
    assert not template.active
    editor.post(url, {"active": "1"})
    template.refresh_from_db()
    assert template.active


def test_a_template_without_processes_is_deleted_with_its_versions(editor, admin):
    gone = published(node("LogActivity", Text="x"), user=admin, name="Short-lived")
    confirm = editor.get(reverse("designer:template-delete", args=[gone.pk]))
    assert "Delete “Short-lived”?" in confirm.text
    editor.post(reverse("designer:template-delete", args=[gone.pk]))
    assert not Template.objects.filter(pk=gone.pk).exists()
    assert not TemplateVersion.objects.filter(template_id=gone.pk).exists()


def test_a_template_with_processes_is_hidden_and_its_processes_keep_their_version(editor, admin):
    kept = published(
        node("DelayActivity", TimeoutDuration="1", TimeoutDurationType="d"), user=admin, name="Slow"
    )
    deal = DealFactory(assigned_by=admin)
    instance = workflow_start(template=kept, document_id=deal.document_id, user=admin)
    confirm = editor.get(reverse("designer:template-delete", args=[kept.pk]))
    assert "1 process started from this template is still running." in confirm.text
    response = editor.post(reverse("designer:template-delete", args=[kept.pk]), follow=True)
    assert "Processes started from it go on with their version" in response.text
    kept.refresh_from_db()
    assert not kept.active
    assert kept.deleted_at is not None
    assert "Slow" not in listed(editor)
    assert editor.get(reverse("designer:template-edit", args=[kept.pk])).status_code == 404
    instance.refresh_from_db()
    assert instance.version.template_id == kept.pk
    # Nothing new starts from it: it is inactive.
    template_publish(template=kept, user=admin)  # even a new version does not revive it
    assert Instance.objects.count() == 1

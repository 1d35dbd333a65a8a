"""The Tasks blocks in the designer: offered in the palette's Tasks group, inserted with their
two branches (approved, rejected), configured through their dialog, and published."""

import pytest
from django.urls import reverse

from bizproc.tree import find
from tests.designer.conftest import HTMX

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client, designer_user):
    client.force_login(designer_user)
    return client


def test_approve_is_inserted_with_its_branches_configured_and_published(
    editor, template, designer_user
):
    page = editor.get(reverse("designer:template-edit", args=[template.pk])).text
    palette = page.split('id="tree"')[0]
    assert "Tasks" in palette
    assert 'data-type="ApproveActivity"' in palette and 'data-type="ReviewActivity"' in palette

    inserted = editor.post(
        reverse("designer:block-create", args=[template.pk]),
        {
            "revision": template.revision,
            "parent": "Template",
            "index": "0",
            "type": "ApproveActivity",
        },
        headers=HTMX,
    )
    template.refresh_from_db()
    approve = template.tree["Children"][0]
    assert inserted.status_code == 200
    assert [branch["Properties"]["Title"] for branch in approve["Children"]] == [
        "Approved",
        "Rejected",
    ]
    for label in ("Users", "Who decides", "Task name", "Approve button", "Reject button"):
        assert label in inserted.text, label

    saved = editor.post(
        reverse("designer:block-update", args=[template.pk, approve["Name"]]),
        {
            "revision": template.revision,
            "Title": "Manager approval",
            "Users": f"user_{designer_user.pk}",
            "ApproveType": "vote",
            "ApproveMinPercent": "60",
            "Name": "Approve {=Document:TITLE}",
            "TaskButton1Message": "Approve",
            "TaskButton2Message": "Reject",
            "TimeoutDurationType": "d",
        },
        headers=HTMX,
    )
    assert saved.status_code == 200, saved.text[:2000]
    template.refresh_from_db()
    properties = find(template.tree, approve["Name"])[0]["Properties"]
    assert (properties["ApproveType"], properties["ApproveMinPercent"]) == ("vote", "60")

    published = editor.post(
        reverse("designer:template-publish", args=[template.pk]),
        {"revision": template.revision},
        headers=HTMX,
    )
    assert published.status_code == 200, published.text[:2000]
    assert template.versions.count() == 1


def test_an_approval_without_users_or_a_task_name_is_not_published(editor, template):
    editor.post(
        reverse("designer:block-create", args=[template.pk]),
        {
            "revision": template.revision,
            "parent": "Template",
            "index": "0",
            "type": "ApproveActivity",
        },
        headers=HTMX,
    )
    template.refresh_from_db()

    refused = editor.post(
        reverse("designer:template-publish", args=[template.pk]),
        {"revision": template.revision},
        headers=HTMX,
    )

    assert refused.status_code == 422
    assert "The field &#x27;Users&#x27; is required." in refused.text
    assert "The field &#x27;Task name&#x27; is required." in refused.text
    assert not template.versions.exists()

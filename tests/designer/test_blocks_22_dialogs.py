"""The dialogs of issue 22's blocks: Set permissions asks for people per operation a list
element grants, and on a CRM template says it does not apply; the palette offers every new
block; a branch without a condition opens as "otherwise"."""

import re

import pytest
from django.urls import reverse

from bizproc import services
from bizproc.tree import find, root_node
from crm.documents import DOCUMENT_TYPES
from lists.documents import document_type_of_list
from tests.crm.factories import UserFactory
from tests.designer.conftest import HTMX
from tests.html import submitted
from tests.lists.conftest import make_list

pytestmark = pytest.mark.django_db
DEAL = DOCUMENT_TYPES["DEAL"]


@pytest.fixture
def superuser():
    return UserFactory(is_superuser=True, is_crm_admin=True, full_name="Irina Admin")


def with_block(template, block):
    tree = root_node()
    tree["Children"] = [block]
    template.tree = tree
    template.save()
    return template


def rights_block(permission):
    return {
        "Type": "SetPermissionsActivity",
        "Name": "A_rights",
        "Properties": {"Title": "Rights", "Permission": permission, "SetMode": "3"},
        "Children": [],
    }


def test_on_a_list_set_permissions_asks_who_may_read_and_who_may_edit(client, superuser):
    trips = make_list(superuser, "trips_dialog")
    template = services.template_create(
        document_type=document_type_of_list(trips), name="Trip", user=superuser
    )
    with_block(template, rights_block({"R": ["author"]}))
    client.force_login(superuser)
    url = reverse("designer:block-update", args=[template.pk, "A_rights"])
    dialog = client.get(url, headers=HTMX).text
    assert re.search(r"<legend>\s*Permissions\s*</legend>", dialog)
    assert ">Read<" in dialog and ">Edit<" in dialog
    assert "does not apply" not in dialog

    posted = submitted(dialog, "block-form")
    posted["Permission-W"] = [f"user_{superuser.pk}"]
    response = client.post(url, posted, headers=HTMX)
    assert response.status_code == 200, response.text
    template.refresh_from_db()
    saved = find(template.tree, "A_rights")[0]["Properties"]["Permission"]
    assert saved == {"R": ["author"], "W": [f"user_{superuser.pk}"]}


def test_on_a_crm_template_set_permissions_says_it_does_not_apply(client, superuser):
    template = services.template_create(document_type=DEAL, name="Deal", user=superuser)
    with_block(template, rights_block({"R": ["author"]}))
    client.force_login(superuser)
    url = reverse("designer:block-update", args=[template.pk, "A_rights"])
    dialog = client.get(url, headers=HTMX).text
    assert "Set permissions does not apply to Deals" in dialog
    # What an imported file holds stays as it is.
    response = client.post(url, submitted(dialog, "block-form"), headers=HTMX)
    assert response.status_code == 200, response.text
    template.refresh_from_db()
    assert find(template.tree, "A_rights")[0]["Properties"]["Permission"] == {"R": ["author"]}


def test_the_palette_offers_the_new_blocks(client, superuser):
    template = services.template_create(document_type=DEAL, name="Deal", user=superuser)
    client.force_login(superuser)
    page = client.get(reverse("designer:template-edit", args=[template.pk])).text
    for title in (
        "Select employee",
        "Absence chart",
        "Social network message",
        "Set permissions",
        "Empty block",
    ):
        assert title in page, title


def test_a_branch_without_a_condition_opens_as_otherwise(client, superuser):
    template = services.template_create(document_type=DEAL, name="Deal", user=superuser)
    branch = {
        "Type": "IfElseBranchActivity",
        "Name": "A_else",
        "Properties": {"Title": "Else"},
        "Children": [],
    }
    with_block(
        template,
        {"Type": "IfElseActivity", "Name": "A_if", "Properties": {}, "Children": [branch]},
    )
    client.force_login(superuser)
    url = reverse("designer:block-update", args=[template.pk, "A_else"])
    dialog = client.get(url, headers=HTMX).text
    assert re.search(r'value="otherwise"[^>]*checked|checked[^>]*value="otherwise"', dialog)

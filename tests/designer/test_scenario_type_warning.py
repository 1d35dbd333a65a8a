"""A Start smart scenario block whose scenario is for another type than the template's, with
Item ID the template's own item, would run on an unrelated record with the same number: the
dialog warns while choosing and when opened, and publishing warns (but publishes)."""

from html import unescape

import pytest
from django.urls import reverse

from bizproc.models import TemplateVersion
from tests.designer.conftest import HTMX, make_scenario

pytestmark = pytest.mark.django_db

WARNING = "The smart scenario is for Leads, but Item ID is this process's own item"


@pytest.fixture
def lead_scenario(admin):
    return make_scenario(admin, name="Qualify", entity="LEAD")


def with_block(template, scenario, document_id: str) -> None:
    template.tree["Children"].insert(
        0,
        {
            "Type": "StartScriptActivity",
            "Name": "A_run",
            "Properties": {
                "Title": "Run it",
                "DocumentId": document_id,
                "StartBy": "{=Template:TargetUser}",
                "TemplateId": str(scenario.template_id),
                "TemplateParameters": {},
            },
            "Children": [],
        },
    )
    template.save()


def test_the_dialog_warns_of_a_lead_scenario_on_the_deals_own_id(
    client, admin, template, lead_scenario
):
    with_block(template, lead_scenario, "{=Document:ID}")
    client.force_login(admin)
    dialog = client.get(reverse("designer:block-update", args=[template.pk, "A_run"]), headers=HTMX)
    assert WARNING in unescape(dialog.text)


def test_no_warning_when_the_item_id_points_at_a_lead(client, admin, template, lead_scenario):
    with_block(template, lead_scenario, "{=Document:LEAD_ID}")
    client.force_login(admin)
    dialog = client.get(reverse("designer:block-update", args=[template.pk, "A_run"]), headers=HTMX)
    assert dialog.status_code == 200
    assert "Item ID is this process's own item" not in unescape(dialog.text)


def test_choosing_the_scenario_warns_at_once(client, admin, template, lead_scenario, ping):
    with_block(template, ping, "{=Document:ID}")
    client.force_login(admin)
    url = reverse("designer:scenario-parameters", args=[template.pk])
    chosen = {"block": "A_run", "DocumentId": "{=Document:ID}"}
    answer = client.get(url, {**chosen, "TemplateId": lead_scenario.template_id}, headers=HTMX)
    assert WARNING in unescape(answer.text)
    assert 'id="block-warnings"' in unescape(answer.text) and 'hx-swap-oob="true"' in unescape(
        answer.text
    )
    # A deal scenario on the deal's own id is what the default means: no warning.
    answer = client.get(url, {**chosen, "TemplateId": ping.template_id}, headers=HTMX)
    assert "Item ID is this process's own item" not in unescape(answer.text)


def test_publishing_warns_and_publishes(client, admin, template, lead_scenario):
    with_block(template, lead_scenario, "{=Document:ID}")
    client.force_login(admin)
    template.refresh_from_db()
    response = client.post(
        reverse("designer:template-publish", args=[template.pk]),
        {"revision": template.revision},
        headers=HTMX,
    )
    assert response.status_code == 200, response.text
    assert "Published as version 1." in response.text
    assert WARNING in unescape(response.text)
    assert TemplateVersion.objects.filter(template=template).count() == 1

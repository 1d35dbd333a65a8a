"""The record admin with custom fields: its add and change pages show an input per custom
field (they were a server error once a field existed)."""

import pytest
from django.urls import reverse

from crm import services
from tests.crm.factories import DealFactory, UserFactory
from tests.html import elements, html_parse

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return UserFactory(is_crm_admin=True, is_staff=True, is_superuser=True)


def test_the_admin_add_and_change_pages_of_a_deal_show_its_custom_fields(client, admin):
    services.userfield_create(
        entity_type="DEAL",
        values={"code": "CONTRACT", "type": "string", "labels": {"form": {"en": "Contract"}}},
        user=admin,
    )
    deal = DealFactory(title="Big one", uf={"UF_CRM_CONTRACT": "C-1"})
    client.force_login(admin)
    change = reverse("admin:crm_deal_change", args=[deal.pk])

    page = client.get(change)
    added = client.get(reverse("admin:crm_deal_add"))

    assert page.status_code == 200
    assert 'name="UF_CRM_CONTRACT"' in page.text
    assert 'value="C-1"' in page.text
    assert added.status_code == 200
    assert 'name="UF_CRM_CONTRACT"' in added.text


def posted_back(page_text: str) -> dict[str, str]:
    """What the admin's change form posts when nothing is changed in it."""
    data = {}
    for element in elements(html_parse(page_text)):
        name = element.attrs.get("name")
        if not name or element.name not in ("input", "select", "textarea"):
            continue
        if element.attrs.get("type") == "checkbox" and "checked" not in element.attrs:
            continue
        if element.name == "select":
            chosen = [o for o in elements(element) if o.name == "option" and "selected" in o.attrs]
            data[name] = chosen[0].attrs.get("value", "") if chosen else ""
        elif element.name == "textarea":
            data[name] = "".join(child for child in element.children if isinstance(child, str))
        else:
            data[name] = element.attrs.get("value", "")
    return data


def test_the_admin_saves_custom_values_through_the_services(client, admin):
    for code, field_type in [("CONTRACT", "string"), ("SEATS", "integer")]:
        services.userfield_create(
            entity_type="DEAL", values={"code": code, "type": field_type}, user=admin
        )
    deal = DealFactory(uf={"UF_CRM_CONTRACT": "C-1"}, assigned_by=admin)
    client.force_login(admin)
    change = reverse("admin:crm_deal_change", args=[deal.pk])
    data = posted_back(client.get(change).text) | {"UF_CRM_CONTRACT": "C-2"}

    refused = client.post(change, data | {"UF_CRM_SEATS": "many"})
    deal.refresh_from_db()
    held_after_refusal = deal.uf
    saved = client.post(change, data | {"UF_CRM_SEATS": "12"})
    deal.refresh_from_db()

    assert refused.status_code == 200
    assert "The value of field" in refused.text
    assert held_after_refusal == {"UF_CRM_CONTRACT": "C-1"}
    assert saved.status_code == 302
    assert deal.uf == {"UF_CRM_CONTRACT": "C-2", "UF_CRM_SEATS": 12}

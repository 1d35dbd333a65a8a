"""The record admin with custom fields: its add and change pages show an input per custom
field (they were a server error once a field existed)."""

import pytest
from django.urls import reverse

from crm import services
from tests.crm.factories import DealFactory, UserFactory

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

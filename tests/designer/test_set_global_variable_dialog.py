"""The Set global variables dialog offers, by name, the global variables processes of the
template's type see, and saves several values as a list for a variable that holds several."""

import pytest
from django.urls import reverse

from bizproc.globals import global_save
from bizproc.models import GlobalKind
from bizproc.tree import find
from tests.bizproc.builders import node
from tests.crm.factories import UserFactory
from tests.designer.conftest import HTMX
from tests.html import by_role, elements, html_parse, submitted, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser():
    return UserFactory(is_superuser=True, full_name="Olga Admin")


def variable(user, code, name, **extra):
    return global_save(
        user=user, kind=GlobalKind.VARIABLE, code=code, name=name, type="string", value="", **extra
    )


def test_the_dialog_offers_the_variables_the_type_sees_and_saves_several_values(
    client, superuser, template
):
    variable(superuser, "Stage", "Last stage")
    variable(superuser, "Approvers", "Approvers", multiple=True)
    variable(superuser, "LeadSource", "Lead source", visibility="CRM_LEAD")
    template.tree["Children"].append(
        node("SetGlobalVariableActivity", "A_globals", GlobalVariableValue={"Stage": "new"})
    )
    template.save()
    client.force_login(superuser)
    url = reverse("designer:block-update", args=[template.pk, "A_globals"])
    page = client.get(url, headers=HTMX).text

    key = by_role(html_parse(page), "combobox", "Field")[0]
    offered = {
        option.attrs.get("value"): text(option)
        for option in elements(key)
        if option.name == "option" and option.attrs.get("value")
    }
    assert offered == {"Approvers": "Approvers", "Stage": "Last stage"}

    posted = submitted(page, "block-form")
    posted["GlobalVariableValue-key"] = ["Stage", "Approvers"]
    posted["GlobalVariableValue-value"] = ["won", "user_1, user_2"]
    response = client.post(url, posted, headers=HTMX)
    assert response.status_code == 200, response.text
    template.refresh_from_db()
    assert find(template.tree, "A_globals")[0]["Properties"]["GlobalVariableValue"] == {
        "Stage": "won",
        "Approvers": ["user_1", "user_2"],
    }

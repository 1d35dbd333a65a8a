"""The editor's requests with values no page sends: a "next" that is not a path of this site,
scenario ids no column holds. Each is answered as a mistyped value would be, never a 500."""

import pytest
from django.urls import reverse

from tests.designer.conftest import HTMX

pytestmark = pytest.mark.django_db

HIDDEN = '<div id="scenario-parameters" hidden></div>'


@pytest.mark.parametrize(
    "back", ["abc", "designer:template-list", "https://elsewhere.example/", "//elsewhere.example/"]
)
def test_the_active_switch_goes_back_to_the_template_list_unless_next_is_a_path_here(
    client, admin, template, back
) -> None:
    client.force_login(admin)
    url = reverse("designer:template-activate", args=[template.pk])

    response = client.post(url, {"active": "0", "next": back})
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("designer:template-list")
    template.refresh_from_db()
    assert not template.active

    here = reverse("designer:template-list") + "?page=2"
    response = client.post(url, {"active": "1", "next": here})
    assert response.headers["Location"] == here


def start_script_block(client, create_url: str, template) -> str:
    """A Start smart scenario block dropped at the top of ``template`` through its editor."""
    template.refresh_from_db()
    client.post(
        create_url,
        {
            "revision": template.revision,
            "parent": "Template",
            "index": "0",
            "type": "StartScriptActivity",
        },
        headers=HTMX,
    )
    template.refresh_from_db()
    return template.tree["Children"][0]["Name"]


@pytest.mark.parametrize("value", [str(2**63), "9" * 20, "9" * 40, "-1", "²"])
def test_the_start_parameters_of_a_scenario_id_no_column_holds_are_an_empty_section(
    client, admin, template, welcome, value
) -> None:
    client.force_login(admin)
    editors = [
        (
            reverse("designer:scenario-parameters", args=[template.pk]),
            start_script_block(
                client, reverse("designer:block-create", args=[template.pk]), template
            ),
        ),
        (
            reverse("designer:scenario-robot-start-parameters", args=[welcome.pk]),
            start_script_block(
                client,
                reverse("designer:scenario-robot-create", args=[welcome.pk]),
                welcome.template,
            ),
        ),
    ]
    for url, block in editors:
        response = client.get(url, {"TemplateId": value, "block": block}, headers=HTMX)
        assert response.status_code == 200
        section = response.text.partition('<div id="block-warnings"')[0]
        assert section.strip() == HIDDEN
        chosen = {"TemplateId": welcome.template_id, "block": block}
        shown = client.get(url, chosen, headers=HTMX)
        assert "Greeting" in shown.text


def test_the_start_parameters_of_a_block_the_template_does_not_hold_are_not_found(
    client, admin, template, welcome
) -> None:
    client.force_login(admin)
    url = reverse("designer:scenario-parameters", args=[template.pk])
    for block in ("", "A_gone", "A_log"):  # none, deleted, a block that starts no scenario
        chosen = {"TemplateId": welcome.template_id, "block": block}
        assert client.get(url, chosen, headers=HTMX).status_code == 404

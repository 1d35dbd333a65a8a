"""Only users with "design automation" on a document type may use the designer for it: others
get 403 on every designer URL (and the draft stays as it was) and see no link to it."""

import pytest
from django.urls import reverse

from tests.crm.factories import user_with
from tests.designer.conftest import HTMX, draft

pytestmark = pytest.mark.django_db


def urls(template) -> list[tuple[str, str, dict]]:
    pk = template.pk
    revision = {"revision": template.revision}
    return [
        ("get", reverse("designer:template-list"), {}),
        ("get", reverse("designer:template-create"), {}),
        ("post", reverse("designer:template-create"), {"name": "X", "auto_execute": "0"}),
        ("get", reverse("designer:template-edit", args=[pk]), {}),
        ("post", reverse("designer:template-duplicate", args=[pk]), {}),
        ("post", reverse("designer:template-activate", args=[pk]), {"active": "0"}),
        ("get", reverse("designer:template-delete", args=[pk]), {}),
        ("post", reverse("designer:template-delete", args=[pk]), {}),
        ("get", reverse("designer:template-settings", args=[pk]), {}),
        ("post", reverse("designer:template-settings", args=[pk]), {**revision, "name": "X"}),
        ("post", reverse("designer:template-publish", args=[pk]), revision),
        (
            "post",
            reverse("designer:block-create", args=[pk]),
            {**revision, "parent": "Template", "index": "0", "type": "LogActivity"},
        ),
        ("get", reverse("designer:block-update", args=[pk, "A_log"]), {}),
        (
            "post",
            reverse("designer:block-update", args=[pk, "A_log"]),
            {**revision, "Title": "x", "Text": "y"},
        ),
        (
            "post",
            reverse("designer:block-move", args=[pk, "A_log"]),
            {**revision, "direction": "down"},
        ),
        ("post", reverse("designer:block-duplicate", args=[pk, "A_log"]), revision),
        ("post", reverse("designer:block-delete", args=[pk, "A_log"]), revision),
        ("get", reverse("designer:scenario-parameters", args=[pk]), {"TemplateId": "1"}),
    ]


@pytest.mark.parametrize(
    "levels",
    [
        # A seller: own records, no design right.
        {("DEAL", action): "own" for action in ("read", "add", "update", "start_processes")},
        # Designs leads only: the deal template is not theirs (nor is any designer page for it).
        {("LEAD", "read"): "all", ("LEAD", "design_automation"): "all", ("DEAL", "read"): "all"},
    ],
    ids=["seller", "lead-designer"],
)
def test_a_user_without_design_rights_gets_403_and_changes_nothing(client, template, levels):
    user = user_with(levels)
    client.force_login(user)
    before = draft(template)
    designs_something = ("LEAD", "design_automation") in levels
    for method, url, data in urls(template):
        response = getattr(client, method)(url, data, headers=HTMX)
        if designs_something and url in (
            reverse("designer:template-list"),
            reverse("designer:template-create"),
        ):
            assert response.status_code in (200, 422), url  # their own lead templates
            continue
        assert response.status_code == 403, (method, url, response.status_code)
    assert draft(template) == before
    template.refresh_from_db()
    assert template.active and template.name == "Deal flow"


def test_anonymous_visitors_are_sent_to_log_in(client, template):
    response = client.get(reverse("designer:template-edit", args=[template.pk]))
    assert response.status_code == 302
    assert response.headers["Location"].startswith(reverse("accounts:login"))


def test_the_automation_link_is_shown_only_to_designers(client, designer_user, seller):
    client.force_login(seller)
    page = client.get(reverse("accounts:profile")).text
    assert f'href="{reverse("designer:template-list")}"' not in page
    client.force_login(designer_user)
    page = client.get(reverse("accounts:profile")).text
    assert f'href="{reverse("designer:template-list")}"' in page


def test_scenario_robots_templates_are_not_designer_templates(client, admin, welcome):
    client.force_login(admin)
    response = client.get(reverse("designer:template-edit", args=[welcome.template_id]))
    assert response.status_code == 404
    assert "Welcome pack" not in client.get(reverse("designer:template-list")).text

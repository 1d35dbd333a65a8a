"""Two people editing one template: an edit made on a stale revision is not applied; the answer
shows the template as it is now, who changed it last and when, and keeps the refused edit so
that it can be re-applied on the current revision — or says that it no longer applies."""

import pytest
from django.urls import reverse

from bizproc.tree import find
from tests.designer.conftest import HTMX, draft
from tests.html import by_id, by_role, elements, html_parse, labelled, text, value

pytestmark = pytest.mark.django_db


def post(client, url: str, data: dict):
    return client.post(url, data, headers=HTMX)


def edit_url(name: str, template, *args) -> str:
    return reverse(f"designer:{name}", args=[template.pk, *args])


def reapply_form(markup: str) -> tuple[str, dict[str, str]]:
    """The form of a 409 answer's "Re-apply my change" button: where it posts and what it sends
    (with the tree's current revision, as htmx includes it)."""
    answer = html_parse(markup)
    [form] = [
        form
        for form in elements(answer)
        if form.name == "form" and by_role(form, "button", "Re-apply my change")
    ]
    assert form.attrs["hx-include"] == "#draft-revision"
    fields = {
        field.attrs["name"]: value(field) for field in elements(form) if field.name == "input"
    }
    fields["revision"] = value(by_id(answer, "draft-revision"))
    return form.attrs["hx-post"], fields


def children(template, name: str = "Template") -> list[str]:
    template.refresh_from_db()
    return [child["Name"] for child in find(template.tree, name)[0]["Children"]]


@pytest.fixture
def mark(client, designer_user):
    client.force_login(designer_user)
    return client


@pytest.fixture
def irina(admin):
    from django.test import Client

    other = Client()
    other.force_login(admin)
    return other


def test_a_stale_edit_shows_the_other_change_and_who_made_it_and_reapplies(mark, irina, template):
    seen = template.revision  # both opened the editor at this revision
    irina_added = post(
        irina,
        edit_url("block-create", template),
        {"revision": seen, "parent": "Template", "index": "0", "type": "LogActivity"},
    )
    assert irina_added.status_code == 200
    (irinas, *_rest) = children(template)
    before = draft(template)

    refused = post(
        mark,
        edit_url("block-create", template),
        {"revision": seen, "parent": "A_yes", "index": "0", "type": "DelayActivity"},
    )

    assert refused.status_code == 409
    assert draft(template) == before
    assert "The template was changed meanwhile by Irina Admin" in refused.text
    assert f'id="block-{irinas}"' in refused.text  # the current tree, with her block
    url, fields = reapply_form(refused.text)
    assert url == edit_url("block-create", template)
    assert fields == {
        "parent": "A_yes",
        "index": "0",
        "type": "DelayActivity",
        "reapply": "1",
        "revision": str(template.revision),
    }

    reapplied = post(mark, url, fields)

    assert reapplied.status_code == 200
    assert children(template)[0] == irinas  # nothing lost
    assert len(children(template, "A_yes")) == 1  # and his change is in


def test_a_reapplied_edit_that_no_longer_fits_says_so(mark, irina, template):
    seen = template.revision
    post(irina, edit_url("block-delete", template, "A_log"), {"revision": seen})
    refused = post(
        mark, edit_url("block-move", template, "A_log"), {"revision": seen, "direction": "down"}
    )
    assert refused.status_code == 409
    url, fields = reapply_form(refused.text)
    assert fields["direction"] == "down"
    before = draft(template)

    again = post(mark, url, fields)

    assert again.status_code == 422
    assert "Your change no longer applies: There is no block A_log in this template." in again.text
    assert draft(template) == before


def test_a_stale_dialog_keeps_the_values_and_saving_again_applies_them(mark, irina, template):
    seen = template.revision
    post(irina, edit_url("block-duplicate", template, "A_if"), {"revision": seen})
    before = draft(template)
    url = edit_url("block-update", template, "A_log")

    refused = post(mark, url, {"revision": seen, "Title": "Report", "Text": "Mark's text"})

    assert refused.status_code == 409
    assert draft(template) == before
    answer = html_parse(refused.text)
    [alert] = by_role(answer, "alert")
    assert text(alert).startswith("The template was changed meanwhile by Irina Admin")
    assert value(labelled(answer, "Text")) == "Mark's text"  # the values he typed are kept
    assert value(by_id(answer, "draft-revision")) == str(template.revision)  # the new revision
    assert by_id(answer, "tree").attrs["hx-swap-oob"] == "true"  # the tree behind the dialog
    assert len(children(template)) == 3

    saved = post(
        mark, url, {"revision": template.revision, "Title": "Report", "Text": "Mark's text"}
    )

    assert saved.status_code == 200
    assert find(draft(template)[0], "A_log")[0]["Properties"]["Text"] == "Mark's text"
    assert len(children(template)) == 3  # Irina's copy is kept


def test_a_stale_settings_dialog_keeps_the_values_and_saving_again_applies_them(
    mark, irina, template
):
    seen = template.revision
    post(irina, edit_url("block-delete", template, "A_if"), {"revision": seen})
    before = draft(template)
    url = edit_url("template-settings", template)
    values = {
        "name": "Mark's flow",
        "auto_execute": "0",
        "variables-0-id": "Note",
        "variables-0-name": "Note",
    }

    refused = post(mark, url, {"revision": seen, **values})

    assert refused.status_code == 409
    assert draft(template) == before
    assert "The template was changed meanwhile by Irina Admin" in refused.text
    assert f'name="revision" value="{template.revision}"' in refused.text

    assert post(mark, url, {"revision": template.revision, **values}).status_code == 200
    template.refresh_from_db()
    assert template.name == "Mark's flow"
    assert children(template) == ["A_log"]


def test_saving_the_dialog_of_a_block_deleted_meanwhile_says_so(mark, irina, template):
    seen = template.revision
    post(irina, edit_url("block-delete", template, "A_log"), {"revision": seen})
    before = draft(template)

    response = post(
        mark,
        edit_url("block-update", template, "A_log"),
        {"revision": template.revision, "Title": "x"},
    )

    assert response.status_code == 422
    assert (
        "Your change no longer applies: There is no block A_log in this template." in response.text
    )
    assert response.text.startswith('<div id="editor-dialog" hidden></div>')  # the dialog closes
    assert draft(template) == before

"""Undo and redo in the editor: every edit is logged per user and template on the server, so the
history survives reloads; undo and redo write a new revision, and are refused — changing
nothing — when there is nothing to undo, the page is stale, or someone changed the draft since."""

import pytest
from django.urls import reverse

from bizproc.tree import find
from designer.models import EditLogEntry
from tests.designer.conftest import HTMX, draft

pytestmark = pytest.mark.django_db


def send(client, name: str, template, data: dict | None = None, *args, revision=None):
    template.refresh_from_db()
    return client.post(
        reverse(f"designer:{name}", args=[template.pk, *args]),
        {"revision": template.revision if revision is None else revision, **(data or {})},
        headers=HTMX,
    )


def state(template) -> tuple:
    template.refresh_from_db()
    return template.name, template.tree, template.variables


def children_of_root(template) -> list[str]:
    template.refresh_from_db()
    return [child["Name"] for child in template.tree["Children"]]


def titles(template) -> list[str]:
    template.refresh_from_db()
    return [child["Properties"].get("Title", "") for child in template.tree["Children"]]


@pytest.fixture
def editor(client, designer_user):
    client.force_login(designer_user)
    return client


def five_edits(editor, template) -> list[tuple]:
    """Insert, update in its dialog, move, duplicate, rename in the settings, delete: the
    state before each edit, then the final one."""
    states = [state(template)]
    assert (
        send(
            editor,
            "block-create",
            template,
            {"parent": "Template", "index": "0", "type": "LogActivity"},
        ).status_code
        == 200
    )
    states.append(state(template))
    added = template.tree["Children"][0]["Name"]
    assert (
        send(editor, "block-update", template, {"Title": "Hello", "Text": "hi"}, added).status_code
        == 200
    )
    states.append(state(template))
    assert send(editor, "block-move", template, {"direction": "down"}, added).status_code == 200
    states.append(state(template))
    assert send(editor, "block-duplicate", template, {}, "A_log").status_code == 200
    states.append(state(template))
    settings = {
        "name": "Renamed flow",
        "auto_execute": "0",
        "variables-0-id": "Note",
        "variables-0-name": "A note",
        "variables-0-type": "string",
    }
    assert send(editor, "template-settings", template, settings).status_code == 200
    states.append(state(template))
    assert send(editor, "block-delete", template, {}, "A_if").status_code == 200
    states.append(state(template))
    return states


def test_undo_walks_back_every_kind_of_edit_and_redo_walks_forward(editor, template):
    states = five_edits(editor, template)
    assert len(set(map(repr, states))) == len(states)  # each edit changed something
    revision = template.revision

    for expected in reversed(states[:-1]):
        response = send(editor, "template-undo", template)
        assert response.status_code == 200
        assert "Undone." in response.text
        assert state(template) == expected
    assert template.revision == revision + len(states) - 1  # each undo is a new revision
    assert "There is nothing to undo." in send(editor, "template-undo", template).text

    for expected in states[1:]:
        response = send(editor, "template-redo", template)
        assert response.status_code == 200
        assert state(template) == expected
    assert "There is nothing to redo." in send(editor, "template-redo", template).text


def test_the_history_survives_a_reload_and_shows_on_the_buttons(editor, template):
    page = editor.get(reverse("designer:template-edit", args=[template.pk])).text
    assert 'id="history-undo"' in page and 'id="history-redo"' in page
    assert page.count("disabled>") >= 2  # nothing to undo or redo yet

    send(editor, "block-delete", template, {}, "A_log")
    page = editor.get(reverse("designer:template-edit", args=[template.pk])).text
    undo_button = page[page.index('id="history-undo"') :].split(">")[0]
    assert "disabled" not in undo_button

    send(editor, "template-undo", template)
    assert "A_log" in [child["Name"] for child in state(template)[1]["Children"]]
    page = editor.get(reverse("designer:template-edit", args=[template.pk])).text
    redo_button = page[page.index('id="history-redo"') :].split(">")[0]
    assert "disabled" not in redo_button


def enabled(html: str, button: str) -> bool:
    return "disabled" not in html[html.index(f'id="history-{button}"') :].split(">")[0]


def test_a_new_edit_clears_what_could_be_redone(editor, template):
    send(editor, "block-delete", template, {}, "A_log")
    undone = send(editor, "template-undo", template).text
    assert enabled(undone, "redo")
    edited = send(editor, "block-duplicate", template, {}, "A_if").text
    assert enabled(edited, "undo") and not enabled(edited, "redo")
    before = draft(template)
    response = send(editor, "template-redo", template)
    assert response.status_code == 422
    assert "There is nothing to redo." in response.text
    assert draft(template) == before


def test_refused_edits_are_not_logged(editor, template):
    send(
        editor,
        "block-create",
        template,
        {"parent": "A_nowhere", "index": "0", "type": "LogActivity"},
    )
    send(editor, "block-delete", template, {}, "A_log", revision=template.revision - 1)
    assert not EditLogEntry.objects.exists()
    assert "There is nothing to undo." in send(editor, "template-undo", template).text


def test_a_dialog_saved_unchanged_is_not_an_edit_to_undo(editor, template):
    template.tree["Children"][0]["Properties"]["SetVariable"] = "N"  # as the dialog saves it
    template.save()
    send(editor, "block-delete", template, {}, "A_if")
    unchanged = {"Title": "Report", "Text": "Deal {=Document:TITLE}"}
    assert send(editor, "block-update", template, unchanged, "A_log").status_code == 200
    assert send(editor, "template-undo", template).status_code == 200
    assert children_of_root(template) == ["A_log", "A_if"]  # the first undo undid the delete


def test_undo_with_nothing_to_undo_changes_nothing(editor, template):
    before = draft(template)
    response = send(editor, "template-undo", template)
    assert response.status_code == 422
    assert "There is nothing to undo." in response.text
    assert draft(template) == before


@pytest.mark.parametrize("view", ["template-undo", "template-redo"])
@pytest.mark.parametrize("revision", ["stale", "not-a-number"])
def test_undo_and_redo_on_a_stale_page_change_nothing(editor, template, view, revision):
    send(editor, "block-delete", template, {}, "A_log")
    if view == "template-redo":
        send(editor, "template-undo", template)
    before = draft(template)
    log = list(EditLogEntry.objects.values_list("pk", "undone"))
    given = template.revision - 1 if revision == "stale" else "x"
    response = send(editor, view, template, revision=given)
    assert response.status_code == 409
    assert "The template was changed meanwhile" in response.text
    assert "Re-apply my change" not in response.text  # pressed again, if it still applies
    assert draft(template) == before
    assert list(EditLogEntry.objects.values_list("pk", "undone")) == log


def test_another_users_edits_are_not_in_my_history(client, editor, admin, template):
    send(editor, "block-delete", template, {}, "A_log")
    client.force_login(admin)
    before = draft(template)
    response = send(client, "template-undo", template)
    assert response.status_code == 422
    assert "There is nothing to undo." in response.text
    assert draft(template) == before
    assert EditLogEntry.objects.get().undone is False  # the designer's entry is untouched


def test_undo_is_refused_once_someone_else_changed_the_draft(
    client, designer_user, admin, template
):
    client.force_login(designer_user)
    send(client, "block-delete", template, {}, "A_log")
    client.force_login(admin)
    send(client, "block-duplicate", template, {}, "A_if")
    client.force_login(designer_user)
    before = draft(template)
    response = send(client, "template-undo", template)
    assert response.status_code == 422
    assert "Your change cannot be undone: Irina Admin changed the template since." in response.text
    assert draft(template) == before
    # Once the other change is undone by its author, the designer's undo applies again.
    client.force_login(admin)
    send(client, "template-undo", template)
    client.force_login(designer_user)
    assert send(client, "template-undo", template).status_code == 200
    assert find(state(template)[1], "A_log") is not None


def test_the_log_keeps_as_many_edits_as_the_setting_says(editor, template, settings):
    settings.DESIGNER_UNDO_LIMIT = 2
    for _ in range(3):
        send(editor, "block-duplicate", template, {}, "A_log")
    assert EditLogEntry.objects.count() == 2
    assert send(editor, "template-undo", template).status_code == 200
    assert send(editor, "template-undo", template).status_code == 200
    assert len(titles(template)) == 3  # the first copy stays: its undo was forgotten
    assert "There is nothing to undo." in send(editor, "template-undo", template).text


def test_with_no_log_kept_nothing_can_be_undone(editor, template, settings):
    settings.DESIGNER_UNDO_LIMIT = 0
    edited = send(editor, "block-duplicate", template, {}, "A_log").text
    assert not enabled(edited, "undo") and not enabled(edited, "redo")
    assert not EditLogEntry.objects.exists()


def test_only_designers_may_undo(client, seller, template):
    client.force_login(seller)
    before = draft(template)
    assert send(client, "template-undo", template).status_code == 403
    assert send(client, "template-redo", template).status_code == 403
    assert draft(template) == before


def test_an_edit_logs_the_draft_it_was_applied_to(admin, template):
    """The view's copy of the template stands for the draft only at the revision posted; an
    edit posted at a newer one (the draft changed after the view read it) logs the locked
    draft, so undo brings back what the edit changed, not what the view had read."""
    from bizproc import services
    from designer.services import draft_edit, draft_undo

    read = type(template).objects.get(pk=template.pk)
    services.tree_delete(template=template, revision=template.revision, name="A_log", user=admin)
    template.refresh_from_db()
    newer = template.revision
    draft_edit(
        template=read,
        revision=newer,
        user=admin,
        edit=lambda: services.tree_delete(template=read, revision=newer, name="A_if", user=admin),
    )
    assert read.tree["Children"] == []
    draft_undo(template=read, revision=read.revision, user=admin)
    assert children_of_root(template) == ["A_if"]  # A_log was gone before the edit

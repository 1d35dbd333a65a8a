"""A template's versions: the block-by-block comparison (added, removed, moved, changed, and
the parameters, variables and constants), exports of versions and of the draft, restoring a
version into the draft (refused on a stale draft), and the design right on all of it."""

import copy
import json

import pytest
from django.urls import reverse

from bizproc import services
from bizproc.bpt import bpt_read
from bizproc.services import EditRefused, StaleRevision
from bizproc.tree import root_node
from designer import diff
from tests.bizproc.builders import field, node
from tests.designer.conftest import DEAL, HTMX, draft

pytestmark = pytest.mark.django_db


# ---- the comparison, as a pure function ---------------------------------------------------


def tree(*children: dict) -> dict:
    root = root_node()
    root["Children"] = list(children)
    return root


def log(name: str, title: str, text: str = "x") -> dict:
    return node("LogActivity", name, Title=title, Text=text)


def kinds(found: list[diff.BlockChange]) -> dict[str, tuple[str, ...]]:
    return {change.name: change.kinds for change in found}


def test_an_added_a_removed_a_moved_and_a_changed_block_are_told_apart():
    old = tree(log("A_a", "A"), log("A_b", "B"), log("A_c", "C", text="old"), log("A_gone", "G"))
    new = tree(
        log("A_c", "C renamed", text="new"), log("A_a", "A"), log("A_b", "B"), log("A_n", "N")
    )

    found = diff.tree_diff(old, new)

    assert kinds(found) == {
        "A_c": (diff.MOVED, diff.CHANGED),
        "A_n": (diff.ADDED,),
        "A_gone": (diff.REMOVED,),
    }
    moved = next(change for change in found if change.name == "A_c")
    assert (moved.old_place.position, moved.new_place.position) == (3, 1)
    assert moved.title == "C renamed"
    assert [(v.key, v.old, v.new) for v in moved.properties] == [
        ("Title", "C", "C renamed"),
        ("Text", "old", "new"),
    ]


def test_blocks_that_only_shifted_because_of_an_insertion_are_not_moved():
    old = tree(log("A_a", "A"), log("A_b", "B"), log("A_c", "C"))
    new = tree(log("A_new", "New"), log("A_a", "A"), log("A_b", "B"), log("A_c", "C"))
    assert kinds(diff.tree_diff(old, new)) == {"A_new": (diff.ADDED,)}


def test_of_two_swapped_blocks_the_one_that_travelled_is_moved():
    old = tree(log("A_a", "A"), log("A_b", "B"), log("A_c", "C"))
    new = tree(log("A_new", "New"), log("A_b", "B"), log("A_a", "A"))
    found = diff.tree_diff(old, new)
    assert kinds(found) == {
        "A_new": (diff.ADDED,),
        "A_a": (diff.MOVED,),
        "A_c": (diff.REMOVED,),
    }
    (moved,) = (change for change in found if diff.MOVED in change.kinds)
    assert (moved.old_place.position, moved.new_place.position) == (1, 3)


def test_a_block_moved_into_another_branch_names_both_places():
    branch_yes = node("IfElseBranchActivity", "A_yes", [log("A_x", "X")], Title="Yes")
    branch_no = node("IfElseBranchActivity", "A_no", [], Title="No")
    old = tree(node("IfElseActivity", "A_if", [branch_yes, branch_no], Title="Size"))
    moved_tree = copy.deepcopy(old)
    yes, no = moved_tree["Children"][0]["Children"]
    no["Children"].append(yes["Children"].pop())

    (change,) = diff.tree_diff(old, moved_tree)

    assert change.kinds == (diff.MOVED,)
    assert (change.old_place.parent_title, change.new_place.parent_title) == ("Yes", "No")


def test_a_new_branch_with_blocks_is_one_addition_counting_what_it_holds():
    old = tree(log("A_a", "A"))
    new = tree(
        log("A_a", "A"),
        node("WhileActivity", "A_loop", [node("SequenceActivity", "A_body", [log("A_in", "In")])]),
    )
    (change,) = diff.tree_diff(old, new)
    assert (change.name, change.kinds, change.inside) == ("A_loop", (diff.ADDED,), 2)
    (removal,) = diff.tree_diff(new, old)
    assert (removal.name, removal.kinds, removal.inside) == ("A_loop", (diff.REMOVED,), 2)


def test_parameters_variables_and_constants_are_compared_field_by_field():
    old = diff.Snapshot(
        tree=tree(),
        parameters={"Amount": field("int", "Amount")},
        variables={"Note": field("string", "Note")},
        constants={"Manager": field("user", "Manager")},
    )
    new = diff.Snapshot(
        tree=tree(),
        parameters={"Amount": field("int", "Amount"), "Reason": field("string", "Reason")},
        variables={"Note": field("text", "Note")},
        constants={},
    )
    found = diff.snapshot_diff(old, new)
    assert [(c.kind, c.key, c.change) for c in found.schemas] == [
        ("parameters", "Reason", diff.ADDED),
        ("variables", "Note", diff.CHANGED),
        ("constants", "Manager", diff.REMOVED),
    ]
    assert [(v.key, v.old, v.new) for v in found.schemas[1].fields] == [("Type", "string", "text")]
    assert not found.blocks
    assert diff.snapshot_diff(old, old).empty


# ---- the versions page ----------------------------------------------------------------------


@pytest.fixture
def editor(client, designer_user):
    client.force_login(designer_user)
    return client


def edit_and_publish(template, user, comment: str, edit) -> None:
    template.refresh_from_db()
    edit(template)
    template.save()
    services.template_publish(template=template, user=user, comment=comment)


@pytest.fixture
def two_versions(template, admin, designer_user):
    """Version 1 is the fixture's tree; version 2 moves the condition first, renames and
    rewrites the report, adds a block, removes the "Otherwise" branch, adds a variable."""
    services.template_publish(template=template, user=admin, comment="First")

    def edit(template):
        report, condition = template.tree["Children"]
        report["Properties"] |= {"Title": "Summary", "Text": "Deal {=Document:TITLE} won"}
        condition["Children"].pop()  # the "Otherwise" branch
        template.tree["Children"] = [condition, report, log("A_new", "Ping")]
        template.variables["Reason"] = field("string", "Reason")

    edit_and_publish(template, designer_user, "Reworked", edit)
    return template


def test_the_page_lists_versions_and_compares_the_latest_with_the_draft(editor, two_versions):
    page = editor.get(reverse("designer:template-versions", args=[two_versions.pk]))
    assert page.status_code == 200
    text = page.text
    assert "Version 2" in text and "Mark Designer" in text and "Reworked" in text
    assert "Version 1" in text and "Irina Admin" in text and "First" in text
    assert "From Version 2 to Draft" in text
    assert "No differences." in text


def test_two_versions_compare_block_by_block(editor, two_versions):
    url = reverse("designer:template-versions", args=[two_versions.pk])
    response = editor.get(
        url, {"old": "1", "new": "2"}, headers=HTMX | {"HX-Target": "version-diff"}
    )
    assert response.status_code == 200
    text = response.text.replace("&#x27;", "'").replace("&quot;", '"')
    assert text.lstrip().startswith('<div id="version-diff"')
    assert "Added: 1" in text and "Removed: 1" in text and "Changed: 1" in text
    assert "Moved: 1" in text
    for fragment in (
        "<strong>Ping</strong>",  # added
        "<strong>Otherwise</strong>",  # removed
        "<strong>Summary</strong>",  # moved (the condition stayed) and changed
        "From “the process”, place 1, to “the process”, place 2.",
        "<del>Report</del>",  # changed title
        "<ins>Summary</ins>",
        "<ins>Deal {=Document:TITLE} won</ins>",
        "<strong>Reason</strong>",  # a new variable
    ):
        assert fragment in text, fragment


def test_an_unknown_version_is_reported_not_compared(editor, two_versions):
    url = reverse("designer:template-versions", args=[two_versions.pk])
    response = editor.get(url, {"old": "7", "new": "draft"})
    assert response.status_code == 422
    assert "There is no version 7 of this template." in response.text
    for crafted in ("²", "-1", "1" * 40):
        response = editor.get(url, {"old": "1", "new": crafted})
        assert response.status_code == 422, crafted
        assert "There is no version" in response.text
    response = editor.get(url, {"old": "", "new": "draft"})
    assert response.status_code == 422
    assert "Choose the two versions to compare." in response.text


# ---- exports ------------------------------------------------------------------------------------


def test_a_version_exports_as_bpt_that_reads_back_to_its_tree(editor, two_versions):
    version = two_versions.versions.get(number=1)
    response = editor.get(reverse("designer:version-export", args=[two_versions.pk, 1, "bpt"]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="deal-flow-v1.bpt"'
    content = bpt_read(response.content)
    assert content.template == [version.tree]
    assert content.variables == version.variables


def test_a_version_and_the_draft_export_as_json(editor, two_versions):
    response = editor.get(reverse("designer:version-export", args=[two_versions.pk, 2, "json"]))
    assert response["Content-Disposition"] == 'attachment; filename="deal-flow-v2.json"'
    exported = json.loads(response.content)
    assert exported["template_version"] == 2
    assert exported["tree"] == two_versions.versions.get(number=2).tree
    assert exported["document_type"] == list(DEAL)

    response = editor.get(reverse("designer:draft-export", args=[two_versions.pk, "json"]))
    assert response["Content-Disposition"] == 'attachment; filename="deal-flow-draft.json"'
    assert json.loads(response.content)["tree"] == draft(two_versions)[0]


def test_the_draft_exports_as_bpt_and_unknown_exports_are_not_found(editor, two_versions):
    response = editor.get(reverse("designer:draft-export", args=[two_versions.pk, "bpt"]))
    assert bpt_read(response.content).template == [draft(two_versions)[0]]
    assert (
        editor.get(reverse("designer:draft-export", args=[two_versions.pk, "exe"])).status_code
        == 404
    )
    missing = reverse("designer:version-export", args=[two_versions.pk, 9, "bpt"])
    assert editor.get(missing).status_code == 404


def test_a_russian_name_gives_a_readable_file_name(editor, template):
    template.name = "Сделка: согласование"
    template.save()
    response = editor.get(reverse("designer:draft-export", args=[template.pk, "bpt"]))
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%D1%81%D0%B4%D0%B5%D0%BB%D0%BA%D0%B0-"
        "%D1%81%D0%BE%D0%B3%D0%BB%D0%B0%D1%81%D0%BE%D0%B2%D0%B0%D0%BD%D0%B8%D0%B5-draft.bpt"
    )


# ---- restore ------------------------------------------------------------------------------------


def restore(client, template, number: int, revision: int | str | None = None):
    template.refresh_from_db()
    return client.post(
        reverse("designer:version-restore", args=[template.pk, number]),
        {"revision": template.revision if revision is None else revision},
    )


def test_restoring_an_old_version_makes_the_draft_equal_to_it(editor, two_versions):
    revision = draft(two_versions)[1]
    confirm = editor.get(
        reverse("designer:version-restore", args=[two_versions.pk, 1]), headers=HTMX
    )
    assert "Restore version 1 into the draft?" in confirm.text
    assert f'name="revision" value="{revision}"' in confirm.text

    response = restore(editor, two_versions, 1)

    assert response.status_code == 302
    assert response["Location"] == reverse("designer:template-edit", args=[two_versions.pk])
    version = two_versions.versions.get(number=1)
    two_versions.refresh_from_db()
    assert two_versions.tree == version.tree
    assert (two_versions.parameters, two_versions.variables, two_versions.constants) == (
        version.parameters,
        version.variables,
        version.constants,
    )
    assert two_versions.revision == revision + 1
    assert two_versions.versions.count() == 2  # the versions stay as they were
    page = editor.get(response["Location"])
    assert "Version 1 was restored into the draft." in page.text
    compared = editor.get(
        reverse("designer:template-versions", args=[two_versions.pk]), {"old": "1"}
    )
    assert "No differences." in compared.text


def test_a_restore_is_undone_from_the_editor(editor, two_versions):
    before = draft(two_versions)
    restore(editor, two_versions, 1)
    response = editor.post(
        reverse("designer:template-undo", args=[two_versions.pk]),
        {"revision": draft(two_versions)[1]},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert draft(two_versions)[0] == before[0]


def test_a_restore_on_a_stale_draft_is_refused_and_changes_nothing(editor, two_versions):
    before = draft(two_versions)
    response = restore(editor, two_versions, 1, revision=before[1] - 1)
    assert response.status_code == 409
    assert "The template was changed meanwhile" in response.text
    assert draft(two_versions) == before
    assert restore(editor, two_versions, 1, revision="x").status_code == 409
    assert draft(two_versions) == before


def test_a_version_of_another_template_is_not_restored(two_versions, admin):
    other = services.template_create(document_type=DEAL, name="Other", user=admin)
    before = draft(other)
    with pytest.raises(EditRefused) as refused:
        services.draft_restore(
            template=other,
            version=two_versions.versions.get(number=1),
            revision=other.revision,
            user=admin,
        )
    assert not isinstance(refused.value, StaleRevision)
    assert draft(other) == before


def test_without_the_design_right_nothing_is_shown_exported_or_restored(
    client, seller, two_versions
):
    client.force_login(seller)
    pk = two_versions.pk
    before = draft(two_versions)
    for url in (
        reverse("designer:template-versions", args=[pk]),
        reverse("designer:version-export", args=[pk, 1, "bpt"]),
        reverse("designer:version-export", args=[pk, 1, "json"]),
        reverse("designer:draft-export", args=[pk, "bpt"]),
        reverse("designer:version-restore", args=[pk, 1]),
    ):
        assert client.get(url).status_code == 403, url
    assert restore(client, two_versions, 1).status_code == 403
    assert draft(two_versions) == before


def test_the_editor_links_to_the_versions(editor, template):
    page = editor.get(reverse("designer:template-edit", args=[template.pk])).text
    assert f'href="{reverse("designer:template-versions", args=[template.pk])}"' in page

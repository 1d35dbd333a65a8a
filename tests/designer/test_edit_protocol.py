"""The template editor's one edit protocol: every edit made on a stale page answers 409 with
who changed the template, offers to re-apply the change (not an undo or redo: those are of the
page's state), and changes nothing; a crafted one answers 422 with the reason. The smart
scenario editor's side is in ``test_scenario_editor``."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from bizproc.design import template_settings_update
from tests.designer.conftest import HTMX, draft

pytestmark = pytest.mark.django_db


class _Alerts(HTMLParser):
    """The text a screen reader announces (``role="alert"``) and the buttons offered."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.alerts: list[str] = []
        self.buttons: list[str] = []
        self._open: list[tuple[str, bool]] = []  # (tag, within an alert)
        self._in_button = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        within = bool(self._open and self._open[-1][1])
        if dict(attrs).get("role") == "alert":
            self.alerts.append("")
            within = True
        if tag not in ("input", "br", "img", "use", "path"):
            self._open.append((tag, within))
        if tag == "button":
            self._in_button = True
            self.buttons.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._in_button = False
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1][1]:
            self.alerts[-1] += data
        if self._in_button:
            self.buttons[-1] += data


@pytest.fixture
def editor(client, designer_user):
    client.force_login(designer_user)
    return client


@pytest.fixture
def stale(admin, template) -> int:
    """The revision the page was drawn from, before Irina renamed the template."""
    revision = template.revision
    template_settings_update(
        template=template,
        revision=revision,
        user=admin,
        name="Deal flow, renamed",
        description="",
        auto_execute=template.auto_execute,
        parameters=template.parameters or {},
        variables=template.variables or {},
        constants=template.constants or {},
    )
    return revision


def edit(client, template, name: str, data: dict, *args):
    url = reverse(f"designer:{name}", args=[template.pk, *args])
    return client.post(url, data, headers=HTMX)


EDITS = [
    ("block-create", {"parent": "Template", "index": "0", "type": "LogActivity"}, ()),
    ("block-move", {"direction": "down"}, ("A_log",)),
    ("block-duplicate", {}, ("A_log",)),
    ("block-delete", {}, ("A_log",)),
]


@pytest.mark.parametrize(("name", "data", "args"), EDITS)
def test_an_edit_on_a_stale_page_shows_who_changed_it_and_offers_to_reapply(
    editor, template, stale, name, data, args
):
    before = draft(template)
    response = edit(editor, template, name, {"revision": stale, **data}, *args)
    assert response.status_code == 409
    page = _Alerts(response.text)
    assert any("changed meanwhile by Irina Admin" in alert for alert in page.alerts)
    assert "Re-apply my change" in page.buttons
    assert draft(template) == before


@pytest.mark.parametrize("name", ["template-undo", "template-redo"])
def test_undo_or_redo_on_a_stale_page_is_refused_without_reapplying(editor, template, stale, name):
    before = draft(template)
    response = edit(editor, template, name, {"revision": stale})
    assert response.status_code == 409
    page = _Alerts(response.text)
    assert any("changed meanwhile by Irina Admin" in alert for alert in page.alerts)
    assert "Re-apply my change" not in page.buttons
    assert draft(template) == before


@pytest.mark.parametrize(
    ("name", "data", "args", "message"),
    [
        ("block-move", {"parent": "Template", "index": "x"}, ("A_log",), "not valid"),
        ("block-move", {"direction": "down"}, ("Template",), "no block Template"),
        ("block-create", {"parent": "Template", "index": "0", "type": "Nope"}, (), "Nope"),
        ("block-delete", {}, ("A_nowhere",), "A_nowhere"),
        ("template-undo", {}, (), "nothing to undo"),
    ],
)
def test_a_crafted_edit_says_why_and_changes_nothing(editor, template, name, data, args, message):
    before = draft(template)
    response = edit(editor, template, name, {"revision": template.revision, **data}, *args)
    assert response.status_code == 422
    assert any(message in alert for alert in _Alerts(response.text).alerts)
    assert draft(template) == before

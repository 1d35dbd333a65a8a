"""Every registered activity declares what the designer needs to offer it — a title, a category,
properties drawn by registered widgets, checks of what it requires, Russian — and its dialog,
saved as it is drawn, gives back the block it was opened on (or names, next to their fields, the
required values a new block still lacks): a new block needs no designer code."""

import html
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from bizproc import services
from bizproc.activities import activities
from bizproc.activities import conditions as cond
from bizproc.activities.base import Category, ValidationContext, Widget
from bizproc.tree import find, walk
from crm.documents import DOCUMENT_TYPES
from designer.widgets import dialog_widgets
from tests.designer.conftest import HTMX
from tests.html import submitted

pytestmark = pytest.mark.django_db

# The product's activities (tests register blocks of their own, e.g. a barrier).
SUPPORTED = [cls for cls in activities if cls.supported and not cls.__module__.startswith("tests.")]
DEAL = DOCUMENT_TYPES["DEAL"]
OFFERED = sorted(cls.type for cls in SUPPORTED if cls.designer)


def declared_texts(cls) -> list[str]:
    return [
        str(cls.title),
        str(Category(cls.category).label),
        *(str(prop.title) for prop in cls.properties),
        *(str(label) for prop in cls.properties for label in prop.options.values()),
        *(str(result.title) for result in cls.results),
    ]


@pytest.mark.parametrize("cls", SUPPORTED, ids=lambda cls: cls.type)
def test_an_activity_declares_a_title_a_category_and_widgets_the_designer_draws(cls) -> None:
    assert str(cls.title).strip()
    assert cls.category in Category.values
    names = {prop.name for prop in cls.properties}
    for prop in cls.properties:
        assert prop.dialog_widget in dialog_widgets, (cls.type, prop.name)
        if prop.dialog_widget == Widget.DURATION:
            unit = next(other for other in cls.properties if other.name == prop.name + "Type")
            assert unit.dialog_widget == Widget.UNIT
        if prop.dialog_widget == Widget.SCENARIO_PARAMETERS:
            assert any(other.dialog_widget == Widget.SCENARIO for other in cls.properties)
    assert len(names) == len(cls.properties), "a property declared twice"


@pytest.mark.parametrize("cls", SUPPORTED, ids=lambda cls: cls.type)
def test_an_activity_speaks_russian(cls) -> None:
    english = declared_texts(cls)
    with translation.override("ru"):
        russian = declared_texts(cls)
    untranslated = [text for text, other in zip(english, russian, strict=True) if text == other]
    assert not untranslated, f"{cls.type}: {untranslated}"


@pytest.mark.parametrize("cls", SUPPORTED, ids=lambda cls: cls.type)
def test_an_activity_names_each_required_property_it_is_missing(cls) -> None:
    context = ValidationContext(
        document_fields={},
        parameters={},
        variables={},
        constants={},
        check_text=lambda _text: [],
    )
    activity = cls({"Type": cls.type, "Name": "A_new", "Properties": {}, "Children": []})
    missing = {problem.parameter for problem in activity.validate_properties(context)}
    required = {prop.name for prop in cls.properties if prop.required}
    assert required <= missing


def meaningful(type_: str, properties: dict) -> dict:
    """What a user sees of a block's properties: an empty value is no value, and a yes/no
    left unset is no."""
    checkboxes = {
        prop.name
        for prop in activities.get(type_).properties
        if prop.dialog_widget == Widget.CHECKBOX
    }
    units = {  # a duration's unit means nothing without the duration
        prop.name
        for prop in activities.get(type_).properties
        if prop.dialog_widget == Widget.UNIT
        and properties.get(prop.name.removesuffix("Type")) in ("", None)
    }
    shown = {
        key: value
        for key, value in properties.items()
        if value not in ("", [], {}, None)
        and not (key in checkboxes and value == "N")
        and key not in cond.KINDS
        and key not in units
    }
    rows = cond.condition_rows(properties) if set(properties) & set(cond.KINDS) else None
    if rows is not None:  # as the condition reads: Bitrix's short rows, a value of one item
        shown["condition"] = [
            (row.field, row.operator, _one(row.value), row.join_or) for row in rows
        ]
    return shown


def _one(value):
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def save_unchanged(client, template, name: str) -> dict | None:
    """Opens block ``name``'s dialog, saves it as drawn, and returns the block's properties;
    None when the dialog refuses to save for want of required values only, which it names
    next to their fields, the block left as it was."""
    url = reverse("designer:block-update", args=[template.pk, name])
    dialog = client.get(url, headers=HTMX)
    assert dialog.status_code == 200
    before = find(template.tree, name)[0]
    response = client.post(url, submitted(dialog.text, "block-form"), headers=HTMX)
    template.refresh_from_db()
    saved = find(template.tree, name)[0]
    if response.status_code == 422:
        assert saved == before
        assert field_errors(response.text) == required_messages(saved), response.text
        return None
    assert response.status_code == 200, response.text
    return saved["Properties"]


def field_errors(text: str) -> set[str]:
    return {html.unescape(error) for error in re.findall(r'class="field-error">(.*?)</p>', text)}


def required_messages(node: dict) -> set[str]:
    context = ValidationContext(
        document_fields={},
        parameters={},
        variables={},
        constants={},
        check_text=lambda _text: [],
    )
    problems = activities.for_node(node).validate_properties(context)
    return {problem.message for problem in problems if problem.code == "required"}


@pytest.mark.parametrize("type_", OFFERED)
def test_a_dialog_saved_as_drawn_gives_back_the_block(client, admin, template, type_) -> None:
    """…or, for a new block that requires values, refuses naming each of them."""
    client.force_login(admin)
    client.post(
        reverse("designer:block-create", args=[template.pk]),
        {"revision": template.revision, "parent": "Template", "index": "0", "type": type_},
        headers=HTMX,
    )
    template.refresh_from_db()
    block = template.tree["Children"][0]
    assert block["Type"] == type_
    names = [block["Name"]] + [child["Name"] for child in block.get("Children") or []]
    for name in names:
        node = find(template.tree, name)[0]
        saved = save_unchanged(client, template, name)
        if saved is None:
            assert required_messages(node)
            continue
        assert meaningful(node["Type"], saved) == meaningful(node["Type"], node["Properties"])
        assert save_unchanged(client, template, name) == saved  # and again: nothing moves


def test_the_dialogs_of_a_real_bitrix_template_saved_as_drawn_keep_its_blocks(client, admin):
    """Every supported block of a real Bitrix24 export, with the values Bitrix wrote. A block
    the engine refuses as imported (fields this CRM does not have) stays as it was."""
    data = (Path(__file__).resolve().parents[1] / "fixtures" / "bitrix" / "bp-179.bpt").read_bytes()
    template = services.template_import_bpt(data=data, document_type=DEAL, name="Trip", user=admin)
    client.force_login(admin)
    edited = [
        node
        for node in walk(template.tree)
        if activities.for_node(node).supported and activities.for_node(node).properties
    ]
    saved_count = 0
    for node in edited:
        url = reverse("designer:block-update", args=[template.pk, node["Name"]])
        dialog = client.get(url, headers=HTMX).text
        response = client.post(url, submitted(dialog, "block-form"), headers=HTMX)
        template.refresh_from_db()
        saved = find(template.tree, node["Name"])[0]["Properties"]
        if response.status_code == 422:
            assert saved == node["Properties"]
            continue
        assert response.status_code == 200
        assert meaningful(node["Type"], saved) == meaningful(node["Type"], node["Properties"])
        saved_count += 1
    assert saved_count > 10

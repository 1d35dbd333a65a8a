"""The template editor's drawing from its ``DrawingCache`` (stamps filled in, blocks kept from
an earlier drawing) is the drawing the templates make plainly, for every activity type and
for titles, names and texts that escaping, placeholders or length could break."""

import itertools
from typing import Any

import pytest
from django.test.html import parse_html
from django.utils import translation
from django.utils.html import escape

from bizproc.activities import activities
from bizproc.activities.base import Activity, ChildLayout, PropertyType
from bizproc.activities.conditions import FIELD
from bizproc.tree import Node, root_node
from designer.drawing import DrawingCache, draw

pytestmark = pytest.mark.django_db

TEMPLATE_PK = 7
SAMPLES = {
    "markup": """<b>Tom & "Jerry"</b> it's <script>alert(1)</script> &amp; &lt;""",
    "unicode": "Согласование сделки ✓ 日本語 🚀 e\u0301",
    # The stamps' own placeholders, and what a stamp's field looks like.
    "placeholders": "\ufdd0title\ufdd1 \ufdd0name\ufdd1 \ufdd0url\ufdd1 \ufdd0 \ufdd1",
    "long": "A very long title, " * 300,
    "plain": "Check",
}
UNKNOWN = "SomeoneElsesActivity"


def _properties(cls: type[Activity], text: str) -> dict[str, Any]:
    """What a new block of ``cls`` has, with ``text`` in every property that takes text."""
    values = cls.new_properties() | {"Title": text}
    for prop in cls.properties:
        if prop.type in (PropertyType.STRING, PropertyType.TEXT):
            values[prop.name] = text
        elif prop.type == PropertyType.MAP:
            values[prop.name] = {text: text}
        elif prop.type == PropertyType.CONDITIONS:
            values[FIELD] = [[text, "=", text]]
    return values


class _Names:
    def __init__(self, text: str) -> None:
        self.numbers = itertools.count(1)
        self.text = text

    def __call__(self) -> str:
        return f"A{next(self.numbers)}_{self.text[:40]}"


def _block(type_: str, text: str, new_name: _Names) -> Node:
    """A block as the designer inserts it, with a block or two in each of its lists."""
    cls = activities.get(type_)
    block = {
        "Type": type_,
        "Name": new_name(),
        "Properties": _properties(cls, text),
        "Children": cls.new_children(new_name),
    }
    return _filled(block, text, new_name)


def _filled(block: Node, text: str, new_name: _Names) -> Node:
    cls = activities.get(block["Type"])
    if cls.child_layout == ChildLayout.LIST and not block["Children"]:
        block["Children"] = [_block("LogActivity", text, new_name) for _ in range(2)]
    for child in block["Children"]:
        _filled(child, text, new_name)
    return block


def _unsupported(text: str, new_name: _Names) -> Node:
    """A block of a type we do not know, as an imported file brings it, with children."""
    return {
        "Type": UNKNOWN,
        "Name": new_name(),
        "Properties": {"Title": text, "Anything": text},
        "Children": [
            _block("LogActivity", text, new_name),
            _block("IfElseActivity", text, new_name),
        ],
    }


def _tree(type_: str, text: str) -> Node:
    """Three blocks of ``type_`` (first, between, last), an unsupported one and a branch."""
    new_name = _Names(text)
    tree = root_node()
    tree["Children"] = [
        _block(type_, text, new_name),
        _unsupported(text, new_name),
        _block(type_, text, new_name),
        _block("ParallelActivity", text, new_name),
        _block(type_, text, new_name),
    ]
    return tree


def _some_names(tree: Node) -> list[str]:
    """Every third block's name: those blocks are drawn with problems."""
    names: list[str] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        names.append(node["Name"])
        stack.extend(node["Children"])
    return names[1::3]


def _assert_drawn_alike(tree: Node, problems: dict[str, list[str]]) -> None:
    plain = parse_html(draw(tree, problems, template_pk=TEMPLATE_PK, cache=None).html)
    cache = DrawingCache()
    for _ in range(2):  # with stamps made; with blocks kept as well
        stamped = parse_html(draw(tree, problems, template_pk=TEMPLATE_PK, cache=cache).html)
        assert stamped == plain


@pytest.mark.parametrize("sample", SAMPLES)
@pytest.mark.parametrize("type_", sorted(cls.type for cls in activities.all()))
def test_every_block_is_drawn_from_the_cache_as_its_templates_draw_it(type_, sample) -> None:
    text = SAMPLES[sample]
    tree = _tree(type_, text)
    _assert_drawn_alike(tree, {})
    drawn = draw(tree, template_pk=TEMPLATE_PK, cache=DrawingCache()).html
    assert escape(text) in drawn  # the titles, as text


@pytest.mark.parametrize("sample", SAMPLES)
def test_blocks_with_problems_are_drawn_as_their_templates_draw_them(sample) -> None:
    text = SAMPLES[sample]
    tree = _tree("IfElseActivity", text)
    problems = {name: [text, "The field 'Text' is required."] for name in _some_names(tree)}
    _assert_drawn_alike(tree, problems)


def test_a_changed_block_is_drawn_anew_in_the_users_language() -> None:
    tree = _tree("LogActivity", "Before")
    cache = DrawingCache()
    with translation.override("en"):
        english = draw(tree, template_pk=TEMPLATE_PK, cache=cache).html
    tree["Children"][0]["Properties"]["Title"] = "After"
    tree["Children"][0]["Properties"]["Text"] = "Changed text"
    with translation.override("ru"):
        drawn = draw(tree, template_pk=TEMPLATE_PK, cache=cache).html
        plain = draw(tree, template_pk=TEMPLATE_PK, cache=None).html
    assert parse_html(drawn) == parse_html(plain)
    assert "After" in drawn and "Changed text" in drawn
    assert 'aria-roledescription="block"' in english and 'aria-roledescription="block"' not in drawn

"""The template tree as the editor draws it: blocks top to bottom, branches side by side, and an
insertion point before, between and after the blocks of every list.

Only the shape is decided here; the markup is in ``templates/designer/tree_container.html``
and ``block_card.html``. Cards and insertion points differ from one another only by a few
values: for the template editor, each kind of card (and the insertion point) is drawn once
from its template with placeholders (a ``_Stamp``), and each block's values, escaped, are put
in; the stamps, and blocks drawn, are kept for the next drawings in one ``DrawingCache``.

An edit that inserts, moves or deletes one block in a list is answered with its changes only
(``draw_changes``): the block taken out, the block put in with an insertion point, and the
cards of its neighbours whose first or last place changed. Insertion points carry no index, so
that nothing after the change has to be drawn again; the editor counts them where it needs one.
"""

from __future__ import annotations

import html
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import quote

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escapejs
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from bizproc.activities import activities
from bizproc.activities.base import ChildLayout
from bizproc.jsonfield import json_dumps, json_loads
from bizproc.tree import Node, find

# Composites each of whose children is drawn as a list of its own.
LISTS_OF_LISTS = (ChildLayout.BRANCHES, ChildLayout.LOOP)
# Block names come from imported files too: quoted in a URL path as ``reverse`` quotes them,
# and a "/" as well, so that no name makes the URL of another route.
NAME_SAFE = "!$&'()*+,;=~:@"
PLACEHOLDER = "BLOCK-NAME"
# A stamp's placeholders: noncharacters, which neither escaping nor translations produce.
FIELD = re.compile("\ufdd0(\\w+)\ufdd1")
INDENT = re.compile(r"\n\s*")
ESCAPED = re.compile("[&<>\"']")


def _field(name: str) -> str:
    return f"\ufdd0{name}\ufdd1"


@dataclass
class Slot:
    """An insertion point: where a block goes in ``parent``'s children."""

    parent: str
    index: int
    is_slot: bool = True
    html: str = ""  # drawn, escaped (the template editor's)

    @property
    def key(self) -> str:
        return f"{self.parent}:{self.index}"


@dataclass
class Block:
    name: str
    type: str
    title: str
    kind: str  # the activity's own title, shown when the block was renamed
    category: str
    summary: str
    supported: bool  # unsupported blocks may be moved and deleted, not edited or duplicated
    first: bool
    last: bool
    branch: bool = False  # a branch header (drawn across, moved left and right)
    branches: list[Container] = field(default_factory=list)
    branch_type: str = ""  # the branch type an "Add branch" button inserts
    children: list[Block] = field(default_factory=list)  # of an unsupported block, read-only
    add_url: str = ""  # where "Add branch" posts
    problems: list[str] = field(default_factory=list)
    is_slot: bool = False
    description: str = ""  # the line under the title (``_description``)
    card: dict[str, str] = field(default_factory=dict)  # ``card_texts`` of its kind
    links: dict[str, str] = field(default_factory=dict)  # edit, move, duplicate, delete
    # Drawn, escaped (the template editor's): its card, in its list item if it holds no others.
    html: str = ""


@dataclass
class Container:
    """The blocks of one list (the process, a branch, a loop body) with insertion points."""

    name: str
    label: str
    header: Block | None
    items: list[Slot | Block]
    html: str = ""  # drawn, escaped (the template editor's; the whole tree's marked safe)


class _Stamp:
    """A template drawn once with a placeholder for each value, then filled in many times.

    Values are escaped as they are put in (as Django's autoescape does), and what was put in
    is never read again, so a value holding a placeholder stays text."""

    def __init__(self, template_name: str, context: dict[str, object]) -> None:
        # The templates' indentation goes: a page holds hundreds of stamps.
        drawn = INDENT.sub("\n", render_to_string(template_name, context)).strip()
        self.parts = FIELD.split(drawn)

    def fill(self, raw: dict[str, str] | None = None, **values: str) -> str:
        """The stamp with ``values`` escaped and ``raw`` ones (drawn, escaped) as they are: plain
        text, which only the whole drawing is marked safe as (marking each part would copy it
        once more)."""
        escaped = {name: _escape(value) for name, value in values.items()}
        if raw:
            escaped.update(raw)
        parts = self.parts.copy()
        parts[1::2] = [escaped[name] for name in parts[1::2]]
        return "".join(parts)


def _escape(text: str) -> str:
    """``html.escape``, once a search in C found something to escape (most names and titles
    hold nothing to)."""
    return html.escape(text) if ESCAPED.search(text) else text


type Blocks = dict[tuple[str, bool, bool, bool], tuple[Node, Block]]


@dataclass
class _Kept:
    """What the drawings of one template in one language share: its links, the card texts
    (translations) and, with a ``DrawingCache``, stamps and drawn blocks."""

    routes: dict[str, tuple[str, str]]
    insert_url: str
    cards: dict[tuple[bool, bool], dict[str, str]]
    stamps: dict[tuple[object, ...], _Stamp] = field(default_factory=dict)
    blocks: Blocks = field(default_factory=dict)

    @classmethod
    def of(cls, template_pk: int) -> _Kept:
        routes = {}
        for action in ("update", "move", "duplicate", "delete"):
            url = reverse(f"designer:block-{action}", args=[template_pk, PLACEHOLDER])
            before, after = url.split(PLACEHOLDER)
            routes["edit" if action == "update" else action] = (before, after)
        return cls(
            routes=routes,
            insert_url=reverse("designer:block-create", args=[template_pk]),
            cards={
                (branch, supported): card_texts(branch=branch, supported=supported)
                for branch in (False, True)
                for supported in (False, True)
            },
        )


class DrawingCache:
    """All that the template editor's drawings keep from one request to the next: without it,
    a page of 200 blocks draws every card from the templates, at six times the work
    (``bench/editor_work.py`` with ``cache=None``: 375 M instructions instead of 57 M).

    Kept for each template in each language (links and translations differ), as a ``_Kept``:
    the links and card texts; the stamps, each part (a kind of card in its place, a list, an
    insertion point, a block holding branches, a branch) drawn once with placeholders; and
    blocks that hold no others and branch headers, drawn, by name, place and whether a
    branch, with a copy of the node each was drawn from.

    Invalidated: a drawn block is used again only while its node is equal to that copy, and a
    block whose summary reads more than its node (``Activity.summary_from_node``) or that has
    problems to show is never kept. The rest comes from code, templates and translations,
    which change only with the process.

    Bounded: the ``templates`` drawn last are kept; beyond ``blocks`` drawn blocks (a big
    template's, and room for the places they leave as they move: about 6 kB each), a
    template's are all forgotten and drawn anew.
    """

    def __init__(self, *, templates: int = 8, blocks: int = 1000) -> None:
        self.templates = templates
        self.blocks = blocks
        self._kept: OrderedDict[tuple[str | None, int], _Kept] = OrderedDict()
        self._lock = threading.Lock()

    def kept(self, template_pk: int) -> _Kept:
        """What is kept for ``template_pk`` in the active language, now the last used."""
        key = (get_language(), template_pk)
        with self._lock:
            kept = self._kept.pop(key, None) or _Kept.of(template_pk)
            self._kept[key] = kept
            while len(self._kept) > self.templates:
                self._kept.popitem(last=False)
        if len(kept.blocks) > self.blocks:
            kept.blocks.clear()
        return kept


# The editor's: one per process.
drawing_cache = DrawingCache()


def draw(
    tree: Node,
    problems: dict[str, list[str]] | None = None,
    *,
    template_pk: int | None = None,
    cache: DrawingCache | None = drawing_cache,
) -> Container:
    """The drawing of ``tree``; with ``template_pk``, the template editor's: every list, card
    and insertion point drawn (``html``; the smart scenario editor draws its own cards from
    the shape), from what ``cache`` keeps, or plainly from the templates with None."""
    drawing = _Drawing(problems or {}, template_pk, cache)
    drawn = drawing.container(tree, _("Process"), header=None)
    drawn.html = mark_safe(drawn.html)  # noqa: S308 - drawn escaped
    return drawn


@dataclass(frozen=True)
class Place:
    """Where a block stands in a list the editor draws: the list's name and its blocks' names."""

    parent: str
    siblings: tuple[str, ...]


def place_of(tree: Node, name: str) -> Place | None:
    """Where block ``name`` stands; None for a branch (drawn side by side, not in a list) and
    for a block inside an unsupported one (drawn read-only)."""
    path = _path(tree, name)
    if path is None or len(path) < 2 or not _drawn_as_list(path[:-1]):
        return None
    children = path[-2].get("Children") or []
    return Place(str(path[-2].get("Name")), tuple(str(child.get("Name")) for child in children))


def _path(tree: Node, name: str) -> list[Node] | None:
    """The nodes from the root down to block ``name``, or None."""
    stack: list[tuple[Node, int]] = [(tree, 0)]
    path: list[Node] = []
    while stack:
        node, depth = stack.pop()
        del path[depth:]
        path.append(node)
        if node.get("Name") == name:
            return path
        stack.extend((child, depth + 1) for child in reversed(node.get("Children") or []))
    return None


def _drawn_as_list(path: list[Node]) -> bool:
    """Whether the last node of ``path`` (from the root) is drawn as a list with insertion
    points (``_Drawing.container``'s): the root; in a list, a supported block that holds
    others as one list; each branch, or loop body, of a supported block in a list."""
    listed = [True]
    for index, node in enumerate(path[1:], start=1):
        if listed[index - 1]:
            activity = activities.get(str(node.get("Type")))
            listed.append(activity.supported and activity.child_layout == ChildLayout.LIST)
        else:
            parent = activities.get(str(path[index - 1].get("Type")))
            listed.append(
                index >= 2
                and listed[index - 2]
                and parent.child_layout in LISTS_OF_LISTS
                and parent.supported
            )
    return listed[-1]


def draw_changes(
    tree: Node, *, template_pk: int, name: str, before: Place | None, removed: bool = False
) -> str | None:
    """Out-of-band swaps that bring the editor's drawing up to ``tree`` after an edit of block
    ``name`` alone: ``before`` is where it stood (None when it is new) and, unless
    ``removed``, it stands in a list of ``tree`` now. None when the edit is not of one list's
    blocks (a branch, say): the editor then draws the whole tree again."""
    drawing = _Drawing({}, template_pk, drawing_cache)
    swaps: list[str] = []
    lists: dict[str, tuple[str, ...]] = {}  # each list changed, with its names before the edit
    if before is not None:
        # Out goes its list item and the insertion point after it.
        swaps.append(_swap("delete", f"#node-{_css(name)} + .slot", ""))
        swaps.append(_swap("delete", f"#node-{_css(name)}", ""))
        lists[before.parent] = before.siblings
    if not removed:
        place = place_of(tree, name)
        if place is None:
            return None
        index = place.siblings.index(name)
        lists.setdefault(place.parent, tuple(other for other in place.siblings if other != name))
        block = drawing.block(find(tree, name)[0], index, len(place.siblings))  # type: ignore[index]
        drawn = drawing.slot(place.parent, index).html + drawing.item(block)
        if index == 0:
            swaps.append(_swap("afterbegin", f"#list-{_css(place.parent)}", drawn, tag="ol"))
        else:
            after = f"#node-{_css(place.siblings[index - 1])}"
            swaps.append(_swap("afterend", after, drawn, tag="ol"))
    for parent, names_before in lists.items():
        found = find(tree, parent)
        if found is None:
            return None
        children = found[0].get("Children") or []
        for index, child in enumerate(children):
            other = str(child.get("Name"))
            if other == name or other not in names_before:
                continue
            was = names_before.index(other)
            if (was == 0, was == len(names_before) - 1) != (index == 0, index == len(children) - 1):
                swaps.append(drawing.card_oob(drawing.block(child, index, len(children))))
    return mark_safe("".join(swaps))  # noqa: S308 - drawn escaped, selectors escaped


def draw_card(tree: Node, *, template_pk: int, name: str) -> str | None:
    """Block ``name``'s card as ``tree`` has it, to replace the one drawn after its dialog was
    saved; None for a block that holds others, whose title also names their lists."""
    place = place_of(tree, name)
    found = find(tree, name)
    if place is None or found is None:
        return None
    drawing = _Drawing({}, template_pk, drawing_cache)
    block = drawing.block(found[0], place.siblings.index(name), len(place.siblings))
    if block.branches or block.children:
        return None
    return drawing.card_oob(block)


def _swap(style: str, selector: str, content: str, *, tag: str = "div") -> str:
    """An out-of-band swap of ``content`` (drawn, escaped) at ``selector``; list items come in an
    ``ol``, as only the children of the swapped element are put in."""
    return f'<{tag} hx-swap-oob="{html.escape(f"{style}:{selector}")}">{content}</{tag}>'


def _css(name: str) -> str:
    """``name`` as a CSS identifier's characters (what ``CSS.escape`` does for them): block
    names come from imported files too."""
    return "".join(
        f"\\{ord(char):x} "
        if ord(char) < 0x20 or ord(char) == 0x7F
        else char
        if char.isalnum() or char in "-_" or not char.isascii()
        else f"\\{char}"
        for char in name
    )


def card_texts(*, branch: bool, supported: bool) -> dict[str, str]:
    """The labels, titles, icons and shortcuts of a card's buttons, which differ only by
    whether it is a branch (moved left and right) and whether it can be edited."""
    texts = {
        "role": _("branch") if branch else _("block"),
        "edit_icon": "edit" if supported else "info",
        "edit_label": _("Edit") if supported else pgettext("button", "Details"),
        "edit_title": _("Edit (Enter)") if supported else _("Details (Enter)"),
        "move_label": _("Move to…"),
        "move_title": _("Move to another place: then press “Move here” where it should go"),
        "duplicate": _("Duplicate"),
        "delete_label": pgettext("verb", "Delete"),
        "delete_title": _("Delete (Delete key)"),
    }
    if branch:
        return texts | {
            "keys": "Enter Delete Alt+ArrowLeft Alt+ArrowRight",
            "up_icon": "left",
            "up_label": _("Move left"),
            "up_title": _("Move left (Alt+Left)"),
            "down_icon": "right",
            "down_label": _("Move right"),
            "down_title": _("Move right (Alt+Right)"),
        }
    return texts | {
        "keys": "Enter Delete Alt+ArrowUp Alt+ArrowDown",
        "up_icon": "up",
        "up_label": _("Move up"),
        "up_title": _("Move up (Alt+Up)"),
        "down_icon": "down",
        "down_label": _("Move down"),
        "down_title": _("Move down (Alt+Down)"),
    }


# A part's context, given how each value is put in (its placeholder, or the value itself).
type PartContext = Callable[[Callable[[str], str]], dict[str, object]]


class _Drawing:
    def __init__(
        self, problems: dict[str, list[str]], template_pk: int | None, cache: DrawingCache | None
    ) -> None:
        self.problems = problems
        self.drawn = template_pk is not None  # the template editor's, every part drawn
        self.cards: dict[tuple[bool, bool], dict[str, str]] = {}
        self.routes: dict[str, tuple[str, str]] = {}
        self.insert_url = ""
        # None: every part drawn plainly from its template (what the stamps must come to).
        self.stamps: dict[tuple[object, ...], _Stamp] | None = None
        self.blocks: Blocks = {}
        self.slots: dict[str, str] = {}  # an insertion point drawn, by list
        self.kinds: dict[str, str] = {}  # the activity's own title, by type
        self.categories: dict[str, str] = {}  # the activity's category, by type
        if template_pk is not None:
            kept = cache.kept(template_pk) if cache else _Kept.of(template_pk)
            self.cards, self.routes, self.insert_url = kept.cards, kept.routes, kept.insert_url
            if cache:
                self.stamps, self.blocks = kept.stamps, kept.blocks

    def links(self, name: str, *, quoted: str = "") -> dict[str, str]:
        quoted = quoted or quote(name, safe=NAME_SAFE)
        return {action: before + quoted + after for action, (before, after) in self.routes.items()}

    def part(
        self,
        key: tuple[object, ...],
        template_name: str,
        context: PartContext,
        raw: dict[str, str] | None = None,
        **values: str,
    ) -> str:
        """``template_name`` drawn with ``values`` (escaped) and ``raw`` ones (drawn, escaped)
        where ``context`` puts them: from the stamp ``key`` (drawn the first time), or plainly
        without a cache."""
        if self.stamps is None:
            given: dict[str, str] = dict(values)
            for name, drawn in (raw or {}).items():
                given[name] = mark_safe(drawn)  # noqa: S308 - drawn escaped
            return render_to_string(template_name, context(given.__getitem__))
        stamp = self.stamps.get(key)
        if stamp is None:
            stamp = self.stamps[key] = _Stamp(template_name, context(_field))
        return stamp.fill(raw, **values)

    def card(self, block: Block, *, leaf: bool) -> str:
        """A card drawn from the stamp of its kind and place (a block holding no others comes
        in its list item); with problems (after a refused publish, a few blocks), from the
        templates themselves."""
        template = "designer/tree_container.html#leaf" if leaf else "designer/block_card.html"
        if block.problems:
            block.links = self.links(block.name)
            return render_to_string(template, {"item": block, "block": block})

        def context(value: Callable[[str], str]) -> dict[str, object]:
            values = {name: value(name) for name in ("name", "title", "category", "description")}
            links = {"links": self.links("", quoted=value("url"))}
            model = Block(**(vars(block) | values | links))
            return {"item": model, "block": model}

        return self.part(
            (leaf, block.branch, block.supported, block.first, block.last),
            template,
            context,
            name=block.name,
            url=quote(block.name, safe=NAME_SAFE),
            title=block.title,
            category=block.category,
            description=block.description,
        )

    def list_html(self, container: Container) -> str:
        items = "".join(
            item.html if isinstance(item, Slot) else self.item(item) for item in container.items
        )
        return self.part(
            ("list",),
            "designer/tree_container.html#list",
            lambda value: {
                "container": Container(value("name"), value("label"), None, []),
                "items": value("items"),
            },
            name=container.name,
            label=container.label,
            raw={"items": items},
        )

    def item(self, block: Block) -> str:
        """A block's list item: its card, and the branches of a block that holds others."""
        if block.children:
            block.html = mark_safe(block.html)  # noqa: S308 - drawn escaped
            return render_to_string("designer/tree_container.html#read-only", {"item": block})
        if not block.branches:
            return block.html
        branches = "".join(
            self.part(
                ("branch",),
                "designer/tree_container.html#branch",
                lambda value: {"header": value("header"), "list": value("list")},
                raw={"header": drawn.header.html if drawn.header else "", "list": drawn.html},
            )
            for drawn in block.branches
        )
        return self.part(
            ("composite", block.branch_type),
            "designer/tree_container.html#composite",
            lambda value: {
                "item": Block(**(vars(block) | {"name": value("name")})),
                **{name: value(name) for name in ("name_js", "count", "card", "branches")},
            },
            name=block.name,
            name_js=escapejs(block.name),
            count=str(len(block.branches)),
            raw={"card": block.html, "branches": branches},
        )

    def card_oob(self, block: Block) -> str:
        """A block's card alone, to replace the one drawn (out of band)."""
        block.links = self.links(block.name)
        context = {"block": block, "card_oob": True}
        return render_to_string("designer/block_card.html", context)

    def container(self, node: Node, label: str, header: Block | None) -> Container:
        children = list(node.get("Children") or [])
        name = str(node.get("Name"))
        items: list[Slot | Block] = []
        for index, child in enumerate(children):
            items.append(self.slot(name, index))
            items.append(self.block(child, index, len(children)))
        items.append(self.slot(name, len(children)))
        drawn = Container(name, label, header, items)
        if self.drawn:
            drawn.html = self.list_html(drawn)
        return drawn

    def slot(self, parent: str, index: int) -> Slot:
        """An insertion point; drawn once per list, as they carry no index."""
        slot = Slot(parent, index)
        if self.drawn:
            if parent not in self.slots:
                self.slots[parent] = self.part(
                    ("slot",),
                    "designer/tree_container.html#slot",
                    lambda value: {"item": Slot(value("parent"), 0)},
                    parent=parent,
                )
            slot.html = self.slots[parent]
        return slot

    def block(self, node: Node, index: int, count: int, *, branch: bool = False) -> Block:
        name = str(node.get("Name"))
        key = (name, index == 0, index == count - 1, branch)
        keep = self.stamps is not None and name not in self.problems
        if keep:
            kept = self.blocks.get(key)
            if kept is not None and kept[0] == node:
                return kept[1]
            copied = json_loads(json_dumps(node))  # as it is before drawing reads it
        activity = activities.for_node(node)
        type_ = str(node.get("Type"))
        if type_ not in self.kinds:
            self.kinds[type_] = str(activity.title) if activity.supported else type_
            self.categories[type_] = str(activity.category)
        drawn = Block(
            name=str(node.get("Name")),
            type=type_,
            title=activity.display_title,
            kind=self.kinds[type_],
            category=self.categories[type_],
            summary=activity.summary() if activity.supported else "",
            supported=activity.supported,
            first=index == 0,
            last=index == count - 1,
            branch=branch,
            problems=self.problems.get(str(node.get("Name")), []),
        )
        children = list(node.get("Children") or [])
        if branch:
            pass  # a branch header: its blocks are the branch's list, which the caller draws
        elif not activity.supported:
            drawn.children = list(_read_only(children))
        elif activity.child_layout == ChildLayout.BRANCHES:
            drawn.branch_type = activity.branch_type
            drawn.add_url = self.insert_url
            for position, child in enumerate(children):
                header = self.block(child, position, len(children), branch=True)
                drawn.branches.append(self.container(child, header.title, header))
        elif activity.child_layout == ChildLayout.LOOP:
            drawn.branches = [self.container(child, _("Loop body"), None) for child in children]
        elif activity.child_layout == ChildLayout.LIST:
            drawn.branches = [self.container(node, drawn.title, None)]
        if self.drawn:
            leaf = not (branch or drawn.branches or drawn.children)
            drawn.description = _description(drawn)
            drawn.card = self.cards[branch, drawn.supported]
            drawn.html = self.card(drawn, leaf=leaf)
            if keep and (leaf or branch) and activity.summary_from_node:
                self.blocks[key] = (copied, drawn)
        return drawn


def _description(block: Block) -> str:
    """The line under a card's title: the activity's own title when the block was renamed,
    then what it does; what an unsupported block is."""
    if not block.supported:
        return _("Unsupported block (%(type)s): kept as imported, read-only") % {"type": block.kind}
    if block.title != block.kind and not block.branch:
        return f"{block.kind} · {block.summary}" if block.summary else block.kind
    return block.summary


def _read_only(nodes: Iterable[Node]) -> Iterable[Block]:
    for node in nodes:
        activity = activities.for_node(node)
        yield Block(
            name=str(node.get("Name")),
            type=str(node.get("Type")),
            title=activity.display_title,
            kind=str(node.get("Type")),
            category=str(activity.category),
            summary="",
            supported=False,
            first=True,
            last=True,
            children=list(_read_only(node.get("Children") or [])),
        )


def focus_after_delete(tree: Node, name: str) -> str:
    """Where focus goes once a block is deleted: the next block, else the previous one, else
    the insertion point that takes its place (``block:…`` / ``slot:parent:index``)."""
    found = find(tree, name)
    if found is None or found[1] is None:
        return ""
    _node, parent = found
    siblings = [child["Name"] for child in parent.get("Children") or []]
    index = siblings.index(name)
    if index + 1 < len(siblings):
        return f"block:{siblings[index + 1]}"
    if index > 0:
        return f"block:{siblings[index - 1]}"
    return f"slot:{parent['Name']}:0"

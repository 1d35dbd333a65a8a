"""A readable, block-by-block difference between two snapshots of a template (two published
versions, or a version and the draft).

Blocks are identified by their ``Name``, which Bitrix keeps stable across edits and exports, so
a block whose name is in both trees is the same block however far it travelled. A block is
*added* or *removed* when its name is in one tree only (a whole new or deleted branch is one
change, counting the blocks inside it), *moved* when its parent changed or it changed places
among the siblings it kept (siblings that merely shifted because something was inserted or
removed before them are not moved), and *changed* when one of its properties (the title
included) or its type changed. Parameters, variables and constants are compared field by field.

Pure functions over plain data: no database, no registry, no translation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bizproc.tree import Node

ADDED = "added"
REMOVED = "removed"
MOVED = "moved"
CHANGED = "changed"
SCHEMA_KINDS = ("parameters", "variables", "constants")
_NOT_PROPERTIES = ("Name", "Children", "Properties")


@dataclass(frozen=True)
class Snapshot:
    """What a version (or the draft) holds that a diff compares."""

    tree: Node
    parameters: Mapping[str, Any] = field(default_factory=dict)
    variables: Mapping[str, Any] = field(default_factory=dict)
    constants: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ValueChange:
    """One property (or schema field) whose value differs; ``None`` means absent on that side,
    values are shown as text (JSON for lists and maps)."""

    key: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class Place:
    parent: str  # the parent block's name ("" for the root)
    parent_title: str  # "" for the process itself
    position: int  # 1-based among the parent's children


@dataclass(frozen=True)
class BlockChange:
    name: str
    type: str
    title: str  # the newer title when both sides have one
    kinds: tuple[str, ...]  # ADDED or REMOVED alone, else MOVED and/or CHANGED
    old_place: Place | None = None
    new_place: Place | None = None
    properties: tuple[ValueChange, ...] = ()
    inside: int = 0  # blocks added or removed together with this one


@dataclass(frozen=True)
class SchemaChange:
    kind: str  # "parameters", "variables" or "constants"
    key: str
    change: str  # ADDED, REMOVED or CHANGED
    fields: tuple[ValueChange, ...] = ()


@dataclass(frozen=True)
class Diff:
    blocks: tuple[BlockChange, ...]
    schemas: tuple[SchemaChange, ...]

    @property
    def empty(self) -> bool:
        return not self.blocks and not self.schemas

    def of_kind(self, kind: str) -> list[BlockChange]:
        return [change for change in self.blocks if kind in change.kinds]


def snapshot_diff(old: Snapshot, new: Snapshot) -> Diff:
    schemas = [
        change
        for kind in SCHEMA_KINDS
        for change in schema_diff(kind, getattr(old, kind), getattr(new, kind))
    ]
    return Diff(blocks=tuple(tree_diff(old.tree, new.tree)), schemas=tuple(schemas))


# ---- blocks -------------------------------------------------------------------------------


@dataclass
class _Seen:
    node: Node
    place: Place
    key: str  # the name, made unique if a (damaged) tree repeats one


def _index(tree: Node) -> dict[str, _Seen]:
    """Every block by name, in document order, with where it stands."""
    seen: dict[str, _Seen] = {}

    def visit(node: Node, place: Place) -> None:
        key = str(node.get("Name", ""))
        repeat = 1
        while key in seen:
            repeat += 1
            key = f"{node.get('Name', '')}#{repeat}"
        seen[key] = _Seen(node, place, key)
        for position, child in enumerate(_children(node), start=1):
            # The root's own title is rarely set: "" lets the page say "the process".
            visit(child, Place(key, title_of(node) if node is not tree else "", position))

    visit(tree, Place("", "", 1))
    return seen


def _children(node: Node) -> list[Node]:
    children = node.get("Children")
    return [child for child in children if isinstance(child, dict)] if children else []


def title_of(node: Node) -> str:
    properties = node.get("Properties")
    title = properties.get("Title") if isinstance(properties, dict) else None
    return str(title) if title else str(node.get("Type", ""))


def tree_diff(old: Node, new: Node) -> list[BlockChange]:
    """Changes from ``old`` to ``new``: the newer tree's blocks in document order, then the
    removed ones in the older tree's order."""
    before, after = _index(old), _index(new)
    moved = _moved(before, after)
    changes: list[BlockChange] = []
    for key, now in after.items():
        then = before.get(key)
        if then is None:
            if now.place.parent not in after or now.place.parent in before:
                changes.append(_whole(now, ADDED, _count_new(now.node, before, after)))
            continue
        properties = tuple(_node_changes(then.node, now.node))
        kinds = tuple(
            kind for kind, applies in ((MOVED, key in moved), (CHANGED, properties)) if applies
        )
        if kinds:
            changes.append(
                BlockChange(
                    name=key,
                    type=str(now.node.get("Type", "")),
                    title=title_of(now.node),
                    kinds=kinds,
                    old_place=then.place,
                    new_place=now.place,
                    properties=properties,
                )
            )
    for key, then in before.items():
        if key not in after and (then.place.parent not in before or then.place.parent in after):
            changes.append(_whole(then, REMOVED, _count_new(then.node, after, before)))
    return changes


def _whole(seen: _Seen, kind: str, inside: int) -> BlockChange:
    place = {"new_place" if kind == ADDED else "old_place": seen.place}
    return BlockChange(
        name=seen.key,
        type=str(seen.node.get("Type", "")),
        title=title_of(seen.node),
        kinds=(kind,),
        inside=inside,
        **place,
    )


def _count_new(node: Node, elsewhere: dict[str, _Seen], here: dict[str, _Seen]) -> int:
    """Blocks inside ``node`` that are only on its side (they come and go with it)."""
    keys = {id(seen.node): key for key, seen in here.items()}
    return sum(1 for inner in _descendants(node) if keys.get(id(inner)) not in elsewhere)


def _descendants(node: Node) -> Iterator[Node]:
    for child in _children(node):
        yield child
        yield from _descendants(child)


def _moved(before: dict[str, _Seen], after: dict[str, _Seen]) -> set[str]:
    moved = {
        key
        for key, now in after.items()
        if key in before and before[key].place.parent != now.place.parent
    }
    # Among blocks that kept their parent, those out of the longest common order moved.
    kept_by_parent: dict[str, set[str]] = {}
    for key, now in after.items():
        if key in before and key not in moved and now.place.parent:
            kept_by_parent.setdefault(now.place.parent, set()).add(key)
    for kept in kept_by_parent.values():
        old_order = sorted(kept, key=lambda key: before[key].place.position)
        new_order = sorted(kept, key=lambda key: after[key].place.position)
        steady = {key for key in kept if before[key].place.position == after[key].place.position}
        moved |= kept - _longest_common_order(old_order, new_order, steady)
    return moved


def _longest_common_order(old: list[str], new: list[str], steady: set[str]) -> set[str]:
    """The most blocks that keep their order; of equally many, those with the most blocks
    still at the same place (so swapping two blocks moves the one that travelled)."""
    rows, columns = len(old), len(new)
    best = [[(0, 0)] * (columns + 1) for _ in range(rows + 1)]
    for i in reversed(range(rows)):
        for j in reversed(range(columns)):
            found = max(best[i + 1][j], best[i][j + 1])
            if old[i] == new[j]:
                kept, still = best[i + 1][j + 1]
                found = max(found, (kept + 1, still + (old[i] in steady)))
            best[i][j] = found
    stayed: set[str] = set()
    i = j = 0
    while i < rows and j < columns:
        kept, still = best[i + 1][j + 1]
        if old[i] == new[j] and best[i][j] == (kept + 1, still + (old[i] in steady)):
            stayed.add(old[i])
            i, j = i + 1, j + 1
        elif best[i + 1][j] >= best[i][j + 1]:
            i += 1
        else:
            j += 1
    return stayed


def _node_changes(old: Node, new: Node) -> Iterator[ValueChange]:
    """The type and other node keys first, then the properties in the newer order."""
    yield from _value_changes(
        {k: v for k, v in old.items() if k not in _NOT_PROPERTIES},
        {k: v for k, v in new.items() if k not in _NOT_PROPERTIES},
    )
    yield from _value_changes(_mapping(old.get("Properties")), _mapping(new.get("Properties")))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _value_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[ValueChange]:
    for key in [*new, *(key for key in old if key not in new)]:
        if key not in old or key not in new or old[key] != new[key]:
            yield ValueChange(
                str(key),
                display(old[key]) if key in old else None,
                display(new[key]) if key in new else None,
            )


def display(value: Any) -> str:
    """A value as a person reads it: text as it is, lists and maps as compact JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)


# ---- parameters, variables, constants -----------------------------------------------------


def schema_diff(kind: str, old: Any, new: Any) -> list[SchemaChange]:
    old, new = _mapping(old), _mapping(new)
    changes = []
    for key in [*new, *(key for key in old if key not in new)]:
        if key not in old:
            changes.append(SchemaChange(kind, str(key), ADDED, _fields(None, new[key])))
        elif key not in new:
            changes.append(SchemaChange(kind, str(key), REMOVED, _fields(old[key], None)))
        elif old[key] != new[key]:
            changes.append(SchemaChange(kind, str(key), CHANGED, _fields(old[key], new[key])))
    return changes


def _fields(old: Any, new: Any) -> tuple[ValueChange, ...]:
    """Field by field when both sides are maps (``None``: the side where it is absent)."""
    old_map = {} if old is None else old
    new_map = {} if new is None else new
    if isinstance(old_map, Mapping) and isinstance(new_map, Mapping):
        return tuple(_value_changes(old_map, new_map))
    return (
        ValueChange(
            "", None if old is None else display(old), None if new is None else display(new)
        ),
    )

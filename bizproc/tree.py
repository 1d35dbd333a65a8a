"""Pure functions over a template tree: nodes are Bitrix's ``{"Type", "Name", "Properties",
"Children"}`` dicts, the root is a ``SequentialWorkflowActivity`` named ``Template``."""

import copy
import secrets
from collections.abc import Iterator
from typing import Any

Node = dict[str, Any]

ROOT_TYPE = "SequentialWorkflowActivity"
ROOT_NAME = "Template"


def root_node(title: str = "") -> Node:
    return {"Type": ROOT_TYPE, "Name": ROOT_NAME, "Properties": {"Title": title}, "Children": []}


def walk(node: Node) -> Iterator[Node]:
    """Every node, depth-first in document order (the order blocks run and are drawn)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.get("Children") or []))


def walk_with_parents(node: Node, parent: Node | None = None) -> Iterator[tuple[Node, Node | None]]:
    stack: list[tuple[Node, Node | None]] = [(node, parent)]
    while stack:
        current, current_parent = stack.pop()
        yield current, current_parent
        stack.extend((child, current) for child in reversed(current.get("Children") or []))


def find(root: Node, name: str) -> tuple[Node, Node | None] | None:
    """The node with that name and its parent, or None."""
    for node, parent in walk_with_parents(root):
        if node.get("Name") == name:
            return node, parent
    return None


def names(root: Node) -> set[str]:
    return {node.get("Name", "") for node in walk(root)}


def new_name(taken: set[str]) -> str:
    """A Bitrix-style activity name (``A48314_14744_30339_17133``) not yet in the tree."""
    while True:
        name = "A" + "_".join(str(secrets.randbelow(99999) + 1) for _ in range(4))
        if name not in taken:
            taken.add(name)
            return name


def renamed_copy(node: Node, taken: set[str]) -> Node:
    """A deep copy of a subtree with fresh names for every node (for duplicating a block)."""
    duplicate = copy.deepcopy(node)
    for child in walk(duplicate):
        child["Name"] = new_name(taken)
    return duplicate


def is_ancestor(candidate: Node, node: Node) -> bool:
    return any(descendant is node for descendant in walk(candidate))


def count(root: Node) -> int:
    return sum(1 for _ in walk(root))

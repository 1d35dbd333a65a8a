"""PHP-style request parameters: ``fields[TITLE]=x``, ``select[]=ID``, ``a[b][0][c]=y``.

Bitrix24's REST clients send nested parameters the way PHP's ``parse_str`` reads them. A key
is a name followed by bracketed segments; an empty segment appends to a list. The result is
nested dicts; a dict whose keys are exactly ``0 … n-1`` in order becomes a list, as a PHP array
with those keys is a list in JSON.
"""

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

MAX_DEPTH = 32

_KEY_RE = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_SEGMENT_RE = re.compile(r"\[([^\[\]]*)\]")


class ParameterError(ValueError):
    """Parameters that cannot be read (nested too deeply)."""


def parse_pairs(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Nested parameters from (key, value) pairs in their order; a later value wins."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY_RE.fullmatch(key.strip())
        path = [key] if match is None else [match[1], *_SEGMENT_RE.findall(match[2])]
        if len(path) > MAX_DEPTH:
            raise ParameterError(f"Parameter {key[:100]!r} is nested too deeply.")
        _assign(root, path, value)
    return listify(root)


def parse_query(query: str) -> dict[str, Any]:
    return parse_pairs(parse_qsl(query, keep_blank_values=True))


def _assign(node: dict[str, Any], path: list[str], value: Any) -> None:
    for depth, segment in enumerate(path):
        if segment == "" and depth > 0:
            segment = str(_next_index(node))
        if depth == len(path) - 1:
            node[segment] = value
            return
        child = node.get(segment)
        if not isinstance(child, dict):
            child = node[segment] = {}
        node = child


def _next_index(node: dict[str, Any]) -> int:
    """PHP's next array index: one more than the largest integer key so far."""
    numbers = [int(key) for key in node if key.isdigit()]
    return max(numbers) + 1 if numbers else 0


def listify(value: Any, depth: int = 0) -> Any:
    """Dicts keyed ``"0" … "n-1"`` in order become lists, at every depth; a JSON body nested
    deeper than ``MAX_DEPTH``, as a query's may not be, is refused."""
    if depth > MAX_DEPTH and isinstance(value, dict | list):
        raise ParameterError("The parameters are nested too deeply.")
    if isinstance(value, dict):
        converted = {key: listify(item, depth + 1) for key, item in value.items()}
        if converted and list(converted) == [str(i) for i in range(len(converted))]:
            return list(converted.values())
        return converted
    if isinstance(value, list):
        return [listify(item, depth + 1) for item in value]
    return value

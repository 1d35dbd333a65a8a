"""Conditions of IfElse branches and While loops, stored as Bitrix stores them.

The property's key names the kind: ``fieldcondition: [[FIELD, op, value, joiner?], …]`` (document
fields), ``propertyvariablecondition: [[Id, op, value, joiner?], …]`` (variables and
parameters), ``mixedcondition: [{"object", "field", "operator", "value", "joiner"}, …]`` (any
object), ``truecondition: "1"`` ("otherwise"). A joiner of 1 means OR, anything else AND.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bizproc.expressions.errors import Mismatch
from bizproc.expressions.values import as_text, comparison, flatten

FIELD = "fieldcondition"
VARIABLE = "propertyvariablecondition"
MIXED = "mixedcondition"
OTHERWISE = "truecondition"
KINDS = (FIELD, VARIABLE, MIXED, OTHERWISE)

OPERATORS = {
    "=": gettext_lazy("equals"),
    "!=": gettext_lazy("does not equal"),
    ">": gettext_lazy("greater than"),
    ">=": gettext_lazy("greater than or equal to"),
    "<": gettext_lazy("less than"),
    "<=": gettext_lazy("less than or equal to"),
    "in": gettext_lazy("is in"),
    "!in": gettext_lazy("is not in"),
    "contain": gettext_lazy("contains"),
    "!contain": gettext_lazy("does not contain"),
    "empty": gettext_lazy("is empty"),
    "!empty": gettext_lazy("is not empty"),
}
VALUELESS = {"empty", "!empty"}


@dataclass(frozen=True)
class Row:
    """One comparison: ``object`` is Document, Variable, Template, Constant or a block name."""

    object: str
    field: str
    operator: str
    value: Any
    join_or: bool


def condition_kind(properties: Mapping[str, Any]) -> str | None:
    return next((kind for kind in KINDS if kind in properties), None)


class ConditionError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def condition_rows(properties: Mapping[str, Any]) -> list[Row] | None:
    """The rows of the condition (None for "otherwise"); raises ConditionError if malformed."""
    kind = condition_kind(properties)
    if kind is None:
        raise ConditionError(_("The condition is not set."))
    raw = properties[kind]
    if kind == OTHERWISE:
        return None
    if not isinstance(raw, list):
        raise ConditionError(_("The condition is damaged."))
    rows = []
    for item in raw:
        if kind == MIXED:
            if not isinstance(item, dict):
                raise ConditionError(_("The condition is damaged."))
            row = Row(
                object=str(item.get("object", "")),
                field=str(item.get("field", "")),
                operator=str(item.get("operator", "=")),
                value=item.get("value", ""),
                join_or=str(item.get("joiner", "0")) == "1",
            )
        else:
            if not isinstance(item, list) or len(item) < 2:
                raise ConditionError(_("The condition is damaged."))
            row = Row(
                object="Document" if kind == FIELD else "",
                field=str(item[0]),
                operator=str(item[1]),
                value=item[2] if len(item) > 2 else "",
                join_or=len(item) > 3 and str(item[3]) == "1",
            )
        if row.operator not in OPERATORS:
            raise ConditionError(
                _("Unknown condition operator: %(operator)s") % {"operator": row.operator}
            )
        rows.append(row)
    return rows


def _as_list(value: Any) -> list[Any]:
    return flatten(value) if isinstance(value, list | tuple) else [value]


def row_matches(row: Row, left: Any, right: Any) -> bool:
    """One comparison, Bitrix-style: a multiple value matches when one of its items does."""
    operator = row.operator
    if operator in ("empty", "!empty"):
        empty = left in (None, "") or (
            isinstance(left, list) and not [i for i in left if i not in (None, "")]
        )
        return empty if operator == "empty" else not empty
    if operator in ("in", "!in"):
        pool = _as_list(right)
        found = any(
            comparison("=")(item, candidate) for item in _as_list(left) for candidate in pool
        )
        return found if operator == "in" else not found
    if operator in ("contain", "!contain"):
        if isinstance(left, list | tuple):
            found = any(comparison("=")(item, right) for item in flatten(left))
        else:
            found = as_text(right).lower() in as_text(left).lower()
        return found if operator == "contain" else not found
    compare = comparison(operator)
    try:
        if isinstance(left, list | tuple) and not isinstance(right, list | tuple):
            items = flatten(left)
            if operator == "!=":
                return all(compare(item, right) for item in items)
            return any(compare(item, right) for item in items)
        return compare(left, right)
    except Mismatch:
        return False


def rows_match(rows: list[Row], values: list[tuple[Any, Any]]) -> bool:
    """ORs of ANDs: a row joined with OR starts a new group."""
    groups: list[bool] = []
    for index, (row, (left, right)) in enumerate(zip(rows, values, strict=True)):
        result = row_matches(row, left, right)
        if index == 0 or row.join_or:
            groups.append(result)
        else:
            groups[-1] = groups[-1] and result
    return any(groups) if groups else True

"""What the list methods share: Bitrix24 filters, ``order``, ``select`` and ``start`` paging.

A filter key is a field code with an optional operator prefix (``>=OPPORTUNITY``); its value is
converted by the field's own converter, so a wrong value is refused with the field's message.
Pages hold 50 rows, fetched with LIMIT/OFFSET over an indexed order (the id breaks ties);
``start=-1`` asks for the first page without counting, as Bitrix24's clients do when they page
by ``>ID`` themselves. The ``total`` of a CRM record list comes from ``crm.counts``, which keeps
exact counts until a record changes.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from bizproc.bounds import INT_MAX, bounded_int
from crm.counts import record_count
from crm.models import Record
from rest.api import PAGE_SIZE, RestError

_FILTER_KEY_RE = re.compile(r"(>=|<=|!=|!@|@|>|<|=|!|%)?(.+)", re.DOTALL)
_LOOKUPS = {"": "exact", "=": "exact", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}
_NEGATED = {"!", "!="}
# From this offset on, a page is read as ids first (see page_of).
DEFERRED_JOIN_OFFSET = 1000
_IN = {"@", "!@"}


@dataclass(frozen=True)
class FilterField:
    """How a field is filtered: its ORM lookup path and how a raw value becomes a column value.

    ``convert`` raises ``ValueError`` with a message for a value that does not fit.
    """

    path: str
    convert: Callable[[Any], Any]
    text: bool = False  # accepts the substring operator ``%``


def invalid(description: str) -> RestError:
    return RestError(description, "INVALID_ARG_VALUE")


def mapping(value: Any, name: str) -> Mapping[str, Any]:
    """A parameter that must be an object; an empty PHP array (``[]``) is an empty one."""
    if value in (None, "", []):
        return {}
    if not isinstance(value, Mapping):
        raise RestError(f"Parameter '{name}' must be array.")
    return value


def string_list(value: Any, name: str) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, Mapping):
        value = list(value.values())
    if not isinstance(value, list) or not all(isinstance(item, str | int) for item in value):
        raise RestError(f"Parameter '{name}' must be array.")
    return [str(item).strip() for item in value]


def filter_q(raw: Any, fields: Mapping[str, FilterField], name: str = "filter") -> Q:
    condition = Q()
    for key, value in mapping(raw, name).items():
        match = _FILTER_KEY_RE.fullmatch(str(key).strip())
        operator, code = (match[1] or "", match[2].strip().upper()) if match else ("", "")
        field = fields.get(code)
        if field is None:
            raise invalid(f"Unknown field in {name}: {str(key)[:100]}")
        condition &= _condition(field, operator, value, code)
    return condition


def _condition(field: FilterField, operator: str, value: Any, code: str) -> Q:
    if operator in _IN:
        items = list(value.values()) if isinstance(value, Mapping) else value
        items = items if isinstance(items, list) else [items]
        q = Q(**{f"{field.path}__in": [_converted(field, item, code) for item in items]})
        return ~q if operator == "!@" else q
    if isinstance(value, list | Mapping):
        raise invalid(f"The filter value of {code} must be a single value.")
    if operator == "%":
        if not field.text:
            raise invalid(f"The operator % does not apply to {code}.")
        return Q(**{f"{field.path}__icontains": str(value)})
    converted = _converted(field, value, code)
    if converted is None:
        q = Q(**{f"{field.path}__isnull": True})
    else:
        q = Q(**{f"{field.path}__{_LOOKUPS.get(operator, 'exact')}": converted})
    return ~q if operator in _NEGATED else q


def _converted(field: FilterField, value: Any, code: str) -> Any:
    try:
        return field.convert(value)
    except ValueError as error:
        raise invalid(f"{code}: {error}") from None


def ordering(raw: Any, paths: Mapping[str, str], default: list[str]) -> list[str]:
    """ORM ordering from ``{FIELD: "ASC"|"DESC"}``, the id last so that pages never overlap."""
    result = []
    for key, direction in mapping(raw, "order").items():
        code = str(key).strip().upper()
        path = paths.get(code)
        if path is None:
            raise invalid(f"Unknown field in order: {str(key)[:100]}")
        sort = str(direction).strip().upper()
        if sort not in ("ASC", "DESC"):
            raise invalid(f"The sort direction of {code} must be ASC or DESC.")
        result.append(f"-{path}" if sort == "DESC" else path)
    result = result or list(default)
    if not any(item.lstrip("-") == "id" for item in result):
        result.append("-id" if result[-1].startswith("-") else "id")
    return result


def selection(
    raw: Any,
    known: list[str],
    default: list[str],
    always: str = "ID",
    groups: Mapping[str, list[str]] | None = None,
) -> list[str]:
    """Selected codes in their canonical order: ``*`` is every field of ``default``, a group
    name (``UF_*``) every field of its group. Unknown names are left out, as Bitrix24 leaves
    them out."""
    wanted = {code.upper() for code in string_list(raw, "select")} or set(default)
    if "*" in wanted:
        wanted |= set(default)
    for name, codes in (groups or {}).items():
        if name in wanted:
            wanted |= set(codes)
    return [code for code in known if code in wanted or code == always]


def start_of(raw: Any) -> int:
    """The ``start`` parameter: an offset, or -1 for the first page without a count."""
    if raw in (None, ""):
        return 0
    # The last page must still end where a database offset can count.
    start = bounded_int(raw, maximum=INT_MAX - PAGE_SIZE)
    if start is None or start < -1:
        raise RestError("Parameter 'start' must be integer.")
    return start


def page_of(queryset: QuerySet, start: int) -> tuple[list[Any], int | None, int | None]:
    """(rows, total, next) of one page; no COUNT when ``start`` is -1."""
    offset = max(start, 0)
    if offset < DEFERRED_JOIN_OFFSET:
        rows = list(queryset[offset : offset + PAGE_SIZE])
    else:
        # Deep pages: the database skips ``offset`` narrow index entries rather than whole
        # rows, then reads the page's rows alone.
        ids = list(queryset.values_list("pk", flat=True)[offset : offset + PAGE_SIZE])
        by_pk = queryset.in_bulk(ids)
        rows = [by_pk[pk] for pk in ids if pk in by_pk]
    if start == -1:
        return rows, None, None
    if len(rows) < PAGE_SIZE and (rows or offset == 0):
        total = offset + len(rows)
    elif issubclass(queryset.model, Record):
        total = record_count(queryset=queryset)
    else:
        total = queryset.order_by().count()
    following = offset + PAGE_SIZE
    return rows, total, following if following < total else None

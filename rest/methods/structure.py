"""``department.*`` and ``user.get`` / ``user.current`` / ``user.search`` over
``accounts.structure``, in Bitrix24's shapes.

Everyone reads departments and users; structure administrators alone add, change and delete
departments (``ACCESS_DENIED`` otherwise). A department comes out with every value a string
(``{"ID": "3", "NAME": "Sales", "SORT": "500", "PARENT": "1", "UF_HEAD": "4"}``; a top-level
department has no ``PARENT``, one without a head has ``UF_HEAD`` "0"). ``department.get`` takes
its filter as top-level keys (``PARENT``: 1), as Bitrix24 documents it, or in ``filter``; its
``sort`` names a field and ``order`` is ASC or DESC. A user's ``UF_DEPARTMENT`` is the list of
their departments' ids (integers). Filters a method does not know are ignored, as Bitrix24
ignores them.
"""

from collections.abc import Mapping
from functools import reduce
from operator import and_
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import Department, User
from accounts.structure import (
    DepartmentValues,
    department_create,
    department_delete,
    department_update,
    is_structure_admin,
)
from bizproc.bounds import bounded_int
from rest.api import Call, Page, RestError, access_denied, method
from rest.listing import invalid, mapping, page_of, start_of

MISSING = "ERROR_REQUIRED_PARAMETERS_MISSING"
_DEPARTMENT_PATHS = {
    "ID": "pk",
    "NAME": "name",
    "SORT": "sort",
    "PARENT": "parent_id",
    "UF_HEAD": "head_id",
}
_USER_SORT_PATHS = {
    "ID": "pk",
    "NAME": "first_name",
    "LAST_NAME": "last_name",
    "EMAIL": "email",
    "ACTIVE": "is_active",
    "LAST_LOGIN": "last_login",
    "DATE_REGISTER": "date_joined",
}
_SEARCH_WORDS = 5


# --- parameters ----------------------------------------------------------------------------------


def _missing(name: str) -> RestError:
    return RestError(f"Required parameter '{name}' is missing", MISSING)


def _id_value(raw: Any, name: str) -> int | None:
    """An id parameter: empty or 0 is none; anything but a positive integer is refused."""
    if raw in (None, "", 0, "0"):
        return None
    value = bounded_int(raw, minimum=1)
    if value is None:
        raise invalid(f"{name}: the value is not an id.")
    return value


def _ids(raw: Any, name: str) -> list[int]:
    items = list(raw.values()) if isinstance(raw, Mapping) else raw
    items = items if isinstance(items, list) else [items]
    return [pk for item in items if (pk := _id_value(item, name)) is not None]


def _text(raw: Any, name: str) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise invalid(f"Parameter '{name}' must be a string.")
    return str(raw)


def _sort_order(call: Call, paths: Mapping[str, str]) -> list[str]:
    """``sort`` (a field name) and ``order`` (ASC or DESC) as an ORM ordering, the id last.

    Written in lower case, as Bitrix24 reads them: ``SORT`` in upper case is a filter."""
    field = _text(call.params.get("sort"), "sort").strip().upper() or "ID"
    path = paths.get(field)
    if path is None:
        raise invalid(f"Unknown field in sort: {field[:100]}")
    direction = _text(call.params.get("order"), "order").strip().upper() or "ASC"
    if direction not in ("ASC", "DESC"):
        raise invalid("The sort direction must be ASC or DESC.")
    ordering = [f"-{path}" if direction == "DESC" else path]
    if path != "pk":
        ordering.append("-pk" if direction == "DESC" else "pk")
    return ordering


def _filters(call: Call) -> dict[str, Any]:
    """The filter: the ``filter`` (or ``FILTER``) object's keys, and the top-level keys written
    in upper case (``PARENT``, ``%NAME``), as Bitrix24 takes them."""
    given = {str(k).upper(): v for k, v in mapping(call.param("filter"), "filter").items()}
    for key, value in call.params.items():
        text = str(key)
        if text == text.upper() and text != "FILTER":
            given.setdefault(text, value)
    return given


# --- departments ---------------------------------------------------------------------------------


def department_item(department: Department) -> dict[str, str]:
    item = {"ID": str(department.pk), "NAME": department.name, "SORT": str(department.sort)}
    if department.parent_id is not None:
        item["PARENT"] = str(department.parent_id)
    item["UF_HEAD"] = str(department.head_id or 0)
    return item


@method("department.fields")
def department_fields(call: Call) -> dict[str, str]:
    return {
        "ID": "ID",
        "NAME": "Department name",
        "SORT": "Sort order",
        "PARENT": "Parent department",
        "UF_HEAD": "Head",
    }


@method("department.get")
def department_get(call: Call) -> Page:
    given = _filters(call)
    condition = Q()
    for code, path in _DEPARTMENT_PATHS.items():
        if code not in given:
            continue
        value = given[code]
        if code == "NAME":
            condition &= Q(name=_text(value, code))
        elif code == "SORT":
            sort = bounded_int(value, minimum=0)
            if sort is None:
                raise invalid("SORT: the value is not an integer.")
            condition &= Q(sort=sort)
        elif code in ("PARENT", "UF_HEAD") and value in ("", 0, "0"):
            condition &= Q(**{f"{path}__isnull": True})
        else:
            condition &= Q(**{f"{path}__in": _ids(value, code)})
    rows = Department.objects.filter(condition).order_by(*_sort_order(call, _DEPARTMENT_PATHS))
    items, total, following = page_of(rows, start_of(call.param("start")))
    return Page([department_item(row) for row in items], total, following)


def _department(call: Call) -> Department:
    pk = _id_value(call.param("ID"), "ID")
    if pk is None:
        raise _missing("ID")
    department = Department.objects.filter(pk=pk).first()
    if department is None:
        raise RestError("Department not found", "ERROR_NOT_FOUND")
    return department


def _values(call: Call, department: Department | None) -> DepartmentValues:
    """The department's values: those the call gives, the department's own for the rest."""
    values = DepartmentValues(
        name=department.name if department else "",
        parent_id=department.parent_id if department else None,
        head_id=department.head_id if department else None,
        sort=department.sort if department else 500,
    )
    if call.param("NAME") is not None:
        values.name = _text(call.param("NAME"), "NAME")
    if call.param("SORT") not in (None, ""):
        sort = bounded_int(call.param("SORT"), minimum=0)
        if sort is None:
            raise invalid("SORT: the value is not an integer.")
        values.sort = sort
    if call.param("PARENT") is not None:
        values.parent_id = _id_value(call.param("PARENT"), "PARENT")
    if call.param("UF_HEAD") is not None:
        values.head_id = _id_value(call.param("UF_HEAD"), "UF_HEAD")
    return values


def _refused(error: ValidationError) -> RestError:
    names = {"name": "NAME", "parent": "PARENT", "head": "UF_HEAD", "sort": "SORT"}
    messages = [
        f"{names.get(code, code)}: {' '.join(texts)}" for code, texts in error.message_dict.items()
    ]
    return invalid(" ".join(messages))


@method("department.add")
def department_add(call: Call) -> int:
    """Adds a department under ``PARENT`` (required once the company has a department: the
    first one is the company itself); answers its id."""
    if not is_structure_admin(call.user):
        raise access_denied()
    if not _text(call.param("NAME"), "NAME").strip():
        raise _missing("NAME")
    values = _values(call, None)
    if values.parent_id is None and Department.objects.exists():
        raise _missing("PARENT")
    try:
        return department_create(values=values).pk
    except ValidationError as error:
        raise _refused(error) from None


@method("department.update")
def department_update_method(call: Call) -> bool:
    """Changes the values given; a department moves by a new ``PARENT``."""
    if not is_structure_admin(call.user):
        raise access_denied()
    department = _department(call)
    try:
        department_update(department=department, values=_values(call, department))
    except ValidationError as error:
        raise _refused(error) from None
    except Department.DoesNotExist:
        raise RestError("Department not found", "ERROR_NOT_FOUND") from None
    return True


@method("department.delete")
def department_delete_method(call: Call) -> bool:
    if not is_structure_admin(call.user):
        raise access_denied()
    department = _department(call)
    try:
        department_delete(department=department)
    except ValidationError as error:
        raise invalid(" ".join(error.messages)) from None
    return True


# --- users ---------------------------------------------------------------------------------------


def _names(user: User) -> tuple[str, str]:
    """Bitrix's NAME and LAST_NAME: the user's, or their full name's first word and the rest."""
    if user.first_name or user.last_name:
        return user.first_name, user.last_name
    first, _space, rest = user.full_name.strip().partition(" ")
    return first, rest.strip()


def _moment(value: Any) -> str:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else ""


def user_item(user: User) -> dict[str, Any]:
    name, last_name = _names(user)
    return {
        "ID": str(user.pk),
        "XML_ID": "",
        "ACTIVE": user.is_active,
        "NAME": name,
        "LAST_NAME": last_name,
        "SECOND_NAME": "",
        "EMAIL": user.email,
        "LAST_LOGIN": _moment(user.last_login),
        "DATE_REGISTER": _moment(user.date_joined),
        "IS_ONLINE": "N",
        "TIME_ZONE": user.time_zone,
        "PERSONAL_GENDER": "",
        "WORK_POSITION": "",
        "UF_DEPARTMENT": [department.pk for department in user.departments.all()],
        "USER_TYPE": "employee",
    }


def _flag(raw: Any, name: str) -> bool:
    text = str(raw).strip().upper()
    if raw is True or text in ("Y", "TRUE", "1"):
        return True
    if raw is False or text in ("N", "FALSE", "0"):
        return False
    raise invalid(f"{name}: the value must be Y or N.")


def _name_q(value: str, *, last: bool, contains: bool) -> Q:
    """NAME or LAST_NAME as ``user_item`` computes them, matched case-insensitively."""
    own = "last_name" if last else "first_name"
    if contains:
        return Q(**{f"{own}__icontains": value}) | Q(
            first_name="", last_name="", full_name__icontains=value
        )
    from_full_name = (
        Q(full_name__iendswith=f" {value}")
        if last
        else Q(full_name__iexact=value) | Q(full_name__istartswith=f"{value} ")
    )
    return Q(**{f"{own}__iexact": value}) | (Q(first_name="", last_name="") & from_full_name)


def _user_filter(given: Mapping[str, Any]) -> Q:
    condition = Q()
    for key, value in given.items():
        contains = key.startswith("%")
        code = key.lstrip("%")
        if code == "ID":
            condition &= Q(pk__in=_ids(value, code))
        elif code == "ACTIVE":
            condition &= Q(is_active=_flag(value, code))
        elif code in ("NAME", "LAST_NAME"):
            condition &= _name_q(_text(value, code), last=code == "LAST_NAME", contains=contains)
        elif code == "EMAIL":
            text = _text(value, code)
            condition &= Q(email__icontains=text) if contains else Q(email__iexact=text)
        elif code == "UF_DEPARTMENT":
            condition &= Q(departments__pk__in=_ids(value, code))
    return condition


def _users(condition: Q, call: Call) -> Page:
    rows: QuerySet[User] = (
        User.objects.filter(pk__in=User.objects.filter(condition).values("pk"))
        .prefetch_related(Prefetch("departments", Department.objects.order_by("pk")))
        .order_by(*_sort_order(call, _USER_SORT_PATHS))
    )
    items, total, following = page_of(rows, start_of(call.param("start")))
    return Page([user_item(row) for row in items], total, following)


@method("user.current")
def user_current(call: Call) -> dict[str, Any]:
    return user_item(call.user)


@method("user.get")
def user_get(call: Call) -> Page:
    """Users by the filter (``ID``, ``ACTIVE``, ``NAME``, ``LAST_NAME``, ``EMAIL``,
    ``UF_DEPARTMENT``; ``%NAME`` for a part of a name)."""
    return _users(_user_filter(_filters(call)), call)


@method("user.search")
def user_search(call: Call) -> Page:
    """Users whose name, e-mail or department holds every word of ``FIND``, and the filter."""
    given = _filters(call)
    condition = _user_filter(given)
    words = _text(given.get("FIND"), "FIND").split()[:_SEARCH_WORDS]
    if words:
        condition &= reduce(and_, (_word(word) for word in words))
    return _users(condition, call)


def _word(word: str) -> Q:
    return (
        Q(full_name__icontains=word)
        | Q(first_name__icontains=word)
        | Q(last_name__icontains=word)
        | Q(email__icontains=word)
        | Q(departments__name__icontains=word)
    )

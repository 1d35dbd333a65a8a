"""User values in every form Bitrix writes them, and the people they name when a block runs.

Wherever the engine takes users (Approve and Review's users, Notify user, Select employee,
Absence, Set permissions, parameters and variables of type user …) a value may be:

* ``user_<id>`` (a bare id, and Bitrix's dialog form ``Name Surname [<id>]``, too);
* ``author`` / ``Author``: the document's author as Bitrix's document services answer it — a
  CRM record's responsible person, a list element's creator — or, for a document that has
  none, the process's starter;
* ``group_<id>`` (and the extended ``group_g<id>``): the active members of a user group.
  Groups are Django's auth groups; a Bitrix group id is mapped to a local group by the
  ``BIZPROC_USER_GROUPS`` setting (``12=Employees``: Bitrix's group 12 is the local group
  named "Employees"), and an unmapped id names the local group with that id. Templates
  imported from Bitrix thus run unchanged: the mapping, not the file, says who is meant;
* ``["Document", "ASSIGNED_BY_ID"]``: Bitrix's reference arrays (the users in a document
  field, a variable, a parameter …), and ``{=Document:…}`` expressions;
* a list mixing any of these (nested lists are flattened, as Bitrix's ``MakeArrayFlat``).

Nothing here evaluates a value twice: an expression's result is read as plain values.
"""

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

if TYPE_CHECKING:
    from bizproc.activities.context import Context

USER_RE = re.compile(r"(?:user_)?(\d{1,18})")
# Bitrix's dialogs show a user as "Name Surname [5]" and store ``user_5``; files may hold either.
NAMED_USER_RE = re.compile(r".*\[(\d{1,18})\]")
GROUP_RE = re.compile(r"group_g?(\d{1,18})", re.IGNORECASE)
AUTHOR = "author"
# The objects Bitrix's reference arrays name (``CBPHelper::MakeArrayFlat``).
REFERENCE_OBJECTS = frozenset(
    {"Variable", "Document", "Template", "Workflow", "User", "System", "Constant"}
)


def is_reference(item: Any) -> bool:
    """``["Document", "ASSIGNED_BY_ID"]``: a value taken from somewhere, not two values."""
    return (
        isinstance(item, list | tuple)
        and len(item) == 2
        and item[0] in REFERENCE_OBJECTS
        and isinstance(item[1], str)
    )


def reference_text(item: Any) -> str:
    """The expression a reference array stands for."""
    return f"{{={item[0]}:{item[1]}}}"


def flat_items(value: Any) -> list[Any]:
    """The items of a user value, nested lists flattened, reference arrays kept whole, empty
    items left out."""
    if is_reference(value):
        return [value]
    if not isinstance(value, list | tuple):
        return [] if value is None or (isinstance(value, str) and not value.strip()) else [value]
    return [found for item in value for found in flat_items(item)]


def is_author(text: str) -> bool:
    return text.strip().lower() == AUTHOR


def user_id_in(text: str) -> int | None:
    """The user id ``user_5``, ``5`` or ``Name [5]`` names."""
    text = text.strip()
    match = USER_RE.fullmatch(text) or NAMED_USER_RE.fullmatch(text)
    return int(match[1]) if match else None


def group_mapping() -> dict[str, str]:
    """Bitrix group id → local group name, from the ``BIZPROC_USER_GROUPS`` setting."""
    return {
        str(key): str(name) for key, name in getattr(settings, "BIZPROC_USER_GROUPS", {}).items()
    }


def group_of(text: str) -> Group | None:
    """The local group a ``group_<id>`` value names (through the mapping), or None."""
    match = GROUP_RE.fullmatch(text.strip())
    if match is None:
        return None
    mapped = group_mapping().get(match[1])
    if mapped is not None:
        return Group.objects.filter(name=mapped).first()
    return Group.objects.filter(pk=int(match[1])).first()


def is_group(text: str) -> bool:
    return GROUP_RE.fullmatch(text.strip()) is not None


def users_resolve(ctx: "Context", raw: Any, *, evaluated: bool = False) -> list[int]:
    """The ids of the active users a property's stored value names, in order, once each.

    ``raw`` is the value as the template stores it: expressions and reference arrays are
    evaluated here (once), everything else read as it is. ``evaluated``: the caller evaluated
    it already (its texts are read, not evaluated again; a reference array, which evaluation
    leaves as it is, is still followed)."""
    found: list[int] = []
    for item in flat_items(raw):
        if is_reference(item):
            found.extend(_plain_ids(ctx, ctx.evaluate(reference_text(item))))
        elif not evaluated and isinstance(item, str) and _is_expression(item):
            found.extend(_plain_ids(ctx, ctx.evaluate(item)))
        else:
            found.extend(_plain_ids(ctx, item))
    return active_only(found)


def principals_resolve(ctx: "Context", raw: Any) -> list[str]:
    """Who a value names, as ``user_<id>`` and ``group_<id>`` (a local group, kept as a group:
    its members as they are when access is checked): what Set permissions grants to."""
    found: list[str] = []
    for item in flat_items(raw):
        if is_reference(item):
            values = flat_items(ctx.evaluate(reference_text(item)))
        elif isinstance(item, str) and _is_expression(item):
            values = flat_items(ctx.evaluate(item))
        else:
            values = [item]
        for value in values:
            group = group_of(value) if isinstance(value, str) else None
            if group is not None:
                found.append(f"group_{group.pk}")
            else:
                found.extend(f"user_{pk}" for pk in active_only(_plain_ids(ctx, value)))
    return list(dict.fromkeys(found))


def people_names(user_ids: list[int]) -> str:
    """The users named as people read them (full names, else logins), in order."""
    users = get_user_model().objects.in_bulk(user_ids)
    return ", ".join(
        users[pk].get_full_name() or users[pk].get_username() for pk in user_ids if pk in users
    )


def _is_expression(text: str) -> bool:
    return "{=" in text or "{{" in text or text.startswith("=")


def active_only(ids: Iterable[int]) -> list[int]:
    """``ids`` of active users, in order, once each."""
    ordered = list(dict.fromkeys(ids))
    active = set(
        get_user_model().objects.filter(pk__in=ordered, is_active=True).values_list("pk", flat=True)
    )
    return [pk for pk in ordered if pk in active]


def _plain_ids(ctx: "Context", value: Any) -> list[int]:
    """User ids of an evaluated value: read, never evaluated again."""
    ids: list[int] = []
    for item in flat_items(value):
        if is_reference(item):
            continue  # a value holding a reference array is data, not a reference
        if isinstance(item, bool):
            continue
        if isinstance(item, int):
            ids.append(item)
            continue
        if isinstance(item, get_user_model()):
            ids.append(item.pk)
            continue
        text = str(item)
        if is_author(text):
            ids.extend(_author(ctx))
        elif (group := group_of(text)) is not None:
            ids.extend(
                group.user_set.filter(is_active=True).order_by("pk").values_list("pk", flat=True)
            )
        elif (user_id := user_id_in(text)) is not None:
            ids.append(user_id)
    return ids


def _author(ctx: "Context") -> list[int]:
    """Bitrix's ``author`` group: the document's responsible person (a CRM record) or its
    creator (a list element); the process's starter for a document that has neither."""
    document = ctx.document()
    for code in ("ASSIGNED_BY_ID", "CREATED_BY"):
        value = document.get(code)
        for item in flat_items(value):
            user_id = item if isinstance(item, int) else user_id_in(str(item))
            if user_id is not None:
                return [user_id]
    return [ctx.starter_id] if ctx.starter_id is not None else []

"""People as formula functions see them (``getuserinfo``, ``convert``): a
person's details from a user value (``user_5``, ``5``, ``Name [5]``, a list of
them — the first person counts; groups and "author" name nobody here). Only active people are
found, as Bitrix finds any portal user."""

from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model

from bizproc.expressions.values import as_text, flatten
from bizproc.user_values import user_id_in


def _first_person(value: Any) -> Any | None:
    for item in flatten([value]):
        if item is None or isinstance(item, bool):
            continue
        user_id = user_id_in(as_text(item))
        if user_id is not None:
            return get_user_model().objects.filter(pk=user_id, is_active=True).first()
    return None


def person_info(value: Any) -> Mapping[str, Any] | None:
    """The first person's details under the names ``getuserinfo`` reads."""
    person = _first_person(value)
    if person is None:
        return None
    return {
        "ID": f"user_{person.pk}",
        "LOGIN": person.get_username(),
        "NAME": person.first_name,
        "LAST_NAME": person.last_name,
        "FULL_NAME": person.get_full_name(),
        "EMAIL": person.email,
        "ACTIVE": person.is_active,
        "TIME_ZONE": getattr(person, "time_zone", ""),
        "LANGUAGE": getattr(person, "language", ""),
        "DEPARTMENTS": [department.name for department in person.departments.order_by("name")],
    }

"""``crm.<lead|contact|company|deal>.userfield.add|get|list|update|delete`` over the field
services (``crm.services.userfield_*``), for CRM administrators only (others: 403).

Fields go in and out under Bitrix24's names. ``LABEL`` fills every label place
(``EDIT_FORM_LABEL``, ``LIST_COLUMN_LABEL``, ``LIST_FILTER_LABEL``) not given; a label given as
text holds for every language, as ``{lang: text}`` for those languages (the others get
``LABEL``). ``LIST`` items change by ``ID`` (``DEL: "Y"`` removes one) and are added without;
``SETTINGS`` on update change only the keys given. ``get`` gives the labels per language;
``list`` gives them in one language when the filter names it (``LANG``), else leaves them out.
Flags come out as ``Y``/``N``; ``SHOW_FILTER`` as Bitrix24 writes a shown field, ``E``.
"""

import functools
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet

from bizproc.bounds import bounded_int
from crm import permissions, services
from crm.models import EntityType, UserField, UserFieldItem, UserFieldType
from rest.api import Call, Page, RestError, method
from rest.listing import FilterField, filter_q, mapping, ordering, page_of, start_of
from rest.methods.crm import ENTITY_NAMES, refused

ENTITY_IDS = {
    EntityType.LEAD: "CRM_LEAD",
    EntityType.CONTACT: "CRM_CONTACT",
    EntityType.COMPANY: "CRM_COMPANY",
    EntityType.DEAL: "CRM_DEAL",
}
# Bitrix's label fields and the label places they hold.
LABEL_PLACES = {
    "EDIT_FORM_LABEL": "form",
    "LIST_COLUMN_LABEL": "column",
    "LIST_FILTER_LABEL": "filter",
}
# Label fields Bitrix24 has and these fields do not: always empty.
UNKEPT_LABELS = ("ERROR_MESSAGE", "HELP_MESSAGE")
# The services' names of the values, as a refusal names them.
REST_NAMES = {
    "code": "FIELD_NAME",
    "type": "USER_TYPE_ID",
    "labels": "LABEL",
    "multiple": "MULTIPLE",
    "mandatory": "MANDATORY",
    "sort": "SORT",
    "show_in_list": "SHOW_IN_LIST",
    "show_filter": "SHOW_FILTER",
    "settings": "SETTINGS",
    "xml_id": "XML_ID",
    "items": "LIST",
}
_FLAGS = {"MULTIPLE": "multiple", "MANDATORY": "mandatory", "SHOW_IN_LIST": "show_in_list"}


def _languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def _yes_no(value: bool) -> str:
    return "Y" if value else "N"


def _shown(raw: Any) -> bool:
    """``SHOW_FILTER``: ``N`` hides; ``Y`` and Bitrix's kinds of filter (``I``, ``E``, ``S``)
    show."""
    if isinstance(raw, bool):
        return raw
    return str(raw).strip().upper() in ("Y", "I", "E", "S", "1", "TRUE")


# In -------------------------------------------------------------------------------------------


def _texts(raw: Any) -> dict[str, Any]:
    """``{language: text}`` of a label given as text (every language) or as a map."""
    if isinstance(raw, Mapping):
        return {str(language).strip().lower(): text for language, text in raw.items()}
    return dict.fromkeys(_languages(), raw)


def _labels_in(fields: Mapping[str, Any], current: Mapping[str, Any]) -> dict | None:
    """The labels as they will be, or None when the request does not touch them."""
    given = {place: fields[key] for key, place in LABEL_PLACES.items() if key in fields}
    if "LABEL" not in fields and not given:
        return None
    default = _texts(fields["LABEL"]) if "LABEL" in fields else {}
    labels = {place: dict(texts) for place, texts in current.items() if isinstance(texts, Mapping)}
    for place in LABEL_PLACES.values():
        if place in given:
            labels[place] = default | _texts(given[place])
        elif default:
            labels[place] = dict(default)
    return labels


def _settings_in(raw: Any, current: Mapping[str, Any]) -> Any:
    """``SETTINGS`` over the current ones. A date's default given as Bitrix24's ``{"TYPE":
    "FIXED", "VALUE": …}`` is its value (``NONE``: no default)."""
    if not isinstance(raw, Mapping):
        return raw  # the services refuse what is not a map (an empty text is no settings)
    result = dict(current) | {str(key).upper(): value for key, value in raw.items()}
    default = result.get("DEFAULT_VALUE")
    if isinstance(default, Mapping):
        parts = {str(key).upper(): value for key, value in default.items()}
        kind = str(parts.get("TYPE", "")).upper()
        if kind == "NONE":
            result.pop("DEFAULT_VALUE")
        elif kind == "FIXED":
            result["DEFAULT_VALUE"] = parts.get("VALUE")
    return result


def _items_in(raw: Any, current: list[UserFieldItem]) -> Any:
    """``LIST`` as the services take options; an item with an ``ID`` keeps what it leaves out."""
    if isinstance(raw, Mapping):
        raw = list(raw.values())
    if not isinstance(raw, list):
        return raw
    by_id = {str(item.pk): item for item in current}
    items: list[Any] = []
    for entry in raw:
        if not isinstance(entry, Mapping):
            items.append(entry)
            continue
        given = {str(key).upper(): value for key, value in entry.items()}
        known = by_id.get(str(given.get("ID", "")).strip())
        item = {
            "id": given.get("ID"),
            "value": given.get("VALUE", known.value if known else ""),
            "sort": given.get("SORT", known.sort if known else None),
            "is_default": given.get("DEF", known.is_default if known else False),
            "xml_id": given.get("XML_ID", known.xml_id if known else ""),
            "delete": str(given.get("DEL", "")).upper() == "Y",
        }
        items.append(item)
    return items


def _definition_in(fields: Mapping[str, Any], row: UserField | None) -> dict[str, Any]:
    """The services' values of a request's ``fields`` (``row``: the field updated)."""
    values: dict[str, Any] = {}
    if row is None:
        values["code"] = str(fields.get("FIELD_NAME") or "")
        values["type"] = str(fields.get("USER_TYPE_ID") or "").strip()
        # Bitrix24 shows a field it is given without SHOW_FILTER in no filter.
        values["show_filter"] = _shown(fields.get("SHOW_FILTER", "N"))
    else:
        if "USER_TYPE_ID" in fields:
            values["type"] = str(fields["USER_TYPE_ID"] or "").strip()
        if "SHOW_FILTER" in fields:
            values["show_filter"] = _shown(fields["SHOW_FILTER"])
    labels = _labels_in(fields, row.labels if row else {})
    if labels is not None:
        values["labels"] = labels
    for key, name in _FLAGS.items():
        if key in fields:
            values[name] = fields[key]
    if "SORT" in fields:
        values["sort"] = fields["SORT"]
    if "XML_ID" in fields:
        values["xml_id"] = fields["XML_ID"]
    if "SETTINGS" in fields:
        values["settings"] = _settings_in(fields["SETTINGS"], row.settings if row else {})
    if "LIST" in fields:
        values["items"] = _items_in(fields["LIST"], list(row.items.all()) if row else [])
    return values


def _fields(call: Call) -> dict[str, Any]:
    return {
        str(key).strip().upper(): value
        for key, value in mapping(call.param("fields"), "fields").items()
    }


# Out ------------------------------------------------------------------------------------------


def _field_out(row: UserField, labels: Callable[[str], Any] | None) -> dict[str, Any]:
    """A field as Bitrix24 gives it; ``labels(place)`` gives a label field's value (None:
    labels left out)."""
    result: dict[str, Any] = {
        "ID": str(row.pk),
        "ENTITY_ID": ENTITY_IDS[row.entity_type],
        "FIELD_NAME": row.code,
        "USER_TYPE_ID": row.type,
        "XML_ID": row.xml_id or None,
        "SORT": str(row.sort),
        "MULTIPLE": _yes_no(row.multiple),
        "MANDATORY": _yes_no(row.mandatory),
        "SHOW_FILTER": "E" if row.show_filter else "N",
        "SHOW_IN_LIST": _yes_no(row.show_in_list),
        "EDIT_IN_LIST": "Y",
        "IS_SEARCHABLE": "N",
        "SETTINGS": row.settings or {},
    }
    if labels is not None:
        for key, place in LABEL_PLACES.items():
            result[key] = labels(place)
        for key in UNKEPT_LABELS:
            result[key] = labels("")
    if row.type == UserFieldType.ENUMERATION:
        result["LIST"] = [
            {
                "ID": str(item.pk),
                "SORT": str(item.sort),
                "VALUE": item.value,
                "DEF": _yes_no(item.is_default),
                "XML_ID": item.xml_id,
            }
            for item in row.items.all()
        ]
    return result


def _labels_per_language(row: UserField) -> Callable[[str], dict[str, str]]:
    def texts(place: str) -> dict[str, str]:
        stored = (row.labels or {}).get(place) or {}
        return {language: stored.get(language, "") for language in _languages()}

    return texts


def _labels_in_language(row: UserField, language: str) -> Callable[[str], str | None]:
    def text(place: str) -> str | None:
        return ((row.labels or {}).get(place) or {}).get(language)

    return text


# Methods --------------------------------------------------------------------------------------


def _check_admin(call: Call) -> None:
    if not permissions.is_crm_admin(call.user):
        raise PermissionDenied


def _field_of(call: Call, entity_type: str) -> UserField:
    pk = bounded_int(call.param("id"), minimum=1)
    if pk is None:
        raise RestError("ID is not defined or invalid.")
    row = UserField.objects.filter(pk=pk).prefetch_related("items").first()
    if row is None:
        raise RestError(f"The entity with ID '{pk}' is not found.", "ERROR_NOT_FOUND", 404)
    if row.entity_type != entity_type:
        raise PermissionDenied  # as Bitrix24 answers for another entity type's field
    return row


def userfield_add(call: Call, *, entity_type: str) -> int:
    _check_admin(call)
    values = _definition_in(_fields(call), None)
    try:
        row = services.userfield_create(entity_type=entity_type, values=values, user=call.user)
    except ValidationError as error:
        raise refused(error, REST_NAMES) from None
    return row.pk


def userfield_get(call: Call, *, entity_type: str) -> dict[str, Any]:
    _check_admin(call)
    row = _field_of(call, entity_type)
    return _field_out(row, _labels_per_language(row))


def userfield_update(call: Call, *, entity_type: str) -> bool:
    _check_admin(call)
    row = _field_of(call, entity_type)
    values = _definition_in(_fields(call), row)
    try:
        services.userfield_update(field=row, values=values, user=call.user)
    except ValidationError as error:
        raise refused(error, REST_NAMES) from None
    return True


def userfield_delete(call: Call, *, entity_type: str) -> bool:
    _check_admin(call)
    services.userfield_delete(field=_field_of(call, entity_type), user=call.user)
    return True


def _integer(raw: Any) -> int:
    value = bounded_int(raw)
    if value is None:
        raise ValueError("The value is not an integer.")
    return value


_LIST_FILTERS = {
    "ID": FilterField("id", _integer),
    "FIELD_NAME": FilterField("code", lambda raw: str(raw).strip().upper(), text=True),
    "USER_TYPE_ID": FilterField("type", lambda raw: str(raw).strip()),
    "XML_ID": FilterField("xml_id", lambda raw: str(raw).strip(), text=True),
    "SORT": FilterField("sort", _integer),
    "MULTIPLE": FilterField("multiple", lambda raw: str(raw).strip().upper() == "Y"),
    "MANDATORY": FilterField("mandatory", lambda raw: str(raw).strip().upper() == "Y"),
    "SHOW_FILTER": FilterField("show_filter", _shown),
    "SHOW_IN_LIST": FilterField("show_in_list", lambda raw: str(raw).strip().upper() == "Y"),
}
_LIST_ORDER = {
    "ID": "id",
    "FIELD_NAME": "code",
    "USER_TYPE_ID": "type",
    "XML_ID": "xml_id",
    "SORT": "sort",
}


def userfield_list(call: Call, *, entity_type: str) -> Page:
    _check_admin(call)
    conditions = dict(mapping(call.param("filter"), "filter"))
    language_key = next((key for key in conditions if str(key).strip().upper() == "LANG"), None)
    language = str(conditions.pop(language_key)).strip().lower() if language_key else None
    queryset: QuerySet = (
        UserField.objects.filter(entity_type=entity_type)
        .filter(filter_q(conditions, _LIST_FILTERS))
        .order_by(*ordering(call.param("order"), _LIST_ORDER, ["sort", "id"]))
        .prefetch_related("items")
    )
    rows, total, following = page_of(queryset, start_of(call.param("start")))
    items = [
        _field_out(row, _labels_in_language(row, language) if language else None) for row in rows
    ]
    return Page(items, total, following)


def _register() -> None:
    actions = {
        "add": userfield_add,
        "get": userfield_get,
        "list": userfield_list,
        "update": userfield_update,
        "delete": userfield_delete,
    }
    for name, entity_type in ENTITY_NAMES.items():
        for action, function in actions.items():
            method(f"crm.{name}.userfield.{action}")(
                functools.partial(function, entity_type=entity_type)
            )


_register()

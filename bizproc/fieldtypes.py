"""Business-process value types and the conversion of raw input into them.

Used for document fields, template parameters, variables and constants alike, with Bitrix's
messages when a value does not fit its type. Typed values in the engine:

* ``string``, ``text``, ``select`` (the option key) → ``str``
* ``int`` → ``int``; ``double`` → ``float``; ``bool`` → ``bool``
* ``date`` → ``datetime.date``; ``datetime`` → an aware ``datetime.datetime``
* ``user`` → ``"user_<id>"``
* ``file`` → ``int``, the ID of a stored file (never the file's content)
* ``internalselect`` → kept verbatim
* multiple fields → a list of those
"""

import datetime
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from bizproc import user_values
from bizproc.bounds import in_range, localtime


class FieldType(models.TextChoices):
    BOOL = "bool", gettext_lazy("Yes/No")
    DATE = "date", gettext_lazy("Date")
    DATETIME = "datetime", gettext_lazy("Date and time")
    DOUBLE = "double", gettext_lazy("Number")
    FILE = "file", gettext_lazy("File")
    INT = "int", gettext_lazy("Integer")
    SELECT = "select", gettext_lazy("List")
    INTERNALSELECT = "internalselect", gettext_lazy("Linked list")
    STRING = "string", gettext_lazy("String")
    TEXT = "text", gettext_lazy("Text")
    USER = "user", gettext_lazy("User")


# Bitrix's custom-field types (``UF:<USER_TYPE_ID>``) that its CRM templates give parameters,
# variables and constants, with the engine type whose values they hold: a template brought
# from Bitrix keeps its types, and its values convert (and are checked) as that type's do.
UF_TYPES: dict[str, tuple[str, Any]] = {
    "UF:boolean": (FieldType.BOOL, pgettext_lazy("field type", "Yes/No (custom field)")),
    "UF:date": (FieldType.DATE, pgettext_lazy("field type", "Date (custom field)")),
    "UF:money": (FieldType.STRING, pgettext_lazy("field type", "Money")),
    "UF:url": (FieldType.STRING, pgettext_lazy("field type", "Link")),
    "UF:crm": (FieldType.STRING, pgettext_lazy("field type", "CRM record")),
}


def base_type(type_: str) -> str:
    """The engine type that holds values of ``type_`` (itself for the engine's own types)."""
    return UF_TYPES[type_][0] if type_ in UF_TYPES else type_


def type_choices() -> list[tuple[str, str]]:
    """Every type a parameter, variable or constant may have, for pickers."""
    return [*FieldType.choices, *((code, label) for code, (_base, label) in UF_TYPES.items())]


class FieldValueError(ValueError):
    """A value that does not fit its field; ``message`` is in the active language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Field:
    """A typed field: a document field, a template parameter, a variable or a constant."""

    code: str
    name: str
    type: str
    required: bool = False
    multiple: bool = False
    read_only: bool = False
    options: Mapping[str, str] = field(default_factory=dict)
    max_length: int | None = None
    # A user value that may also name people by role or group (``author``, ``group_<id>``,
    # ``["Document", "ASSIGNED_BY_ID"]``: ``bizproc.user_values``), resolved when a block uses
    # it: template parameters, variables, constants and block properties; never a document's
    # own field, which holds people.
    user_groups: bool = False

    def convert(self, value: Any) -> Any:
        """The typed value, or ``None`` / ``[]`` for empty; raises ``FieldValueError``."""
        if self.user_groups and self.type == FieldType.USER:
            if user_values.is_reference(value):
                return [list(value)] if self.multiple else list(value)
            if self.multiple:
                value = user_values.flat_items(value)
        if self.multiple:
            items = value if isinstance(value, list | tuple) else [value]
            converted = [self._convert_one(item) for item in items]
            converted = [item for item in converted if item is not None]
            if self.required and not converted:
                raise FieldValueError(self._required_message())
            return converted
        if isinstance(value, list | tuple):
            if len(value) > 1:
                raise FieldValueError(self._incorrect_message())
            value = value[0] if value else None
        converted = self._convert_one(value)
        if self.required and converted is None:
            raise FieldValueError(self._required_message())
        return converted

    def _required_message(self) -> str:
        return _("The field '%(name)s' is required.") % {"name": self.name}

    def _incorrect_message(self) -> str:
        return _("The value of field '%(name)s' is incorrect.") % {"name": self.name}

    def _convert_one(self, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        converter = _CONVERTERS.get(self.type)
        if converter is None:  # internalselect: kept as it came
            return value
        return converter(self, value)


def _to_string(f: Field, value: Any) -> str:
    if isinstance(value, bool):
        text = _("Yes") if value else _("No")
    elif isinstance(value, datetime.datetime):
        text = localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    elif isinstance(value, str | int | float | datetime.date):
        text = str(value)
    else:
        raise FieldValueError(f._incorrect_message())
    if f.max_length is not None and len(text) > f.max_length:
        raise FieldValueError(
            _("The value of field '%(name)s' is too long: at most %(max)d characters.")
            % {"name": f.name, "max": f.max_length}
        )
    return text


_INT_RE = re.compile(r"[+-]?\d+")


def _to_int(f: Field, value: Any) -> int:
    if isinstance(value, bool):
        raise FieldValueError(
            _("The value of field '%(name)s' is not an integer.") % {"name": f.name}
        )
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip().replace(" ", "")
    if isinstance(value, str) and _INT_RE.fullmatch(text) and len(text) <= 19:
        return int(text)
    raise FieldValueError(_("The value of field '%(name)s' is not an integer.") % {"name": f.name})


_DOUBLE_RE = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")


def _to_double(f: Field, value: Any) -> float:
    if isinstance(value, bool):
        raise FieldValueError(
            _("The value of field '%(name)s' is not a number.") % {"name": f.name}
        )
    if isinstance(value, int | float):
        try:
            result = float(value)
        except OverflowError:  # an integer past a float's range
            result = float("inf")
    else:
        text = str(value).strip().replace(" ", "")
        if not (isinstance(value, str) and _DOUBLE_RE.fullmatch(text)):
            raise FieldValueError(
                _("The value of field '%(name)s' is not a number.") % {"name": f.name}
            )
        result = float(text.replace(",", "."))
    if result != result or result in (float("inf"), float("-inf")):
        raise FieldValueError(
            _("The value of field '%(name)s' is not a number.") % {"name": f.name}
        )
    return result


_TRUE = {"y", "yes", "true", "1", "on", "да", "д"}
_FALSE = {"n", "no", "false", "0", "off", "нет", "н"}


def _to_bool(f: Field, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise FieldValueError(
        _("The value of field '%(name)s' cannot be read as yes or no.") % {"name": f.name}
    )


def _date_format_error(f: Field, pattern: str) -> FieldValueError:
    return FieldValueError(
        _("The date in field '%(name)s' does not match the format '%(format)s'.")
        % {"name": f.name, "format": pattern}
    )


_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")
_DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
)


def _to_date(f: Field, value: Any) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value).strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    # A date-time written where a date is expected keeps its date part.
    try:
        return _to_datetime(f, value).date()
    except FieldValueError:
        raise _date_format_error(f, _("YYYY-MM-DD")) from None


def _to_datetime(f: Field, value: Any) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        result = value
    elif isinstance(value, datetime.date):
        result = datetime.datetime.combine(value, datetime.time())
    else:
        text = str(value).strip()
        try:
            result = datetime.datetime.fromisoformat(text)
        except ValueError:
            for fmt in _DATETIME_FORMATS + _DATE_FORMATS:
                try:
                    result = datetime.datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
            else:
                raise _date_format_error(f, _("YYYY-MM-DD HH:MM:SS")) from None
    if not in_range(result):
        message = _("The date in field '%(name)s' is too far in the past or in the future.")
        raise FieldValueError(message % {"name": f.name})
    if timezone.is_naive(result):
        # Naive input is read in the active (the user's) time zone.
        result = timezone.make_aware(result)
    return result


def _to_select(f: Field, value: Any) -> str:
    key = str(value).strip()
    if key in f.options:
        return key
    for option_key, option_name in f.options.items():
        if str(option_name) == key:
            return option_key
    raise FieldValueError(f._incorrect_message())


_USER_RE = user_values.USER_RE


def _to_user(f: Field, value: Any) -> Any:
    """A reference to an existing, active user, as ``user_<id>``; for a field that takes
    groups (``Field.user_groups``) also ``author``, an existing group's ``group_<id>`` and a
    reference array, kept as they are."""
    if f.user_groups and user_values.is_reference(value):
        return list(value)
    pk_text = str(value.pk) if isinstance(value, get_user_model()) else str(value).strip()
    if f.user_groups:
        if user_values.is_author(pk_text):
            return pk_text
        if user_values.is_group(pk_text):
            if user_values.group_of(pk_text) is None:
                raise FieldValueError(
                    _(
                        "The value of field '%(name)s' names a user group that does not exist: "
                        "%(group)s"
                    )
                    % {"name": f.name, "group": pk_text}
                )
            return pk_text
        named = user_values.NAMED_USER_RE.fullmatch(pk_text)
        if named:
            pk_text = named[1]
    match = _USER_RE.fullmatch(pk_text)
    if not match or not get_user_model().objects.filter(pk=int(match[1]), is_active=True).exists():
        raise FieldValueError(f._incorrect_message())
    return f"user_{int(match[1])}"


_FILE_ID_RE = re.compile(r"\d{1,18}")


def _to_file(f: Field, value: Any) -> int:
    """A file is a reference (Bitrix's file ID): its content would sit in every copy of the
    process's state, and the state is capped (``BIZPROC_STATE_LIMIT_BYTES``)."""
    text = "" if isinstance(value, bool) else str(value).strip()
    if not _FILE_ID_RE.fullmatch(text) or int(text) == 0:
        raise FieldValueError(
            _("The value of field '%(name)s' must be the ID of a stored file.") % {"name": f.name}
        )
    return int(text)


# Keyed by the stored type name: a field may carry a type that has no converter.
_CONVERTERS: dict[str, Callable[[Field, Any], object]] = {
    FieldType.STRING: _to_string,
    FieldType.TEXT: _to_string,
    FieldType.INT: _to_int,
    FieldType.DOUBLE: _to_double,
    FieldType.BOOL: _to_bool,
    FieldType.DATE: _to_date,
    FieldType.DATETIME: _to_datetime,
    FieldType.SELECT: _to_select,
    FieldType.USER: _to_user,
    FieldType.FILE: _to_file,
}


def user_id_of(value: str | None) -> int | None:
    """The user id of a ``user_<id>`` value."""
    if not value:
        return None
    match = _USER_RE.fullmatch(value)
    return int(match[1]) if match else None


def convert_all(fields: Sequence[Field], values: Mapping[str, Any]) -> tuple[dict, dict]:
    """Converts each value by its field: (typed values, {code: message}) — both by code."""
    typed: dict[str, Any] = {}
    errors: dict[str, str] = {}
    by_code = {f.code: f for f in fields}
    for code, value in values.items():
        try:
            typed[code] = by_code[code].convert(value)
        except FieldValueError as error:
            errors[code] = error.message
    return typed, errors

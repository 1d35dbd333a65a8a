"""Custom fields (``UF_CRM_…``) in the CRM record methods, in Bitrix24's shapes.

Out, every value is text as Bitrix24 sends its custom values — numbers as strings, a yes/no
as ``"1"``/``"0"``, an enumeration as its item's ``ID``, an employee as the user's id, dates
in ISO 8601 with the user's offset like the built-in dates — and a file as ``{"id",
"showUrl", "downloadUrl"}``; a multiple field as a list. In, the services convert what the
clients send, except files, which arrive as Bitrix24's clients send them (``["name.ext",
"<base64>"]`` or ``{"fileData": [name, base64]}``) and are stored here first, owned by the
webhook's user. A file already stored is named by its id (``{"id": 5}`` as ``get`` gives it;
``{"id": 5, "del": "Y"}`` drops it).
"""

import base64
import binascii
import contextlib
import dataclasses
import datetime
import mimetypes
from collections.abc import Iterator, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from bizproc.bounds import bounded_int, localtime
from bizproc.fieldtypes import FieldValueError
from crm import services
from crm.custom_fields import CustomField
from crm.fields import FieldSpec
from crm.models import RECORD_MODELS, StoredFile, UserFieldType
from rest.api import RestError
from rest.listing import FilterField

_TEXT_TYPES = (UserFieldType.STRING, UserFieldType.URL)


def custom_description(definition: CustomField) -> dict[str, Any]:
    """The field as ``crm.<entity>.fields`` describes a custom field."""
    description: dict[str, Any] = {
        "type": definition.type,
        "isRequired": definition.mandatory,
        "isReadOnly": False,
        "isImmutable": False,
        "isMultiple": definition.multiple,
        "isDynamic": True,
        "title": definition.label("form"),
        "listLabel": definition.label("column"),
        "formLabel": definition.label("form"),
        "filterLabel": definition.label("filter"),
        "settings": dict(definition.settings),
    }
    if definition.type == UserFieldType.ENUMERATION:
        description["items"] = [
            {"ID": str(option.id), "VALUE": option.value} for option in definition.options
        ]
    return description


# Out ------------------------------------------------------------------------------------------


def custom_out(definition: CustomField, stored: Any, *, record_pk: int) -> Any:
    """A stored value (``Record.uf[code]``) as Bitrix24 sends it; ``""`` or ``[]`` for none."""
    if definition.multiple:
        items = stored if isinstance(stored, list) else [] if stored is None else [stored]
        return [_one_out(definition, item, record_pk) for item in items]
    if isinstance(stored, list):
        stored = stored[0] if stored else None
    return "" if stored is None else _one_out(definition, stored, record_pk)


def _one_out(definition: CustomField, stored: Any, record_pk: int) -> Any:
    kind = definition.type
    if kind == UserFieldType.BOOLEAN:
        return "1" if stored else "0"
    if kind == UserFieldType.DOUBLE:
        number = float(stored)
        return str(int(number)) if number.is_integer() else repr(number)
    if kind == UserFieldType.DATE:
        day = datetime.date.fromisoformat(stored)
        moment = datetime.datetime.combine(day, datetime.time(), timezone.get_current_timezone())
        return moment.isoformat(timespec="seconds")
    if kind == UserFieldType.DATETIME:
        return localtime(datetime.datetime.fromisoformat(stored)).isoformat(timespec="seconds")
    if kind == UserFieldType.FILE:
        url = _file_url(definition.entity_type, record_pk, stored)
        return {"id": stored, "showUrl": url, "downloadUrl": url}
    return str(stored)


def _file_url(entity_type: str, record_pk: int, file_id: int) -> str:
    """The record's download address of a file it holds: served only to who may read it."""
    return reverse("crm:record-file", args=[entity_type.lower(), record_pk, file_id])


# In -------------------------------------------------------------------------------------------


@contextlib.contextmanager
def file_uploads() -> Iterator[list[StoredFile]]:
    """A write that may store files: its rows roll back with the write, and the files' content
    is removed when the write fails, so a refused write leaves nothing behind."""
    created: list[StoredFile] = []
    try:
        with transaction.atomic():
            yield created
    except BaseException:
        for stored in created:
            stored.file.delete(save=False)
        raise


def custom_in(definition: CustomField, raw: Any, *, user: Any, uploads: list[StoredFile]) -> Any:
    """A custom value for the services: files stored, a PHP-form list made a list."""
    code = definition.code
    if definition.multiple and isinstance(raw, Mapping) and not _is_file_object(raw):
        raw = list(raw.values())
    if definition.type != UserFieldType.FILE:
        return raw
    if definition.multiple and isinstance(raw, list | tuple) and not _is_file_data(raw):
        files = [_file_in(code, item, user, uploads) for item in raw]
        return [item for item in files if item is not None]
    return _file_in(code, raw, user, uploads)


def _is_file_object(raw: Mapping) -> bool:
    return any(str(key).lower() in ("filedata", "id") for key in raw)


def _is_file_data(raw: Any) -> bool:
    """``["name.ext", "<base64>"]``, told from a list of two file ids by its name."""
    return (
        isinstance(raw, list | tuple)
        and len(raw) == 2
        and all(isinstance(item, str) for item in raw)
        and not raw[0].strip().isdigit()
    )


def _file_in(code: str, raw: Any, user: Any, uploads: list[StoredFile]) -> Any:
    if isinstance(raw, Mapping):
        keys = {str(key).lower(): value for key, value in raw.items()}
        if "filedata" in keys:
            raw = keys["filedata"]
        elif str(keys.get("del", "")).upper() == "Y":
            return None
        else:
            return keys.get("id")
    if not _is_file_data(raw):
        return raw  # a stored file's id, or what the services refuse with a message
    name, data = raw
    text = "".join(data.split())
    if len(text) > (settings.CRM_FILE_MAX_BYTES + 2) // 3 * 4:
        content = b"x" * (settings.CRM_FILE_MAX_BYTES + 1)  # refused below, never decoded
    else:
        try:
            content = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise RestError(f"{code}: The file content is not valid base64.") from None
    upload = SimpleUploadedFile(
        str(name), content, mimetypes.guess_type(str(name))[0] or "application/octet-stream"
    )
    try:
        stored = services.stored_file_create(upload=upload, user=user)
    except ValidationError as error:
        raise ValidationError({code: error.messages}) from None
    uploads.append(stored)
    return stored.pk


# Filters --------------------------------------------------------------------------------------


def custom_sortable(definition: CustomField) -> bool:
    """Whether a list may filter and sort on the field: its stored values compare as the type
    does (a multiple field's list does not)."""
    return definition.filterable and not definition.multiple


def custom_filter_field(spec: FieldSpec, definition: CustomField) -> FilterField:
    """A filter on the field's key in ``Record.uf``: the value converted to its stored form."""
    path = f"uf__{definition.code}"
    if not custom_sortable(definition):

        def refuse(_raw: Any) -> Any:
            raise ValueError("Filtering on this field is not supported.")

        return FilterField(path, refuse)
    if definition.type == UserFieldType.EMPLOYEE:
        return FilterField(path, _user_id)
    field = dataclasses.replace(
        spec.field(RECORD_MODELS[definition.entity_type]), required=False, multiple=False
    )

    def convert(raw: Any) -> Any:
        try:
            return definition.stored(definition.normalize(field.convert(raw)))
        except FieldValueError as error:
            raise ValueError(error.message) from None

    return FilterField(path, convert, text=definition.type in _TEXT_TYPES)


def _user_id(raw: Any) -> int | None:
    """An employee filter's value: a user id, whether or not the user still exists."""
    text = str(raw).strip().removeprefix("user_")
    if text == "":
        return None
    value = bounded_int(text)
    if value is None:
        raise ValueError("The value is not an integer.")
    return value

"""Reading and writing Bitrix24 business-process template files (``.bpt``).

A ``.bpt`` file is PHP ``serialize()`` of ``{VERSION, TEMPLATE, PARAMETERS, VARIABLES, CONSTANTS,
DOCUMENT_FIELDS}`` compressed by ``gzcompress`` (zlib, level 9). Files seen in the wild are also
gzip, raw deflate or not compressed at all; all four are read, told apart by their first bytes.
Uploads are untrusted: the size is checked before anything else, and inflating stops as soon as
the output passes ``max_unpacked``, so a small "zip bomb" costs no more than the limit.

PHP has only arrays; ``phpserial.loads`` gives every one as a dict, and this module decides which
are lists:

* ``TEMPLATE`` and every node's ``Children`` are lists of nodes in file order. Their keys are
  dropped: Bitrix walks them with ``foreach`` and never reads the keys.
* A node's ``Properties`` and the ``PARAMETERS`` / ``VARIABLES`` / ``CONSTANTS`` /
  ``DOCUMENT_FIELDS`` maps are dicts even when empty, since they are looked up by name.
* Any other array is a list exactly when its keys are 0..n-1 in order (PHP's ``array_is_list``),
  otherwise a dict. It is the rule ``json_encode`` applies when Bitrix hands a template to its
  designer in the browser, so values get the shape Bitrix's own UI code sees: ``fieldcondition``
  is ``[["FIELD", "=", "value"]]``, a user list is ``["user_1"]``.

Writing turns lists into arrays keyed 0..n-1 and dicts into arrays with their keys. So a file
written by Bitrix reads and writes back to the same serialized bytes, and content produced by
``bpt_read`` writes and reads back equal. Unknown top-level keys are ignored, as Bitrix does.
"""

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from bizproc.phpserial import PhpSerialError, dumps, loads

FORMAT_VERSION = 2
_MB = 1024 * 1024
_CHUNK = _MB  # most bytes inflated per step
_PLAIN_PREFIX = b"a:"  # a serialized PHP array
_GZIP_MAGIC = b"\x1f\x8b"
_MAPS = ("PARAMETERS", "VARIABLES", "CONSTANTS", "DOCUMENT_FIELDS")


class BptError(ValueError):
    """A refused ``.bpt`` file; ``message`` is in the active language, fit to show the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(kw_only=True)
class BptContent:
    """What a ``.bpt`` file holds; ``template`` is a list with the root node."""

    version: int = FORMAT_VERSION
    template: list[dict[str, Any]]
    parameters: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    document_fields: dict[str, Any] = field(default_factory=dict)


def bpt_read(data: bytes, *, max_size: int = 10 * _MB, max_unpacked: int = 50 * _MB) -> BptContent:
    """Read a ``.bpt`` file, refusing with ``BptError`` anything that is not a sound template."""
    if len(data) > max_size:
        raise BptError(_("The file is larger than %(max)s MB.") % {"max": _megabytes(max_size)})
    payload = _unpack(data, max_unpacked)
    try:
        raw = loads(payload)
    except PhpSerialError as error:
        raise BptError(_damaged()) from error
    if not isinstance(raw, dict) or "TEMPLATE" not in raw:
        raise BptError(_not_bpt())
    try:
        return _content(raw)
    except _Malformed as error:
        raise BptError(_damaged()) from error


def bpt_write(content: BptContent) -> bytes:
    """Write ``content`` the way Bitrix exports it: ``gzcompress(serialize(...), 9)``."""
    payload = dumps(
        {
            "VERSION": content.version,
            "TEMPLATE": content.template,
            "PARAMETERS": content.parameters,
            "VARIABLES": content.variables,
            "CONSTANTS": content.constants,
            "DOCUMENT_FIELDS": content.document_fields,
        }
    )
    return zlib.compress(payload, 9)


def walk(template: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Yield every node of ``template`` depth-first, in document order, the root first."""
    stack = list(reversed(template))
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.get("Children", [])))


def _unpack(data: bytes, max_unpacked: int) -> bytes:
    """The serialized payload of ``data``, whichever of the four forms it comes in."""
    if data.startswith(_PLAIN_PREFIX):
        return data
    if data.startswith(_GZIP_MAGIC):
        wbits = 16 + zlib.MAX_WBITS
    elif _is_zlib_header(data):
        wbits = zlib.MAX_WBITS
    else:
        # Raw deflate has no header, so anything else may be it; garbage fails here or below.
        wbits = -zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    parts: list[bytes] = []
    size = 0
    pending = data
    try:
        while not inflater.eof:
            part = inflater.decompress(pending, _CHUNK)
            pending = inflater.unconsumed_tail
            if not part and not pending:
                break  # the input ended before the stream did
            size += len(part)
            if size > max_unpacked:
                raise BptError(
                    _("The file unpacks to more than %(max)s MB.")
                    % {"max": _megabytes(max_unpacked)}
                )
            parts.append(part)
    except zlib.error as error:
        raise BptError(_not_bpt() if wbits < 0 else _damaged()) from error
    payload = b"".join(parts)
    if not payload.startswith(_PLAIN_PREFIX):
        raise BptError(_not_bpt())
    if not inflater.eof or inflater.unused_data:
        raise BptError(_damaged())
    return payload


def _is_zlib_header(data: bytes) -> bool:
    """RFC 1950: deflate method, a window of at most 32 KB, and the header checksum."""
    return (
        len(data) >= 2
        and data[0] & 0x0F == 8
        and data[0] >> 4 <= 7
        and (data[0] << 8 | data[1]) % 31 == 0
    )


class _Malformed(Exception):
    """The payload has a TEMPLATE but not the shape of one."""


def _content(raw: dict[int | str, Any]) -> BptContent:
    version = raw.get("VERSION", 1)  # files from before versioning carry none
    if type(version) is not int:
        raise _Malformed("VERSION is not an integer")
    nodes = _nodes(raw["TEMPLATE"])
    if not nodes:
        raise _Malformed("TEMPLATE is empty")
    maps = {key: _map(raw.get(key, {}), key) for key in _MAPS}
    return BptContent(
        version=version,
        template=nodes,
        parameters=maps["PARAMETERS"],
        variables=maps["VARIABLES"],
        constants=maps["CONSTANTS"],
        document_fields=maps["DOCUMENT_FIELDS"],
    )


def _nodes(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, dict):
        raise _Malformed("a node list is not an array")
    return [_node(item) for item in raw.values()]


def _node(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _Malformed("a node is not an array")
    if not isinstance(raw.get("Type"), str) or not isinstance(raw.get("Name"), str):
        raise _Malformed("a node has no Type or Name")
    node: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "Children":
            node[key] = _nodes(value)
        elif key == "Properties":
            node[key] = _map(value, "Properties")
        else:
            node[key] = _value(value)
    return node


def _map(raw: Any, what: str) -> dict[Any, Any]:
    if not isinstance(raw, dict):
        raise _Malformed(f"{what} is not an array")
    return {key: _value(value) for key, value in raw.items()}


def _value(raw: Any) -> Any:
    """``raw`` with every array keyed 0..n-1 in order made a list."""
    if not isinstance(raw, dict):
        return raw
    items = {key: _value(value) for key, value in raw.items()}
    if all(key == index for index, key in enumerate(items)):
        return list(items.values())
    return items


def _megabytes(size: int) -> str:
    return f"{size / _MB:g}"


def _damaged() -> str:
    return _("The file is damaged or incomplete.")


def _not_bpt() -> str:
    return _("The file is not a business process template (.bpt).")

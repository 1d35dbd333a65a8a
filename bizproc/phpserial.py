"""PHP ``serialize()`` / ``unserialize()`` for plain data: null, bool, int, float, string, array.

Bitrix stores templates, and exports them as ``.bpt`` files, in PHP's serialize format. Only the
plain-data subset is supported; objects, references and enums are refused, because unserializing
them is how PHP's own ``unserialize`` becomes an attack surface, and templates never contain them.

Reading (``loads``): every PHP array becomes a ``dict`` in file order, even one keyed 0..n-1 —
only the caller knows which arrays are lists (see ``bizproc.bpt``). Keys are ``int`` or ``str``;
a string key PHP treats as an integer ("5", "-3", but not "05" or "-0") becomes ``int``, as in
PHP itself. Strings are decoded as UTF-8. Writing (``dumps``): ``dict`` → array with its keys,
``list``/``tuple`` → array keyed 0..n-1, and floats in the shortest form that reads back exactly,
as PHP ≥ 7.1 writes them (``serialize_precision = -1``).

The reader is meant for untrusted input: nesting is bounded (``MAX_DEPTH``), a declared length or
item count larger than what is left of the input is refused before anything is built, and every
byte is examined a bounded number of times.
"""

import math
import re
from decimal import Decimal
from typing import Any

MAX_DEPTH = 128
"""Deepest array nesting read or written; a template node level costs two (node + Children)."""

_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1  # PHP_INT_MIN, PHP_INT_MAX on 64-bit builds
_MIN_ITEM_SIZE = len(b"i:0;N;")  # the shortest key + value of an array item

_NULL = re.compile(rb"N;")
_BOOL = re.compile(rb"b:([01]);")
_INT = re.compile(rb"i:([+-]?[0-9]{1,19});")
_FLOAT = re.compile(rb"d:([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|NAN|-?INF);")
_STRING_HEAD = re.compile(rb's:([0-9]{1,19}):"')
_ARRAY_HEAD = re.compile(rb"a:([0-9]{1,19}):\{")
_ARRAY_END = re.compile(rb"\}")
_NUMERIC_KEY = re.compile(r"-?[1-9][0-9]{0,18}|0")

_REFUSED = {
    b"O": "objects",
    b"C": "objects",
    b"r": "references",
    b"R": "references",
    b"E": "enums",
}


class PhpSerialError(ValueError):
    """Data that is not PHP-serialized plain data, or a value that has no PHP form."""


def loads(data: bytes) -> Any:
    """Read one PHP-serialized value that spans all of ``data``."""
    reader = _Reader(data)
    value = reader.value(0)
    if reader.pos != len(data):
        raise PhpSerialError(f"trailing data at byte {reader.pos}")
    return value


def dumps(value: Any) -> bytes:
    """Write ``value`` (None, bool, int, float, str, dict, list, tuple) as PHP ``serialize()``."""
    out: list[bytes] = []
    _write(value, out, 0)
    return b"".join(out)


class _Reader:
    """A cursor over the input; each value is read from ``pos``, which then moves past it."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def value(self, depth: int) -> Any:
        tag = self.data[self.pos : self.pos + 1]
        if tag == b"a":
            return self._array(depth)
        if tag == b"s":
            return self._string()
        if tag == b"i":
            return self._int()
        if tag == b"d":
            return float(self._match(_FLOAT, "float"))
        if tag == b"b":
            return self._match(_BOOL, "boolean") == b"1"
        if tag == b"N":
            self._match(_NULL, "null")
            return None
        if tag in _REFUSED:
            raise PhpSerialError(
                f"PHP {_REFUSED[tag]} ({tag.decode()}:) are not supported, at byte {self.pos}"
            )
        raise self._unexpected()

    def _array(self, depth: int) -> dict[int | str, Any]:
        start = self.pos
        if depth >= MAX_DEPTH:
            raise PhpSerialError(f"arrays nested deeper than {MAX_DEPTH} levels at byte {start}")
        count = int(self._match(_ARRAY_HEAD, "array header"))
        if count * _MIN_ITEM_SIZE > len(self.data) - self.pos:
            raise PhpSerialError(
                f"array at byte {start} declares {count} items, more than the data can hold"
            )
        result: dict[int | str, Any] = {}
        for _ in range(count):
            tag = self.data[self.pos : self.pos + 1]
            if tag == b"i":
                key: int | str = self._int()
            elif tag == b"s":
                key = _array_key(self._string())
            else:
                raise self._unexpected("array key (integer or string)")
            # A repeated key overwrites the earlier value in place, as PHP does.
            result[key] = self.value(depth + 1)
        self._match(_ARRAY_END, "end of array '}'")
        return result

    def _int(self) -> int:
        start = self.pos
        number = int(self._match(_INT, "integer"))
        if not _INT_MIN <= number <= _INT_MAX:
            raise PhpSerialError(f"integer out of the 64-bit range at byte {start}")
        return number

    def _string(self) -> str:
        start = self.pos
        length = int(self._match(_STRING_HEAD, "string header"))
        begin, end = self.pos, self.pos + length
        if end + 2 > len(self.data):
            raise PhpSerialError(
                f"string at byte {start} declares {length} bytes, more than the data holds"
            )
        if self.data[end : end + 2] != b'";':
            raise PhpSerialError(f"expected '\";' closing the string at byte {end}")
        try:
            text = self.data[begin:end].decode("utf-8")
        except UnicodeDecodeError as error:
            raise PhpSerialError(f"invalid UTF-8 at byte {begin + error.start}") from None
        self.pos = end + 2
        return text

    def _match(self, pattern: re.Pattern[bytes], what: str) -> bytes:
        """Consume ``pattern`` at the current offset; return its group, or the match if none."""
        match = pattern.match(self.data, self.pos)
        if match is None:
            raise self._unexpected(what)
        self.pos = match.end()
        return match.group(match.lastindex or 0)

    def _unexpected(self, what: str = "a value") -> PhpSerialError:
        if self.pos >= len(self.data):
            return PhpSerialError(f"data ends at byte {self.pos}, expected {what}")
        return PhpSerialError(f"malformed data at byte {self.pos}, expected {what}")


def _array_key(key: str) -> int | str:
    """The key PHP stores for string ``key``: an int when the string is a canonical integer."""
    if _NUMERIC_KEY.fullmatch(key):
        number = int(key)
        if _INT_MIN <= number <= _INT_MAX:
            return number
    return key


def _write(value: Any, out: list[bytes], depth: int) -> None:
    if value is None:
        out.append(b"N;")
    elif isinstance(value, bool):
        out.append(b"b:1;" if value else b"b:0;")
    elif isinstance(value, int):
        if not _INT_MIN <= value <= _INT_MAX:
            raise PhpSerialError(f"integer {value} is out of PHP's 64-bit range")
        out.append(b"i:%d;" % value)
    elif isinstance(value, float):
        out.append(b"d:%s;" % _php_float(value).encode("ascii"))
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, dict | list | tuple):
        if depth >= MAX_DEPTH:
            raise PhpSerialError(f"arrays nested deeper than {MAX_DEPTH} levels")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        out.append(b"a:%d:{" % len(value))
        seen: set[int | str] = set()
        for raw_key, item in items:
            key = _php_key(raw_key)
            if key in seen:
                raise PhpSerialError(f"array key {raw_key!r} repeats another key once PHP casts it")
            seen.add(key)
            out.append(b"i:%d;" % key if isinstance(key, int) else _string(key))
            _write(item, out, depth + 1)
        out.append(b"}")
    else:
        raise PhpSerialError(f"cannot serialize a {type(value).__name__}")


def _php_key(key: Any) -> int | str:
    if isinstance(key, str):
        return _array_key(key)
    if isinstance(key, int) and not isinstance(key, bool) and _INT_MIN <= key <= _INT_MAX:
        return key
    raise PhpSerialError(f"array key {key!r} is not a string or a 64-bit integer")


def _string(text: str) -> bytes:
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise PhpSerialError(f"string {text!r} cannot be encoded as UTF-8") from error
    return b's:%d:"%s";' % (len(raw), raw)


def _php_float(value: float) -> str:
    """Format ``value`` as PHP ≥ 7.1 does with ``serialize_precision = -1``.

    The digits are the shortest that read back exactly (Python's ``repr`` digits); PHP switches
    to ``d.dddE±x`` once the decimal point sits more than 17 digits left or 3 zeros right of
    them, e.g. ``0.1``, ``1.0E+100``, ``1.0E-5``, ``-0``, ``100``.
    """
    if math.isnan(value):
        return "NAN"
    if math.isinf(value):
        return "INF" if value > 0 else "-INF"
    sign, digit_tuple, exponent = Decimal(repr(value)).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    point = len(digits) + int(exponent)  # value == 0.<digits> * 10**point
    minus = "-" if sign else ""
    if point > 17 or point < -3:
        return f"{minus}{digits[0]}.{digits[1:] or '0'}E{point - 1:+d}"
    if point <= 0:
        return f"{minus}0.{'0' * -point}{digits}"
    fraction = digits[point:]
    return minus + digits[:point].ljust(point, "0") + (f".{fraction}" if fraction else "")

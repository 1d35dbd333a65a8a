"""What operators and conversions do to the engine's typed values.

Values are ``None`` (empty), ``str``, ``int``, ``float``, ``bool``, ``datetime.date``, an aware
``datetime.datetime``, users as ``"user_<id>"`` strings, and lists of these. The rules follow
Bitrix (PHP) where that is sensible and are stricter where PHP silently guesses:

* Numbers: int stays int under ``+ - * ^`` (non-negative integer powers), ``/`` and ``%`` give
  floats. Empty (None, "") counts as 0, ``true``/``false`` as 1/0, numeric strings as their
  number; any other string, a list or a date used as a number is an error, not PHP's 0.
* ``date ± number`` shifts by that many days (same wall-clock time); nothing else mixes dates
  and numbers.
* Truth: empty, 0, "" and the strings "0", "N", "No", "False", "Off", "Нет" (any case, as the
  bool field type reads them), and the empty list are false; everything else is true.
* Comparison (PHP 8 style): with a bool on either side both sides are compared as truths (so a
  bool equals "Y"/"N"); with a date, both as moments (a date is local midnight, strings are
  parsed, numbers and empty do not compare); otherwise empty is "" next to text and 0 next to
  anything else, numbers and numeric strings compare numerically and the rest as text (so
  "" <> "0"). ``=``/``<>`` never fail (incomparable values are unequal; lists are equal when
  their items are); ``< > <= >=`` on incomparable values are an error.
* As text (substitution, ``&``): empty → "", bool → "Y"/"N" (Bitrix's stored form), floats with
  14 significant digits as PHP prints them (0.1 + 0.2 → "0.3"), date → ``YYYY-MM-DD``,
  datetime → ``YYYY-MM-DD HH:MM:SS`` in the active time zone, lists joined with ", ".
"""

import datetime
import math
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.utils import timezone

from . import errors
from .dates import as_moment, parse_moment, to_datetime, wall_clock
from .errors import Mismatch


def check_number[N: (int, float)](number: N) -> N:
    if isinstance(number, float) and not math.isfinite(number):
        raise errors.number_too_large()
    if abs(number) > errors.MAX_NUMBER:
        raise errors.number_too_large()
    return number


def check_text(text: str) -> str:
    if len(text) > errors.MAX_TEXT:
        raise errors.text_too_long()
    return text


def joined(glue: str, texts: Iterable[str]) -> str:
    """``glue.join(texts)``, refused before it is built when it would pass ``MAX_TEXT``: a
    list holding one long text many times is small in memory and huge as text."""
    pieces: list[str] = []
    length = -len(glue)
    for text in texts:
        length += len(glue) + len(text)
        if length > errors.MAX_TEXT:
            raise errors.text_too_long()
        pieces.append(text)
    return glue.join(pieces)


def text_size(value: Any) -> int:
    """Characters ``value`` takes as text (a list: its items and their ", " separators),
    counted without building that text."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list | tuple):
        items = flatten(value)
        return sum(map(text_size, items)) + 2 * max(len(items) - 1, 0)
    return len(as_text(value))


def flatten(values: Iterable[Any]) -> list[Any]:
    """Nested lists as one flat list (Bitrix flattens function arguments the same way)."""
    result: list[Any] = []
    stack = [iter(values)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list | tuple):
                stack.append(iter(item))
                break
            result.append(item)
        else:
            stack.pop()
    return result


def is_date(value: Any) -> bool:
    return isinstance(value, datetime.date)


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return format(value, ".14g")
    if isinstance(value, datetime.datetime):
        return wall_clock(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return joined(", ", (as_text(item) for item in flatten(value)))
    return str(value)


_NUMERIC = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*", re.ASCII)
_INTEGER = re.compile(r"\s*[+-]?\d+\s*", re.ASCII)


def as_number(value: Any) -> int | float:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    if isinstance(value, str) and len(value) <= 400 and _NUMERIC.fullmatch(value):
        return check_number(int(value) if _INTEGER.fullmatch(value) else float(value))
    raise Mismatch


_FALSE_WORDS = frozenset({"", "0", "n", "no", "false", "off", "нет", "н"})


def as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in _FALSE_WORDS
    if isinstance(value, datetime.date):
        return True
    return bool(value)


# Operators -------------------------------------------------------------------------------


def _shift_days(moment: datetime.date, days: int | float) -> datetime.date:
    """``moment`` moved by ``days`` on the wall clock; whole days keep a date a date."""
    try:
        if not isinstance(moment, datetime.datetime) and float(days).is_integer():
            return moment + datetime.timedelta(days=int(days))
        return timezone.localtime(to_datetime(moment)) + datetime.timedelta(days=days)
    except OverflowError:
        raise Mismatch from None


def add(left: Any, right: Any) -> Any:
    if is_date(left) and not is_date(right):
        return _shift_days(left, as_number(right))
    if is_date(right) and not is_date(left):
        return _shift_days(right, as_number(left))
    return check_number(as_number(left) + as_number(right))


def subtract(left: Any, right: Any) -> Any:
    if is_date(left) and not is_date(right):
        return _shift_days(left, -as_number(right))
    return check_number(as_number(left) - as_number(right))


def multiply(left: Any, right: Any) -> int | float:
    return check_number(as_number(left) * as_number(right))


def divide(left: Any, right: Any) -> float:
    divisor = as_number(right)
    if divisor == 0:
        raise errors.division_by_zero()
    try:
        return check_number(as_number(left) / divisor)
    except OverflowError:
        raise errors.number_too_large() from None


def power(left: Any, right: Any) -> int | float:
    """Refuses before computing anything beyond ``MAX_NUMBER``, so ``9^9^9^9`` fails fast."""
    base, exponent = as_number(left), as_number(right)
    if base == 0 and exponent < 0:
        raise errors.division_by_zero()
    if isinstance(base, int) and isinstance(exponent, int) and exponent >= 0:
        if abs(base) > 1 and exponent * math.log2(abs(base)) > 1023:
            raise errors.number_too_large()
        return base**exponent
    try:
        return check_number(math.pow(base, exponent))
    except OverflowError:
        raise errors.number_too_large() from None
    except ValueError:  # a negative number to a fractional power
        raise Mismatch from None


def percent(value: Any) -> float:
    return as_number(value) / 100


def negate(value: Any) -> int | float:
    return -as_number(value)


def concat(left: Any, right: Any) -> str:
    first, second = as_text(left), as_text(right)
    if len(first) + len(second) > errors.MAX_TEXT:
        raise errors.text_too_long()
    return first + second


def _sign(difference: Any) -> int:
    return (difference > 0) - (difference < 0)


def _numeric(value: Any) -> int | float | None:
    """A number, or a non-empty numeric string's number (PHP 8 compares those numerically)."""
    if isinstance(value, int | float):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return as_number(value)
        except Mismatch:
            return None
    return None


def _order(left: Any, right: Any) -> int:
    """-1, 0 or 1; raises ``Mismatch`` for values that have no order between them."""
    if isinstance(left, list | tuple) or isinstance(right, list | tuple):
        raise Mismatch
    if isinstance(left, bool) or isinstance(right, bool):
        return _sign(as_bool(left) - as_bool(right))
    if is_date(left) or is_date(right):
        if any(value is None or isinstance(value, int | float) for value in (left, right)):
            raise Mismatch  # a number is no moment here (functions take Unix timestamps)
        a, b = as_moment(left), as_moment(right)
        return (a > b) - (a < b)
    # Empty is "" next to text and 0 next to anything else, as PHP's null.
    left = ("" if isinstance(right, str) else 0) if left is None else left
    right = ("" if isinstance(left, str) else 0) if right is None else right
    x, y = _numeric(left), _numeric(right)
    if x is not None and y is not None:
        return _sign(x - y)
    left_text, right_text = as_text(left), as_text(right)
    return (left_text > right_text) - (left_text < right_text)


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(map(_equal, left, right))
    try:
        return _order(left, right) == 0
    except Mismatch:
        return False


def comparison(symbol: str) -> Callable[[Any, Any], bool]:
    if symbol == "=":
        return _equal
    if symbol in ("<>", "!="):
        return lambda left, right: not _equal(left, right)
    test: Callable[[int], bool] = {
        "<": lambda order: order < 0,
        ">": lambda order: order > 0,
        "<=": lambda order: order <= 0,
        ">=": lambda order: order >= 0,
    }[symbol]
    return lambda left, right: test(_order(left, right))


# Modifiers (``{=Obj:Field > int}``) ------------------------------------------------------

_USER = re.compile(r"(?:user_)?(\d{1,18})", re.IGNORECASE | re.ASCII)


def _each(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Applies to every value of a multiple field, and leaves empty as empty."""

    def modifier(value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [modifier(item) for item in value]
        return None if value is None or value == "" else convert(value)

    return modifier


def _to_int(value: Any) -> int:
    if isinstance(value, str) and (user := _USER.fullmatch(value.strip())):
        return int(user[1])
    return int(as_number(value))


def _to_date(value: Any) -> datetime.date:
    moment = value if is_date(value) else parse_moment(as_text(value))
    if moment is None:
        raise Mismatch
    if isinstance(moment, datetime.datetime):
        return timezone.localtime(to_datetime(moment)).date()
    return moment


def _to_users(value: Any) -> list[str]:
    users = []
    for item in flatten([value]):
        if item is None:
            continue
        match = None if isinstance(item, bool) else _USER.fullmatch(as_text(item).strip())
        if match is None:
            raise Mismatch
        users.append(f"user_{int(match[1])}")
    return users


CONVERSIONS: dict[str, Callable[[Any], Any]] = {
    "int": _each(_to_int),
    "double": _each(lambda value: float(as_number(value))),
    "bool": _each(as_bool),
    "date": _each(_to_date),
    "datetime": _each(as_moment),
    "string": as_text,
    "user": _to_users,
}
"""Type modifiers; ``printable``/``friendly`` need the scope and live in the interpreter."""

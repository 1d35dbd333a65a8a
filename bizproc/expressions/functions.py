"""The formula functions, by lower-case name, with the number of arguments each accepts.

Behaviour follows Bitrix's ``CBPCalc`` (itself mostly PHP's functions of the same names);
the docstrings note where we differ. A function signals a bad argument by raising
``Mismatch`` (or ``ValueError``/``OverflowError`` from the standard library), which the
interpreter reports as ``Incorrect arguments of function "name"`` at the call.
"""

import datetime
import decimal
import html
import math
import random
import re
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from django.conf import settings
from django.utils import timezone

from . import errors
from .dates import (
    ZonedDateTime,
    as_calendar,
    as_moment,
    date_add,
    date_diff,
    php_date,
    wall_clock,
    zoned,
)
from .environment import Environment
from .errors import Mismatch
from .strtotime import strtotime
from .values import (
    as_bool,
    as_number,
    as_text,
    check_number,
    check_text,
    flatten,
    joined,
    text_size,
)

MANY = errors.MAX_SOURCE  # no call can have more arguments than the source has characters


@dataclass(frozen=True, slots=True)
class Function:
    impl: Callable[..., Any]
    min_args: int
    max_args: int
    lazy: bool = False
    """Receives its arguments as zero-argument callables, so that ``if`` evaluates only the
    branch it takes and ``and``/``or`` stop early (Bitrix evaluates everything)."""
    uses_env: bool = False
    """Receives first the scope's ``Environment`` (the clock, the working calendar, people)."""


FUNCTIONS: dict[str, Function] = {}


def _function(
    name: str, min_args: int, max_args: int | None = None, *, lazy: bool = False,
    uses_env: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:  # fmt: skip
    def register(impl: Callable[..., Any]) -> Callable[..., Any]:
        most = min_args if max_args is None else max_args
        FUNCTIONS[name] = Function(impl, min_args, most, lazy, uses_env)
        return impl

    return register


def _text(value: Any) -> str:
    """A single value as text; a list where one value is expected is a mismatch."""
    if isinstance(value, list | tuple):
        raise Mismatch
    return as_text(value)


def _count(value: Any) -> int:
    """A position or length: truncated like PHP's (int), refused beyond the longest text."""
    number = int(as_number(value))
    if abs(number) > errors.MAX_TEXT:
        raise Mismatch
    return number


def _first(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return value[0] if value else None
    return value


# Logic -----------------------------------------------------------------------------------


@_function("if", 2, 3, lazy=True)
def _if(condition: Callable[[], Any], then: Callable[[], Any],
        otherwise: Callable[[], Any] = lambda: None) -> Any:  # fmt: skip
    return then() if as_bool(condition()) else otherwise()


@_function("and", 1, MANY, lazy=True)
def _and(*args: Callable[[], Any]) -> bool:
    return all(as_bool(value) for arg in args for value in flatten([arg()]))


@_function("or", 1, MANY, lazy=True)
def _or(*args: Callable[[], Any]) -> bool:
    return any(as_bool(value) for arg in args for value in flatten([arg()]))


@_function("not", 1)
def _not(value: Any) -> bool:
    return not as_bool(value)


@_function("true", 0)
def _true() -> bool:
    return True


@_function("false", 0)
def _false() -> bool:
    return False


# Numbers ---------------------------------------------------------------------------------

_DECIMAL = decimal.Context(prec=500)


def _round_half_up(number: int | float, places: int) -> decimal.Decimal:
    """PHP rounds halves away from zero (Python's ``round`` rounds them to even)."""
    if not -100 <= places <= 100:
        raise Mismatch
    exact = decimal.Decimal(repr(number) if isinstance(number, float) else number)
    return exact.quantize(
        decimal.Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP, context=_DECIMAL
    )


@_function("abs", 1)
def _abs(value: Any) -> int | float:
    return abs(as_number(value))


@_function("min", 1, MANY)
def _min(*args: Any) -> int | float:
    numbers = [as_number(value) for value in flatten(args)]
    if not numbers:
        raise Mismatch
    return min(numbers)


@_function("max", 1, MANY)
def _max(*args: Any) -> int | float:
    numbers = [as_number(value) for value in flatten(args)]
    if not numbers:
        raise Mismatch
    return max(numbers)


@_function("round", 1, 2)
def _round(value: Any, places: Any = 0) -> int | float:
    """An int when rounding to a whole number or coarser, a float otherwise."""
    count = _count(places)
    rounded = _round_half_up(as_number(value), count)
    return int(rounded) if count <= 0 else float(rounded)


@_function("ceil", 1)
def _ceil(value: Any) -> int:
    return math.ceil(as_number(value))


@_function("floor", 1)
def _floor(value: Any) -> int:
    return math.floor(as_number(value))


_LEADING_INT = re.compile(r"\s*([+-]?\d+)", re.ASCII)
_LEADING_FLOAT = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


@_function("intval", 1)
def _intval(value: Any) -> int:
    """PHP's: the leading integer of a text ("12abc" → 12, "abc" → 0), floats truncated."""
    if isinstance(value, str):
        leading = _LEADING_INT.match(value)
        if leading is None:
            return 0
        if len(leading[1]) > 310:
            raise Mismatch
        return check_number(int(leading[1]))
    return int(as_number(value))


@_function("floatval", 1)
def _floatval(value: Any) -> float:
    """PHP's: the leading number of a text ("1.5kg" → 1.5, "abc" → 0.0)."""
    if isinstance(value, str):
        leading = _LEADING_FLOAT.match(value)
        if leading is None:
            return 0.0
        if len(leading[0]) > 400:
            raise Mismatch
        return check_number(float(leading[0]))
    return float(as_number(value))


_RAND_MAX = 2**31 - 1
"""PHP's ``mt_getrandmax()``: ``rand()``'s upper end when none (or 0) is given."""
_LARGEST_INT = 2**63 - 1
_RANDOM = random.SystemRandom()


def _integer(value: Any) -> int:
    """PHP's ``(int)`` of a number, refused past a 64-bit integer instead of wrapping."""
    number = int(as_number(_first(value)))
    if abs(number) > _LARGEST_INT:
        raise Mismatch
    return number


@_function("rand", 0, 2)
def _rand(low: Any = 0, high: Any = 0) -> int | None:
    """A random whole number from ``low`` to ``high`` inclusive (``high`` 0 or none:
    2147483647); empty when ``low`` is above ``high``, as in Bitrix."""
    least, most = _integer(low), _integer(high) or _RAND_MAX
    if least > most:
        return None
    return _RANDOM.randint(least, most)


@_function("numberformat", 1, 4)
def _numberformat(value: Any, places: Any = 0, point: Any = ".", separator: Any = ",") -> str:
    """PHP's ``number_format``: halves away from zero, thousands grouped, never "-0"."""
    count = _count(places)
    if count < 0:
        raise Mismatch
    rounded = _round_half_up(as_number(value), count)
    whole, _, fraction = f"{rounded.copy_abs():f}".partition(".")
    grouped = f"{int(whole):,}".replace(",", _text(separator))
    sign = "-" if rounded < 0 else ""
    return check_text(sign + grouped + (_text(point) + fraction if count else ""))


# Text ------------------------------------------------------------------------------------


@_function("substr", 2, 3)
def _substr(value: Any, start: Any, length: Any = None) -> str:
    """PHP's ``mb_substr``, except that a length of 0 means "to the end", as in Bitrix."""
    text, begin = _text(value), _count(start)
    size = 0 if length is None else _count(length)
    if begin < 0:
        begin = max(len(text) + begin, 0)
    if size == 0:
        return text[begin:]
    end = begin + size if size > 0 else len(text) + size
    return text[begin:end]


@_function("strlen", 1)
def _strlen(value: Any) -> int:
    return len(_text(value))


@_function("strpos", 2, 3)
def _strpos(haystack: Any, needle: Any, offset: Any = 0) -> int | bool:
    """The 0-based position, or false when not found (PHP's ``mb_strpos``)."""
    text, part = _text(haystack), _text(needle)
    if not text:
        return False
    start = max(-len(text), min(len(text), _count(offset)))
    index = text.find(part, start + len(text) if start < 0 else start)
    return False if index < 0 else index


@_function("implode", 2)
def _implode(glue: Any, pieces: Any) -> str:
    return joined(_text(glue), (as_text(piece) for piece in flatten([pieces])))


@_function("explode", 2)
def _explode(delimiter: Any, value: Any) -> list[str]:
    """Of a list, as Bitrix, only the first value is split. Refused before it is built when
    the list, written out with its ", " separators, would pass ``MAX_TEXT``."""
    separator = _text(_first(delimiter))
    if not separator:
        raise Mismatch
    text = _text(_first(value))
    cuts = text.count(separator)
    if len(text) + cuts * (2 - len(separator)) > errors.MAX_TEXT:
        raise errors.text_too_long()
    return text.split(separator)


@_function("strtolower", 1)
def _strtolower(value: Any) -> str:
    return _text(value).lower()


@_function("strtoupper", 1)
def _strtoupper(value: Any) -> str:
    return check_text(_text(value).upper())


@_function("ucwords", 1)
def _ucwords(value: Any) -> str:
    """PHP's ``mb_convert_case(…, MB_CASE_TITLE)``, which Bitrix uses: "jOHN doe" → "John Doe"."""
    return check_text(_text(value).title())


@_function("ucfirst", 1)
def _ucfirst(value: Any) -> str:
    text = _text(value)
    return check_text(text[:1].upper() + text[1:])


@_function("trim", 1, MANY)
def _trim(*args: Any) -> str | list[str]:
    """Every value of every argument trimmed: a list when there are several, else the one
    text ("" for none), as in Bitrix."""
    trimmed = [as_text(item).strip() for item in flatten(args)]
    return trimmed if len(trimmed) > 1 else (trimmed[0] if trimmed else "")


@_function("urlencode", 1)
def _urlencode(value: Any) -> str:
    """PHP's ``urlencode`` (spaces as "+", "~" encoded); a list is joined with ", " first."""
    return check_text(quote_plus(as_text(value), safe="").replace("~", "%7E"))


_ALPHANUMERIC = string.ascii_letters + string.digits


@_function("randstring", 0, 1)
def _randstring(length: Any = 10) -> str:
    count = _count(length)
    if not 1 <= count <= 1000:
        raise Mismatch
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(count))


@_function("convert", 2, 3, uses_env=True)
def _convert(env: Environment, value: Any, kind: Any, link: Any = None) -> Any:
    """The old ``CBPCalc`` conversion: ``printableuser`` gives the people's names joined with
    ", " (people unknown or out of sight left out), ``printableuserb24`` the same as links
    (to ``link``, else to nowhere); any other type gives the value unchanged."""
    kind_name = _text(kind).strip().lower()
    if kind_name not in ("printableuser", "printableuserb24"):
        return value
    names = []
    for user in flatten([value]):
        info = env.user_info(user) if user not in (None, "") else None
        if info is not None:
            names.append(as_text(info.get("FULL_NAME")))
    if kind_name == "printableuser":
        return joined(", ", names)
    href = html.escape(_text(link), quote=True) if link not in (None, "") else "#"
    return joined(", ", (f'<a href="{href}">{html.escape(name)}</a>' for name in names))


# Lists -----------------------------------------------------------------------------------


@_function("merge", 1, MANY)
def _merge(*args: Any) -> list[Any]:
    """One list of the values of every argument (lists are opened one level; empties skipped).

    Refused before it is built when its text would pass ``MAX_TEXT``: it holds references to
    its arguments, but once shown or stored each copy counts."""
    merged: list[Any] = []
    size = 0
    for arg in args:
        if arg is None:
            continue
        size += text_size(arg) + (2 if merged else 0)
        if size > errors.MAX_TEXT:
            raise errors.text_too_long()
        merged.extend(arg if isinstance(arg, list | tuple) else [arg])
    return merged


def _values(args: tuple[Any, ...]) -> list[Any]:
    """The values of every argument, lists opened and empties left out; refused (as ``merge``)
    when the list, written out, would pass ``MAX_TEXT``."""
    values = [value for value in flatten(args) if value is not None]
    if text_size(values) > errors.MAX_TEXT:
        raise errors.text_too_long()
    return values


@_function("shuffle", 1, MANY)
def _shuffle(*args: Any) -> list[Any]:
    """The values of every argument (lists opened, empties left out) in random order."""
    values = _values(args)
    _RANDOM.shuffle(values)
    return values


@_function("swirl", 1, MANY)
def _swirl(*args: Any) -> list[Any]:
    """The values of every argument (lists opened, empties left out), the first moved to the
    end: round-robin through a list of people (``swirl(a, b, c)`` = b, c, a)."""
    values = _values(args)
    return values[1:] + values[:1]


@_function("firstvalue", 1, MANY)
def _firstvalue(*args: Any) -> Any:
    values = flatten(args)
    return values[0] if values else None


# Dates -----------------------------------------------------------------------------------


@_function("date", 1, 2, uses_env=True)
def _date(env: Environment, pattern: Any, value: Any = None) -> str:
    """PHP ``date(format, value)`` in the active time zone; no value (or empty) means now."""
    if not isinstance(pattern, str):
        raise Mismatch
    return check_text(php_date(pattern, env.now() if value is None or value == "" else value))


@_function("locdate", 1, 2, uses_env=True)
def _locdate(env: Environment, pattern: Any, value: Any = None) -> str:
    """``date`` with day and month names in the active language: "l, j F Y" is "Friday,
    15 March 2024" in English and "Пятница, 15 марта 2024" in Russian (a month after a day
    number in the genitive, as Bitrix writes it)."""
    if not isinstance(pattern, str):
        raise Mismatch
    moment = env.now() if value is None or value == "" else _first(value)
    return check_text(php_date(pattern, moment, localized=True))


def _moment_or_none(value: Any) -> datetime.date | None:
    """A date from a value, or None where Bitrix's ``makeTimestamp`` gives false."""
    try:
        return as_calendar(_first(value))
    except Mismatch:
        return None


@_function("strtotime", 1, 2, uses_env=True)
def _strtotime(env: Environment, text: Any, base: Any = None) -> datetime.datetime | None:
    """PHP's ``strtotime`` (the subset in ``strtotime.py``) from ``base`` (default now):
    empty when the text names no moment, as in Bitrix."""
    start = env.now() if base in (None, "") else _moment_or_none(base)
    if start is None:
        return None
    return strtotime(_text(_first(text)), as_moment(start))


@_function("touserdate", 1, 2, uses_env=True)
def _touserdate(env: Environment, user: Any, value: Any = None) -> datetime.datetime | None:
    """The moment (default now) on the person's own clock: shown and formatted in their time
    zone. Empty without a person or with a value that is no date; a person whose zone is
    unknown keeps the active zone's clock."""
    if user in (None, "", []):
        return None
    moment = env.now() if value in (None, "") else _moment_or_none(value)
    if moment is None:
        return None
    zone = env.user_zone(user)
    return as_moment(moment) if zone is None else zoned(as_moment(moment), zone)


@_function("getuserdateoffset", 1, uses_env=True)
def _getuserdateoffset(env: Environment, user: Any) -> int | None:
    """Seconds the person's clock is ahead of the process's (negative: behind), as Bitrix's
    offset from the portal's time; 0 when their zone is unknown, empty without a person."""
    if user in (None, "", []):
        return None
    zone = env.user_zone(user)
    if zone is None:
        return 0
    now = env.now()
    theirs = now.astimezone(zone).utcoffset() or datetime.timedelta()
    ours = timezone.localtime(now).utcoffset() or datetime.timedelta()
    return int((theirs - ours).total_seconds())


_TWELVE_HOURS = 12 * 3600


@_function("settime", 1, 4)
def _settime(value: Any, hours: Any = 0, minutes: Any = 0, offset: Any = 0) -> Any:
    """The date at ``hours``:``minutes`` (negative counts as 0; 25 hours is 01:00 the next
    day). ``offset`` (seconds, at most ±12 hours) says the hours are on the clock of that UTC
    offset rather than the date's own. Empty for a value that is no date."""
    moment = _moment_or_none(value)
    if moment is None:
        return None
    clock = datetime.timedelta(hours=max(0, _count(hours)), minutes=max(0, _count(minutes)))
    shift = max(-_TWELVE_HOURS, min(_TWELVE_HOURS, _integer(offset)))
    local = wall_clock(moment)
    zone = local.tzinfo if shift == 0 else datetime.timezone(datetime.timedelta(seconds=shift))
    midnight = datetime.datetime.combine(local.date(), datetime.time(), tzinfo=zone)
    result = (midnight + clock).astimezone(local.tzinfo)
    if isinstance(moment, ZonedDateTime) and local.tzinfo is not None:
        return zoned(result, local.tzinfo)
    return timezone.localtime(result)


@_function("dateadd", 2)
def _dateadd(value: Any, interval: Any) -> datetime.date | None:
    return date_add(value, interval)


@_function("datediff", 3)
def _datediff(first: Any, second: Any, pattern: Any) -> str | None:
    return date_diff(first, second, pattern)


# The document and people ---------------------------------------------------------------


@_function("getdocumenturl", 0, 2, uses_env=True)
def _getdocumenturl(env: Environment, form: Any = "", external: Any = False) -> str | None:
    """The address of the process's document: its absolute path (``/crm/deal/5/``), or with
    ``external`` true the full address (``settings.SITE_URL`` before the path; the path alone
    when that setting is empty). ``"bb"`` gives ``[url=…]Title[/url]``, ``"html"`` a link.
    Empty outside a process."""
    url = env.document_url()
    if url is None:
        return None
    site = str(settings.SITE_URL or "").rstrip("/")
    if as_bool(external) and site:
        url = site + url
    kind = _text(form).strip().lower()
    if kind not in ("bb", "html"):
        return url
    title = env.document_title() or ""
    if kind == "bb":
        return check_text(f"[url={url}]{title}[/url]")
    return check_text(
        f'<a href="{html.escape(url, quote=True)}" target="_blank">{html.escape(title)}</a>'
    )


@_function("getuserinfo", 1, 2, uses_env=True)
def _getuserinfo(env: Environment, user: Any, field: Any = "FULL_NAME") -> Any:
    """One detail of a person (the first one given): ``ID``, ``LOGIN``, ``NAME``,
    ``LAST_NAME``, ``FULL_NAME`` (the default), ``EMAIL``, ``ACTIVE``, ``TIME_ZONE``,
    ``LANGUAGE``, ``DEPARTMENTS`` — also with Bitrix's ``USER_`` prefix, any case. Empty for
    nobody or someone the process may not see; an unknown detail is an error. Not in Bitrix's
    formulas: there the "Get user information" block reads these."""
    name = _text(_first(field)).strip().upper().removeprefix("USER_")
    if name not in _USER_DETAILS:
        raise Mismatch
    people = [item for item in flatten([user]) if item not in (None, "")]
    info = env.user_info(people[0]) if people else None
    return None if info is None else info.get(name)


_USER_DETAILS = frozenset(
    {"ID", "LOGIN", "NAME", "LAST_NAME", "FULL_NAME", "EMAIL", "ACTIVE", "TIME_ZONE", "LANGUAGE",
     "DEPARTMENTS"}
)  # fmt: skip
"""What ``Environment.user_info`` gives of a person."""

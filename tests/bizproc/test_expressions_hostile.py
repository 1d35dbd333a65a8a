"""Hostile expressions: each fails fast with a specific error at a specific place, or is left
as the plain text it is. Nothing is ever evaluated twice or by Python."""

import datetime
import sys
import time

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from bizproc.expressions import ExpressionError, MappingScope, evaluate

SCOPE = MappingScope(
    {
        "Document": {"TITLE": "Deal", "SECRET": "s3cr3t"},
        "Variable": {
            "x": "{=Document:SECRET}",
            "formula": "=1+1",
            "inline": "{{=2*2}}",
            "commas": "," * 600_000,
        },
    }
)
SECONDS = 1.0


def timed(text: str):
    """The result or the error of evaluating ``text``, asserting it took under a second."""
    started = time.perf_counter()
    try:
        with translation.override("en"):
            return evaluate(text, SCOPE)
    except ExpressionError as error:
        return error
    finally:
        assert time.perf_counter() - started < SECONDS


N8N = (
    '{{ $jmespath($json, "x").constructor.constructor("return process")()'
    '.mainModule.require("child_process").execSync("id") }}'
)
JINJA = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
SPEL = "#{T(java.lang.Runtime).getRuntime().exec('id')}"
JUEL = "${''.getClass().forName('java.lang.Runtime')}"

DEEP = "The expression is nested too deeply: at most 50 levels"
NAME = 'Incorrect variable name "%s"'
ARGUMENTS = 'Incorrect arguments of function "%s"'
HOSTILE = {
    "dunder field": ("{=Document:__class__}", NAME % "{=Document:__class__}", 11),
    "attribute after field": (
        "{=Document:TITLE.__class__}",
        NAME % "{=Document:TITLE.__class__}",
        16,
    ),
    "dunder object": ("{=__builtins__:eval}", NAME % "{=__builtins__:eval}", 2),
    "python import": ("{{=__import__('os')}}", 'Unknown function "__import__"', 3),
    "python eval": ('{{=eval("1")}}', 'Unknown function "eval"', 3),
    "shell": ('=system("ls")', 'Unknown function "system"', 1),
    "formula in formula": ("{{={{=1}}}}", 'Syntax error "{{=1}}}}"', 3),
    "n8n constructor in a formula": (
        '{{=constructor.constructor("return process")()}}',
        'Syntax error "constructor.construc…"',
        3,
    ),
    "n8n payload in a formula": ("{{=" + N8N[2:], 'Syntax error "$jmespath($json, "x"…"', 4),
    "jinja payload in a formula": ("=" + JINJA[3:-3], 'Syntax error ".__class__.__mro__[1…"', 3),
    "spel payload in a formula": ("=" + SPEL[2:-1], 'Unknown function "t"', 1),
    "juel payload in a formula": ("=" + JUEL[2:-1], 'Syntax error ".getClass().forName(…"', 3),
    "tower of powers": ("=9^9^9^9", "The number is too large", 6),
    "huge power": ("=2^99999999999", "The number is too large", 2),
    "huge literal": ("=" + "9" * 400, "The number is too large", 1),
    "huge decimal literal": ("=" + "9" * 400 + ".5", "The number is too large", 1),
    "huge substring length": ('=substr("x", 0, 99999999999999999999)', ARGUMENTS % "substr", 1),
    "huge date shift": ('=dateadd("2024-01-01", "999999999y")', ARGUMENTS % "dateadd", 1),
    "huge random string": ("=randstring(100000000)", ARGUMENTS % "randstring", 1),
    "huge number format": ("=numberformat(1, 100000)", ARGUMENTS % "numberformat", 1),
    "huge date pattern": ('=date("' + "r" * 1001 + '")', ARGUMENTS % "date", 1),
    "huge localized date pattern": ('=locdate("' + "F" * 1001 + '")', ARGUMENTS % "locdate", 1),
    "huge random range": ("=rand(0, 10^30)", ARGUMENTS % "rand", 1),
    "huge hours": ('=settime("2024-01-01", 99999999999)', ARGUMENTS % "settime", 1),
    "huge time offset": ('=settime("2024-01-01", 1, 0, 10^30)', ARGUMENTS % "settime", 1),
    "explode into a million pieces": (
        '=explode(",", {=Variable:commas})',
        "The text is too long: at most 1000000 characters",
        1,
    ),
    "200 nested swirls": ("=" + "swirl(" * 200 + "1" + ")" * 200, DEEP, 6 * 50 + 6),
    "200 nested strtotimes": ("=" + "strtotime(" * 200 + '"now"' + ")" * 200, DEEP, 10 * 50 + 10),
    "too long": ("a" * 10_001, "The expression is too long: at most 10000 characters", 10_000),
    "200 nested brackets": ("=" + "(" * 200 + "1" + ")" * 200, DEEP, 51),
    "200 nested calls": ("=" + "abs(" * 200 + "1" + ")" * 200, DEEP, 4 * 50 + 4),
    "9000 signs": ("=" + "-" * 9000 + "1", DEEP, 51),
    "9000 percents": ("=1" + "%" * 9000, DEEP, 52),
    "unclosed reference": ("{=" + "a" * 9000, NAME % ("{=" + "a" * 58 + "…"), 9002),
    "unclosed string": ('{{="' + "a" * 9000, 'Syntax error ""' + "a" * 19 + '…"', 3),
}


@pytest.mark.parametrize(("text", "message", "position"), HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_expression_fails_fast_with_a_specific_error(text, message, position):
    error = timed(text)
    assert isinstance(error, ExpressionError)
    assert (error.message, error.position) == (message, position)


@pytest.mark.parametrize("payload", [N8N, JINJA, SPEL, JUEL], ids=["n8n", "jinja", "spel", "juel"])
def test_foreign_template_syntax_is_plain_text(payload):
    assert timed(payload) == payload


def test_value_that_looks_like_an_expression_is_substituted_verbatim():
    assert timed("{=Variable:x}") == "{=Document:SECRET}"
    assert timed("Value: {=Variable:x}!") == "Value: {=Document:SECRET}!"
    assert timed('={=Variable:x} & ""') == "{=Document:SECRET}"
    assert timed("{=Variable:formula}") == "=1+1"
    assert timed("[{=Variable:inline}]") == "[{{=2*2}}]"


def test_deep_caller_stack_gets_an_expression_error_not_a_recursion_error():
    parsed = "=" + "abs(" * 50 + "1" + ")" * 50  # as deep as allowed
    assert timed(parsed) == 1  # parsed (and cached) with room to spare
    fresh = "=" + "abs(" * 50 + "2" + ")" * 50

    def nested(levels: int, text: str):
        return nested(levels - 1, text) if levels else timed(text)

    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    for text in (parsed, fresh):  # running out of stack while evaluating, or while parsing
        result = nested(sys.getrecursionlimit() - depth - 40, text)  # too few frames left
        assert isinstance(result, ExpressionError)
        assert (result.message, result.position) == (DEEP, None)


def test_long_flat_sum_is_evaluated_without_deep_recursion():
    assert timed("=" + "+".join(["1"] * 4000)) == 4000
    assert timed("=" + " & ".join(['"ab"'] * 1200)) == "ab" * 1200


_SYNTAX = [*"{}=:()\"'+-*/^%&<>,;!._ $#[]\\\n", "{=", "{{=", "}}", "Document:", "TITLE"]
_TOKENS = [
    "1", "2.5", '"a"', "'b'", "true", "{=Document:TITLE}", "{=Variable:x}", "(", ")", ",",
    "+", "-", "*", "/", "^", "%", "&", "=", "<>", "<", ">=", "if(", "substr(", "date(",
    "dateadd(", "datediff(", "min(", "merge(", "explode(", "round(", "numberformat(",
    "strtotime(", "locdate(", "settime(", "touserdate(", "getuserdateoffset(", "rand(",
    "shuffle(", "swirl(", "trim(", "convert(", "getdocumenturl(", "getuserinfo(", "randstring(",
    '"next monday"', '"+1 day"', '"9999999 years"', '"@99999999999"', "10^30",
]  # fmt: skip


@settings(max_examples=200, deadline=1000)
@given(st.lists(st.sampled_from(_SYNTAX) | st.characters(), max_size=200).map("".join))
def test_garbage_text_raises_nothing_but_expression_error(text):
    result = timed(text)
    assert isinstance(result, ExpressionError | str | int | float | bool | list) or result is None


@settings(max_examples=200, deadline=1000)
@given(st.lists(st.sampled_from(_TOKENS), max_size=60).map("".join))
def test_random_token_soup_raises_nothing_but_expression_error(text):
    for candidate in ("=" + text, "x {{=" + text + "}} y"):
        timed(candidate)


STRTOTIME_GARBAGE = [
    "9" * 200,
    "+" * 200,
    "next " * 40,
    "99999999 days " * 14,
    "@" + "9" * 199,
    "31.12.9999 23:59:59 +1 second",
    "first day of" + " x" * 90,
    "x" * 10_000,
    "monday tuesday",
    "10:00 11:00",
    "2024-02-30 -999999999 years",
]


@pytest.mark.parametrize("garbage", STRTOTIME_GARBAGE, ids=range(len(STRTOTIME_GARBAGE)))
def test_strtotime_of_garbage_is_empty_at_once(garbage):
    scope = MappingScope({"Variable": {"text": garbage}})
    started = time.perf_counter()
    with translation.override("en"):
        assert evaluate("{{=strtotime({=Variable:text})}}", scope) is None
    assert time.perf_counter() - started < SECONDS


@settings(max_examples=300, deadline=1000)
@given(
    st.lists(
        st.sampled_from(["next", "last", "day", "of", "first", "+1", "-", "ago", "monday", "12:00",
                         "2024-01-31", "march", "tomorrow", "@0", "utc", "+03:00", "pm", " ", ","])
        | st.characters(),
        max_size=80,
    ).map("".join)
)  # fmt: skip
def test_strtotime_of_anything_is_a_moment_or_empty(text):
    scope = MappingScope({"Variable": {"text": text}})
    started = time.perf_counter()
    with translation.override("en"):
        result = evaluate("{{=strtotime({=Variable:text})}}", scope)
    assert result is None or isinstance(result, datetime.datetime)
    assert time.perf_counter() - started < SECONDS

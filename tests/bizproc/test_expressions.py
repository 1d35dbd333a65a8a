"""Bitrix expressions: the golden table, the public API, and generated formulas checked
against a small reference evaluator written here (not the code under test)."""

import datetime
import math
import string
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone, translation
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bizproc.expressions import (
    ExpressionError,
    MappingScope,
    Reference,
    as_text,
    evaluate,
    humanize,
    parse,
    parse_human,
    references,
)
from bizproc.expressions.nodes import Chain, Formula, Template

UTC = datetime.UTC
NOW = datetime.datetime(2024, 3, 15, 9, 30, tzinfo=UTC)  # 12:30 in Moscow
ACTIVITY = "A48314_14744_30339_17133"
VALUES: dict[str, dict[str, Any]] = {
    "Document": {
        "ID": 42,
        "TITLE": "Big deal",
        "OPPORTUNITY": 1500.5,
        "PROBABILITY": "75",
        "STAGE_ID": "WON",
        "ASSIGNED_BY_ID": "user_5",
        "CONTACT_IDS": [3, 4],
        "CLOSEDATE": datetime.date(2024, 3, 31),
        "DATE_CREATE": datetime.datetime(2024, 3, 1, 7, 0, tzinfo=UTC),
        "IS_RETURN": False,
        "COMMENTS": "{=Document:SECRET}",
        "SECRET": "s3cr3t",
        "EMPTY": None,
        "UF_CRM_1": "custom",
    },
    "Template": {"TargetUser": "user_7", "Amount": 10},
    "Variable": {
        "Counter": 3,
        "Items": ["a", "b", "c"],
        "Flag": True,
        "When": "2024-03-20 10:00",
        "Big": "x" * 600_000,
    },
    "Constant": {"Rate": 0.2, "Prefix": "INV-"},
    "Workflow": {"ID": "wf-1"},
    "User": {"ID": "user_1"},
    ACTIVITY: {"GetUser": "user_9"},
}
LABELS = {
    "Document": {"ASSIGNED_BY_ID": "Ivan Petrov", "STAGE_ID": "Won"},
    "Template": {"TargetUser": "Anna Smirnova"},
}


@contextmanager
def moscow():
    """English and Moscow time, whatever the settings say."""
    with translation.override("en"), timezone.override("Europe/Moscow"):
        yield


def run(text: Any) -> Any:
    with moscow():
        return evaluate(text, MappingScope(VALUES, labels=LABELS, now=NOW))


def failure(text: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        run(text)
    return caught.value


def msk(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=datetime.timezone(datetime.timedelta(hours=3)))


GOLDEN = [
    # Every object
    ("{=Document:TITLE}", "Big deal"),
    ("{=document:title}", "Big deal"),
    ("{= Document : ID }", 42),
    ("{=Document:UF_CRM_1}", "custom"),
    ("{=Template:TargetUser}", "user_7"),
    ("{=Variable:Counter}", 3),
    ("{=Constant:Rate}", 0.2),
    ("{=Workflow:ID}", "wf-1"),
    ("{=User:ID}", "user_1"),
    ("{=System:Now}", NOW),
    ("{=System:NowLocal}", msk(2024, 3, 15, 12, 30)),
    ("{=System:Date}", datetime.date(2024, 3, 15)),
    (f"{{={ACTIVITY}:GetUser}}", "user_9"),
    # Every modifier, and _printable
    ("{=Document:ASSIGNED_BY_ID > printable}", "Ivan Petrov"),
    ("{=Document:ASSIGNED_BY_ID_printable}", "Ivan Petrov"),
    ("{=Template:TargetUser_printable}", "Anna Smirnova"),
    ("{=Document:STAGE_ID > friendly}", "Won"),
    ("{=Document:IS_RETURN > printable}", "No"),
    ("{=Document:CLOSEDATE > printable}", "2024-03-31"),
    ("{=Document:DATE_CREATE > printable}", "2024-03-01 10:00"),
    ("{=Variable:Items > printable}", "a, b, c"),
    ("{=Document:PROBABILITY > int}", 75),
    ("{=Document:OPPORTUNITY > int}", 1500),
    ("{=Document:ASSIGNED_BY_ID > int}", 5),
    ("{=Document:CONTACT_IDS > int}", [3, 4]),
    ("{=Document:EMPTY > int}", None),
    ("{=Document:PROBABILITY > double}", 75.0),
    ("{=Document:IS_RETURN > bool}", False),
    ("{=Document:TITLE > bool}", True),
    ("{=Variable:When > date}", datetime.date(2024, 3, 20)),
    ("{=Document:DATE_CREATE > date}", datetime.date(2024, 3, 1)),
    ("{=Variable:When > datetime}", msk(2024, 3, 20, 10, 0)),
    ("{=Document:ID > string}", "42"),
    ("{=Document:CONTACT_IDS > string}", "3, 4"),
    ("{=Document:ASSIGNED_BY_ID > user}", ["user_5"]),
    ("{=Document:CONTACT_IDS > user}", ["user_3", "user_4"]),
    ("{=Document:OPPORTUNITY > int, string}", "1500"),
    ("{=Document:ID > STRING}", "42"),
    # Inline substitution and typing of whole values
    ("Deal {=Document:TITLE} #{=Document:ID}", "Deal Big deal #42"),
    ("Contacts: {=Document:CONTACT_IDS}", "Contacts: 3, 4"),
    ("Closes {=Document:CLOSEDATE}", "Closes 2024-03-31"),
    ("Created {=Document:DATE_CREATE}", "Created 2024-03-01 10:00:00"),
    ("Return: {=Document:IS_RETURN}, flag: {=Variable:Flag}", "Return: N, flag: Y"),
    ("Empty: [{=Document:EMPTY}]", "Empty: []"),
    ("Rate {{={=Constant:Rate}*100}}%", "Rate 20%"),
    ("{{=0.1+0.2}} exactly", "0.3 exactly"),
    ("{{=1}}{{=2}}", "12"),
    ("Total: {{= 2 * 3 }}!", "Total: 6!"),
    ('{{="}}"}}', "}}"),
    ("{{=1+1}}", 2),
    ("  {=Document:ID}  ", 42),
    (" =1+1", 2),
    ("={=Document:TITLE}", "Big deal"),
    ("{=Document:COMMENTS}", "{=Document:SECRET}"),
    ("Note: {=Document:COMMENTS}", "Note: {=Document:SECRET}"),
    ("plain text", "plain text"),
    ("", ""),
    ("{{Title}} and { braces } stay", "{{Title}} and { braces } stay"),
    # Numbers and operators
    ("=1+2", 3),
    ("=7-10", -3),
    ("=6*7", 42),
    ("=7/2", 3.5),
    ("=6/3", 2.0),
    ("=1.5+1", 2.5),
    ("=.5", 0.5),
    ("=2^10", 1024),
    ("=2^-1", 0.5),
    ("=2^3^2", 64),
    ("=-2^2", 4),
    ("=-(2^2)", -4),
    ("=1+2*3", 7),
    ("=(1+2)*3", 9),
    ("=10-2-3", 5),
    ("=50%", 0.5),
    ("={=Document:OPPORTUNITY}*10%", 150.05),
    ("=-{=Variable:Counter}", -3),
    ('=+"5"', 5),
    ('="5"+"6"', 11),
    ("={=Document:EMPTY}+1", 1),
    ("=true+1", 2),
    ('="a" & 1 & true & 2.50', "a1Y2.5"),
    ("={=Constant:Prefix} & {=Document:ID}", "INV-42"),
    ("=1=1", True),
    ("=1<>2", True),
    ("=1!=1", False),
    ("=2<3", True),
    ("=3>2", True),
    ("=2<=2", True),
    ("=3>=4", False),
    ('="10"=10', True),
    ('="10">"9"', True),
    ('="abc"<"abd"', True),
    ('="b">"abc"', True),
    ('={=Document:IS_RETURN}="N"', True),
    ("={=Variable:Flag}=true", True),
    ('={=Document:CLOSEDATE}>"2024-03-30"', True),
    ('={=Document:CLOSEDATE}="31.03.2024"', True),
    ('={=Document:EMPTY}=""', True),
    ("={=Document:EMPTY}=0", True),
    ('={=Document:EMPTY}="0"', False),
    ('={=Document:CLOSEDATE}=""', False),
    ("={=Document:CONTACT_IDS}=merge(3, 4)", True),
    ("={=Document:CLOSEDATE}+1", datetime.date(2024, 4, 1)),
    ("=1+{=Document:CLOSEDATE}", datetime.date(2024, 4, 1)),
    ("={=Document:CLOSEDATE}-31", datetime.date(2024, 2, 29)),
    ("={=Document:DATE_CREATE}+1", msk(2024, 3, 2, 10, 0)),
    # Every function
    ('=if(1>0, "yes", "no")', "yes"),
    ('=IF(1<0, "yes", "no")', "no"),
    ("=if(false, 1)", None),
    ("=if(true, 1, 1/0)", 1),
    ('=and(true, 1, "Y")', True),
    ("=and(true, 0)", False),
    ("=and({=Variable:Items})", True),
    ('=or(false, 0, "", "N")', False),
    ("=or(0, 1)", True),
    ("=or(true, 1/0)", True),
    ("=not(0)", True),
    ('=not("Y")', False),
    ("=true()", True),
    ("=false()", False),
    ("=abs(-2.5)", 2.5),
    ("=min(3, 1, 2)", 1),
    ("=min({=Document:CONTACT_IDS})", 3),
    ('=max(3, "10", 2)', 10),
    ("=round(2.5)", 3),
    ("=round(-2.5)", -3),
    ("=round(1.005, 2)", 1.01),
    ("=round(1234, -2)", 1200),
    ("=ceil(1.2)", 2),
    ("=floor(-1.2)", -2),
    ('=intval("12abc")', 12),
    ('=intval("abc")', 0),
    ("=intval(3.9)", 3),
    ('=floatval("1.5kg")', 1.5),
    ('=substr("Hello", 1, 3)', "ell"),
    ('=substr("Hello", -3)', "llo"),
    ('=substr("Hello", 1, -1)', "ell"),
    ('=substr("Привет", 0, 3)', "При"),
    ('=strlen("Привет")', 6),
    ('=strpos("hello", "l")', 2),
    ('=strpos("hello", "l", 3)', 3),
    ('=strpos("hello", "z")', False),
    ('=implode(", ", {=Variable:Items})', "a, b, c"),
    ('=explode(",", "a,b,,c")', ["a", "b", "", "c"]),
    ('=merge({=Variable:Items}, "d", {=Document:CONTACT_IDS})', ["a", "b", "c", "d", 3, 4]),
    ('=date("d.m.Y H:i", {=Document:DATE_CREATE})', "01.03.2024 10:00"),
    ('=date("Y-m-d H:i")', "2024-03-15 12:30"),
    (
        '=date("D, j M y G:i N w l F n", "2024-03-17 08:05")',
        "Sun, 17 Mar 24 8:05 7 0 Sunday March 3",
    ),
    ('=date("\\Y=Y")', "Y=2024"),
    ('=dateadd("2024-01-31", "1m")', datetime.date(2024, 2, 29)),
    ('=dateadd("2024-03-15", "-2 days")', datetime.date(2024, 3, 13)),
    ('=dateadd("2024-03-15", "+1 d")', datetime.date(2024, 3, 16)),
    ('=dateadd("2024-03-15", "1y 2m 3d")', datetime.date(2025, 5, 18)),
    ('=dateadd("2024-03-15", "3h")', msk(2024, 3, 15, 3, 0)),
    ('=DateAdd({=Document:DATE_CREATE}, "1d 2h 3i 4s")', msk(2024, 3, 2, 12, 3, 4)),
    ('=dateadd("", "1d")', None),
    (
        '=datediff("2024-01-31", "2024-03-01", "%R%m month %d day, %a days")',
        "+1 month 1 day, 30 days",
    ),
    ('=datediff("2024-03-10 12:00", "2024-03-01 10:30", "%r%d %H:%I:%S")', "-9 01:30:00"),
    ('=datediff("2023-01-01", "2024-03-02", "%y %Y %M %D %%")', "1 01 02 01 %"),
    ('=strtolower("ПрИвЕт")', "привет"),
    ('=strtoupper("hello")', "HELLO"),
    ('=ucwords("jOHN doe")', "John Doe"),
    ('=ucfirst("john doe")', "John doe"),
    ("=firstvalue({=Variable:Items})", "a"),
    ("=firstvalue({=Document:EMPTY}, 2)", None),
    ('=trim("  x ")', "x"),
    ('=urlencode("a b&c~")', "a+b%26c%7E"),
    ("=numberformat(1234567.125, 2)", "1,234,567.13"),
    ('=numberformat(1234.5, 1, ",", " ")', "1 234,5"),
    ("=numberformat(-0.4)", "0"),
    ("=strlen(randstring(8))", 8),
    ("=firstvalue(1; 2)", 1),
]


@pytest.mark.parametrize(("text", "expected"), GOLDEN, ids=[text for text, _ in GOLDEN])
def test_expression_evaluates_to_its_golden_value(text, expected):
    result = run(text)
    assert result == expected
    assert type(result) is type(expected)


ERRORS = [
    ("{=Document:TITLE.x}", 'Incorrect variable name "{=Document:TITLE.x}"', 16),
    ("{=Document TITLE}", 'Incorrect variable name "{=Document TITLE}"', 11),
    ("Hi {=Document:TITLE", 'Incorrect variable name "{=Document:TITLE"', 19),
    ("{=Document:}", 'Incorrect variable name "{=Document:}"', 11),
    ("{=Document:TITLE > }", 'Incorrect variable name "{=Document:TITLE > }"', 19),
    ("=", "Empty", 1),
    ("x {{= }}", "Empty", 6),
    ("=1 2", 'Syntax error "2"', 3),
    ("=1 # 2", 'Syntax error "# 2"', 3),
    ("=abc", 'Syntax error "abc"', 1),
    ('="unterminated', 'Syntax error ""unterminated"', 1),
    ("=()", 'Syntax error ")"', 2),
    ("=foo(1)", 'Unknown function "foo"', 1),
    ("=1)", 'Unmatched closing bracket ")"', 2),
    ("{{=max(1, 2))}}", 'Unmatched closing bracket ")"', 12),
    ("=(1", 'Unmatched opening bracket "("', 1),
    ("=min(1, 2", 'Unmatched opening bracket "("', 4),
    ("=1/0", "Division by zero", 2),
    ("Total: {{=1/(2-2)}}", "Division by zero", 11),
    ("=0^-1", "Division by zero", 2),
    ('=substr("a")', 'Incorrect arguments of function "substr"', 1),
    ('=ABS("x")', 'Incorrect arguments of function "abs"', 1),
    ('=dateadd("2024-01-01", "1 fortnight")', 'Incorrect arguments of function "dateadd"', 1),
    ('=explode("", "a")', 'Incorrect arguments of function "explode"', 1),
    ("{=Document:NOPE}", 'Unknown reference "Document:NOPE"', 0),
    ("x {=Nobody:ID}", 'Unknown reference "Nobody:ID"', 2),
    ("{=System:Tomorrow}", 'Unknown reference "System:Tomorrow"', 0),
    ("{=Document:ID > foo}", 'Unknown modifier "foo"', 16),
    ("{=Document:TITLE > int}", 'Incorrect value for modifier "int"', 0),
    ("{=Document:TITLE > user}", 'Incorrect value for modifier "user"', 0),
    ('="a"+1', 'Incorrect operands of operator "+"', 4),
    ("={=Variable:Items}*2", 'Incorrect operands of operator "*"', 18),
    ("={=Document:CLOSEDATE} < 5", 'Incorrect operands of operator "<"', 23),
    ('=-"x"', 'Incorrect operands of operator "-"', 1),
    ("=1+", "Unexpected end of expression", 3),
    ("{{=1+2", "Unexpected end of expression", 6),
    ("=2^2000", "The number is too large", 2),
    ("=1e3", 'Syntax error "e3"', 2),
    ("={=Variable:Big} & {=Variable:Big}", "The text is too long: at most 1000000 characters", 17),
    ("{=Variable:Big}{=Variable:Big}", "The text is too long: at most 1000000 characters", 15),
]


@pytest.mark.parametrize(("text", "message", "position"), ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_expression_reports_bitrix_message_at_position(text, message, position):
    error = failure(text)
    assert (error.message, error.position) == (message, position)


def test_error_text_names_the_position():
    assert str(failure("=1 2")) == 'Syntax error "2" at position 3'


def test_long_syntax_error_quotes_only_the_start_of_the_rest():
    error = failure("=1 " + "x" * 100)
    assert error.message == 'Syntax error "' + "x" * 20 + '…"'


def test_non_text_values_are_returned_as_they_are():
    items = ["{=Document:ID}"]
    assert run(items) is items
    assert run(None) is None
    assert run(5) == 5


def test_now_local_is_in_the_active_time_zone_and_now_in_utc():
    assert run("{=System:NowLocal}").utcoffset() == datetime.timedelta(hours=3)
    assert run("{=System:Now}").utcoffset() == datetime.timedelta(0)


def test_scope_without_injected_now_uses_the_current_time():
    before = timezone.now()
    value = evaluate("{=System:Now}", MappingScope({}))
    assert before <= value <= timezone.now()


def test_scope_values_override_system_defaults():
    scope = MappingScope({"System": {"Now": NOW}})
    assert evaluate('=date("Y")', scope) == "2024"


def test_randstring_gives_letters_and_digits():
    text = run("=randstring(50)")
    assert len(text) == 50
    assert set(text) <= set(string.ascii_letters + string.digits)


def test_parse_builds_a_tree_without_evaluating():
    tree = parse("=1/0 + {=Document:NOPE}")
    assert isinstance(tree, Formula)
    assert isinstance(tree.expr, Chain)
    assert isinstance(parse("a {=Document:ID} b"), Template)
    assert parse(" {=Document:ID} ") == Reference("Document", "ID", (), 1)


def test_references_lists_every_reference_in_source_order():
    text = "Hi {=Document:TITLE}: {{=if({=Variable:x} > 1, {=Constant:Y_printable}, 0)}}"
    assert references(text) == [
        Reference("Document", "TITLE", (), 3),
        Reference("Variable", "x", (), 28),
        Reference("Constant", "Y", ("printable",), 47),
    ]
    assert references("={=A1:Result > int, printable} & 1") == [
        Reference("A1", "Result", ("int", "printable"), 1)
    ]
    assert references("no references") == []


def test_references_reports_syntax_errors():
    with pytest.raises(ExpressionError):
        references("{=Document:}")


def test_as_text_formats_values_as_substitution_does():
    with moscow():
        assert as_text(1 / 3) == "0.33333333333333"
        assert as_text(1e20) == "1e+20"
        assert as_text([1, [True, None]]) == "1, Y, "


# Human form ------------------------------------------------------------------------------

NAMES = {
    "TITLE": "Title",
    "OPPORTUNITY": "Amount",
    "DATE_CREATE": "Created",
    "NAME": "Name",
    "UF_NAME": "Name",
    "WEIRD": "a > b",
}


def test_humanize_writes_known_document_fields_by_name():
    text = "Deal {=Document:TITLE} for {=Document:OPPORTUNITY > printable}, {=Variable:X}"
    assert humanize(text, NAMES) == "Deal {{Title}} for {{Amount > printable}}, {=Variable:X}"


def test_humanize_keeps_unknown_ambiguous_and_unsafe_names_in_engine_form():
    text = "{=Document:UNKNOWN} {=Document:NAME} {=Document:WEIRD} {=document:TITLE}"
    assert humanize(text, NAMES) == text


def test_parse_human_reads_names_inside_formulas_too():
    human = "{{=DateAdd({{Created}}, '5d')}} {{Unknown}}"
    assert parse_human(human, NAMES) == "{{=DateAdd({=Document:DATE_CREATE}, '5d')}} {{Unknown}}"


_PIECES = st.sampled_from(
    ["{=Document:TITLE}", "{=Document:OPPORTUNITY > printable}", "{=Document:NAME}",
     "{=Document:NOPE}", "{=Variable:X}", "{{Title}}", "{{Amount > int, printable}}",
     "{{Nope}}", "{", "}", "{{", "}}", "{=", "=", ">", " ", ",", "Title", "a"]
)  # fmt: skip


@settings(max_examples=200, deadline=1000)
@given(st.lists(_PIECES, max_size=12).map("".join))
def test_engine_text_survives_the_round_trip_through_the_human_form(text):
    assume(parse_human(text, NAMES) == text)  # no literal {{Known name}} to begin with
    assert parse_human(humanize(text, NAMES), NAMES) == text


@settings(max_examples=200, deadline=1000)
@given(st.lists(_PIECES, max_size=12).map("".join))
def test_human_text_survives_the_round_trip_through_the_engine_form(text):
    assume(humanize(text, NAMES) == text)  # no canonical known reference to begin with
    assert humanize(parse_human(text, NAMES), NAMES) == text


# Generated formulas against a reference evaluator -----------------------------------------


class Boom(Exception):
    """The reference evaluator's division by zero."""


@dataclass(frozen=True)
class Gen:
    """A generated formula: how to print it, its precedence, and how to compute it."""

    source: str
    precedence: int  # 1 comparison, 2 &, 3 + -, 4 * /, 6 sign, 7 atom
    compute: Any  # () -> value, raising Boom


def _wrap(gen: Gen, parenthesize: bool) -> str:
    return f"({gen.source})" if parenthesize else gen.source


def _binary(symbol: str, precedence: int, operation: Any) -> Any:
    def build(pair: tuple[Gen, Gen]) -> Gen:
        left, right = pair
        source = (
            _wrap(left, left.precedence < precedence)
            + f" {symbol} "
            + _wrap(right, right.precedence <= precedence)  # left-associative
        )
        return Gen(source, precedence, lambda: operation(left.compute(), right.compute()))

    return build


def _divide(a: Any, b: Any) -> float:
    if b == 0:
        raise Boom
    return a / b


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, float):
        return format(value, ".14g")
    return str(value)


def _call(name: str, *args: Gen, compute: Any) -> Gen:
    return Gen(f"{name}({', '.join(a.source for a in args)})", 7, compute)


def _if(args: tuple[Gen, Gen, Gen]) -> Gen:
    condition, then, otherwise = args
    return _call(
        "if", *args, compute=lambda: then.compute() if condition.compute() else otherwise.compute()
    )


def _verbatim(source: str) -> Gen:
    """An argument printed as it is, whose value the reference evaluator does not need."""
    return Gen(source, 7, lambda: None)


_LITERAL_INT = st.integers(0, 1000).map(lambda n: Gen(str(n), 7, lambda: n))
_LITERAL_STR = st.text(string.ascii_letters, min_size=1, max_size=5).map(
    lambda s: Gen(f'"{s}"', 7, lambda: s)
)
_LITERAL_BOOL = st.booleans().map(lambda b: Gen(str(b).lower(), 7, lambda: b))


def _numbers(children: Any, texts: Any, truths: Any) -> Any:
    return st.one_of(
        st.tuples(children, children).map(_binary("+", 3, lambda a, b: a + b)),
        st.tuples(children, children).map(_binary("-", 3, lambda a, b: a - b)),
        st.tuples(children, children).map(_binary("*", 4, lambda a, b: a * b)),
        st.tuples(children, children).map(_binary("/", 4, _divide)),
        st.tuples(st.integers(0, 9), st.integers(0, 3)).map(
            lambda p: Gen(f"{p[0]} ^ {p[1]}", 5, lambda: p[0] ** p[1])
        ),
        children.map(lambda x: Gen("-" + _wrap(x, x.precedence < 6), 6, lambda: -x.compute())),
        children.map(lambda x: _call("abs", x, compute=lambda: abs(x.compute()))),
        st.lists(children, min_size=1, max_size=3).map(
            lambda xs: _call("min", *xs, compute=lambda: min(x.compute() for x in xs))
        ),
        st.lists(children, min_size=1, max_size=3).map(
            lambda xs: _call("MAX", *xs, compute=lambda: max(x.compute() for x in xs))
        ),
        texts.map(lambda s: _call("strlen", s, compute=lambda: len(s.compute()))),
        st.tuples(truths, children, children).map(_if),
        st.integers(-1000, 1000).filter(bool).map(  # rand(0, 0) is up to 2^31 - 1
            lambda n: _call("rand", _verbatim(str(n)), _verbatim(str(n)), compute=lambda: n)
        ),
        st.tuples(children, children).map(
            lambda p: _call(
                "firstvalue",
                _call("swirl", *p, compute=lambda: [p[1].compute(), p[0].compute()]),
                compute=lambda: p[1].compute(),
            )
        ),
    )  # fmt: skip


def _texts(children: Any, numbers: Any, truths: Any) -> Any:
    def concat(pair: tuple[Gen, Gen]) -> Gen:
        return _binary("&", 2, lambda a, b: _text(a) + _text(b))(pair)

    return st.one_of(
        st.tuples(children, children).map(concat),
        st.tuples(children, numbers).map(concat),
        children.map(lambda s: _call("strtoupper", s, compute=lambda: s.compute().upper())),
        children.map(lambda s: _call("strtolower", s, compute=lambda: s.compute().lower())),
        st.tuples(truths, children, children).map(_if),
        children.map(lambda s: _call("trim", s, compute=lambda: s.compute().strip())),
        children.map(
            lambda s: _call("ucfirst", s, compute=lambda: s.compute()[:1].upper() + s.compute()[1:])
        ),
        st.tuples(children, children).map(
            lambda p: _call(
                "implode",
                _verbatim('"-"'),
                _call("swirl", *p, compute=lambda: None),
                compute=lambda: f"{p[1].compute()}-{p[0].compute()}",
            )
        ),
    )  # fmt: skip


def _truths(children: Any, numbers: Any, texts: Any) -> Any:
    comparisons = [
        ("=", 1, lambda a, b: a == b), ("<>", 1, lambda a, b: a != b),
        ("<", 1, lambda a, b: a < b), (">", 1, lambda a, b: a > b),
        ("<=", 1, lambda a, b: a <= b), (">=", 1, lambda a, b: a >= b),
    ]  # fmt: skip
    return st.one_of(
        *(st.tuples(numbers, numbers).map(_binary(*c)) for c in comparisons),
        st.tuples(texts, texts).map(_binary("=", 1, lambda a, b: a == b)),
        st.tuples(children, children).map(_binary("<>", 1, lambda a, b: a != b)),
        st.lists(children, min_size=1, max_size=3).map(
            lambda xs: _call("and", *xs, compute=lambda: all(x.compute() for x in xs))
        ),
        st.lists(children, min_size=1, max_size=3).map(
            lambda xs: _call("or", *xs, compute=lambda: any(x.compute() for x in xs))
        ),
        children.map(lambda x: _call("not", x, compute=lambda: not x.compute())),
    )


def _formulas(depth: int) -> Any:
    """(numbers, texts, truths) strategies nesting up to ``depth`` levels."""
    if depth == 0:
        return _LITERAL_INT, _LITERAL_STR, _LITERAL_BOOL
    numbers, texts, truths = _formulas(depth - 1)
    return (
        st.one_of(_LITERAL_INT, _numbers(numbers, texts, truths)),
        st.one_of(_LITERAL_STR, _texts(texts, numbers, truths)),
        st.one_of(_LITERAL_BOOL, _truths(truths, numbers, texts)),
    )


_ANY_FORMULA = st.one_of(*_formulas(4))


def _expected(gen: Gen) -> Any:
    try:
        return gen.compute()
    except Boom:
        return Boom


@settings(max_examples=200, deadline=2000)
@given(_ANY_FORMULA)
def test_generated_formula_gives_what_the_reference_evaluator_computes(gen):
    expected = _expected(gen)
    if expected is Boom:
        assert failure("=" + gen.source).message == "Division by zero"
        return
    result = run("=" + gen.source)
    assert result == expected
    assert type(result) is type(expected)
    assert run("[{{=" + gen.source + "}}]") == f"[{_text(expected)}]"


def test_reference_evaluator_would_notice_a_wrong_precedence():
    """Guards the property above: the printer leaves out brackets precedence makes needless."""
    gen = _binary("*", 4, lambda a, b: a * b)((Gen("1 + 2", 3, lambda: 3), Gen("4", 7, lambda: 4)))
    assert gen.source == "(1 + 2) * 4"
    assert run("=" + gen.source) == gen.compute() == 12


def test_float_results_print_like_php():
    assert math.isclose(run("=0.1+0.2"), 0.3)
    assert run("{{=0.1+0.2}}") == 0.30000000000000004
    assert run("x{{=0.1+0.2}}") == "x0.3"

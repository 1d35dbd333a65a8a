"""Every formula function, one golden table each way: normal values, edge cases, bad input
(Bitrix's empty results and its "Incorrect arguments of function" errors), in English and,
where the output is localized, in Russian."""

import datetime
import re
import zoneinfo
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone, translation
from django.utils.translation import gettext

from bizproc.expressions import Environment, ExpressionError, MappingScope, evaluate
from bizproc.expressions.functions import FUNCTIONS
from bizproc.models import InstanceStatus
from bizproc.runtime import workflow_start
from tests.bizproc.builders import node, notes, published
from tests.crm.factories import DealFactory, UserFactory

UTC = datetime.UTC
NOW = datetime.datetime(2024, 3, 15, 9, 30, tzinfo=UTC)  # a Friday, 12:30 in Moscow
VLADIVOSTOK = zoneinfo.ZoneInfo("Asia/Vladivostok")  # UTC+10, 7 hours ahead of Moscow
PEOPLE: dict[str, dict[str, Any]] = {
    "5": {
        "ID": "user_5", "LOGIN": "ivan", "NAME": "Ivan", "LAST_NAME": "Petrov",
        "FULL_NAME": "Ivan Petrov", "EMAIL": "ivan@example.com", "ACTIVE": True,
        "TIME_ZONE": "Asia/Vladivostok", "LANGUAGE": "ru", "DEPARTMENTS": ["Sales"],
    },
    "7": {
        "ID": "user_7", "LOGIN": "anna", "NAME": "Anna", "LAST_NAME": "Smirnova",
        "FULL_NAME": "Anna Smirnova", "EMAIL": "", "ACTIVE": True, "TIME_ZONE": "",
        "LANGUAGE": "en", "DEPARTMENTS": [],
    },
}  # fmt: skip
WORK_DAY_FUNCTIONS = {"addworkdays", "workdateadd", "isworkday", "isworktime"}
"""Tested with the working calendar, in their own module's tests."""


def _person(user: Any) -> dict[str, Any] | None:
    if isinstance(user, list):
        user = user[0] if user else None
    return PEOPLE.get(str(user).removeprefix("user_"))


def _zone(user: Any) -> datetime.tzinfo | None:
    person = _person(user)
    return zoneinfo.ZoneInfo(person["TIME_ZONE"]) if person and person["TIME_ZONE"] else None


ENVIRONMENT = Environment(
    user_zone=_zone,
    user_info=_person,
    document_url=lambda: "/crm/deal/42/",
    document_title=lambda: 'Big "deal" <1>',
)
VALUES = {
    "Document": {
        "ASSIGNED_BY_ID": "user_5",
        "EMPTY": None,
        "CLOSEDATE": datetime.date(2024, 3, 31),
    },
    "Variable": {"Items": ["a", "b", "c"], "People": ["user_5", "user_7"], "Nothing": []},
}


def run(text: str, *, language: str = "en", environment: Environment = ENVIRONMENT) -> Any:
    with translation.override(language), timezone.override("Europe/Moscow"):
        return evaluate(text, MappingScope(VALUES, now=NOW, environment=environment))


def moscow(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=zoneinfo.ZoneInfo("Europe/Moscow"))  # type: ignore[misc]


ARGUMENTS = 'Incorrect arguments of function "%s"'

GOLDEN: dict[str, list[tuple[str, Any]]] = {
    # Logic
    "if": [('=if(1 > 2, "a", "b")', "b"), ('=if("N", "a")', None), ('=if("0", 1, 2)', 2)],
    "and": [
        ('=and(true, 1, "Y")', True),
        ('=and(true, "N")', False),
        ("=and({=Variable:Items})", True),
    ],
    "or": [
        ('=or(false, 0, "")', False),
        ('=or(0, "x")', True),
        ("=or({=Variable:Nothing})", False),
    ],
    "not": [('=not("N")', True), ("=not(1)", False), ("=not({=Document:EMPTY})", True)],
    "true": [("=true()", True)],
    "false": [("=false()", False)],
    # Numbers
    "abs": [("=abs(-2.5)", 2.5), ('=abs("")', 0), ("=abs(-7)", 7)],
    "min": [("=min(3, 1, 2)", 1), ('=min("10", 9)', 9)],
    "max": [('=max(3, "10", 2)', 10), ("=max(-1)", -1)],
    "round": [("=round(2.5)", 3), ("=round(-2.5)", -3), ("=round(1.005, 2)", 1.01)],
    "ceil": [("=ceil(1.2)", 2), ("=ceil(-1.2)", -1), ("=ceil(3)", 3)],
    "floor": [("=floor(1.8)", 1), ("=floor(-1.2)", -2)],
    "intval": [('=intval("12abc")', 12), ('=intval("abc")', 0), ("=intval(-3.9)", -3)],
    "floatval": [('=floatval("1.5kg")', 1.5), ('=floatval("abc")', 0.0)],
    "rand": [("=rand(5, 5)", 5), ("=rand(3, 1)", None), ("=rand(-2, -2)", -2)],
    "numberformat": [
        ("=numberformat(1234567.125, 2)", "1,234,567.13"),
        ('=numberformat(1234.5, 1, ",", " ")', "1 234,5"),
        ("=numberformat(-0.4)", "0"),
    ],
    # Text
    "substr": [
        ('=substr("Hello", 1, 3)', "ell"),
        ('=substr("", 1)', ""),
        ('=substr("Привет", -2)', "ет"),
    ],
    "strlen": [('=strlen("Привет")', 6), ('=strlen("")', 0), ("=strlen(12.5)", 4)],
    "strpos": [
        ('=strpos("hello", "l")', 2),
        ('=strpos("", "a")', False),
        ('=strpos("abc", "c", -1)', 2),
    ],
    "implode": [
        ('=implode(", ", {=Variable:Items})', "a, b, c"),
        ('=implode("-", "x")', "x"),
        ('=implode("-", {=Variable:Nothing})', ""),
    ],
    "explode": [
        ('=explode(",", "a,b,,c")', ["a", "b", "", "c"]),
        ('=explode(",", "")', [""]),
        ('=explode({=Variable:Items}, "xaybz")', ["x", "ybz"]),
    ],
    "strtolower": [('=strtolower("ÀB Ё")', "àb ё"), ('=strtolower("")', "")],
    "strtoupper": [('=strtoupper("straße")', "STRASSE"), ("=strtoupper(true)", "Y")],
    "ucwords": [('=ucwords("jOHN doe")', "John Doe"), ('=ucwords("иван петров")', "Иван Петров")],
    "ucfirst": [('=ucfirst("élan vital")', "Élan vital"), ('=ucfirst("")', "")],
    "trim": [
        ('=trim("  x ")', "x"),
        ('=trim(" a ", " b ")', ["a", "b"]),
        ("=trim({=Variable:Nothing})", ""),
    ],
    "urlencode": [
        ('=urlencode("a b&c~")', "a+b%26c%7E"),
        ("=urlencode({=Variable:Items})", "a%2C+b%2C+c"),
    ],
    "randstring": [("=strlen(randstring(8))", 8), ("=strlen(randstring())", 10)],
    "convert": [
        ('=convert({=Document:ASSIGNED_BY_ID}, "printableuser")', "Ivan Petrov"),
        ('=convert({=Variable:People}, "PrintableUser")', "Ivan Petrov, Anna Smirnova"),
        ('=convert("user_99", "printableuser")', ""),
        (
            '=convert("user_5", "printableuserb24", "/people/5/")',
            '<a href="/people/5/">Ivan Petrov</a>',
        ),
        ('=convert("user_5", "printableuserb24")', '<a href="#">Ivan Petrov</a>'),
        ('=convert(5, "int")', 5),
    ],
    # Lists
    "merge": [
        ("=merge(1, {=Variable:Items})", [1, "a", "b", "c"]),
        ("=merge({=Document:EMPTY}, 2)", [2]),
    ],
    "shuffle": [
        ("=shuffle(7)", [7]),
        ("=shuffle({=Document:EMPTY})", []),
        ("=shuffle({=Variable:Nothing}, 1)", [1]),
    ],
    "swirl": [
        ("=swirl(1, 2, 3)", [2, 3, 1]),
        ("=swirl({=Variable:Items})", ["b", "c", "a"]),
        ("=swirl({=Document:EMPTY}, 2)", [2]),
        ("=swirl({=Variable:Nothing})", []),
    ],
    "firstvalue": [
        ("=firstvalue({=Variable:Items})", "a"),
        ("=firstvalue({=Document:EMPTY}, 2)", None),
    ],
    # Dates
    "date": [
        ('=date("d.m.Y H:i", "2024-03-17 08:05")', "17.03.2024 08:05"),
        ('=date("Y-m-d H:i")', "2024-03-15 12:30"),
    ],
    "locdate": [('=locdate("d.m.Y")', "15.03.2024"), ('=locdate("")', "")],
    "strtotime": [
        ('=strtotime("2024-03-20 10:00")', moscow(2024, 3, 20, 10)),
        ('=strtotime("+1 day", "2024-03-15")', moscow(2024, 3, 16)),
        ('=strtotime("next monday")', moscow(2024, 3, 18)),
        ('=strtotime("friday")', moscow(2024, 3, 15)),
        ('=strtotime("last day of next month")', moscow(2024, 4, 30, 12, 30)),
        ('=strtotime("first day of January 2025")', moscow(2025, 1, 1)),
        ('=strtotime("2024-01-31 +1 month")', moscow(2024, 3, 2)),
        ('=strtotime("tomorrow 10:00")', moscow(2024, 3, 16, 10)),
        ('=strtotime("2 hours ago")', moscow(2024, 3, 15, 10, 30)),
        ('=strtotime("15 March 2024 3pm")', moscow(2024, 3, 15, 15)),
        ('=strtotime("2024-03-15T10:30:00Z")', datetime.datetime(2024, 3, 15, 10, 30, tzinfo=UTC)),
        ('=strtotime("@0")', datetime.datetime(1970, 1, 1, tzinfo=UTC)),
        ('=strtotime("garbage")', None),
        ('=strtotime("2024-13-01")', None),
        ('=strtotime("tomorrow", "not a date")', None),
        ('=strtotime("+999999999 years")', None),
        ('="" & strtotime("today")', "2024-03-15 00:00:00"),
    ],
    "touserdate": [
        ('="" & touserdate("user_5")', "2024-03-15 19:30:00"),
        ('=date("H:i", touserdate({=Variable:People}, "2024-03-15 12:00"))', "19:00"),
        ('=touserdate("user_5") = {=System:Now}', True),
        ('="" & touserdate("user_7")', "2024-03-15 12:30:00"),
        ('=touserdate("")', None),
        ('=touserdate("user_5", "not a date")', None),
    ],
    "getuserdateoffset": [
        ('=getuserdateoffset("user_5")', 7 * 3600),
        ('=getuserdateoffset("user_7")', 0),
        ("=getuserdateoffset({=Document:EMPTY})", None),
    ],
    "settime": [
        ('="" & settime("2024-03-15 18:40", 9, 30)', "2024-03-15 09:30:00"),
        ('="" & settime("2024-03-15", 25)', "2024-03-16 01:00:00"),
        ('="" & settime("2024-03-15", -5, 10)', "2024-03-15 00:10:00"),
        ('="" & settime("2024-03-15", 9, 0, 4 * 3600)', "2024-03-15 08:00:00"),
        ('="" & settime("2024-03-15", 9, 0, 99 * 3600)', "2024-03-15 00:00:00"),
        ('="" & settime(touserdate("user_5", "2024-03-15 12:00"), 9)', "2024-03-15 09:00:00"),
        ('=settime("not a date", 9)', None),
    ],
    "dateadd": [
        ('=dateadd("2024-01-31", "1m")', datetime.date(2024, 2, 29)),
        ('=dateadd("2024-03-15", "-2 days")', datetime.date(2024, 3, 13)),
        ('=dateadd("", "1d")', None),
    ],
    "datediff": [
        ('=datediff("2024-01-01", "2024-03-15", "%a")', "74"),
        ('=datediff("2024-03-15", "2024-01-01", "%R%m %d")', "-2 14"),
        ('=datediff("", "2024-01-01", "%a")', None),
    ],
    # The document and people
    "getdocumenturl": [
        ("=getdocumenturl()", "/crm/deal/42/"),
        ('=getdocumenturl("", true)', "/crm/deal/42/"),
        ('=getdocumenturl("bb")', '[url=/crm/deal/42/]Big "deal" <1>[/url]'),
        (
            '=getdocumenturl("html")',
            '<a href="/crm/deal/42/" target="_blank">Big &quot;deal&quot; &lt;1&gt;</a>',
        ),
    ],
    "getuserinfo": [
        ('=getuserinfo("user_5")', "Ivan Petrov"),
        ('=getuserinfo({=Document:ASSIGNED_BY_ID}, "EMAIL")', "ivan@example.com"),
        ('=getuserinfo({=Variable:People}, "user_last_name")', "Petrov"),
        ('=getuserinfo("user_5", "DEPARTMENTS")', ["Sales"]),
        ('=getuserinfo("user_99", "EMAIL")', None),
        ('=getuserinfo("", "EMAIL")', None),
    ],
}

ERRORS: dict[str, list[str]] = {
    "if": ["=if(1)"],
    "and": ["=and()"],
    "or": ["=or()"],
    "not": ["=not()"],
    "true": ["=true(1)"],
    "false": ["=false(1)"],
    "abs": ['=abs("x")'],
    "min": ["=min({=Variable:Nothing})"],
    "max": ['=max("x")'],
    "round": ["=round(1, 1000)"],
    "ceil": ['=ceil("x")'],
    "floor": ["=floor({=Variable:Items})"],
    "intval": ["=intval()"],
    "floatval": ["=floatval(1, 2)"],
    "rand": ['=rand(1, "x")', "=rand(0, 10^30)", "=rand(1, 2, 3)"],
    "numberformat": ['=numberformat("x")', "=numberformat(1, -1)"],
    "substr": ['=substr("a")', "=substr({=Variable:Items}, 1)"],
    "strlen": ["=strlen({=Variable:Items})"],
    "strpos": ['=strpos("a")'],
    "implode": ['=implode("-")'],
    "explode": ['=explode("", "a")'],
    "strtolower": ["=strtolower({=Variable:Items})"],
    "strtoupper": ["=strtoupper()"],
    "ucwords": ["=ucwords({=Variable:Items})"],
    "ucfirst": ["=ucfirst({=Variable:Items})"],
    "trim": ["=trim()"],
    "urlencode": ["=urlencode()"],
    "randstring": ["=randstring(0)", "=randstring(1001)"],
    "convert": ["=convert(1)", '=convert("user_5", {=Variable:Items})'],
    "merge": ["=merge()"],
    "shuffle": ["=shuffle()"],
    "swirl": ["=swirl()"],
    "firstvalue": ["=firstvalue()"],
    "date": ["=date(1)", '=date("Y", "not a date")'],
    "locdate": ["=locdate(1)", '=locdate("Y", "not a date")'],
    "strtotime": ["=strtotime()", "=strtotime({=Variable:Items}, 1, 2)"],
    "touserdate": ["=touserdate()"],
    "getuserdateoffset": ['=getuserdateoffset("user_5", 1)'],
    "settime": ['=settime("2024-03-15", 10^30)', '=settime("2024-03-15", 1, "x")'],
    "dateadd": ['=dateadd("2024-01-01", "1 fortnight")', '=dateadd("x", "1d")'],
    "datediff": ['=datediff("2024-01-01", "2024-01-02", 1)'],
    "getdocumenturl": ['=getdocumenturl("", true, 1)'],
    "getuserinfo": ['=getuserinfo("user_5", "PASSWORD")', "=getuserinfo()"],
}

LOCALIZED = [
    # (expression, English, Russian)
    ('=locdate("l, j F Y", "2024-03-15")', "Friday, 15 March 2024", "Пятница, 15 марта 2024"),
    ('=locdate("D, d F", "2024-05-01")', "Wed, 01 May", "Ср, 01 мая"),
    ('=locdate("jS F", "2024-05-01")', "1st May", "1st мая"),
    ('=locdate("F Y; M", "2024-05-01")', "May 2024; May", "Май 2024; Май"),
    ('=locdate("\\F F", "2024-01-01")', "F January", "F Январь"),
    (
        '=locdate("r", "2024-03-15 10:00")',
        "Fri, 15 Mar 2024 10:00:00 +0300",
        "Пт, 15 Мар 2024 10:00:00 +0300",
    ),
    ('=date("l, j F Y", "2024-03-15")', "Friday, 15 March 2024", "Friday, 15 March 2024"),
    ('=locdate("l H:i", touserdate("user_5"))', "Friday 19:30", "Пятница 19:30"),
]


def _cases() -> list[tuple[str, str, Any]]:
    return [(name, text, expected) for name, rows in GOLDEN.items() for text, expected in rows]


@pytest.mark.parametrize(("name", "text", "expected"), _cases(), ids=[c[1] for c in _cases()])
def test_function_gives_its_golden_value(name, text, expected):
    result = run(text)
    assert result == expected
    assert type(result) is type(expected) or isinstance(expected, datetime.datetime)


def _errors() -> list[tuple[str, str]]:
    return [(name, text) for name, texts in ERRORS.items() for text in texts]


@pytest.mark.parametrize(("name", "text"), _errors(), ids=[e[1] for e in _errors()])
@pytest.mark.parametrize("language", ["en", "ru"])
def test_function_refuses_bad_arguments_with_bitrix_message(name, text, language):
    with pytest.raises(ExpressionError) as caught:
        run(text, language=language)
    expected = ARGUMENTS % name
    if language == "ru":
        with translation.override("ru"):
            expected = gettext('Incorrect arguments of function "%(str)s"') % {"str": name}
    assert caught.value.message == expected


@pytest.mark.parametrize(("text", "english", "russian"), LOCALIZED, ids=[c[0] for c in LOCALIZED])
def test_localized_output_follows_the_active_language(text, english, russian):
    assert run(text, language="en") == english
    assert run(text, language="ru") == russian


def test_every_function_has_golden_values_and_bad_input():
    """A function added later must come with its table rows (the working-calendar ones are
    tested with the calendar)."""
    assert set(FUNCTIONS) - WORK_DAY_FUNCTIONS == set(GOLDEN)
    assert set(GOLDEN) == set(ERRORS)


def test_rand_stays_in_its_range_and_defaults_to_php_getrandmax():
    values = {run("=rand(1, 3)") for _ in range(200)}
    assert values == {1, 2, 3}
    assert all(0 <= run("=rand()") <= 2**31 - 1 for _ in range(20))
    assert all(10 <= run("=rand(10)") <= 2**31 - 1 for _ in range(20))


def test_shuffle_keeps_every_value_and_drops_empties():
    orders = set()
    for _ in range(100):
        result = run("=shuffle({=Variable:Items}, {=Document:EMPTY}, 1)")
        assert sorted(map(str, result)) == ["1", "a", "b", "c"]
        orders.add(tuple(result))
    assert len(orders) > 1


def test_randstring_gives_letters_and_digits_each_time_different():
    first, second = run("=randstring(32)"), run("=randstring(32)")
    assert re.fullmatch(r"[A-Za-z0-9]{32}", first)
    assert first != second


def test_getdocumenturl_external_puts_the_site_address_before_the_path():
    with override_settings(SITE_URL="https://bp.example.com/"):
        assert run('=getdocumenturl("", true)') == "https://bp.example.com/crm/deal/42/"
        assert run('=getdocumenturl("bb", "Y")') == (
            '[url=https://bp.example.com/crm/deal/42/]Big "deal" <1>[/url]'
        )
        assert run("=getdocumenturl()") == "/crm/deal/42/"


def test_outside_a_process_document_and_people_functions_are_empty():
    bare = Environment()
    assert run("=getdocumenturl()", environment=bare) is None
    assert run('=getuserinfo("user_5")', environment=bare) is None
    assert run('=getuserdateoffset("user_5")', environment=bare) == 0
    assert run('="" & touserdate("user_5")', environment=bare) == "2024-03-15 12:30:00"
    assert run('=convert("user_5", "printableuser")', environment=bare) == ""


def test_touserdate_is_the_same_moment_on_the_persons_clock():
    moment = run('=touserdate("user_5")')
    assert moment == NOW
    assert moment.utcoffset() == datetime.timedelta(hours=10)
    # Arithmetic on it gives an ordinary moment, shown on the process's clock again.
    assert run('="" & (touserdate("user_5") + 1)') == "2024-03-16 12:30:00"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_running_process_reads_people_and_its_document_address():
    user = UserFactory(
        is_crm_admin=True,
        full_name="Olga Orlova",
        email="olga@example.com",
        time_zone="Asia/Vladivostok",
    )
    UserFactory(full_name="Gone", is_active=False)
    deal = DealFactory(title="Big deal", stage="NEW", opportunity=1, assigned_by=user)
    text = (
        '{{=getdocumenturl()}} | {{=getdocumenturl("bb")}} | '
        '{{=getuserinfo({=Document:ASSIGNED_BY_ID}, "EMAIL")}} | '
        '{{=convert({=Document:ASSIGNED_BY_ID}, "printableuser")}} | '
        '{{=getuserinfo("user_999999")}} | '
        '{{=date("P", touserdate({=Document:ASSIGNED_BY_ID}))}}'
    )
    template = published(node("LogActivity", Text=text, Title="Log"), user=user)
    instance = workflow_start(
        template=template, document_id=deal.document_id, user=user, parameters={}
    )
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    url = f"/crm/deal/{deal.pk}/"
    assert notes(instance, 6) == [
        f"{url} | [url={url}]Big deal[/url] | olga@example.com | Olga Orlova |  | +10:00"
    ]

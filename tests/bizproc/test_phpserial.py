"""PHP serialize / unserialize: golden pairs, round trips, hostile input, and PHP itself."""

import contextlib
import math
import random
import shutil
import struct
import subprocess
import time
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bizproc.phpserial import MAX_DEPTH, PhpSerialError, dumps, loads

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def run_php(code: str, *args: str, stdin: bytes = b"") -> bytes:
    """Run ``php -r code args…`` and return its output; fail (never skip) when PHP is missing."""
    php = shutil.which("php")
    if php is None:
        pytest.fail("These tests compare with real PHP; install it: apt-get install php-cli")
    result = subprocess.run(
        [php, "-r", code, "--", *args], input=stdin, capture_output=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout


# (value as loads returns it, PHP serialize() of it) — checked in both directions.
GOLDEN: list[tuple[Any, bytes]] = [
    (None, b"N;"),
    (False, b"b:0;"),
    (True, b"b:1;"),
    (0, b"i:0;"),
    (42, b"i:42;"),
    (-7, b"i:-7;"),
    (INT64_MAX, b"i:9223372036854775807;"),
    (INT64_MIN, b"i:-9223372036854775808;"),
    (0.1, b"d:0.1;"),
    (1e100, b"d:1.0E+100;"),
    (-0.0, b"d:-0;"),
    (0.0, b"d:0;"),
    (1.0, b"d:1;"),
    (-1.5, b"d:-1.5;"),
    (1 / 3, b"d:0.3333333333333333;"),
    (1e16, b"d:10000000000000000;"),
    (1e17, b"d:1.0E+17;"),
    (123456789012345678.0, b"d:1.2345678901234568E+17;"),
    (0.0001, b"d:0.0001;"),
    (1.5e-5, b"d:1.5E-5;"),
    (5e-324, b"d:5.0E-324;"),
    (math.inf, b"d:INF;"),
    (-math.inf, b"d:-INF;"),
    (math.nan, b"d:NAN;"),
    ("", b's:0:"";'),
    ("abc", b's:3:"abc";'),
    ('say "hi";', b's:9:"say "hi";";'),
    ("Привет", b's:12:"' + "Привет".encode() + b'";'),
    ("€😀", b's:7:"\xe2\x82\xac\xf0\x9f\x98\x80";'),
    ({}, b"a:0:{}"),
    ({0: "a", 1: "b"}, b'a:2:{i:0;s:1:"a";i:1;s:1:"b";}'),
    ({"a": 1, 5: "x", -3: None}, b'a:3:{s:1:"a";i:1;i:5;s:1:"x";i:-3;N;}'),
    (
        {"Type": "LogActivity", "Properties": {"Users": {0: "user_1"}, "Ok": True}},
        b'a:2:{s:4:"Type";s:11:"LogActivity";s:10:"Properties";'
        b'a:2:{s:5:"Users";a:1:{i:0;s:6:"user_1";}s:2:"Ok";b:1;}}',
    ),
]


@pytest.mark.parametrize(("value", "serialized"), GOLDEN, ids=repr)
def test_golden_pairs_serialize_and_read_back_exactly(value: Any, serialized: bytes) -> None:
    assert dumps(value) == serialized
    # repr tells -0.0 from 0.0, True from 1, "5" from 5, and sees dict order.
    assert repr(loads(serialized)) == repr(value)


def test_lists_and_tuples_serialize_as_arrays_keyed_from_zero() -> None:
    assert dumps(["a", ("b",)]) == b'a:2:{i:0;s:1:"a";i:1;a:1:{i:0;s:1:"b";}}'
    assert dumps([]) == b"a:0:{}"


def test_string_keys_php_would_cast_read_as_ints_and_others_stay_strings() -> None:
    data = (
        b'a:6:{s:1:"5";i:1;s:2:"05";i:2;s:2:"-0";i:3;s:2:"-3";i:4;'
        b's:19:"9223372036854775808";i:5;s:20:"-9223372036854775808";i:6;}'
    )
    assert repr(loads(data)) == repr(
        {5: 1, "05": 2, "-0": 3, -3: 4, "9223372036854775808": 5, INT64_MIN: 6}
    )


def test_numeric_string_keys_are_written_as_php_stores_them() -> None:
    assert dumps({"5": 1, "05": 2}) == b'a:2:{i:5;i:1;s:2:"05";i:2;}'


def test_keys_that_collide_once_cast_are_refused() -> None:
    with pytest.raises(PhpSerialError, match="repeats another key"):
        dumps({"5": 1, 5: 2})


def test_a_repeated_key_keeps_the_last_value_in_the_first_place_as_php_does() -> None:
    assert loads(b"a:3:{i:0;i:1;i:1;i:5;i:0;i:2;}") == {0: 2, 1: 5}
    assert list(loads(b"a:3:{i:0;i:1;i:1;i:5;i:0;i:2;}")) == [0, 1]


@pytest.mark.parametrize(
    ("serialized", "value"),
    [(b"i:+5;", 5), (b"i:007;", 7), (b"d:1.;", 1.0), (b"d:.5;", 0.5), (b"d:-1e5;", -1e5)],
)
def test_other_forms_php_accepts_are_read(serialized: bytes, value: Any) -> None:
    assert loads(serialized) == value


keys = st.integers(INT64_MIN, INT64_MAX) | st.text().filter(
    lambda key: not key.lstrip("-").isdigit()  # numeric strings: see the golden key tests
)
values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(INT64_MIN, INT64_MAX)
    | st.floats(allow_nan=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=25,
)


def as_php(value: Any) -> Any:
    """``value`` as PHP holds it: every list an array keyed 0..n-1."""
    if isinstance(value, list | tuple):
        value = dict(enumerate(value))
    if isinstance(value, dict):
        return {key: as_php(item) for key, item in value.items()}
    return value


@settings(max_examples=200, deadline=timedelta(seconds=1))
@given(values)
def test_values_read_back_as_php_holds_them_and_reserialize_identically(value: Any) -> None:
    serialized = dumps(value)
    read = loads(serialized)
    assert repr(read) == repr(as_php(value))
    assert dumps(read) == serialized


@settings(max_examples=200, deadline=timedelta(seconds=1))
@given(st.binary(max_size=64))
def test_arbitrary_bytes_either_read_or_raise_php_serial_error(data: bytes) -> None:
    with contextlib.suppress(PhpSerialError):
        loads(data)


SAMPLE = dumps({"Type": "IfElseActivity", "Кто": ["user_1", 2, -3.5, True, None], "x": {}})


@settings(max_examples=200, deadline=timedelta(seconds=1))
@given(st.integers(0, len(SAMPLE) - 1), st.integers(0, 255))
def test_a_sample_with_any_byte_changed_reads_or_raises_php_serial_error(
    position: int, byte: int
) -> None:
    with contextlib.suppress(PhpSerialError):
        loads(SAMPLE[:position] + bytes([byte]) + SAMPLE[position + 1 :])


def test_a_sample_cut_at_every_byte_offset_is_refused() -> None:
    for length in range(len(SAMPLE)):
        with pytest.raises(PhpSerialError):
            loads(SAMPLE[:length])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'O:8:"stdClass":0:{}', r"objects \(O:\) are not supported, at byte 0"),
        (b'a:1:{i:0;O:8:"stdClass":0:{}}', r"objects \(O:\) are not supported, at byte 9"),
        (b'C:3:"Foo":0:{}', r"objects \(C:\)"),
        (b"r:1;", r"references \(r:\)"),
        (b"a:2:{i:0;i:1;i:1;R:2;}", r"references \(R:\) are not supported, at byte 17"),
        (b'E:7:"Foo:Bar";', r"enums \(E:\)"),
    ],
)
def test_objects_references_and_enums_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(PhpSerialError, match=message):
        loads(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "data ends at byte 0"),
        (b"i:1;x", "trailing data at byte 4"),
        (b"b:2;", "malformed data at byte 0, expected boolean"),
        (b"i:9223372036854775808;", "integer out of the 64-bit range at byte 0"),
        (b"a:1:{d:0.5;i:1;}", "at byte 5, expected array key"),
        (b"a:1:{i:0;i:1;", "data ends at byte 13, expected end of array"),
        (b's:1:"\xff";', "invalid UTF-8 at byte 5"),
        (b's:1:"ab";', "expected '\";' closing the string at byte 6"),
        (b"x:1;", "malformed data at byte 0"),
    ],
)
def test_malformed_input_is_refused_with_what_and_where(data: bytes, message: str) -> None:
    with pytest.raises(PhpSerialError, match=message.replace("(", r"\(")):
        loads(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b's:999999999999:"abc";', "declares 999999999999 bytes"),
        (b"a:999999999999999999:{i:0;N;}", "declares 999999999999999999 items"),
        (b"a:1:{i:0;" * 10_000 + b"N;" + b"}" * 10_000, f"deeper than {MAX_DEPTH} levels"),
    ],
    ids=["huge string", "huge array", "10,000 levels"],
)
def test_hostile_sizes_and_depths_are_refused_at_once(data: bytes, message: str) -> None:
    started = time.perf_counter()
    with pytest.raises(PhpSerialError, match=message):
        loads(data)
    assert time.perf_counter() - started < 0.5


def test_large_flat_arrays_read_in_linear_time() -> None:
    data = dumps({f"key{index}": "значение" for index in range(100_000)})
    started = time.perf_counter()
    assert len(loads(data)) == 100_000
    assert time.perf_counter() - started < 10  # about 0.4 s; a quadratic reader takes minutes


def test_nesting_is_bounded_when_writing_too() -> None:
    deep: list[Any] = []
    for _ in range(10_000):
        deep = [deep]
    with pytest.raises(PhpSerialError, match="deeper than"):
        dumps(deep)
    cycle: list[Any] = []
    cycle.append(cycle)
    with pytest.raises(PhpSerialError, match="deeper than"):
        dumps(cycle)


@pytest.mark.parametrize(
    "value",
    [2**63, -(2**63) - 1, object(), {1, 2}, b"bytes", {1.5: "x"}, {True: "x"}, "\ud800"],
    ids=repr,
)
def test_values_without_a_php_form_are_refused(value: Any) -> None:
    with pytest.raises(PhpSerialError):
        dumps(value)


def test_floats_are_written_exactly_as_php_serializes_them() -> None:
    rng = random.Random(179)  # noqa: S311 - a repeatable sample, not a secret
    floats = [0.1, -0.0, 1e100, math.inf, -math.inf, 5e-324, 2.2250738585072014e-308]
    floats += [10.0**exponent for exponent in range(-30, 31)]
    floats += [-(10.0**exponent) * 1.5 for exponent in range(-30, 31)]
    floats += [round(rng.uniform(-1e6, 1e6), rng.randrange(8)) for _ in range(500)]
    floats += [struct.unpack(">d", rng.randbytes(8))[0] for _ in range(2000)]
    floats = [value for value in floats if not math.isnan(value)]
    php = run_php(
        "while (($line = fgets(STDIN)) !== false) {"
        ' echo serialize(unpack("E", hex2bin(trim($line)))[1]), "\\n"; }',
        stdin="".join(struct.pack(">d", value).hex() + "\n" for value in floats).encode(),
    )
    for value, php_line in zip(floats, php.splitlines(), strict=True):
        assert dumps(value) == php_line, value
        assert struct.pack(">d", loads(php_line)) == struct.pack(">d", value)


def test_what_php_serializes_reads_back_and_serializes_to_the_same_bytes() -> None:
    php = run_php(
        'echo serialize(["a" => 1, "5" => "x", "05" => -7, "list" => [1, 2.5, true, null],'
        ' "ru" => "Привет", -3 => -0.0, "nested" => ["k" => ["deep" => 1e100, "e" => []]]]);'
    )
    expected = {
        "a": 1,
        5: "x",
        "05": -7,
        "list": {0: 1, 1: 2.5, 2: True, 3: None},
        "ru": "Привет",
        -3: -0.0,
        "nested": {"k": {"deep": 1e100, "e": {}}},
    }
    assert repr(loads(php)) == repr(expected)
    assert dumps(expected) == php

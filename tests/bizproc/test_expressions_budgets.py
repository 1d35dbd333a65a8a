"""Expressions within their budgets: a long evaluation stops at the step's deadline, and text
or lists past the size limit are refused before they are built (memory measured)."""

import time
import tracemalloc

import pytest
from django.utils import translation

from bizproc.budget import Deadline, StepTimeExceeded
from bizproc.expressions import ExpressionError, MappingScope, evaluate

TOO_LONG = "The text is too long: at most 1000000 characters"
LONG = "x" * 512_000  # as in the audit: half a megabyte of text
SHORTER = "y" * 400_000
SCOPE = MappingScope(
    {
        "Variable": {
            "Long": LONG,
            "Copies": [LONG] * 40,  # 40 references in memory, 20 MB once written out
            "Two": [SHORTER] * 2,
            "Words": ["w"] * 100_000,
            "Commas": "," * 600_000,  # 600,001 empty pieces: 1.2 MB once written out
        }
    }
)


def peak_while(text: str) -> tuple[object, int]:
    """The result (or the error) of evaluating ``text``, and the most memory it held at once."""
    tracemalloc.start()
    try:
        with translation.override("en"):
            result = evaluate(text, SCOPE)
    except ExpressionError as error:
        result = error
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return result, peak


@pytest.mark.parametrize(
    "text",
    [
        '{{=implode(",", {=Variable:Copies})}}',
        "Copies: {=Variable:Copies}",
        '{{=strlen({=Variable:Copies} & "")}}',
        "{{=strlen({=Variable:Long} & {=Variable:Long})}}",
        '{{=explode(",", {=Variable:Commas})}}',
        '{{=shuffle(explode(",", {=Variable:Commas}))}}',
        "{{=swirl({=Variable:Copies})}}",
    ],
    ids=[
        "implode",
        "list as text",
        "list joined by &",
        "two texts joined by &",
        "explode",
        "shuffle of explode",
        "swirl of copies",
    ],
)
def test_text_past_the_limit_is_refused_before_it_is_built(text) -> None:
    result, peak = peak_while(text)
    assert isinstance(result, ExpressionError)
    assert result.message == TOO_LONG
    assert peak < 512_000, peak  # not even one more copy of the long text


def test_merge_refuses_a_list_whose_text_would_pass_the_limit() -> None:
    result, _peak = peak_while("{{=merge({=Variable:Two}, {=Variable:Two})}}")
    assert isinstance(result, ExpressionError)
    assert result.message == TOO_LONG
    assert evaluate('{{=merge({=Variable:Two}, "end")}}', SCOPE) == [SHORTER, SHORTER, "end"]


def test_a_long_evaluation_stops_at_the_deadline() -> None:
    # Each term joins 100,000 words: a tenth of a second; the whole sum, seconds.
    text = "{{=" + "+".join(['strlen(implode(",", {=Variable:Words}))'] * 100) + "}}"
    deadline = Deadline(0.2, time.monotonic() + 0.2)
    started = time.monotonic()
    with pytest.raises(StepTimeExceeded):
        evaluate(text, SCOPE, check=deadline.check)
    assert time.monotonic() - started < 1

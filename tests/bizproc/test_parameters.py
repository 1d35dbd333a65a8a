"""Start parameters are typed by one conversion: every problem is found at once, each under
its parameter's ID, in the caller's wording; what is missing takes its default."""

import datetime

import pytest

from bizproc import parameters
from tests.bizproc.builders import field

SCHEMA = {
    "Count": field("int", "Count", required=True),
    "When": field("date", "When", required=True),
    "Note": field("string", "Note", default="hello"),
}
REQUIRED = "Fill in %(name)s."
UNKNOWN = "No such parameter: %(name)s"


def test_missing_values_take_their_defaults_and_every_value_is_typed() -> None:
    typed = parameters.convert(
        SCHEMA, {"Count": "42", "When": "2026-03-01"}, required_message=REQUIRED
    )
    assert typed == {"Count": 42, "When": datetime.date(2026, 3, 1), "Note": "hello"}


def test_every_problem_is_reported_at_once_under_its_parameter_in_the_callers_wording() -> None:
    with pytest.raises(parameters.ParametersRefused) as refused:
        parameters.convert(SCHEMA, {"Count": "many"}, required_message=REQUIRED)
    assert refused.value.errors == {
        "Count": "The value of field 'Count' is not an integer.",
        "When": "Fill in When.",
    }
    assert refused.value.message == "The value of field 'Count' is not an integer. Fill in When."


def test_values_for_ids_the_schema_lacks_are_ignored_unless_the_caller_words_a_refusal() -> None:
    raw = {"Count": "1", "When": "2026-01-01", "Evil": "1"}
    assert "Evil" not in parameters.convert(SCHEMA, raw, required_message=REQUIRED)
    with pytest.raises(parameters.ParametersRefused) as refused:
        parameters.convert(SCHEMA, raw, required_message=REQUIRED, unknown_message=UNKNOWN)
    assert refused.value.errors == {"Evil": "No such parameter: Evil"}

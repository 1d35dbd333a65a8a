"""Trees, schemas and states kept as JSON text: key order survives the database, and what the
fast writer cannot take is written (or refused) as the standard library always did."""

import datetime

import pytest
from django.db import connection

from bizproc.jsonfield import json_dumps, json_loads
from bizproc.models import Template
from tests.crm.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_key_order_survives_a_save_and_a_read():
    variables = {"Zeta": {"Name": "Last"}, "Alpha": {"Name": "First"}, "Mid": {"Name": "ё"}}
    user = UserFactory()
    template = Template.objects.create(
        module="crm",
        entity="CCrmDocumentDeal",
        document_type="DEAL",
        name="Order",
        variables=variables,
        created_by=user,
        modified_by=user,
    )
    template.refresh_from_db()
    assert list(template.variables) == ["Zeta", "Alpha", "Mid"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT variables FROM bizproc_template WHERE id = %s", [template.pk])
        assert "ё" in cursor.fetchone()[0]  # kept as it is, not as \\u escapes


def test_keys_that_are_not_text_are_written_as_the_standard_library_writes_them():
    assert json_loads(json_dumps({2: "a", True: "b", None: "c"})) == {
        "2": "a",
        "true": "b",
        "null": "c",
    }


def test_integers_past_64_bits_and_nan_in_stored_text_are_read():
    assert json_loads(json_dumps({"big": 2**70})) == {"big": 2**70}
    assert json_loads('{"x": NaN}')["x"] != json_loads('{"x": NaN}')["x"]


def test_nan_is_written_as_json_null():
    assert json_loads(json_dumps([float("nan"), 1.5])) == [None, 1.5]


def test_values_json_cannot_hold_are_refused():
    with pytest.raises(TypeError):
        json_dumps({"when": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)})


def test_text_that_is_not_json_is_refused_with_the_standard_error():
    with pytest.raises(ValueError, match="Expecting"):
        json_loads("{broken")

"""REST values beyond what a column or a calendar holds, and bodies that cannot be read, through
webhooks of users in time zones far from UTC: each is Bitrix's JSON error, nothing is saved."""

import json

import pytest
from django.test import Client

from bizproc.models import Template
from tests.crm.factories import DealFactory, UserFactory
from tests.rest.test_methods import DEAL_TYPE, call, hook

pytestmark = pytest.mark.django_db

ZONES = ["UTC", "Europe/Moscow", "Pacific/Kiritimati", "Pacific/Pago_Pago"]
HUGE = [str(2**63), str(2**64), "9" * 19, "9" * 20, "9" * 40, "-" + "9" * 19]
LISTS = [
    "crm.deal.list",
    "crm.lead.list",
    "bizproc.workflow.instances",
    "bizproc.workflow.template.list",
    "bizproc.task.list",
    "bizproc.script.list",
]


@pytest.fixture(params=ZONES)
def admin(request):
    return UserFactory(is_crm_admin=True, time_zone=request.param)


@pytest.fixture
def base(admin) -> str:
    return hook(admin)


def refused(status: int, body: dict) -> str:
    """The description of a Bitrix JSON error (a 4xx with ``error`` and its description)."""
    assert 400 <= status < 500, body
    assert set(body) == {"error", "error_description"}, body
    return body["error_description"]


@pytest.mark.parametrize("start", [*HUGE, 2**64])
def test_a_start_no_database_offset_holds_is_refused_by_every_list(client, base, start) -> None:
    DealFactory()
    for method in LISTS:
        status, body = call(client, base, method, {"start": start})
        assert refused(status, body) == "Parameter 'start' must be integer.", method
    status, body = call(client, base, "crm.deal.list", {"start": 50})
    assert status == 200 and body["result"] == []


@pytest.mark.parametrize("value", [*HUGE, "²"])
def test_ids_no_column_holds_are_refused_in_filters_and_lookups(client, base, value) -> None:
    deal = DealFactory()
    filters = [
        ("crm.deal.list", {"filter": {"ID": value}}),
        ("crm.deal.list", {"filter": {"ASSIGNED_BY_ID": value}}),
        ("crm.deal.list", {"filter": {"@COMPANY_ID": [value, "1"]}}),
        ("bizproc.workflow.instances", {"filter": {"TEMPLATE_ID": value}}),
        ("bizproc.workflow.template.list", {"filter": {">=USER_ID": value}}),
        ("bizproc.task.list", {"filter": {"WORKFLOW_TEMPLATE_ID": value}}),
    ]
    for method, params in filters:
        assert "The value is not an integer." in refused(*call(client, base, method, params))
    lookups = [
        ("crm.deal.get", {"id": value}),
        (
            "bizproc.workflow.start",
            {"TEMPLATE_ID": value, "DOCUMENT_ID": [*DEAL_TYPE[:2], deal.document_id]},
        ),
        ("bizproc.workflow.template.update", {"ID": value, "FIELDS": {"NAME": "x"}}),
        ("bizproc.workflow.template.delete", {"ID": value}),
        ("bizproc.task.complete", {"TASK_ID": value, "STATUS": "1"}),
        ("bizproc.script.start", {"scriptId": value, "documentIds": [deal.document_id]}),
    ]
    for method, params in lookups:
        refused(*call(client, base, method, params))


@pytest.mark.parametrize(
    "moment", ["0001-01-01", "0001-01-01T00:00:00", "9999-12-31T23:59:59", "9999-12-31T12:00Z"]
)
def test_dates_at_the_ends_of_the_calendar_are_refused_in_every_zone(client, base, moment):
    filters = [
        ("crm.deal.list", "DATE_CREATE"),
        ("crm.lead.list", "DATE_MODIFY"),
        ("bizproc.workflow.instances", "STARTED"),
        ("bizproc.workflow.template.list", "MODIFIED"),
        ("bizproc.task.list", "WORKFLOW_STARTED"),
    ]
    for method, code in filters:
        for operator in ("", ">=", "<"):
            status, body = call(client, base, method, {"filter": {f"{operator}{code}": moment}})
            assert "too far in the past or in the future" in refused(status, body), method
    # Two days in from each end of the calendar, every zone still filters.
    status, body = call(client, base, "crm.deal.list", {"filter": {">DATE_CREATE": "0001-01-03"}})
    assert status == 200
    status, body = call(client, base, "crm.deal.list", {"filter": {"<DATE_CREATE": "9999-12-29"}})
    assert status == 200


@pytest.mark.parametrize("opener", ['{"a":', "[", '{"filter":['])
def test_json_nested_5000_deep_is_an_invalid_request(client, base, opener) -> None:
    closer = {"{": "}", "[": "]"}
    body = opener * 5000 + "1" + "".join(closer[c] for c in reversed(opener * 5000) if c in closer)
    status, answer = call(client, base, "crm.deal.list", body=body)
    assert answer["error"] == "INVALID_REQUEST"
    refused(status, answer)
    # As deep as a query string may nest is still read.
    shallow = json.dumps({"filter": {"ID": 1}, "x": json.loads("[" * 30 + "]" * 30)})
    assert call(client, base, "crm.deal.list", body=shallow)[0] == 200


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=\u00ff\u00ff",
    ],
)
def test_a_multipart_body_with_an_invalid_boundary_is_an_invalid_request_and_saves_nothing(
    base, content_type
) -> None:
    client = Client()
    response = client.post(
        f"{base}bizproc.workflow.template.add",
        b'--xx\r\nContent-Disposition: form-data; name="NAME"\r\n\r\nT\r\n--xx--\r\n',
        content_type=content_type,
    )
    assert response["Content-Type"] == "application/json"
    answer = response.json()
    assert answer["error"] == "INVALID_REQUEST"
    refused(response.status_code, answer)
    assert not Template.objects.exists()


def test_a_batch_answers_each_out_of_range_command_with_its_error(client, base) -> None:
    DealFactory()
    status, body = call(
        client,
        base,
        "batch",
        {
            "cmd": {
                "huge": f"crm.deal.list?start={2**64}",
                "ancient": "crm.deal.list?filter[>DATE_CREATE]=0001-01-01",
                "fine": "crm.deal.list?select[]=ID",
            }
        },
    )
    assert status == 200
    errors = body["result"]["result_error"]
    assert set(errors) == {"huge", "ancient"}
    assert errors["huge"]["error_description"] == "Parameter 'start' must be integer."
    assert "too far in the past" in errors["ancient"]["error_description"]
    assert len(body["result"]["result"]["fine"]) == 1

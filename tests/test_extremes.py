"""A property over every query parameter that a page, a partial or a REST method parses: given
dates and integers at their extremes (the years 1 and 9999, days that do not exist, 0, -1, 2**31,
2**63, 2**64, 20 and 40 digits), seen by users in time zones far from UTC, nothing answers with
a server error, and REST refuses with Bitrix's JSON error (``error``, ``error_description``).

Requests only read (or are refused before anything is written), so the examples share one
database state. Bounded budget: a few dozen examples per property.
"""

import datetime
import json

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import User
from bizproc import scenarios
from bizproc.runtime import workflow_start
from crm.documents import DOCUMENT_TYPES
from rest.services import webhook_create, webhook_path
from tests.bizproc.builders import node, published
from tests.crm.factories import DealFactory, UserFactory

pytestmark = pytest.mark.django_db

BUDGET = settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ZONES = st.sampled_from(
    ["UTC", "Europe/Moscow", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/Sitka"]
)
INTEGERS = st.sampled_from(
    ["0", "-1", str(2**31), str(2**63 - 1), str(2**63), str(2**64), "9" * 20, "9" * 40, "²"]
) | st.integers(min_value=-(2**70), max_value=2**70).map(str)
FIRST_DAYS = (datetime.datetime(1, 1, 1), datetime.datetime(1, 1, 3, 23, 59, 59))
LAST_DAYS = (datetime.datetime(9999, 12, 29), datetime.datetime(9999, 12, 31, 23, 59, 59))
DATES = st.one_of(
    st.dates(FIRST_DAYS[0].date(), FIRST_DAYS[1].date()).map(datetime.date.isoformat),
    st.dates(LAST_DAYS[0].date(), LAST_DAYS[1].date()).map(datetime.date.isoformat),
    st.datetimes(*FIRST_DAYS).map(datetime.datetime.isoformat),
    st.datetimes(*LAST_DAYS).map(datetime.datetime.isoformat),
    st.sampled_from(
        [
            "2024-02-30",
            "0000-01-01",
            "10000-01-01",
            "2024-02-30T25:61:61",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-14:00",
        ]
    ),
)
EXTREMES = INTEGERS | DATES


@pytest.fixture
def world() -> dict:
    """A deal with a waiting process, a scenario and its run, and a webhook of the viewer."""
    viewer = UserFactory(is_crm_admin=True, full_name="Vera Viewer")
    deal = DealFactory(assigned_by=viewer)
    template = published(
        node("DelayActivity", TimeoutDuration="1", TimeoutDurationType="h", Title="Wait"),
        user=viewer,
    )
    with transaction.atomic():
        instance = workflow_start(template=template, document_id=deal.document_id, user=viewer)
    scenario = scenarios.scenario_save(
        user=viewer,
        document_type=DOCUMENT_TYPES["DEAL"],
        name="Ping",
        active=True,
        parameters={},
        robots=[node("CrmTimelineCommentAdd", CommentText="Hello")],
    )
    webhook, token = webhook_create(user=viewer, name="Extremes")
    client = Client()
    client.force_login(viewer)
    return {
        "viewer": viewer,
        "client": client,
        "rest": webhook_path(webhook=webhook, token=token),
        "pages": [
            (
                reverse("bizproc:process-list"),
                ["since", "until", "status", "template", "started_by", "entity", "document"],
            ),
            (
                reverse("bizproc:document-journal", args=[deal.document_id]),
                ["since", "until", "before", "type", "process"],
            ),
            (reverse("bizproc:instance-detail", args=[instance.pk]), ["before", "mode"]),
            (reverse("bizproc:scenario-detail", args=[scenario.pk]), ["before"]),
            (reverse("bizproc:scenario-run-selected"), ["scenario", "ids"]),
            (reverse("bizproc:scenario-start", args=[scenario.pk]), ["documents"]),
            (reverse("bizproc:task-list"), ["before"]),
            (reverse("designer:scenario-parameters", args=[template.pk]), ["TemplateId", "block"]),
            (
                reverse("designer:scenario-robot-start-parameters", args=[scenario.pk]),
                ["TemplateId"],
            ),
            (
                reverse("crm:record-list", args=["deal"]),
                ["created_from", "created_to", "assigned", "page"],
            ),
            (reverse("crm:record-detail", args=["deal", deal.pk]), ["before"]),
            (reverse("accounts:profile"), ["before"]),
        ],
    }


def in_zone(user: User, zone: str) -> None:
    User.objects.filter(pk=user.pk).update(time_zone=zone)


@BUDGET
@given(value=EXTREMES, zone=ZONES)
def test_no_page_or_partial_answers_an_extreme_query_value_with_a_server_error(
    world, value, zone
) -> None:
    in_zone(world["viewer"], zone)
    client = world["client"]
    for url, names in world["pages"]:
        for name in names:
            for headers in ({}, {"HX-Request": "true"}):
                response = client.get(url, {name: value}, headers=headers)
                assert response.status_code < 500, (url, name, value, zone)
    # The process list's "Next" cursor: (started, id), either part extreme.
    for after in (f"{value}|x", f"2024-01-01T00:00:00|{value}"):
        response = client.get(reverse("bizproc:process-list"), {"after": after})
        assert response.status_code < 500, (after, zone)


REST_CALLS = [
    ("crm.deal.list", lambda v: {"start": v}),
    ("crm.deal.list", lambda v: {"filter": {"ID": v}}),
    ("crm.deal.list", lambda v: {"filter": {">=DATE_CREATE": v}}),
    ("crm.deal.list", lambda v: {"filter": {"<DATE_MODIFY": v}}),
    ("crm.deal.list", lambda v: {"filter": {"ASSIGNED_BY_ID": v}}),
    ("crm.deal.list", lambda v: {"filter": {">CLOSEDATE": v}}),
    ("crm.deal.list", lambda v: {"filter": {"@ID": [v, "1"]}}),
    ("crm.deal.list", lambda v: {"filter": {"OPPORTUNITY": v}}),
    ("crm.deal.get", lambda v: {"id": v}),
    ("crm.lead.list", lambda v: {"start": v, "filter": {"!STATUS_ID": v}}),
    ("bizproc.workflow.instances", lambda v: {"start": v}),
    ("bizproc.workflow.instances", lambda v: {"filter": {">STARTED": v}}),
    ("bizproc.workflow.instances", lambda v: {"filter": {"TEMPLATE_ID": v}}),
    ("bizproc.workflow.template.list", lambda v: {"start": v, "filter": {"ID": v}}),
    ("bizproc.workflow.template.list", lambda v: {"filter": {"<=MODIFIED": v}}),
    ("bizproc.task.list", lambda v: {"start": v}),
    ("bizproc.task.list", lambda v: {"filter": {"ID": v, ">WORKFLOW_STARTED": v}}),
    ("bizproc.script.list", lambda v: {"start": v}),
    ("bizproc.workflow.start", lambda v: {"TEMPLATE_ID": v, "DOCUMENT_ID": ["crm", "x", v]}),
    ("bizproc.workflow.terminate", lambda v: {"ID": v}),
    ("bizproc.workflow.template.delete", lambda v: {"ID": v}),
    ("bizproc.task.complete", lambda v: {"TASK_ID": v, "STATUS": v}),
    ("bizproc.script.start", lambda v: {"scriptId": v, "documentIds": [v]}),
    ("batch", lambda v: {"cmd": {"a": f"crm.deal.list?start={v}&filter[>DATE_CREATE]={v}"}}),
]


@BUDGET
@given(value=EXTREMES, zone=ZONES, as_number=st.booleans())
def test_no_rest_method_answers_an_extreme_value_with_a_server_error(
    world, value, zone, as_number, settings
) -> None:
    settings.REST_RATE_LIMIT_PER_SECOND = 0  # every call answered, none limited
    in_zone(world["viewer"], zone)
    client = Client()
    if as_number and value.lstrip("-").isascii() and value.lstrip("-").isdigit():
        value = int(value)  # JSON numbers too: 2**64 is a valid JSON number
    for method, params in REST_CALLS:
        response = client.post(
            world["rest"] + method, json.dumps(params(value)), content_type="application/json"
        )
        assert response["Content-Type"] == "application/json", (method, value, zone)
        assert response.status_code < 500, (method, value, zone, response.json())
        if response.status_code >= 400:
            assert set(response.json()) == {"error", "error_description"}

"""Values beyond what a page, a socket or a process can use — dates at the ends of the calendar
seen from time zones far from UTC, integers no column holds, cursors no page wrote, waits that
would end after the year 9999 — answered with a form error, a 4xx or a journal error, never a
server error or a raw Python exception."""

import pytest
from asgiref.sync import async_to_sync
from django.db import transaction
from django.test import Client
from django.urls import reverse

from bizproc.models import Instance, InstanceStatus, ProcessTask, TrackingType
from bizproc.runtime import workflow_start
from bizproc.services import PublishRefused
from tests.bizproc.builders import field, node, notes, published
from tests.bizproc.test_live import session_of, socket
from tests.crm.factories import DealFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("bizproc:process-list")
# UTC, and zones whose midnight of 1 January of the year 1 (or of 1 January 10000, the day
# after 31 December 9999) is not a moment a datetime holds in UTC.
ZONES = ["UTC", "Europe/Moscow", "Pacific/Kiritimati", "Pacific/Pago_Pago"]
OUT_OF_RANGE = "Enter a date from"


@pytest.fixture(params=ZONES)
def viewer(request):
    return UserFactory(is_crm_admin=True, time_zone=request.param)


def waiting_process(user, deal) -> Instance:
    template = published(
        node("DelayActivity", TimeoutDuration="1", TimeoutDurationType="h", Title="Wait"),
        user=user,
        name="Waits an hour",
    )
    with transaction.atomic():
        return workflow_start(template=template, document_id=deal.document_id, user=user)


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "query",
    [
        {"since": "0001-01-01"},
        {"until": "9999-12-31"},
        {"since": "0001-01-01", "until": "9999-12-31"},
    ],
)
def test_dates_at_the_ends_of_the_calendar_are_a_form_error_on_the_process_list_and_journal(
    viewer, query
) -> None:
    deal = DealFactory(assigned_by=viewer)
    instance = waiting_process(viewer, deal)
    client = client_of(viewer)
    journal = reverse("bizproc:document-journal", args=[deal.document_id])

    for url in (LIST, journal):
        page = client.get(url, query)
        assert page.status_code == 200
        assert OUT_OF_RANGE in page.text
        # The filter that does not validate filters nothing.
        assert instance.pk in page.text


def test_the_first_and_last_days_a_time_zone_can_hold_still_filter(viewer) -> None:
    deal = DealFactory(assigned_by=viewer)
    instance = waiting_process(viewer, deal)
    client = client_of(viewer)

    page = client.get(LIST, {"since": "0001-01-02", "until": "9999-12-30"})
    assert OUT_OF_RANGE not in page.text
    assert instance.pk in page.text
    page = client.get(LIST, {"until": "0001-01-02"})
    assert OUT_OF_RANGE not in page.text
    assert instance.pk not in page.text


@pytest.mark.parametrize(
    "after", ["2024-02-30T25:61:61|x", "2024-01-01T00:00:00", "0001-01-01T00:00:00+14:00|1"]
)
def test_a_process_list_page_no_next_link_wrote_is_a_bad_request(viewer, after) -> None:
    page = client_of(viewer).get(LIST, {"after": after})
    assert page.status_code == 400
    assert "The request could not be read" in page.text


def test_a_journal_cursor_no_column_holds_is_a_bad_request(viewer) -> None:
    deal = DealFactory(assigned_by=viewer)
    journal = reverse("bizproc:document-journal", args=[deal.document_id])
    instance = waiting_process(viewer, deal)
    client = client_of(viewer)

    for url in (journal, reverse("bizproc:instance-detail", args=[instance.pk])):
        for before in ["9" * 40, "-1", "²"]:
            assert client.get(url, {"before": before}).status_code == 400
        assert client.get(url, {"before": "1"}).status_code == 200


@pytest.mark.parametrize("scenario", ["-1", "0", str(2**64), "9" * 40, "²"])
def test_run_for_selected_with_an_impossible_scenario_is_not_found(viewer, scenario) -> None:
    url = reverse("bizproc:scenario-run-selected")
    response = client_of(viewer).get(url, {"scenario": scenario, "ids": "DEAL_1"})
    assert response.status_code == 404


def test_a_stored_wait_beyond_the_calendar_in_the_viewers_zone_still_shows(viewer) -> None:
    """A wait until 31 December 9999, 23:59 UTC (which older versions accepted) is 1 January
    10000 in Moscow: the process page shows it rather than failing."""
    deal = DealFactory(assigned_by=viewer)
    instance = waiting_process(viewer, deal)
    state = instance.state
    (name,) = state["waits"]
    state["waits"][name]["until"] = "9999-12-31T23:59:00+00:00"
    Instance.objects.filter(pk=instance.pk).update(state=state)

    page = client_of(viewer).get(reverse("bizproc:instance-detail", args=[instance.pk]))
    assert page.status_code == 200
    assert "waiting until" in page.text and "9999" in page.text


TOO_LONG = "The wait is too long: it would end after the year 9999."
TOO_FAR = "The date in field 'Wait until' is too far in the past or in the future."


@pytest.mark.parametrize(
    ("properties", "moment", "message"),
    [
        ({"TimeoutDuration": "1000000000000000", "TimeoutDurationType": "d"}, "", TOO_LONG),
        ({"TimeoutDuration": "99999999", "TimeoutDurationType": "d"}, "", TOO_LONG),
        ({"TimeoutTime": "{=Variable:When}"}, "0001-01-01 00:00", TOO_FAR),
        ({"TimeoutTime": "{=Variable:When}"}, "9999-12-31 23:59", TOO_FAR),
    ],
)
def test_a_pause_beyond_the_calendar_stops_the_process_with_a_journal_error(
    viewer, properties, moment, message
) -> None:
    deal = DealFactory(assigned_by=viewer)
    template = published(
        node("DelayActivity", Title="Wait", **properties),
        user=viewer,
        variables={"When": field("string", "When", default=moment)},
    )
    client = client_of(viewer)
    start = reverse("bizproc:process-start", args=[deal.document_id, template.pk])

    assert client.post(start).status_code == 302
    instance = Instance.objects.get()
    assert instance.status == InstanceStatus.TERMINATED
    assert notes(instance, TrackingType.FAULT) == [message]
    assert instance.error == message
    assert instance.wake_at is None
    page = client.get(reverse("bizproc:instance-detail", args=[instance.pk]))
    assert page.status_code == 200
    assert message.replace("'", "&#x27;") in page.text


@pytest.mark.parametrize("moment", ["0001-01-01 00:00", "9999-12-31 23:59"])
def test_a_pause_until_a_written_date_beyond_the_calendar_is_not_published(viewer, moment):
    with pytest.raises(PublishRefused) as refused:
        published(node("DelayActivity", Title="Wait", TimeoutTime=moment), user=viewer)
    assert [problem.message for problem in refused.value.problems] == [f"Action 'Wait': {TOO_FAR}"]


def test_an_approval_whose_time_limit_ends_after_the_calendar_gives_no_task(viewer) -> None:
    deal = DealFactory(assigned_by=viewer)
    template = published(
        node(
            "ApproveActivity",
            children=[node("SequenceActivity"), node("SequenceActivity")],
            Title="Approval",
            Users=[f"user_{viewer.pk}"],
            Name="Approve",
            TimeoutDuration="1000000000000",
            TimeoutDurationType="d",
        ),
        user=viewer,
    )
    with transaction.atomic():
        instance = workflow_start(template=template, document_id=deal.document_id, user=viewer)
    instance.refresh_from_db()

    assert instance.status == InstanceStatus.TERMINATED
    assert notes(instance, TrackingType.FAULT) == [
        "The wait is too long: it would end after the year 9999."
    ]
    assert not ProcessTask.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("zone", ["Europe/Moscow", "Pacific/Pago_Pago"])
def test_the_journal_socket_with_extreme_filters_and_cursor_sends_the_page_and_no_rows(
    zone,
) -> None:
    user = UserFactory(is_crm_admin=True, time_zone=zone)
    deal = DealFactory(assigned_by=user)
    waiting_process(user, deal)
    session = session_of(user)
    base = f"/ws/bizproc/documents/{deal.document_id}/journal/"

    async def received(query: str) -> list[str]:
        page = socket(f"{base}?{query}", session)
        assert (await page.connect())[0]
        messages = [await page.receive_from(timeout=5)]
        while not await page.receive_nothing(timeout=0.5):
            messages.append(await page.receive_from(timeout=5))
        await page.disconnect()
        return messages

    # A cursor no column holds: the processes, and no rows.
    for after in ["9" * 40, str(2**64), "-1", "²"]:
        (only,) = async_to_sync(received)(f"after={after}")
        assert 'id="record-processes"' in only
    # Dates beyond the calendar filter nothing: page one's socket sends the rows it lacks.
    for dates in ["since=0001-01-01", "until=9999-12-31"]:
        processes, rows, empty_gone = async_to_sync(received)(f"mode=all&after=0&{dates}")
        assert 'id="record-processes"' in processes
        assert 'hx-swap-oob="afterbegin:#journal-rows"' in rows and "Wait" in rows
        assert 'id="journal-empty"' in empty_gone

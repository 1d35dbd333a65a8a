"""The list of processes (rights per record, filters, pages) and a process's page (its blocks'
states, resuming a process stuck past its lease)."""

import datetime
import html
import re

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from bizproc.models import Instance, InstanceStatus
from bizproc.runtime import workflow_start
from tests.bizproc.builders import node, published, run_tasks
from tests.crm.factories import DealFactory, LeadFactory, UserFactory, user_with

pytestmark = pytest.mark.django_db

LIST = reverse("bizproc:process-list")


@pytest.fixture
def admin():
    return UserFactory(is_crm_admin=True, full_name="Anna Admin")


def waiting(user, entity: str = "DEAL", name: str = "Waiting"):
    return published(
        node("LogActivity", Text="started", Title="Say"),
        node("DelayActivity", TimeoutDuration="1", TimeoutDurationType="h", Title="Wait"),
        node("LogActivity", Text="done", Title="Say again"),
        user=user,
        entity=entity,
        name=name,
    )


def start(template, record, user) -> Instance:
    return workflow_start(template=template, document_id=record.document_id, user=user)


def listed(client, **filters) -> set[str]:
    """The ids of the processes the list shows."""
    page = client.get(LIST, filters)
    assert page.status_code == 200
    return set(re.findall(r'href="/bizproc/processes/([^/"]+)/"', page.text))


def test_each_user_sees_the_processes_of_the_records_they_may_read(client, admin) -> None:
    own = user_with({("DEAL", "read"): "own"})
    everything = user_with({("DEAL", "read"): "all", ("LEAD", "read"): "all"})
    nobody = UserFactory()
    deal_template, lead_template = waiting(admin), waiting(admin, entity="LEAD")
    mine = start(deal_template, DealFactory(assigned_by=own), admin)
    theirs = start(deal_template, DealFactory(assigned_by=admin), admin)
    lead = start(lead_template, LeadFactory(assigned_by=own), admin)

    client.force_login(own)
    assert listed(client) == {mine.pk}
    client.force_login(everything)
    assert listed(client) == {mine.pk, theirs.pk, lead.pk}
    client.force_login(nobody)
    assert listed(client) == set()
    assert "No processes match." in client.get(LIST).text


def test_filters_narrow_the_list(client, admin) -> None:
    boris = UserFactory(is_crm_admin=True, full_name="Boris")
    deals, leads = waiting(admin, name="Deals"), waiting(admin, entity="LEAD", name="Leads")
    broken = published(
        node(
            "SetFieldActivity",
            FieldValue={"PROBABILITY": "{=Document:TITLE}"},
            Title="Set the amount",
        ),
        user=admin,
        name="Broken",
    )
    quick = published(node("LogActivity", Text="hi"), user=admin, name="Quick")
    deal = DealFactory(assigned_by=admin)
    waiting_long = start(deals, deal, admin)
    Instance.objects.filter(pk=waiting_long.pk).update(
        modified_at=timezone.now() - datetime.timedelta(days=2)
    )
    waiting_now = start(deals, deal, boris)
    lead = start(leads, LeadFactory(assigned_by=admin), admin)
    faulted = start(broken, deal, admin)
    completed = start(quick, deal, admin)
    assert faulted.status == InstanceStatus.TERMINATED and faulted.error
    client.force_login(admin)

    assert listed(client, template=deals.pk) == {waiting_long.pk, waiting_now.pk}
    assert listed(client, status=InstanceStatus.COMPLETED) == {completed.pk}
    assert listed(client, entity="crm:LEAD") == {lead.pk}
    assert listed(client, started_by=boris.pk) == {waiting_now.pk}
    assert listed(client, waiting="1d") == {waiting_long.pk}
    assert listed(client, error="on") == {faulted.pk}
    assert html.escape(faulted.error) in client.get(LIST, {"error": "on"}).text
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    assert listed(client, since=tomorrow) == set()
    assert len(listed(client, until=tomorrow)) == 5
    assert listed(client, document=deal.document_id) == {
        waiting_long.pk,
        waiting_now.pk,
        faulted.pk,
        completed.pk,
    }
    bad = client.get(LIST, {"status": "9", "since": "soon"})
    assert bad.status_code == 200
    assert "Enter a valid date." in bad.text


def test_the_list_pages_newest_first(client, admin) -> None:
    template = published(node("LogActivity", Text="hi"), user=admin, name="Quick")
    deal = DealFactory(assigned_by=admin)
    started = [start(template, deal, admin) for _ in range(53)]
    client.force_login(admin)
    first = client.get(LIST).text
    assert len(set(re.findall(r'href="/bizproc/processes/([^/"]+)/"', first))) == 50
    older = re.search(r'href="(\?after=[^"]+)"', first)
    assert older
    rest = client.get(LIST + html.unescape(older[1])).text
    assert set(re.findall(r'href="/bizproc/processes/([^/"]+)/"', rest)) == {
        instance.pk for instance in started[:3]
    }


def test_the_process_page_shows_each_blocks_state(client, admin) -> None:
    deal = DealFactory(assigned_by=admin)
    instance = start(waiting(admin), deal, admin)
    client.force_login(admin)
    page = client.get(reverse("bizproc:instance-detail", args=[instance.pk])).text
    states = dict(re.findall(r'block-title">([^<]+)</span>.*?block-state">([^<]+)<', page, re.S))
    assert states["Say"] == "done"
    assert states["Wait"].startswith("waiting until ")
    assert states["Say again"] == "not started"
    assert states["Sequential business process"] == "running"

    broken = published(
        node(
            "SetFieldActivity",
            FieldValue={"PROBABILITY": "{=Document:TITLE}"},
            Title="Set the amount",
        ),
        user=admin,
    )
    faulted = start(broken, deal, admin)
    page = client.get(reverse("bizproc:instance-detail", args=[faulted.pk])).text
    states = dict(re.findall(r'block-title">([^<]+)</span>.*?block-state">([^<]+)<', page, re.S))
    assert states["Set the amount"] == "error"
    assert states["Sequential business process"] == "interrupted"
    assert html.escape(faulted.error) in page


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_admin_resumes_a_process_stuck_past_its_lease_and_it_completes(client, admin) -> None:
    deal = DealFactory(assigned_by=admin)
    template = published(
        node("DelayActivity", TimeoutDuration="1", TimeoutDurationType="s", Title="Pause"),
        node("LogActivity", Text="resumed", Title="After"),
        user=admin,
    )
    with transaction.atomic():
        instance = start(template, deal, admin)
    # A worker took it and died mid-step: its lease ran out, and its task is gone.
    now = timezone.now()
    Instance.objects.filter(pk=instance.pk).update(
        owned_until=now - datetime.timedelta(minutes=1),
        owner="dead-worker",
        wake_at=now - datetime.timedelta(minutes=2),
    )
    DBTaskResult.objects.all().delete()
    url = reverse("bizproc:instance-detail", args=[instance.pk])
    resume = reverse("bizproc:instance-resume", args=[instance.pk])

    manager = user_with({("DEAL", "read"): "all", ("DEAL", "start_processes"): "all"})
    client.force_login(manager)
    page = client.get(url).text
    assert "its lease expired" in page and "Resume" not in page
    assert client.post(resume).status_code == 403

    client.force_login(admin)
    assert f'action="{resume}"' in client.get(url).text
    response = client.post(resume, follow=True)
    assert "The process was handed to a worker again." in response.text
    run_tasks()
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert "resumed" in client.get(url).text

    again = client.post(resume, follow=True)
    assert "The process is not stuck: there is nothing to resume." in again.text


def test_a_malformed_process_id_is_a_404_before_any_query(client, admin) -> None:
    client.force_login(admin)
    for raw in ("nonsense%00%C3%A9", "x" * 33, "a;b"):
        assert client.get(f"/bizproc/processes/{raw}/").status_code == 404, raw

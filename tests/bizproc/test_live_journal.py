"""A record's journal page: every row type labelled in English and Russian, text escaped, user
references named, newest first with keyset pages, filters, and the causal links between smart
scenario runs and the processes and blocks that started them."""

import datetime
import re

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from bizproc import scenarios
from bizproc.journal import Journal
from bizproc.models import Instance, JournalEntry, RunStatus, ScenarioRun
from bizproc.runtime import workflow_start
from crm.documents import DOCUMENT_TYPES
from tests.bizproc.builders import node, published, run_tasks
from tests.crm.factories import DealFactory, UserFactory

pytestmark = pytest.mark.django_db

LABELS = {
    "en": [
        "Start action",
        "Stop action",
        "Cancel action",
        "Action error",
        "User record",
        "Report",
        "Error",
    ],
    "ru": [
        "Запуск действия",
        "Завершение действия",
        "Отмена действия",
        "Ошибка действия",
        "Пользовательская запись",
        "Отчет",
        "Ошибка",
    ],
}


@pytest.fixture
def admin():
    return UserFactory(is_crm_admin=True, full_name="Anna Admin")


@pytest.fixture
def deal(admin):
    return DealFactory(title="Journal deal", assigned_by=admin)


@pytest.fixture
def waiting(admin):
    return published(
        node("DelayActivity", TimeoutDuration="1", TimeoutDurationType="h", Title="Wait"),
        user=admin,
        name="Waiting",
    )


def journal_url(deal) -> str:
    return reverse("bizproc:document-journal", args=[deal.document_id])


def type_cells(html: str) -> list[str]:
    """The Type column of the journal table (the fourth cell: Date, Name, Process, Type)."""
    body = html[html.index('id="journal-rows"') :]
    return [
        re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[3].strip()
        for row in re.findall(r"<tr class=\"journal-\d+\">(.*?)</tr>", body, re.S)
    ]


@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_row_type_shows_its_label(client, admin, deal, waiting, language) -> None:
    instance = workflow_start(template=waiting, document_id=deal.document_id, user=admin)
    journal = Journal(instance, admin.pk)
    journal.execute("A1", "Block")
    journal.close("A1", "Block")
    journal.close("A2", "Block", canceled=True)
    journal.fault("A3", "Block", "broken")
    journal.custom("A4", "Block", "custom note")
    journal.report("A5", "Block", "report note")
    journal.error("A6", "Block", "error note")
    JournalEntry.objects.all().delete()
    with transaction.atomic():
        journal.flush()
    admin.language = language
    admin.save()
    client.force_login(admin)

    page = client.get(journal_url(deal), {"mode": "all"})

    assert type_cells(page.text) == list(reversed(LABELS[language]))


def test_notes_are_text_and_user_references_show_names(client, admin, deal, waiting) -> None:
    boris = UserFactory(full_name="Boris <b>Bold</b>")
    instance = workflow_start(template=waiting, document_id=deal.document_id, user=admin)
    journal = Journal(instance, admin.pk)
    journal.custom("A1", "Block", "<script>alert(1)</script>")
    journal.report("A2", "Block", f"Approved by user_{boris.pk} and user_999999\nnext line")
    with transaction.atomic():
        journal.flush()
    client.force_login(admin)

    page = client.get(journal_url(deal)).text

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Approved by Boris &lt;b&gt;Bold&lt;/b&gt; and user_999999<br>next line" in page


def test_newest_first_with_keyset_pages_and_filters(client, admin, deal, waiting) -> None:
    first = workflow_start(template=waiting, document_id=deal.document_id, user=admin)
    second = workflow_start(template=waiting, document_id=deal.document_id, user=admin)
    for number in range(60):
        journal = Journal(first if number % 2 else second, admin.pk)
        journal.report("A1", "Log", f"note {number:02d}")
        with transaction.atomic():
            journal.flush()
    old = JournalEntry.objects.get(note="note 00")
    old.created_at = timezone.now() - datetime.timedelta(days=10)
    old.save()
    client.force_login(admin)

    page = client.get(journal_url(deal))
    notes = re.findall(r"note \d\d", page.text)
    assert notes[:2] == ["note 59", "note 58"] and len(notes) == 50
    older = re.search(r'href="\?before=(\d+)"', page.text)
    assert older
    rest = re.findall(r"note \d\d", client.get(journal_url(deal), {"before": older[1]}).text)
    assert rest == [f"note {n:02d}" for n in range(9, -1, -1)]

    by_process = client.get(journal_url(deal), {"process": first.pk}).text
    assert re.findall(r"note \d\d", by_process)[:2] == ["note 59", "note 57"]
    by_type = client.get(journal_url(deal), {"mode": "all", "type": "1"}).text
    assert "note " not in by_type and "Start action" in by_type
    last_week = (timezone.localdate() - datetime.timedelta(days=7)).isoformat()
    recent = re.findall(r"note \d\d", client.get(journal_url(deal), {"since": last_week}).text)
    assert "note 00" not in recent
    older_ones = client.get(journal_url(deal), {"until": last_week}).text
    assert re.findall(r"note \d\d", older_ones) == ["note 00"]
    bad = client.get(journal_url(deal), {"since": "yesterday", "type": "77"})
    assert bad.status_code == 200 and "Enter a valid date." in bad.text


def test_the_journal_as_an_htmx_partial_opens_its_socket_with_its_filters(
    client, admin, deal, waiting
) -> None:
    instance = workflow_start(template=waiting, document_id=deal.document_id, user=admin)
    newest = JournalEntry.objects.filter(instance=instance).latest("id").pk
    client.force_login(admin)
    response = client.get(journal_url(deal), {"mode": "all"}, headers={"HX-Request": "true"})
    assert response.text.lstrip().startswith('<section id="journal"')
    assert (
        f'ws-connect="/ws/bizproc/documents/{deal.document_id}/journal/?mode=all&amp;after={newest}"'
        in response.text
    )
    older = client.get(journal_url(deal), {"mode": "all", "before": newest})
    assert 'journal/?mode=all"' in older.text  # older pages take no new rows


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_scenario_run_and_the_process_and_block_that_started_it_link_each_other(
    client, admin
) -> None:
    caller_deal = DealFactory(title="Caller", assigned_by=admin)
    target_deal = DealFactory(title="Target", assigned_by=admin)
    scenario = scenarios.scenario_save(
        user=admin,
        document_type=DOCUMENT_TYPES["DEAL"],
        name="Welcome pack",
        robots=[node("CrmTimelineCommentAdd", CommentText="Welcome")],
    )
    caller = published(
        node(
            "StartScriptActivity",
            Title="Send the pack",
            DocumentId=target_deal.document_id,
            StartBy=f"user_{admin.pk}",
            TemplateId=str(scenario.template_id),
        ),
        user=admin,
        name="Onboarding",
    )
    with transaction.atomic():
        started = workflow_start(template=caller, document_id=caller_deal.document_id, user=admin)
    run_tasks()
    run = ScenarioRun.objects.get()
    assert run.status == RunStatus.COMPLETED
    client.force_login(admin)

    target_page = client.get(journal_url(target_deal)).text
    assert "Run of smart scenario “Welcome pack”: Completed" in target_page
    caller_link = reverse("bizproc:instance-detail", args=[started.pk])
    assert f'Started by the process <a href="{caller_link}">Onboarding</a>' in target_page
    assert "block “Send the pack”" in target_page

    caller_page = client.get(journal_url(caller_deal)).text
    assert (
        f"Block “Send the pack” started smart scenario “Welcome pack” on "
        f"{target_deal.document_id}: Completed" in caller_page
    )
    run_link = reverse("bizproc:instance-detail", args=[run.instance_id])
    assert run_link in caller_page
    assert Instance.objects.count() == 2

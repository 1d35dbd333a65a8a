"""Journal retention: rows of finished processes past BIZPROC_JOURNAL_RETENTION_DAYS go (by
`manage.py prune_journal` and by the worker once a day); 0 keeps everything."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from bizproc import journal
from bizproc.models import JournalEntry
from bizproc.runtime import workflow_start
from tests.bizproc.builders import node, published, run_tasks
from tests.crm.factories import DealFactory, UserFactory


@pytest.fixture
def admin():
    return UserFactory(is_crm_admin=True)


def age(instance, days: int) -> None:
    JournalEntry.objects.filter(instance=instance).update(
        created_at=timezone.now() - datetime.timedelta(days=days)
    )


def prune(**options) -> str:
    out = StringIO()
    call_command("prune_journal", stdout=out, **options)
    return out.getvalue()


@pytest.mark.django_db
def test_old_rows_of_finished_processes_go_and_everything_else_stays(admin, settings) -> None:
    deal = DealFactory(assigned_by=admin)
    quick = published(node("LogActivity", Text="hi"), user=admin)
    waiting = published(
        node("DelayActivity", TimeoutDuration="1", TimeoutDurationType="d"), user=admin
    )
    old_finished = workflow_start(template=quick, document_id=deal.document_id, user=admin)
    young_finished = workflow_start(template=quick, document_id=deal.document_id, user=admin)
    old_waiting = workflow_start(template=waiting, document_id=deal.document_id, user=admin)
    age(old_finished, 40)
    age(young_finished, 10)
    age(old_waiting, 40)
    before = {
        instance.pk: JournalEntry.objects.filter(instance=instance).count()
        for instance in (old_finished, young_finished, old_waiting)
    }

    assert prune() == "Journal retention is off (0 days): nothing was deleted.\n"
    assert JournalEntry.objects.count() == sum(before.values())

    settings.BIZPROC_JOURNAL_RETENTION_DAYS = 30
    assert prune() == f"Deleted {before[old_finished.pk]} journal rows older than 30 days.\n"
    assert not JournalEntry.objects.filter(instance=old_finished).exists()
    assert JournalEntry.objects.filter(instance=young_finished).count() == before[young_finished.pk]
    assert JournalEntry.objects.filter(instance=old_waiting).count() == before[old_waiting.pk]

    assert prune(days=5) == f"Deleted {before[young_finished.pk]} journal rows older than 5 days.\n"
    assert prune(days=5) == "Deleted 0 journal rows older than 5 days.\n"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_worker_prunes_once_a_day(admin, settings) -> None:
    deal = DealFactory(assigned_by=admin)
    quick = published(node("LogActivity", Text="hi"), user=admin)

    def step():
        with transaction.atomic():
            return workflow_start(template=quick, document_id=deal.document_id, user=admin)

    def prunes_queued() -> int:
        return DBTaskResult.objects.filter(task_path="bizproc.tasks.journal_prune").count()

    journal.daily_prune.next_at = 0.0  # as in a process that has not pruned yet
    step()
    assert prunes_queued() == 0  # retention off: never

    settings.BIZPROC_JOURNAL_RETENTION_DAYS = 30
    old = step()
    age(old, 31)
    step()
    assert prunes_queued() == 1  # the first step of the day asks; the next ones do not

    run_tasks()
    assert not JournalEntry.objects.filter(instance=old).exists()
    assert JournalEntry.objects.count() > 0

    journal.daily_prune.next_at = 0.0  # a day later
    step()
    assert prunes_queued() == 2

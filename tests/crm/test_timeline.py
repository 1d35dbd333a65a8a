"""The record timeline: written by the services in the transaction of each write, comments
(which need only the read right), what a stale form missed, how values read, and the demo
company's timelines."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse

from bizproc.hooks import document_hooks
from crm import services
from crm.models import (
    RECORD_MODELS,
    Action,
    Company,
    Contact,
    Deal,
    Lead,
    Level,
    TimelineEntry,
    TimelineKind,
)
from tests.crm.factories import DealFactory, UserFactory, user_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager():
    return user_with(
        {("DEAL", action): Level.ALL for action in (Action.READ, Action.ADD, Action.UPDATE)},
        full_name="Boris Ivanov",
    )


def entries(record) -> list[TimelineEntry]:
    return list(TimelineEntry.objects.filter(document_id=record.document_id).order_by("id"))


# --- written by the services ---------------------------------------------------------------------


def test_creating_a_record_writes_a_created_entry_by_its_author(manager):
    deal = services.record_create(entity_type="DEAL", values={"TITLE": "New"}, user=manager)

    [entry] = entries(deal)
    assert (entry.kind, entry.author, entry.by_process, entry.version) == (
        TimelineKind.CREATED,
        manager,
        False,
        1,
    )


def test_a_change_is_written_with_old_and_new_values_and_the_version_after_it(manager):
    deal = DealFactory(title="Old", stage="NEW")

    services.record_update(
        record=deal,
        values={"TITLE": "New", "STAGE_ID": "WON", "BEGINDATE": "2026-05-01"},
        user=manager,
    )

    [entry] = entries(deal)
    assert entry.kind == TimelineKind.CHANGED
    assert entry.changes == {
        "TITLE": ["Old", "New"],
        "STAGE_ID": ["NEW", "WON"],
        "BEGINDATE": [None, "2026-05-01"],
    }
    assert (entry.author, entry.version) == (manager, 2)


def test_a_write_that_changes_nothing_writes_no_entry(manager):
    deal = DealFactory(title="Same")

    services.record_update(record=deal, values={"TITLE": "Same"}, user=manager)

    assert entries(deal) == []


def test_a_process_write_is_marked_as_such_and_attributed_to_its_user(manager):
    deal = DealFactory()

    services.record_update(record=deal, values={"TITLE": "By robot"}, user=None, by_process=True)
    services.record_update(
        record=deal, values={"TITLE": "For Boris"}, user=manager, by_process=True
    )

    first, second = entries(deal)
    assert (first.by_process, first.author) == (True, None)
    assert (second.by_process, second.author) == (True, manager)


def test_a_refused_write_leaves_no_entry(manager):
    deal = DealFactory()

    with pytest.raises(ValidationError):
        services.record_update(record=deal, values={"STAGE_ID": "NOPE"}, user=manager)

    assert entries(deal) == []


def test_the_entry_shares_the_fate_of_the_write(manager):
    """A hook that fails rolls the write back, and the timeline with it."""
    deal = DealFactory(title="Kept")

    def refuse(**kwargs):
        raise RuntimeError("no")

    document_hooks.on_updated.append(refuse)
    try:
        with pytest.raises(RuntimeError):
            services.record_update(record=deal, values={"TITLE": "Lost"}, user=manager)
    finally:
        document_hooks.on_updated.remove(refuse)

    assert entries(deal) == []
    deal.refresh_from_db()
    assert deal.title == "Kept"


def test_deleting_a_record_deletes_its_timeline_only():
    deal, other = DealFactory.create_batch(2)
    for record in (deal, other):
        services.timeline_comment_add(record=record, text="hello", user=None)

    services.record_delete(record=deal, user=None)

    assert entries(deal) == []
    assert len(entries(other)) == 1


# --- comments ------------------------------------------------------------------------------------


def test_commenting_needs_only_the_read_right():
    reader = user_with({("DEAL", Action.READ): Level.ALL})
    deal = DealFactory()

    entry = services.timeline_comment_add(record=deal, text="  Looks good \n", user=reader)

    assert (entry.kind, entry.text, entry.author) == (TimelineKind.COMMENT, "Looks good", reader)


def test_a_user_who_may_not_read_the_record_may_not_comment_on_it():
    reader = user_with({("DEAL", Action.READ): Level.OWN})
    deal = DealFactory()

    with pytest.raises(PermissionDenied):
        services.timeline_comment_add(record=deal, text="Sneaky", user=reader)

    assert entries(deal) == []


def test_the_read_right_is_judged_on_the_stored_record_not_a_stale_copy():
    reader = user_with({("DEAL", Action.READ): Level.OWN})
    deal = DealFactory(assigned_by=reader)
    Deal.objects.filter(pk=deal.pk).update(assigned_by=UserFactory())

    with pytest.raises(PermissionDenied):
        services.timeline_comment_add(record=deal, text="Too late", user=reader)


def test_a_process_comments_with_system_rights():
    outsider = UserFactory()
    deal = DealFactory()

    entry = services.timeline_comment_add(
        record=deal, text="Robot note", user=outsider, by_process=True
    )

    assert (entry.by_process, entry.author) == (True, outsider)


@pytest.mark.parametrize("text", ["", "   ", "x" * 5001])
def test_an_empty_or_too_long_comment_is_refused(text):
    deal = DealFactory()

    with pytest.raises(ValidationError) as error:
        services.timeline_comment_add(record=deal, text=text, user=None)

    assert list(error.value.message_dict) == ["text"]
    assert entries(deal) == []


def test_a_comment_of_exactly_the_limit_is_kept():
    deal = DealFactory()

    entry = services.timeline_comment_add(record=deal, text="x" * 5000, user=None)

    assert len(entry.text) == 5000


def test_a_comment_on_a_deleted_record_is_refused():
    deal = DealFactory()
    Deal.objects.filter(pk=deal.pk).delete()

    with pytest.raises(Deal.DoesNotExist):
        services.timeline_comment_add(record=deal, text="Ghost", user=None)

    assert not TimelineEntry.objects.exists()


# --- what a stale form missed --------------------------------------------------------------------


def test_changes_since_a_version_give_the_value_then_and_the_value_now(manager):
    deal = DealFactory(title="A", stage="NEW", probability=None)
    services.record_update(record=deal, values={"TITLE": "B"}, user=manager)  # version 2
    services.record_update(record=deal, values={"STAGE_ID": "WON"}, user=manager)  # 3
    services.record_update(record=deal, values={"TITLE": "C", "PROBABILITY": 5}, user=manager)
    services.record_update(record=deal, values={"PROBABILITY": ""}, user=manager)  # back

    since = services.timeline_changes_since(record=deal, version=2)

    assert since == {"STAGE_ID": ("NEW", "WON"), "TITLE": ("B", "C")}
    assert services.timeline_changes_since(record=deal, version=deal.version) == {}


# --- how the timeline reads ----------------------------------------------------------------------


def test_the_card_names_users_and_options_and_writes_dates_in_the_users_format(client):
    reader = user_with({("DEAL", Action.READ): Level.ALL}, language="ru")
    helen, mark = UserFactory(full_name="Helen Carter"), UserFactory(full_name="Mark Lee")
    deal = DealFactory(assigned_by=helen)
    services.record_update(
        record=deal,
        values={"ASSIGNED_BY_ID": mark.pk, "SOURCE_ID": "WEB", "CLOSEDATE": "2026-12-31"},
        user=helen,
        by_process=True,
    )
    client.force_login(reader)

    page = client.get(reverse("crm:record-detail", args=["deal", deal.pk])).text
    timeline = page[page.index('id="timeline"') :]

    assert "Helen Carter → Mark Lee" in timeline
    assert "Веб-сайт" in timeline
    assert '<time datetime="2026-12-31">31.12.2026</time>' in timeline


# --- the demo company ----------------------------------------------------------------------------


def test_the_demo_company_has_records_of_every_type_and_timelines_that_add_up(settings, tmp_path):
    settings.DEMO_CREDENTIALS_FILE = tmp_path / "credentials.json"

    call_command("demo_data", verbosity=0)

    counts = {model: model.objects.count() for model in (Company, Contact, Lead, Deal)}
    assert counts == {Company: 50, Contact: 200, Lead: 300, Deal: 300}
    for entity_type, model in RECORD_MODELS.items():
        created = TimelineEntry.objects.filter(
            kind=TimelineKind.CREATED, document_id__startswith=f"{entity_type}_"
        )
        assert created.count() == model.objects.count()
    assert TimelineEntry.objects.filter(kind=TimelineKind.COMMENT).count() > 100
    for deal in Deal.objects.all():
        changes = [e.changes["STAGE_ID"] for e in entries(deal) if e.kind == TimelineKind.CHANGED]
        assert deal.version == 1 + len(changes)
        assert [old for old, _new in changes[1:]] == [new for _old, new in changes[:-1]]
        assert (changes[-1][1] if changes else "NEW") == deal.stage
        assert deal.modified_at >= deal.created_at


def test_demo_records_belong_to_the_sales_people_and_ids_follow_creation_time(settings, tmp_path):
    settings.DEMO_CREDENTIALS_FILE = tmp_path / "credentials.json"

    call_command("demo_data", "--size", "60", verbosity=0)

    owners = set(Deal.objects.values_list("assigned_by__username", flat=True))
    assert owners == {"anna", "boris", "helen"}
    times = list(Deal.objects.order_by("pk").values_list("created_at", flat=True))
    assert times == sorted(times)
    assert times[-1] - times[0] > datetime.timedelta(days=30)

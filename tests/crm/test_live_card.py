"""The record card goes live: a comment or a change of fields, committed by anyone (a person on
another page, a process), reaches the record's open cards as the new timeline entries and the
details as they are now — for readers of the record only."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async

from crm import services
from crm.models import TimelineEntry
from tests.bizproc.test_live import closed_with, messages_until, session_of, socket
from tests.crm.factories import DealFactory, UserFactory, user_with

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def admin():
    return UserFactory(is_crm_admin=True, full_name="Anna Admin")


def test_a_readers_card_receives_new_entries_and_the_details_as_they_are_now(admin) -> None:
    deal = DealFactory(title="Harbour crane", assigned_by=admin)
    newest = services.timeline_comment_add(record=deal, text="Ordered", user=admin).pk
    reader = session_of(user_with({("DEAL", "read"): "all"}, full_name="Rita Reader"))
    stranger = session_of(user_with({("DEAL", "read"): "own"}))
    card = f"/ws/crm/records/{deal.document_id}/?after={newest}"

    async def scenario() -> None:
        assert await closed_with(socket(card, stranger)) == 4403
        assert await closed_with(socket(card)) == 4401
        assert await closed_with(socket("/ws/crm/records/DEAL_999999/", reader)) == 4403
        page = socket(card, reader)
        assert (await page.connect())[0]
        first = await page.receive_from()
        assert first.startswith('<dl id="record-fields" class="fields" hx-swap-oob="true">')
        assert "Harbour crane" in first

        comment = database_sync_to_async(services.timeline_comment_add)
        await comment(record=deal, text="Crane arrives Monday", user=admin)
        fields, entries = await messages_until(page, "Crane arrives Monday")
        assert fields.startswith('<dl id="record-fields"')
        assert entries.startswith('<ol hx-swap-oob="afterbegin:#timeline-entries">')
        assert "Anna Admin" in entries

        update = database_sync_to_async(services.record_update)
        await update(record=deal, values={"TITLE": "Harbour crane (won)"}, user=admin)
        fields, entries = await messages_until(page, "→")
        assert "Harbour crane (won)" in fields
        assert "Crane arrives Monday" not in entries and "Ordered" not in entries  # only new
        await page.disconnect()

    async_to_sync(scenario)()


def test_a_card_with_no_entries_loses_its_empty_line_with_the_first(admin) -> None:
    deal = DealFactory(assigned_by=admin)
    assert not TimelineEntry.objects.filter(document_id=deal.document_id).exists()
    session = session_of(admin)

    async def scenario() -> None:
        page = socket(f"/ws/crm/records/{deal.document_id}/?after=0", session)
        assert (await page.connect())[0]
        await page.receive_from()
        comment = database_sync_to_async(services.timeline_comment_add)
        await comment(record=deal, text="First words", user=admin)
        *_, empty_gone = await messages_until(page, "timeline-empty")
        assert empty_gone == '<li id="timeline-empty" hx-swap-oob="delete"></li>'
        await page.disconnect()

    async_to_sync(scenario)()

"""The record card goes live: a comment or a change of fields, committed by anyone (a person on
another page, a process), reaches the record's open cards as the new timeline entries and the
details as they are now — for readers of the record only."""

import asyncio
import os
import signal
import threading
import time

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connection

from bizproc import live
from crm import services
from crm.models import TimelineEntry
from tests.bizproc.builders import node, published
from tests.bizproc.test_live import closed_with, messages_until, session_of, socket, start
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


def renaming(admin):
    return published(
        node("SetFieldActivity", FieldValue={"TITLE": "Renamed by a process"}, Title="Rename"),
        user=admin,
    )


def test_a_process_that_changes_the_record_redraws_its_open_cards(admin) -> None:
    deal = DealFactory(title="Before", assigned_by=admin)
    template = renaming(admin)
    session = session_of(admin)

    async def scenario() -> None:
        page = socket(f"/ws/crm/records/{deal.document_id}/?after=0", session)
        assert (await page.connect())[0]
        assert "Before" in await page.receive_from()
        await database_sync_to_async(start)(template, deal, admin)
        fields, *_ = await messages_until(page, "Renamed by a process")
        assert "Renamed by a process" in fields and "Before" not in fields
        await page.disconnect()

    async_to_sync(scenario)()


@pytest.mark.redis
def test_a_process_in_a_worker_without_sockets_reaches_the_cards_through_redis(
    admin, monkeypatch
) -> None:
    """A separate worker process: no socket ever binds a server loop there, so the change goes
    out through the process's publisher thread and Redis to the card on this server's loop."""
    monkeypatch.setattr(live, "bind_server_loop", lambda: None)
    monkeypatch.setattr(live, "_server_loop", None)
    deal = DealFactory(title="Before", assigned_by=admin)
    template = renaming(admin)
    session = session_of(admin)

    def worker() -> None:
        try:
            start(template, deal, admin)
        finally:
            connection.close()

    async def scenario() -> None:
        page = socket(f"/ws/crm/records/{deal.document_id}/?after=0", session)
        assert (await page.connect())[0]
        await page.receive_from()
        thread = threading.Thread(target=worker)
        thread.start()
        await asyncio.get_running_loop().run_in_executor(None, thread.join)
        fields, *_ = await messages_until(page, "Renamed by a process")
        assert "Renamed by a process" in fields
        await page.disconnect()

    async_to_sync(scenario)()
    assert live._server_loop is None  # nothing took the server's loop: Redis carried it


@pytest.mark.redis
def test_a_process_forked_after_publishing_still_publishes() -> None:
    """A process forked from one that published (as the benches' client processes are) gets a
    publisher of its own: the parent's publishing thread does not exist in the child."""
    layer = get_channel_layer()
    group = "bizproc.forked-publisher"
    live.publish(f"{group}.parent", {"type": "parent.ready"})  # the parent's publisher runs

    async def scenario() -> dict:
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        child = os.fork()
        if child == 0:  # the child: publish, and live until the parent has read it
            try:
                live.publish(group, {"type": "child.says", "text": "from the child"})
                time.sleep(10)
            finally:
                os._exit(0)
        try:
            return await asyncio.wait_for(layer.receive(channel), timeout=10)
        finally:
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)

    assert async_to_sync(scenario)() == {"type": "child.says", "text": "from the child"}


@pytest.mark.redis
def test_updates_published_in_a_burst_all_arrive_in_their_order() -> None:
    """What the publisher sends in one pipeline arrives as separate messages, none lost."""
    layer = get_channel_layer()
    group = "bizproc.burst"

    async def scenario() -> list[int]:
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        for number in range(50):
            live.publish(group, {"type": "burst.item", "number": number})
        return [(await asyncio.wait_for(layer.receive(channel), 10))["number"] for _ in range(50)]

    assert async_to_sync(scenario)() == list(range(50))

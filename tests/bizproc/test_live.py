"""Live updates: the consumers (rights on connect, what arrives), one announcement per step with
ids only, and the hand-off from a worker thread to the loop the sockets live on.

The sockets are driven through ``config.asgi.application`` (origin check, session auth, routing)
with a logged-in session cookie; steps commit for real (``transaction=True``), since announcements
are sent on commit. (``channels.testing`` needs daphne, which we do not install: ``Socket`` is
its ``Socket``, in a few lines over asgiref's ``ApplicationCommunicator``.)
"""

import asyncio
import threading
import time

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from bizproc import live, scenarios
from bizproc.models import Instance, JournalEntry, ScenarioRun
from bizproc.runtime import instance_step, workflow_start
from bizproc.scenarios import scenario_run_execute
from config.asgi import application
from crm.documents import DOCUMENT_TYPES
from tests.bizproc.builders import node, published
from tests.crm.factories import DealFactory, UserFactory, user_with

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def admin():
    return UserFactory(is_crm_admin=True, full_name="Anna Admin")


@pytest.fixture
def deal(admin):
    return DealFactory(title="Live deal", assigned_by=admin)


class Socket(ApplicationCommunicator):
    """A websocket client of an ASGI application."""

    def __init__(self, application, path: str, headers: list[tuple[bytes, bytes]]) -> None:
        path, _, query = path.partition("?")
        scope = {
            "type": "websocket",
            "path": path,
            "query_string": query.encode(),
            "headers": headers,
            "subprotocols": [],
        }
        super().__init__(application, scope)

    async def connect(self, timeout: float = 5) -> tuple[bool, int | None]:
        await self.send_input({"type": "websocket.connect"})
        answer = await self.receive_output(timeout)
        return answer["type"] == "websocket.accept", answer.get("code")

    async def receive_from(self, timeout: float = 5) -> str:
        message = await self.receive_output(timeout)
        assert message["type"] == "websocket.send", message
        return message["text"]

    async def disconnect(self) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.wait(5)


def session_of(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def socket(path: str, session: str | None = None, origin: str = "http://127.0.0.1") -> Socket:
    headers = [(b"origin", origin.encode()), (b"host", b"127.0.0.1")]
    if session is not None:
        headers.append((b"cookie", f"sessionid={session}".encode()))
    return Socket(application, path, headers=headers)


async def messages_until(page: Socket, text: str, timeout: float = 10) -> list[str]:
    """What arrives on the socket, up to and including the message that contains ``text``."""
    received = [await page.receive_from(timeout)]
    while text not in received[-1]:
        received.append(await page.receive_from(timeout))
    return received


async def closed_with(communicator: Socket) -> int:
    connected, _ = await communicator.connect()
    assert connected  # accepted first, so that the browser learns why it is closed
    message = await communicator.receive_output(timeout=5)
    assert message["type"] == "websocket.close"
    return message["code"]


def start(template, deal, user) -> Instance:
    with transaction.atomic():
        return workflow_start(template=template, document_id=deal.document_id, user=user)


def test_only_readers_get_the_socket_and_a_reader_receives_the_new_rows(admin, deal) -> None:
    template = published(
        node("LogActivity", Text="Hello from the step", Title="Greet"),
        node("DelayActivity", TimeoutDuration="1", TimeoutDurationType="h", Title="Wait"),
        user=admin,
        name="Greeting",
    )
    reader = session_of(user_with({("DEAL", "read"): "all"}))
    stranger_user = user_with({("DEAL", "read"): "own"})
    stranger = session_of(stranger_user)
    tab = f"/ws/bizproc/documents/{deal.document_id}/"
    journal = f"/ws/bizproc/documents/{deal.document_id}/journal/?after=0"

    async def scenario() -> None:
        allowed = socket(tab, reader)
        assert (await allowed.connect())[0]
        assert "There are no active processes" in await allowed.receive_from(timeout=5)
        allowed_journal = socket(journal, reader)
        assert (await allowed_journal.connect())[0]
        await allowed_journal.receive_from(timeout=5)

        assert await closed_with(socket(tab, stranger)) == 4403
        assert await closed_with(socket(journal, stranger)) == 4403
        assert await closed_with(socket(tab)) == 4401
        assert await closed_with(socket("/ws/bizproc/documents/DEAL_999999/", reader)) == 4403

        instance = await database_sync_to_async(start)(template, deal, admin)

        html = await allowed.receive_from(timeout=5)
        assert 'id="processes-live"' in html
        assert "Greeting" in html and "Hello from the step" in html
        assert "There are no active processes" not in html
        processes, rows, empty_gone = await messages_until(allowed_journal, "journal-empty")
        assert 'id="record-processes"' in processes and "Greeting" in processes
        # A table part parses as such only at the start of a message: the rows come alone.
        assert rows.startswith('<tbody hx-swap-oob="afterbegin:#journal-rows">')
        assert "Hello from the step" in rows
        assert empty_gone == '<p id="journal-empty" hx-swap-oob="delete"></p>'

        process = f"/ws/bizproc/processes/{instance.pk}/"
        assert await closed_with(socket(process, stranger)) == 4403
        await allowed.disconnect()
        await allowed_journal.disconnect()

    async_to_sync(scenario)()

    client = Client()
    client.force_login(stranger_user)
    instance = Instance.objects.get()
    for url in (
        reverse("bizproc:document-journal", args=[deal.document_id]),
        reverse("bizproc:document-processes", args=[deal.document_id]),
        reverse("bizproc:instance-detail", args=[instance.pk]),
    ):
        assert client.get(url).status_code == 404, url
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 404, url


def test_a_foreign_origin_is_refused(admin, deal) -> None:
    session = session_of(admin)

    async def scenario() -> None:
        evil = socket(f"/ws/bizproc/documents/{deal.document_id}/", session, "http://evil.example")
        connected, _ = await evil.connect()
        assert not connected

    async_to_sync(scenario)()


def test_a_step_is_one_announcement_with_ids_only(admin, deal) -> None:
    template = published(
        node("LogActivity", Text="one", Title="One"),
        node("LogActivity", Text="two", Title="Two"),
        node("LogActivity", Text="three", Title="Three"),
        user=admin,
    )
    group = live.document_group(deal.document_id)

    async def scenario() -> list[dict]:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        live.bind_server_loop()
        instance = await database_sync_to_async(start)(template, deal, admin)
        # Published after the step from the same thread, so it arrives after its announcement.
        live.publish(group, {"type": "test.sentinel"})
        received = []
        while (message := await layer.receive(channel))["type"] != "test.sentinel":
            received.append(message)
        return [instance.pk, received]

    instance_id, received = async_to_sync(scenario)()
    assert JournalEntry.objects.filter(instance_id=instance_id).count() == 11
    assert received == [
        {
            "type": "bizproc.changed",
            "document_id": deal.document_id,
            "instance_id": instance_id,
            "run_id": None,
        }
    ]


def test_a_step_run_by_a_worker_thread_reaches_the_socket_on_the_servers_loop(admin, deal) -> None:
    """The embedded topology: the socket lives on the server's loop, the wake-up step runs in
    a worker thread, and the in-memory layer is only ever used on the loop."""
    template = published(
        node("LogActivity", Text="before the pause", Title="Before"),
        node("DelayActivity", TimeoutDuration="1", TimeoutDurationType="s", Title="Pause"),
        node("LogActivity", Text="after the pause", Title="After"),
        user=admin,
        name="Pausing",
    )
    instance = start(template, deal, admin)
    newest = JournalEntry.objects.filter(instance=instance).latest("id").pk
    path = f"/ws/bizproc/processes/{instance.pk}/?mode=all&after={newest}"
    session = session_of(admin)
    worker_threads: list[int] = []

    def worker() -> None:
        """Steps the instance once its timer is due, as the task worker's thread would.

        (Not the whole db_worker loop: on the in-memory SQLite of the tests its writes would
        collide with the socket's reads, which a file database in WAL mode simply queues.)
        """
        worker_threads.append(threading.get_ident())
        deadline = time.monotonic() + 10
        while not instance_step(instance.pk):
            assert time.monotonic() < deadline, "the timer never came due"
            time.sleep(0.05)
        connection.close()

    async def scenario() -> str:
        page = socket(path, session)
        assert (await page.connect())[0]
        catch_up = await page.receive_from(timeout=5)
        assert "waiting until" in catch_up
        loop_thread = threading.get_ident()
        thread = threading.Thread(target=worker)
        thread.start()
        received = await messages_until(page, "after the pause")
        await asyncio.get_running_loop().run_in_executor(None, thread.join)
        assert worker_threads and worker_threads[0] != loop_thread
        await page.disconnect()
        return received

    summary, rows = async_to_sync(scenario)()
    assert 'id="instance-summary"' in summary and "<dd>Completed</dd>" in summary
    assert 'id="instance-tree"' in summary and "waiting until" not in summary
    assert rows.startswith('<tbody hx-swap-oob="afterbegin:#journal-rows">')
    assert rows.index("after the pause") < rows.index("Start action")  # newest first


def test_publishing_from_another_thread_runs_on_the_bound_loop() -> None:
    layer = get_channel_layer()
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()
    try:

        async def subscribe() -> str:
            live.bind_server_loop()
            channel = await layer.new_channel()
            await layer.group_add("bizproc.document.TEST_1", channel)
            return channel

        channel = asyncio.run_coroutine_threadsafe(subscribe(), loop).result(timeout=5)
        live.publish("bizproc.document.TEST_1", {"type": "bizproc.changed", "n": 1})
        received = asyncio.run_coroutine_threadsafe(layer.receive(channel), loop)
        assert received.result(timeout=5)["n"] == 1
    finally:
        loop.call_soon_threadsafe(loop.stop)
        runner.join(timeout=5)
        loop.close()


def test_scenario_run_progress_is_pushed_until_every_run_has_finished(admin, deal) -> None:
    scenario = scenarios.scenario_save(
        user=admin,
        document_type=DOCUMENT_TYPES["DEAL"],
        name="Welcome pack",
        robots=[node("CrmTimelineCommentAdd", CommentText="Welcome")],
    )
    client = Client()
    client.force_login(admin)
    page = client.post(
        reverse("bizproc:scenario-start", args=[scenario.pk]), {"documents": [deal.document_id]}
    ).text
    run = ScenarioRun.objects.get()
    path = f"/ws/bizproc/scenario-runs/?runs={run.pk}"
    assert f'ws-connect="{path}"' in page
    someone_else = session_of(UserFactory(is_crm_admin=True))

    async def scenario_progress() -> list[str]:
        assert await closed_with(socket(path, someone_else)) == 4403  # not their run
        progress = socket(path, session_of_admin)
        assert (await progress.connect())[0]
        queued = await progress.receive_from()
        await database_sync_to_async(scenario_run_execute)(run.pk)
        completed = await progress.receive_from()
        closed = await progress.receive_output(timeout=5)
        return [queued, completed, closed]

    session_of_admin = session_of(admin)
    queued, completed, closed = async_to_sync(scenario_progress)()
    assert f"{deal.document_id}: Queued" in queued and "Scenario completed" not in queued
    assert f"{deal.document_id}: Completed" in completed and "Scenario completed" in completed
    assert closed == {"type": "websocket.close", "code": 1000}

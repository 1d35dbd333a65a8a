"""The real services: PostgreSQL row locks and the Redis channel layer."""

import os
import runpy
import threading
from urllib.parse import urlparse

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.utils.module_loading import import_string

from crm import services
from crm.models import Deal
from tests.crm.factories import DealFactory, UserFactory


@pytest.mark.redis
def test_a_message_reaches_another_consumer_through_redis() -> None:
    layer = get_channel_layer()
    assert type(layer).__module__.startswith("channels_redis")

    async def scenario() -> dict:  # one loop: a pub/sub layer subscribes per event loop
        channel = await layer.new_channel()
        await layer.group_add("ci-check", channel)
        await layer.group_send("ci-check", {"type": "journal.row", "text": "Отчет"})
        return await layer.receive(channel)

    assert async_to_sync(scenario)() == {"type": "journal.row", "text": "Отчет"}


@pytest.mark.redis
def test_a_deployment_on_another_database_of_the_redis_server_hears_nothing(monkeypatch) -> None:
    """Pub/sub channels belong to the whole server: the settings keep databases apart."""
    url = urlparse(os.environ["REDIS_URL"])
    other = int(url.path.strip("/") or 0) ^ 1
    monkeypatch.setenv("REDIS_URL", url._replace(path=f"/{other}").geturl())
    neighbour_settings = runpy.run_path(str(settings.BASE_DIR / "config" / "settings.py"))
    ours = get_channel_layer()
    layer = neighbour_settings["CHANNEL_LAYERS"]["default"]
    neighbours = import_string(layer["BACKEND"])(**layer["CONFIG"])

    async def scenario() -> list[dict]:
        channel = await ours.new_channel()
        await ours.group_add("bizproc.document.DEAL_1", channel)
        neighbour = await neighbours.new_channel()
        await neighbours.group_add("bizproc.document.DEAL_1", neighbour)
        await neighbours.group_send("bizproc.document.DEAL_1", {"type": "test.theirs"})
        await ours.group_send("bizproc.document.DEAL_1", {"type": "test.ours"})
        heard = [await ours.receive(channel), await neighbours.receive(neighbour)]
        await neighbours.flush()
        return heard

    assert async_to_sync(scenario)() == [{"type": "test.ours"}, {"type": "test.theirs"}]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_edits_of_one_version_save_exactly_one() -> None:
    assert connection.vendor == "postgresql"
    admin = UserFactory(is_crm_admin=True)
    deal = DealFactory(title="Original", assigned_by=admin)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def edit(title: str) -> None:
        barrier.wait()
        try:
            services.record_update(
                record=Deal.objects.get(pk=deal.pk),
                values={"TITLE": title},
                user=admin,
                expected_version=1,
            )
            outcomes.append("saved")
        except services.StaleRecord:
            outcomes.append("stale")
        finally:
            connection.close()

    threads = [threading.Thread(target=edit, args=(title,)) for title in ("First", "Second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["saved", "stale"]
    deal.refresh_from_db()
    assert deal.version == 2
    assert deal.title in {"First", "Second"}

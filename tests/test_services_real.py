"""The real services: PostgreSQL row locks and the Redis channel layer."""

import threading

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection

from crm import services
from crm.models import Deal
from tests.crm.factories import DealFactory, UserFactory


@pytest.mark.redis
def test_a_message_reaches_another_consumer_through_redis() -> None:
    layer = get_channel_layer()
    assert type(layer).__module__.startswith("channels_redis")
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("ci-check", channel)
    async_to_sync(layer.group_send)("ci-check", {"type": "journal.row", "text": "Отчет"})
    message = async_to_sync(layer.receive)(channel)
    assert message == {"type": "journal.row", "text": "Отчет"}


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

"""The Empty block groups blocks: they run in order, and a process goes on after it."""

import pytest

from bizproc import runtime
from bizproc.models import InstanceStatus
from tests.bizproc.builders import node, published, rows
from tests.crm.factories import DealFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_blocks_of_an_empty_block_run_in_order_then_the_process_goes_on() -> None:
    user = UserFactory(is_crm_admin=True)
    template = published(
        node(
            "EmptyBlockActivity",
            "A_group",
            [
                node("LogActivity", "A_first", Text="First in the group"),
                node("LogActivity", "A_second", Text="Second in the group"),
            ],
            Title="Group",
        ),
        node("LogActivity", "A_after", Text="After the group"),
        user=user,
    )
    deal = DealFactory()
    instance = runtime.workflow_start(template=template, document_id=deal.document_id, user=user)
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    reported = [note for _type, _title, note in rows(instance) if "group" in note]
    assert reported == ["First in the group", "Second in the group", "After the group"]

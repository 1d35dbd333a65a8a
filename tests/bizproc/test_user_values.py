"""Users in every form Bitrix writes them, wherever the engine takes users: ``user_<id>``,
``author`` / ``Author``, ``group_<id>`` (a local group, or the one a Bitrix group id is mapped
to), ``["Document", "ASSIGNED_BY_ID"]`` arrays, ``{=…}`` expressions and lists mixing them;
an IfElse branch without a condition is the "else" branch; every kind of notification Bitrix
writes is accepted."""

import pytest
from django.contrib.auth.models import Group

from accounts.models import Notification
from bizproc import runtime
from bizproc.models import InstanceStatus, ProcessTask, Template, TrackingType
from bizproc.schemas import schema_problems
from bizproc.services import PublishRefused
from tests.bizproc.builders import field, node, notes, published
from tests.crm.factories import DealFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def designer():
    return UserFactory(is_crm_admin=True, full_name="Mark Designer")


@pytest.fixture
def anna():
    return UserFactory(full_name="Anna Petrova")


@pytest.fixture
def boris():
    return UserFactory(full_name="Boris Orlov")


@pytest.fixture
def accountants(boris):
    group = Group.objects.create(name="Accountants")
    group.user_set.add(boris, UserFactory(full_name="Gone Away", is_active=False))
    return group


def review(users) -> dict:
    return node("ReviewActivity", "A_review", Title="Review", Users=users, Name="Have a look")


def reviewers(users, *, user, deal=None, **template) -> list[str]:
    """Whom a Review block with ``users`` gives its task to, by name."""
    instance = runtime.workflow_start(
        template=published(review(users), user=user, **template),
        document_id=(deal or DealFactory()).document_id,
        user=user,
    )
    task = ProcessTask.objects.get(instance=instance)
    return sorted(a.user.get_full_name() for a in task.assignees.select_related("user"))


def test_author_is_the_item_s_responsible_person_in_either_case(designer, anna):
    deal = DealFactory(assigned_by=anna)
    assert reviewers(["author"], user=designer, deal=deal) == ["Anna Petrova"]
    assert reviewers("Author", user=designer, deal=deal) == ["Anna Petrova"]


def test_a_document_field_array_names_the_users_in_the_field(designer, anna):
    deal = DealFactory(assigned_by=anna)
    assert reviewers([["Document", "ASSIGNED_BY_ID"]], user=designer, deal=deal) == ["Anna Petrova"]
    assert reviewers(["Document", "ASSIGNED_BY_ID"], user=designer, deal=deal) == ["Anna Petrova"]


def test_a_group_names_its_active_members(designer, accountants, boris):
    assert reviewers([f"group_{accountants.pk}"], user=designer) == ["Boris Orlov"]
    assert reviewers([f"group_g{accountants.pk}"], user=designer) == ["Boris Orlov"]


def test_a_bitrix_group_id_names_the_local_group_it_is_mapped_to(
    designer, accountants, boris, settings
):
    settings.BIZPROC_USER_GROUPS = {"12": "Accountants"}
    assert reviewers(["group_12"], user=designer) == ["Boris Orlov"]


def test_a_group_that_does_not_exist_is_refused_on_publishing_by_its_code(designer):
    with pytest.raises(PublishRefused) as refused:
        published(review(["group_999"]), user=designer)
    assert [p.message for p in refused.value.problems] == [
        "Action 'Review': The value of field 'Users' names a user group that does not exist: "
        "group_999"
    ]


def test_a_list_mixes_every_form_and_names_each_person_once(designer, anna, boris, accountants):
    deal = DealFactory(assigned_by=anna)
    users = [
        "author",
        [["Document", "ASSIGNED_BY_ID"]],
        f"group_{accountants.pk}",
        f"user_{designer.pk}",
        f"Mark Designer [{designer.pk}]",
        "{=Template:TargetUser}",
    ]
    assert reviewers(users, user=designer, deal=deal) == [
        "Anna Petrova",
        "Boris Orlov",
        "Mark Designer",
    ]


def test_a_user_parameter_or_variable_may_hold_author_or_a_group(designer, anna, accountants):
    schema = {
        "Approver": field("user", "Approver", default="author"),
        "Team": field("user", "Team", multiple=True, default=[f"group_{accountants.pk}"]),
    }
    assert schema_problems(schema) == []
    deal = DealFactory(assigned_by=anna)
    names = reviewers(
        ["{=Variable:Approver}", "{=Variable:Team}"], user=designer, deal=deal, variables=schema
    )
    assert names == ["Anna Petrova", "Boris Orlov"]


def test_a_user_field_reference_to_an_unknown_field_is_a_warning_on_the_template(designer):
    # As Bitrix's loader: a field the document lacks is the template's warning, not a refusal.
    template = published(review([["Document", "NO_SUCH_FIELD"]]), user=designer)
    warnings = [n["message"] for n in Template.objects.get(pk=template.pk).notices]
    assert any("NO_SUCH_FIELD" in message for message in warnings)


def test_a_notification_from_author_is_sent_by_the_item_s_responsible_person(designer, anna):
    template = published(
        node(
            "IMNotifyActivity",
            MessageUserFrom=["author"],
            MessageUserTo=[["Document", "ASSIGNED_BY_ID"]],
            MessageSite="Hello",
            MessageType="2",
        ),
        user=designer,
    )
    runtime.workflow_start(
        template=template, document_id=DealFactory(assigned_by=anna).document_id, user=designer
    )
    notice = Notification.objects.get()
    assert (notice.user_id, notice.sender_id) == (anna.pk, anna.pk)


@pytest.mark.parametrize(("kind", "sender"), [("0", True), ("1", True), ("2", True), ("4", False)])
def test_every_kind_of_notification_bitrix_writes_is_sent_a_system_one_without_sender(
    designer, anna, kind, sender
):
    template = published(
        node(
            "IMNotifyActivity",
            MessageUserFrom=f"user_{designer.pk}",
            MessageUserTo=f"user_{anna.pk}",
            MessageSite="Hello",
            MessageType=kind,
        ),
        user=designer,
    )
    runtime.workflow_start(template=template, document_id=DealFactory().document_id, user=designer)
    assert Notification.objects.get().sender_id == (designer.pk if sender else None)


def test_an_unknown_kind_of_notification_is_refused(designer, anna):
    with pytest.raises(PublishRefused) as refused:
        published(
            node(
                "IMNotifyActivity",
                "A_n",
                Title="Notify",
                MessageUserTo=f"user_{anna.pk}",
                MessageSite="Hello",
                MessageType="9",
            ),
            user=designer,
        )
    assert [p.message for p in refused.value.problems] == [
        "Action 'Notify': Unknown kind of notification: 9"
    ]


def test_a_branch_without_a_condition_is_the_else_branch(designer):
    template = published(
        node(
            "IfElseActivity",
            "A_if",
            [
                node(
                    "IfElseBranchActivity",
                    "A_yes",
                    [node("LogActivity", Text="yes")],
                    Title="Yes",
                    fieldcondition=[["TITLE", "=", "never"]],
                ),
                node("IfElseBranchActivity", "A_else", [node("LogActivity", Text="else")]),
            ],
        ),
        user=designer,
    )
    instance = runtime.workflow_start(
        template=template, document_id=DealFactory(title="A deal").document_id, user=designer
    )
    assert instance.status == InstanceStatus.COMPLETED
    assert notes(instance, TrackingType.REPORT) == ["else"]


def test_a_comment_written_as_author_is_written_by_the_item_s_responsible_person(designer, anna):
    from crm.models import TimelineEntry, TimelineKind

    deal = DealFactory(assigned_by=anna)
    template = published(
        node("CrmTimelineCommentAdd", CommentText="Checked", CommentUser=["author"]),
        user=designer,
    )
    runtime.workflow_start(template=template, document_id=deal.document_id, user=designer)
    comment = TimelineEntry.objects.get(document_id=deal.document_id, kind=TimelineKind.COMMENT)
    assert comment.author_id == anna.pk

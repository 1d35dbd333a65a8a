"""The standard blocks of issue 22 as Bitrix has them: Select employee (``GetUserActivity``),
Absence chart (``AbsenceActivity``) and Social network message (``SocNetMessageActivity``) —
their results, journal rows and refusals, in English and Russian; and every one of them
through a ``.bpt`` file and back with Bitrix's property names."""

import datetime

import pytest

from accounts.models import Notification
from bizproc import runtime, services
from bizproc.bpt import bpt_read
from bizproc.directory import NoDirectory, company
from bizproc.models import InstanceStatus, TrackingType
from bizproc.services import PublishRefused
from tests.bizproc.builders import node, notes, published
from tests.bizproc.directory_fake import FakeDirectory, install
from tests.crm.factories import DealFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def directory(monkeypatch) -> FakeDirectory:
    return install(monkeypatch)


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
def chief():
    return UserFactory(full_name="Helen Chief")


def run(*blocks, user, starter=None, deal=None, **template):
    template = published(*blocks, user=user, **template)
    deal = deal or DealFactory()
    instance = runtime.workflow_start(
        template=template, document_id=deal.document_id, user=starter or user
    )
    instance.refresh_from_db()
    return instance


def get_user(name="A_get", **properties):
    values = {
        "UserType": "random",
        "ReserveUserParameter": ["{=Template:TargetUser}"],
        **properties,
    }
    return node("GetUserActivity", name, Title="Select", **values)


def said(result="{=A_get:GetUser}"):
    return node("LogActivity", Text=result, Title="Said")


# ---- Select employee -------------------------------------------------------------------------


def test_a_random_employee_is_one_of_the_list_and_absent_people_are_passed_over(
    designer, anna, boris, directory
):
    directory.away(anna.pk)
    instance = run(
        get_user(UserParameter=[f"user_{anna.pk}", f"user_{boris.pk}"], SkipAbsent="Y"),
        said(),
        user=designer,
    )
    assert instance.status == InstanceStatus.COMPLETED
    assert notes(instance, TrackingType.REPORT) == [f"user_{boris.pk}"]
    assert notes(instance, TrackingType.CUSTOM) == ["Selected: Boris Orlov"]


def test_absent_people_may_be_chosen_when_the_block_does_not_skip_them(designer, anna, directory):
    directory.away(anna.pk)
    instance = run(
        get_user(UserParameter=[f"user_{anna.pk}"], SkipAbsent="N"), said(), user=designer
    )
    assert notes(instance, TrackingType.REPORT) == [f"user_{anna.pk}"]


def test_in_turn_goes_round_the_list_from_one_process_to_the_next(designer, anna, boris, chief):
    block = get_user(
        UserType="sequent",
        UserParameter=[f"user_{anna.pk}", f"user_{boris.pk}", f"user_{chief.pk}"],
    )
    template = published(block, said(), user=designer)
    chosen = []
    for _turn in range(4):
        instance = runtime.workflow_start(
            template=template, document_id=DealFactory().document_id, user=designer
        )
        chosen.append(notes(instance, TrackingType.REPORT)[0])
    assert chosen == [f"user_{pk}" for pk in (anna.pk, boris.pk, chief.pk, anna.pk)]


def test_in_turn_passes_over_the_absent_and_each_template_keeps_its_own_turn(
    designer, anna, boris, chief, directory
):
    users = [f"user_{anna.pk}", f"user_{boris.pk}", f"user_{chief.pk}"]
    first = published(get_user(UserType="sequent", UserParameter=users), said(), user=designer)
    other = published(get_user(UserType="sequent", UserParameter=users), said(), user=designer)

    def next_of(template):
        instance = runtime.workflow_start(
            template=template, document_id=DealFactory().document_id, user=designer
        )
        return notes(instance, TrackingType.REPORT)[0]

    assert next_of(first) == f"user_{anna.pk}"
    directory.away(boris.pk)
    assert next_of(first) == f"user_{chief.pk}"
    assert next_of(other) == f"user_{anna.pk}"  # its own turn, not the first template's


def test_the_head_of_the_employee_is_selected_up_to_the_levels_asked(
    designer, anna, boris, chief, directory
):
    directory.heads[anna.pk] = [boris.pk, chief.pk]
    one = run(get_user(UserType="boss", UserParameter=[f"user_{anna.pk}"]), said(), user=designer)
    assert notes(one, TrackingType.REPORT) == [f"user_{boris.pk}"]
    both = run(
        get_user(UserType="boss", UserParameter=[f"user_{anna.pk}"], MaxLevel="2"),
        said("{=A_get:GetUser > printable}"),
        user=designer,
    )
    assert notes(both, TrackingType.CUSTOM) == ["Selected: Boris Orlov, Helen Chief"]
    assert notes(both, TrackingType.REPORT) == ["Boris Orlov, Helen Chief"]


def test_an_absent_head_is_passed_over_for_the_head_above(designer, anna, boris, chief, directory):
    directory.heads[anna.pk] = [boris.pk, chief.pk]
    directory.away(boris.pk)
    instance = run(
        get_user(UserType="boss", UserParameter=[f"user_{anna.pk}"], SkipAbsent="Y"),
        said(),
        user=designer,
    )
    assert notes(instance, TrackingType.REPORT) == [f"user_{chief.pk}"]


def test_the_head_of_a_process_s_own_responsible_person_through_a_document_field(
    designer, anna, boris, directory
):
    directory.heads[anna.pk] = [boris.pk]
    instance = run(
        get_user(UserType="boss", UserParameter=[["Document", "ASSIGNED_BY_ID"]]),
        said(),
        user=designer,
        deal=DealFactory(assigned_by=anna),
    )
    assert notes(instance, TrackingType.REPORT) == [f"user_{boris.pk}"]


def test_when_nobody_is_available_the_reserve_is_selected(designer, anna, boris, chief, directory):
    directory.away(anna.pk)
    instance = run(
        get_user(
            UserParameter=[f"user_{anna.pk}"],
            ReserveUserParameter=[f"user_{boris.pk}", f"user_{chief.pk}"],
        ),
        said(),
        user=designer,
    )
    # Random: the first reserve employee, as Bitrix does.
    assert notes(instance, TrackingType.REPORT) == [f"user_{boris.pk}"]
    assert notes(instance, TrackingType.CUSTOM) == [
        "No employee found; the reserve is selected: Boris Orlov"
    ]
    heads = run(
        get_user(
            UserType="boss",
            UserParameter=[f"user_{anna.pk}"],
            ReserveUserParameter=[f"user_{boris.pk}", f"user_{chief.pk}"],
        ),
        said("{=A_get:GetUser > printable}"),
        user=designer,
    )
    assert notes(heads, TrackingType.REPORT) == ["Boris Orlov, Helen Chief"]  # all of them


def test_an_absent_reserve_is_skipped_unless_the_block_says_otherwise(
    designer, anna, boris, directory
):
    directory.away(anna.pk)
    directory.away(boris.pk)
    nobody = run(
        get_user(UserParameter=[f"user_{anna.pk}"], ReserveUserParameter=[f"user_{boris.pk}"]),
        said(),
        user=designer,
    )
    assert nobody.status == InstanceStatus.COMPLETED
    assert notes(nobody, TrackingType.REPORT) == [""]
    assert notes(nobody, TrackingType.ERROR) == [
        "No employee found, and no reserve employee either."
    ]
    anyway = run(
        get_user(
            UserParameter=[f"user_{anna.pk}"],
            ReserveUserParameter=[f"user_{boris.pk}"],
            SkipAbsentReserve="N",
        ),
        said(),
        user=designer,
    )
    assert notes(anyway, TrackingType.REPORT) == [f"user_{boris.pk}"]


def test_select_employee_without_employees_or_a_reserve_is_refused_on_publishing(designer):
    with pytest.raises(PublishRefused) as refused:
        published(
            node("GetUserActivity", "A_get", Title="Select", UserType="fastest"), user=designer
        )
    messages = {problem.message for problem in refused.value.problems}
    assert "Action 'Select': The field 'Employees' is required." in messages
    assert "Action 'Select': The field 'Reserve employee' is required." in messages
    assert "Action 'Select': Unknown way to select an employee: fastest" in messages


def test_select_employee_writes_its_journal_in_russian(designer, anna):
    designer.language = "ru"
    designer.save()
    instance = run(get_user(UserParameter=[f"user_{anna.pk}"]), user=designer)
    assert notes(instance, TrackingType.CUSTOM) == ["Выбран: Anna Petrova"]


# ---- Absence chart ---------------------------------------------------------------------------


def absence(**properties):
    values = {
        "AbsenceUser": ["author"],
        "AbsenceName": "Vacation",
        "AbsenceFrom": "2026-07-01",
        "AbsenceTo": "2026-07-14",
        "AbsenceType": "VACATION",
        **properties,
    }
    return node("AbsenceActivity", "A_away", Title="Absence", **values)


def test_an_absence_is_added_to_the_chart_for_the_item_s_responsible_person(
    designer, anna, directory
):
    instance = run(
        absence(AbsenceDesrc="At the sea"), user=designer, deal=DealFactory(assigned_by=anna)
    )
    assert instance.status == InstanceStatus.COMPLETED
    [added] = directory.absences
    assert (added.user_id, added.kind, added.reason) == (
        anna.pk,
        "VACATION",
        "Vacation\nAt the sea",
    )
    assert added.start.date() == datetime.date(2026, 7, 1)
    assert added.end.date() == datetime.date(2026, 7, 14)  # the whole last day
    assert added.end.hour == 23
    assert added.author_id == designer.pk
    assert notes(instance, TrackingType.CUSTOM) == [
        "Absence added for Anna Petrova: 01.07.2026 – 14.07.2026"
    ]


def test_an_absence_for_several_people_with_times(designer, anna, boris, directory):
    run(
        absence(
            AbsenceUser=[f"user_{anna.pk}", f"user_{boris.pk}"],
            AbsenceFrom="2026-07-01 09:00",
            AbsenceTo="2026-07-01 13:00",
            AbsenceType="ASSIGNMENT",
        ),
        user=designer,
    )
    assert [(a.user_id, a.kind) for a in directory.absences] == [
        (anna.pk, "ASSIGNMENT"),
        (boris.pk, "ASSIGNMENT"),
    ]
    assert (directory.absences[0].end - directory.absences[0].start) == datetime.timedelta(hours=4)


def test_an_absence_that_ends_before_it_starts_faults_the_process_saying_so(designer, directory):
    instance = run(absence(AbsenceFrom="2026-07-14", AbsenceTo="2026-07-01"), user=designer)
    assert instance.status == InstanceStatus.TERMINATED
    assert "The absence ends before it starts." in notes(instance, TrackingType.FAULT)
    assert directory.absences == []


def test_an_unknown_type_of_absence_is_refused_on_publishing_and_at_run_time(designer, directory):
    with pytest.raises(PublishRefused) as refused:
        published(absence(AbsenceType="HOLIDAY"), user=designer)
    assert [p.message for p in refused.value.problems] == [
        "Action 'Absence': Unknown type of absence: HOLIDAY"
    ]
    template = published(
        absence(AbsenceType="{=Variable:Kind}"),
        user=designer,
        variables={"Kind": {"Name": "Kind", "Type": "string", "Default": "HOLIDAY"}},
    )
    instance = runtime.workflow_start(
        template=template, document_id=DealFactory().document_id, user=designer
    )
    assert "Unknown type of absence: HOLIDAY" in notes(instance, TrackingType.FAULT)


def test_an_absence_without_dates_or_people_is_refused_on_publishing(designer, directory):
    with pytest.raises(PublishRefused) as refused:
        published(node("AbsenceActivity", "A_away", Title="Absence"), user=designer)
    parameters = {problem.parameter for problem in refused.value.problems}
    assert {"AbsenceUser", "AbsenceName", "AbsenceFrom", "AbsenceTo"} <= parameters


def test_an_absence_with_a_wrong_date_faults_the_process(designer, directory):
    template = published(
        absence(AbsenceFrom="{=Variable:From}"),
        user=designer,
        variables={"From": {"Name": "From", "Type": "string", "Default": "soon"}},
    )
    instance = runtime.workflow_start(
        template=template, document_id=DealFactory().document_id, user=designer
    )
    assert instance.status == InstanceStatus.TERMINATED
    assert any("does not match the format" in note for note in notes(instance, TrackingType.FAULT))


def test_without_an_absence_chart_the_block_faults_saying_so(designer, monkeypatch):
    monkeypatch.setattr(company, "directory", NoDirectory())
    instance = run(absence(AbsenceType=""), user=designer)
    assert instance.status == InstanceStatus.TERMINATED
    assert notes(instance, TrackingType.FAULT) == ["No absence chart is kept."]


def test_the_absence_row_is_in_russian(designer, anna, directory):
    designer.language = "ru"
    designer.save()
    instance = run(absence(), user=designer, deal=DealFactory(assigned_by=anna))
    assert notes(instance, TrackingType.CUSTOM) == [
        "Добавлено отсутствие для Anna Petrova: 01.07.2026 – 14.07.2026"
    ]


# ---- Social network message ------------------------------------------------------------------


def message(**properties):
    values = {"MessageText": "Please check the deal", **properties}
    return node("SocNetMessageActivity", "A_msg", Title="Message", **values)


def test_a_message_reaches_each_recipient_with_its_sender(designer, anna, boris):
    deal = DealFactory(assigned_by=anna, title="Big deal")
    instance = run(
        message(MessageUserFrom=f"user_{boris.pk}", MessageUserTo=["author", f"user_{boris.pk}"]),
        user=designer,
        deal=deal,
    )
    assert instance.status == InstanceStatus.COMPLETED
    received = {n.user_id: (n.sender_id, n.text) for n in Notification.objects.all()}
    assert received == {
        anna.pk: (boris.pk, "Please check the deal"),
        boris.pk: (boris.pk, "Please check the deal"),
    }
    assert notes(instance, TrackingType.CUSTOM) == ["Message sent to Anna Petrova, Boris Orlov"]


def test_a_robot_message_names_the_item(designer, anna):
    run(
        message(MessageUserTo=[f"user_{anna.pk}"], MessageFormat="robot"),
        user=designer,
        deal=DealFactory(title="Big deal"),
    )
    assert Notification.objects.get().text == "Robot message. Big deal: Please check the deal"


def test_a_message_to_nobody_faults_and_one_without_text_is_refused(designer):
    instance = run(message(MessageUserTo=["{=Document:COMMENTS}"]), user=designer)
    assert instance.status == InstanceStatus.TERMINATED
    assert notes(instance, TrackingType.FAULT) == ["The message has no recipient."]
    with pytest.raises(PublishRefused) as refused:
        published(message(MessageUserTo=["author"], MessageText=""), user=designer)
    assert [p.parameter for p in refused.value.problems] == ["MessageText"]


def test_the_message_row_is_in_russian(designer, anna):
    designer.language = "ru"
    designer.save()
    instance = run(message(MessageUserTo=[f"user_{anna.pk}"]), user=designer)
    assert notes(instance, TrackingType.CUSTOM) == ["Сообщение отправлено: Anna Petrova"]


# ---- .bpt --------------------------------------------------------------------------------------


def test_the_new_blocks_go_through_a_bpt_file_and_back_with_bitrix_s_names(designer, anna):
    blocks = [
        get_user(UserType="boss", UserParameter=[["Document", "ASSIGNED_BY_ID"]], MaxLevel="2"),
        absence(AbsenceDesrc="At the sea", AbsenceState="", AbsenceFinishState=""),
        message(MessageUserFrom=["author"], MessageUserTo=["author"], MessageFormat="robot"),
        node("EmptyBlockActivity", "A_group", [message(MessageUserTo=[f"user_{anna.pk}"])]),
    ]
    blocks[-1]["Children"][0]["Name"] = "A_msg2"
    template = services.template_create(
        document_type=published(user=designer).document_type_triple,
        name="Blocks",
        user=designer,
    )
    template.tree["Children"] = blocks
    template.save()
    exported = services.template_export_bpt(source=template)
    read = bpt_read(exported).template[0]["Children"]
    assert [n["Type"] for n in read] == [
        "GetUserActivity",
        "AbsenceActivity",
        "SocNetMessageActivity",
        "EmptyBlockActivity",
    ]
    assert read[0]["Properties"]["UserParameter"] == [["Document", "ASSIGNED_BY_ID"]]
    assert "AbsenceDesrc" in read[1]["Properties"]
    again = services.template_import_bpt(
        data=exported, document_type=template.document_type_triple, name="Again", user=designer
    )
    assert again.tree == template.tree

"""Smart scenarios: the Start smart scenario block's run-time checks (each row of DOMAIN.md §2's
table, in English and Russian), a full happy path, the typed contract, import and export."""

import json
import threading

import pytest
from django.db import connection

from accounts.models import Notification
from bizproc import scenarios
from bizproc.models import Instance, InstanceStatus, RunStatus, Scenario, ScenarioRun, Template
from bizproc.runtime import workflow_start
from bizproc.services import PublishRefused, template_publish
from crm.documents import DOCUMENT_TYPES
from crm.models import TimelineEntry
from tests.bizproc.builders import field, node, notes, published, run_tasks
from tests.crm.factories import DealFactory, LeadFactory, UserFactory, user_with

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ERROR, REPORT, CUSTOM = 9, 6, 5
DEAL = DOCUMENT_TYPES["DEAL"]


@pytest.fixture
def admin():
    return UserFactory(is_crm_admin=True, full_name="Irina Admin")


@pytest.fixture
def deal(admin):
    return DealFactory(title="Main deal", assigned_by=admin, stage="NEW")


def scenario_with(admin, *robots, parameters=None, entity="DEAL", name="Welcome pack"):
    return scenarios.scenario_save(
        user=admin,
        document_type=DOCUMENT_TYPES[entity],
        name=name,
        parameters=parameters or {},
        robots=list(robots) or [node("CrmTimelineCommentAdd", CommentText="hello")],
    )


def caller(admin, scenario_id, *, variables=None, **properties):
    """A deal process: the block, then a Log block that must still run."""
    block = {
        "DocumentId": "{=Document:ID}",
        "StartBy": "{=Template:TargetUser}",
        "TemplateId": str(scenario_id),
        "TemplateParameters": {},
        **properties,
    }
    return published(
        node("StartScriptActivity", "A_start", Title="Start scenario", **block),
        node("LogActivity", Text="next block ran", Title="Next"),
        user=admin,
        variables=variables or {},
    )


def run(template, deal, user) -> Instance:
    instance = workflow_start(template=template, document_id=deal.document_id, user=user)
    instance.refresh_from_db()
    return instance


def assert_refused(instance: Instance, message: str) -> None:
    assert notes(instance, ERROR) == [message]
    assert notes(instance, REPORT) == ["next block ran"]
    assert instance.status == InstanceStatus.COMPLETED


LANGUAGES = pytest.mark.parametrize("language", ["en", "ru"])


def starter(admin, language):
    admin.language = language
    admin.save()
    return admin


def say(language, en, ru):
    return en if language == "en" else ru


@LANGUAGES
def test_row_1_invalid_template_id(admin, deal, language) -> None:
    template = caller(admin, "{=Variable:Sid}", variables={"Sid": field("int", "Sid", default="0")})
    assert_refused(
        run(template, deal, starter(admin, language)),
        say(language, "Invalid template ID.", "Некорректный ID шаблона"),
    )


@LANGUAGES
def test_row_1_item_id_missing(admin, deal, language) -> None:
    scenario = scenario_with(admin)
    template = caller(
        admin,
        scenario.template_id,
        DocumentId="{=Variable:Item}",
        variables={"Item": field("string", "Item")},
    )
    assert_refused(
        run(template, deal, starter(admin, language)),
        say(language, "Item ID is missing.", "Не заполнен ID элемента"),
    )


@LANGUAGES
def test_row_1_run_as_user_missing(admin, deal, language) -> None:
    scenario = scenario_with(admin)
    template = caller(
        admin,
        scenario.template_id,
        StartBy="{=Variable:Who}",
        variables={"Who": field("user", "Who")},
    )
    assert_refused(
        run(template, deal, starter(admin, language)),
        say(
            language,
            'The field "Run as user" is required.',
            "Не заполнено обязательное поле «Запустить от пользователя»",
        ),
    )


@LANGUAGES
def test_row_2_scenario_inactive(admin, deal, language) -> None:
    scenario = scenario_with(admin)
    template = caller(admin, scenario.template_id)
    scenarios.scenario_set_active(scenario=scenario, active=False, user=admin)
    assert_refused(
        run(template, deal, starter(admin, language)),
        say(
            language,
            "Smart scenario not found or inactive.",
            "Умный сценарий не найден или выключен",
        ),
    )


@LANGUAGES
def test_row_3_record_not_found(admin, deal, language) -> None:
    scenario = scenario_with(admin)
    template = caller(admin, scenario.template_id, DocumentId="999999")
    assert_refused(
        run(template, deal, starter(admin, language)),
        say(language, "Cannot find item with this ID.", "Элемент с таким ID не найден"),
    )


@LANGUAGES
def test_row_3_record_of_another_type(admin, deal, language) -> None:
    scenario = scenario_with(admin)
    lead = LeadFactory(assigned_by=admin)
    template = caller(admin, scenario.template_id, DocumentId=lead.document_id)
    assert_refused(
        run(template, deal, starter(admin, language)),
        say(
            language,
            "The type of the selected item ID is not supported by smart scenarios.",
            "Указанный ID элемента не соответствует типу элементов, с которыми могут работать "
            "Умные сценарии",
        ),
    )


@LANGUAGES
def test_row_4_launch_limit_per_step(admin, deal, language, settings) -> None:
    settings.BIZPROC_SCENARIO_LAUNCH_LIMIT = 1
    first, second = scenario_with(admin, name="First"), scenario_with(admin, name="Second")
    block = {"DocumentId": "{=Document:ID}", "StartBy": "{=Template:TargetUser}"}
    template = published(
        node("StartScriptActivity", TemplateId=str(first.template_id), **block),
        node("StartScriptActivity", TemplateId=str(second.template_id), **block),
        node("LogActivity", Text="next block ran"),
        user=admin,
    )
    assert_refused(
        run(template, deal, starter(admin, language)),
        say(
            language,
            "Maximum number of smart scenario launches exceeded.",
            "Превышен лимит запусков Умных сценариев",
        ),
    )
    assert ScenarioRun.objects.count() == 1


@LANGUAGES
def test_row_5_still_running_on_this_record(admin, deal, language) -> None:
    scenario = scenario_with(admin)
    scenarios.scenarios_start(scenario=scenario, document_ids=[deal.pk], user=admin)
    template = caller(admin, scenario.template_id)
    assert_refused(
        run(template, deal, starter(admin, language)),
        say(
            language,
            "This smart scenario is still running. You cannot start it again.",
            "Этот умный сценарий еще не завершен, вы не можете включить его второй раз",
        ),
    )
    assert ScenarioRun.objects.count() == 1


@pytest.mark.postgres
def test_row_5_two_processes_at_once_start_exactly_one_run(admin, deal) -> None:
    assert connection.vendor == "postgresql"
    scenario = scenario_with(admin)
    template = caller(admin, scenario.template_id)
    barrier = threading.Barrier(2)
    started: list[Instance] = []

    def start() -> None:
        barrier.wait()
        try:
            started.append(
                workflow_start(template=template, document_id=deal.document_id, user=admin)
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ScenarioRun.objects.count() == 1
    errors = [note for instance in started for note in notes(instance, ERROR)]
    assert errors == ["This smart scenario is still running. You cannot start it again."]


@LANGUAGES
def test_row_6_recursion_is_blocked(admin, deal, language) -> None:
    other = DealFactory(assigned_by=admin)
    scenario = scenario_with(admin, parameters={"Next": field("int", "Next")})
    # The scenario starts itself on another record: its run's process calls it again.
    robot = node(
        "StartScriptActivity",
        "A_again",
        DocumentId="{=Template:Next}",
        StartBy="{=Template:TargetUser}",
        TemplateId=str(scenario.template_id),
        TemplateParameters={"Next": ""},
    )
    scenario = scenarios.scenario_save(
        user=admin,
        document_type=DEAL,
        name="Self",
        parameters={"Next": field("int", "Next")},
        robots=[robot],
        scenario=scenario,
    )
    starter(admin, language)
    scenarios.scenarios_start(
        scenario=scenario, document_ids=[deal.pk], user=admin, parameters={"Next": other.pk}
    )
    run_tasks()
    first = ScenarioRun.objects.get(document_id=deal.document_id)
    assert notes(first.instance, ERROR) == [
        say(
            language,
            "Smart scenario blocked because it calls itself recursively.",
            "Рекурсивный запуск Умного сценария заблокирован",
        )
    ]
    assert ScenarioRun.objects.count() == 1


@LANGUAGES
def test_row_7_run_as_user_without_the_right(admin, deal, language) -> None:
    scenario = scenario_with(admin)
    reader = user_with({("DEAL", "read"): "all"})
    template = caller(admin, scenario.template_id, StartBy=f"user_{reader.pk}")
    assert_refused(
        run(template, deal, starter(admin, language)),
        say(
            language,
            "Insufficient permission to run smart scenario.",
            "Недостаточно прав для запуска Умного сценария",
        ),
    )
    assert not ScenarioRun.objects.exists()


@LANGUAGES
def test_row_8_required_parameter_empty(admin, deal, language) -> None:
    scenario = scenario_with(admin, parameters={"Amount": field("int", "Amount", required=True)})
    template = caller(
        admin,
        scenario.template_id,
        TemplateParameters={"Amount": "{=Variable:Nothing}"},
        variables={"Nothing": field("int", "Nothing")},
    )
    assert_refused(
        run(template, deal, starter(admin, language)),
        say(
            language,
            "The required parameter is empty: Amount.",
            "Не заполнен обязательный параметр «Amount»",
        ),
    )


@LANGUAGES
def test_row_8_parameter_of_the_wrong_type(admin, deal, language) -> None:
    scenario = scenario_with(admin, parameters={"Amount": field("int", "Amount", required=True)})
    template = caller(
        admin, scenario.template_id, TemplateParameters={"Amount": "{=Document:TITLE}"}
    )
    assert_refused(
        run(template, deal, starter(admin, language)),
        say(
            language,
            "The value of field 'Amount' is not an integer.",
            "Значение поля 'Amount' не является целым числом",
        ),
    )


def test_the_happy_path_runs_robots_with_typed_parameters_and_links_both_journals(
    admin, deal
) -> None:
    colleague = UserFactory(full_name="Oleg Colleague")
    parameters = {
        "Greeting": field("string", "Greeting", required=True),
        "Points": field("int", "Points", required=True),
        "Due": field("date", "Due"),
        "Level": field("select", "Level", options={"gold": "Gold", "silver": "Silver"}),
        "Buddy": field("user", "Buddy"),
    }
    scenario = scenario_with(
        admin,
        node("SetFieldActivity", FieldValue={"TITLE": "{=Template:Greeting} ({=Template:Points})"}),
        node(
            "CrmTimelineCommentAdd",
            CommentText="Due {=Template:Due}, level {=Template:Level > printable}",
        ),
        node("CrmChangeStatusActivity", TargetStatus="PREPARATION"),
        node(
            "IMNotifyActivity",
            MessageUserTo=["{=Template:Buddy}"],
            MessageSite="Look at {=Document:TITLE}",
        ),
        parameters=parameters,
    )
    template = published(
        node(
            "StartScriptActivity",
            "A_start",
            Title="Start scenario",
            DocumentId="{=Document:ID}",
            StartBy="{=Template:TargetUser}",
            TemplateId=str(scenario.template_id),
            TemplateParameters={
                "Greeting": "Hello {=Document:TITLE}",
                "Points": "={=Document:OPPORTUNITY}/10",
                "Due": "2026-12-31",
                "Level": "gold",
                "Buddy": f"user_{colleague.pk}",
            },
        ),
        user=admin,
    )
    deal.opportunity = 500
    deal.save()
    calling = run(template, deal, admin)
    queued = ScenarioRun.objects.get()
    assert queued.status == RunStatus.QUEUED
    assert (queued.caller_id, queued.caller_activity) == (calling.pk, "A_start")
    assert notes(calling, CUSTOM) == [
        f"Smart scenario “Welcome pack” queued for {deal.document_id} (run {queued.pk})."
    ]

    run_tasks()
    queued.refresh_from_db()
    assert (queued.status, queued.error) == (RunStatus.COMPLETED, "")
    assert queued.instance.status == InstanceStatus.COMPLETED
    assert queued.instance.started_by == admin
    assert calling.started_runs.get() == queued
    deal.refresh_from_db()
    assert (deal.title, deal.stage) == ("Hello Main deal (50)", "PREPARATION")
    comment = TimelineEntry.objects.get(document_id=deal.document_id, kind="comment")
    assert comment.text == "Due 2026-12-31, level Gold"
    assert Notification.objects.get(user=colleague).text == "Look at Hello Main deal (50)"


def test_deactivating_while_a_process_waits_then_reactivating(admin, deal) -> None:
    scenario = scenario_with(admin)
    template = published(
        node("DelayActivity", TimeoutDuration="1", TimeoutDurationType="s"),
        node(
            "StartScriptActivity",
            DocumentId="{=Document:ID}",
            StartBy="{=Template:TargetUser}",
            TemplateId=str(scenario.template_id),
        ),
        user=admin,
    )
    waiting = run(template, deal, admin)
    scenarios.scenario_set_active(scenario=scenario, active=False, user=admin)
    run_tasks()
    waiting.refresh_from_db()
    assert notes(waiting, ERROR) == ["Smart scenario not found or inactive."]
    assert waiting.status == InstanceStatus.COMPLETED

    scenarios.scenario_set_active(scenario=scenario, active=True, user=admin)
    again = run(template, deal, admin)
    run_tasks()
    again.refresh_from_db()
    assert notes(again, ERROR) == []
    assert ScenarioRun.objects.get().status == RunStatus.COMPLETED


def test_the_typed_contract_fails_blocks_when_the_schema_changes(admin, deal) -> None:
    scenario = scenario_with(admin, parameters={"Points": field("int", "Points")})
    template = caller(admin, scenario.template_id, TemplateParameters={"Points": "5"})

    def problems() -> list[str]:
        with pytest.raises(PublishRefused) as refused:
            template_publish(template=template, user=admin)
        return [problem.message for problem in refused.value.problems]

    scenarios.scenario_save(
        user=admin,
        document_type=DEAL,
        name="Welcome pack",
        scenario=scenario,
        parameters={"Points": field("date", "Points")},
        robots=[node("CrmTimelineCommentAdd", CommentText="x")],
    )
    assert problems() == [
        "Action 'Start scenario': The date in field 'Points' does not match the format"
        " 'YYYY-MM-DD'."
    ]
    scenarios.scenario_save(
        user=admin,
        document_type=DEAL,
        name="Welcome pack",
        scenario=scenario,
        parameters={"Bonus": field("int", "Bonus", required=True)},
        robots=[node("CrmTimelineCommentAdd", CommentText="x")],
    )
    assert problems() == [
        "Action 'Start scenario': Unknown field: Points",
        "Action 'Start scenario': The smart scenario no longer has the parameter Points.",
        "Action 'Start scenario': The required parameter is empty: Bonus.",
    ]
    scenarios.scenario_set_active(scenario=scenario, active=False, user=admin)
    assert "Action 'Start scenario': Smart scenario not found or inactive." in problems()


def test_export_and_import_round_trip(admin) -> None:
    scenario = scenario_with(
        admin,
        node("CrmTimelineCommentAdd", CommentText="Hi {=Template:Who > printable}"),
        parameters={"Who": field("user", "Who", required=True)},
    )
    exported = scenarios.scenario_export(scenario=scenario)
    copy = scenarios.scenario_import(data=json.dumps(exported), user=admin)
    assert copy.pk != scenario.pk
    assert scenarios.scenario_export(scenario=copy) == exported


def test_the_export_carries_the_robots_in_bitrix24s_shape_and_imports_from_it(admin) -> None:
    scenario = scenario_with(
        admin,
        node("CrmTimelineCommentAdd", "A_first", CommentText="First"),
        node("CrmTimelineCommentAdd", "A_second", CommentText="Second"),
    )
    exported = scenarios.scenario_export(scenario=scenario)

    template = exported["template"]
    (parallel,) = template["Children"]
    (sequence,) = parallel["Children"]
    assert (template["Type"], parallel["Type"], sequence["Type"]) == (
        "SequentialWorkflowActivity",
        "ParallelActivity",
        "SequenceActivity",
    )
    assert [robot["Name"] for robot in sequence["Children"]] == ["A_first", "A_second"]

    # A Bitrix24 robots template: two branches, a pause before a robot (a robot of its own).
    pause = node("DelayActivity", "A_pause", TimeoutDuration="1", TimeoutDurationType="h")
    later = {
        **sequence,
        "Name": "A_later",
        "Children": [pause, node("CrmTimelineCommentAdd", "A_third", CommentText="Third")],
    }
    parallel["Children"].append(later)
    del exported["robots"]
    copy = scenarios.scenario_import(data=json.dumps(exported), user=admin)

    robots = scenarios.scenario_robots(copy.template.latest_version)
    assert [robot["Name"] for robot in robots] == ["A_first", "A_second", "A_pause", "A_third"]


def test_a_robot_under_a_condition_is_refused_and_nothing_is_saved(admin) -> None:
    scenario = scenario_with(admin, node("CrmTimelineCommentAdd", "A_first", CommentText="x"))
    exported = scenarios.scenario_export(scenario=scenario)
    sequence = exported["template"]["Children"][0]["Children"][0]
    sequence["Children"] = [node("IfElseActivity", children=[node("IfElseBranchActivity")])]
    del exported["robots"]
    count = Scenario.objects.count()

    with pytest.raises(scenarios.ScenarioRefused) as refused:
        scenarios.scenario_import(data=json.dumps(exported), user=admin)

    assert refused.value.message == "Robots that run under a condition cannot be imported."
    assert Scenario.objects.count() == count


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["parameters"].update({"who": field("string", "Again")}),
            "The ID 'who' is used twice.",
        ),
        (
            lambda d: d["parameters"].update({"Level": field("select", "Level")}),
            "The list field 'Level' needs options.",
        ),
        (
            lambda d: d["parameters"].update({"Count": field("int", "Count", default="many")}),
            "Default value: The value of field 'Count' is not an integer.",
        ),
        (
            lambda d: d["robots"].append(node("LogActivity", Text="{{=strlen(}}")),
            "Unknown robot: LogActivity",
        ),
        (
            lambda d: d["robots"].append(node("CrmTimelineCommentAdd", CommentText="{{=strlen(}}")),
            "Action 'CrmTimelineCommentAdd': ",
        ),
        (lambda d: d["robots"].append(node("EvilRobot")), "Unknown robot: EvilRobot"),
        (
            lambda d: d.update(format="something else"),
            "The file is not a smart scenario export (JSON).",
        ),
    ],
    ids=[
        "duplicate-id",
        "select-without-options",
        "wrong-default",
        "not-a-robot",
        "bad-expression",
        "unknown-robot",
        "not-an-export",
    ],
)
def test_bad_imports_are_refused_with_messages_and_save_nothing(admin, change, message) -> None:
    scenario = scenario_with(admin, parameters={"Who": field("user", "Who")})
    data = scenarios.scenario_export(scenario=scenario)
    change(data)
    before = (
        ScenarioRun.objects.count(),
        Scenario.objects.count(),
        Template.objects.count(),
    )
    with pytest.raises(scenarios.ScenarioRefused) as refused:
        scenarios.scenario_import(data=json.dumps(data), user=admin)
    assert message in refused.value.message
    assert (
        ScenarioRun.objects.count(),
        Scenario.objects.count(),
        Template.objects.count(),
    ) == before


def test_starting_from_the_ui_checks_rights_parameters_and_activity(admin, deal) -> None:
    scenario = scenario_with(admin, parameters={"Points": field("int", "Points", required=True)})
    reader = user_with({("DEAL", "read"): "all"})
    with pytest.raises(scenarios.ScenarioRefused, match="Insufficient permission"):
        scenarios.scenarios_start(
            scenario=scenario, document_ids=[deal.pk], user=reader, parameters={"Points": 1}
        )
    with pytest.raises(
        scenarios.ScenarioRefused, match=r"The value of field 'Points' is not an integer\."
    ):
        scenarios.scenarios_start(
            scenario=scenario, document_ids=[deal.pk], user=admin, parameters={"Points": "x"}
        )
    with pytest.raises(scenarios.ScenarioRefused, match=r"No items were selected\."):
        scenarios.scenarios_start(
            scenario=scenario, document_ids=[], user=admin, parameters={"Points": 1}
        )
    scenarios.scenario_set_active(scenario=scenario, active=False, user=admin)
    with pytest.raises(scenarios.ScenarioRefused, match="deactivated"):
        scenarios.scenarios_start(
            scenario=scenario, document_ids=[deal.pk], user=admin, parameters={"Points": 1}
        )
    assert not ScenarioRun.objects.exists()

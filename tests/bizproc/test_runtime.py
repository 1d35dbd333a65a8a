"""The runtime: every standard activity and operator, waits, children, faults, auto-start."""

import datetime
import re
import sqlite3

import pytest
from django.db import IntegrityError, connection
from django.db.models import F
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bizproc import runtime
from bizproc.documents import document_providers
from bizproc.hooks import document_hooks
from bizproc.models import Instance, InstanceStatus, JournalEntry, TrackingType
from bizproc.runtime import ProcessRefused, workflow_start
from crm import services as crm_services
from crm.models import Deal, TimelineEntry, TimelineKind
from tests.bizproc.builders import branch, field, node, notes, published, rows, run_tasks, sequence
from tests.crm.factories import DealFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

EXECUTE, CLOSE, REPORT, ERROR, FAULT = 1, 2, 6, 9, 4


@pytest.fixture
def user():
    return UserFactory(is_crm_admin=True, full_name="Ivan Petrov")


@pytest.fixture
def deal(user):
    return DealFactory(title="Big deal", stage="NEW", opportunity=1000, assigned_by=user)


def log(text: str, name: str | None = None, title: str = "Log") -> dict:
    return node("LogActivity", name, Text=text, Title=title)


def start(template, deal, user, **parameters) -> Instance:
    instance = workflow_start(
        template=template, document_id=deal.document_id, user=user, parameters=parameters
    )
    instance.refresh_from_db()
    return instance


def test_a_process_runs_to_completion_at_once_and_journals_every_block(user, deal) -> None:
    template = published(
        node(
            "SetVariableActivity",
            "A_set",
            VariableValue={"Total": "={=Document:OPPORTUNITY}*2"},
            Title="Double",
        ),
        node(
            "SetFieldActivity",
            "A_field",
            FieldValue={"TITLE": "{=Document:TITLE} (checked)"},
            Title="Rename",
        ),
        log("Total is {=Variable:Total}", "A_log", "Report total"),
        user=user,
        variables={"Total": field("double", "Total")},
    )
    instance = start(template, deal, user)

    assert instance.status == InstanceStatus.COMPLETED
    deal.refresh_from_db()
    assert deal.title == "Big deal (checked)"
    assert rows(instance) == [
        (EXECUTE, "Sequential business process", ""),
        (EXECUTE, "Double", ""),
        (CLOSE, "Double", ""),
        (EXECUTE, "Rename", ""),
        (CLOSE, "Rename", ""),
        (EXECUTE, "Report total", ""),
        (REPORT, "Report total", "Total is 2000"),
        (CLOSE, "Report total", ""),
        (CLOSE, "Sequential business process", ""),
    ]
    assert JournalEntry.objects.filter(instance=instance).first().document_id == deal.document_id


def test_a_block_after_a_write_sees_the_saved_values_without_reading_the_record_again(
    user, deal
) -> None:
    template = published(
        log("Before: {=Document:COMMENTS}", title="Before"),
        node("SetFieldActivity", FieldValue={"COMMENTS": "Called {=Document:TITLE}"}),
        log("After: {=Document:COMMENTS}", title="After"),
        user=user,
    )
    with CaptureQueriesContext(connection) as queries:
        instance = start(template, deal, user)

    assert notes(instance, REPORT) == [
        "Before: ",
        "After: Called Big deal",
    ]
    deal_reads = [q["sql"] for q in queries if q["sql"].startswith('SELECT "crm_deal"')]
    # The start's read (its right and the first blocks' values) only: the write is saved
    # against it.
    assert len(deal_reads) == 1, deal_reads


def statements(queries: CaptureQueriesContext) -> list[str]:
    """Each query as its verb and table: ``INSERT bizproc_instance``; a statement of several
    inserts (``WITH … AS (INSERT …) INSERT …``) as each of them; an UPDATE that feeds an
    INSERT as ``WITH UPDATE … INSERT …``."""
    shown = []
    for query in queries:
        words = query["sql"].replace('"', "").replace("(", " ").split()
        verb = words[0]
        if verb == "WITH" and "UPDATE" in words:  # an UPDATE that feeds an INSERT
            updated, inserted = words[words.index("UPDATE") + 1], words[words.index("INTO") + 1]
            shown.append(f"WITH UPDATE {updated} INSERT {inserted}")
            continue
        if verb == "WITH":  # a new instance and its journal rows
            shown.append(" + ".join(re.findall(r'INSERT INTO "(\w+)"', query["sql"])))
            continue
        table = {"SELECT": "FROM", "UPDATE": "UPDATE", "INSERT": "INTO"}.get(verb)
        shown.append(f"{verb} {words[words.index(table) + 1]}" if table else verb)
    return shown


def new_instance_with_journal() -> list[str]:
    """The statements of a new instance and its first journal rows: one on PostgreSQL."""
    if connection.vendor == "postgresql":
        return ["bizproc_instance + bizproc_journalentry"]
    return ["INSERT bizproc_instance", "INSERT bizproc_journalentry"]


def written_against_the_read() -> list[str]:
    """The statements of a write against the values read before."""
    if connection.vendor == "postgresql":
        return ["WITH UPDATE crm_deal INSERT crm_timelineentry"]
    return ["UPDATE crm_deal", "INSERT crm_timelineentry"]


def test_a_start_that_sets_a_field_reads_its_deal_once(user) -> None:
    """The bench's process (bench/engine_template.py): the deal is read for the start and
    updated against that read, with no savepoint around the write (its refusals come before
    its UPDATE), and on PostgreSQL with its timeline row in the same statement."""
    template = published(
        node("SetVariableActivity", VariableValue={"Score": "={=Document:OPPORTUNITY}/100"}),
        node(
            "IfElseActivity",
            children=[
                branch({"propertyvariablecondition": [["Score", ">", "100"]]}, title="Big"),
                branch({"truecondition": "1"}, title="Small"),
            ],
        ),
        node("SetFieldActivity", FieldValue={"COMMENTS": "Score {=Variable:Score}"}),
        log("Scored {=Variable:Score}"),
        log("Done with {=Document:TITLE}"),
        user=user,
        variables={"Score": field("double", "Score")},
    )
    start(template, DealFactory(opportunity=500, assigned_by=user), user)  # warms the caches
    deal = DealFactory(title="Counted", opportunity=1000, assigned_by=user)

    with CaptureQueriesContext(connection) as queries:
        instance = workflow_start(template=template, document_id=deal.document_id, user=user)

    assert statements(queries) == [
        "BEGIN",
        "SELECT crm_deal",
        *written_against_the_read(),
        *new_instance_with_journal(),
        "COMMIT",
    ]
    assert notes(instance, REPORT) == ["Scored 10", "Done with Counted"]
    deal.refresh_from_db()
    assert (deal.comments, deal.version) == ("Score 10", 2)


def stored(instance: Instance) -> dict:
    return {
        field.attname: getattr(instance, field.attname) for field in Instance._meta.concrete_fields
    }


@pytest.mark.postgres
def test_a_new_instance_and_its_journal_rows_go_in_in_one_statement(user, deal) -> None:
    template = published(log("one"), log("two"), user=user)
    with CaptureQueriesContext(connection) as queries:
        instance = workflow_start(template=template, document_id=deal.document_id, user=user)

    [insert] = [q["sql"] for q in queries if 'INTO "bizproc_instance"' in q["sql"]]
    assert insert.startswith("WITH ")
    assert [q["sql"] for q in queries if 'INTO "bizproc_journalentry"' in q["sql"]] == [insert]
    assert rows(instance) == [
        (EXECUTE, "Sequential business process", ""),
        (EXECUTE, "Log", ""),
        (REPORT, "Log", "one"),
        (CLOSE, "Log", ""),
        (EXECUTE, "Log", ""),
        (REPORT, "Log", "two"),
        (CLOSE, "Log", ""),
        (CLOSE, "Sequential business process", ""),
    ]
    # The object is what is stored, its dates included, and is known to be saved.
    assert stored(instance) == stored(Instance.objects.get(pk=instance.pk))
    assert instance.started_at is not None and instance.modified_at is not None
    assert (instance._state.adding, instance._state.db) == (False, "default")


def test_a_started_instance_is_saved_as_django_saves_it(user, deal) -> None:
    """Whichever way its row went in: the same signals, and a later save updates it."""
    template = published(log("one"), user=user)
    seen = []

    def received(signal, **kwargs):
        seen.append((signal, kwargs["instance"].pk, kwargs.get("created")))

    pre_save.connect(received, sender=Instance, dispatch_uid="test-pre")
    post_save.connect(received, sender=Instance, dispatch_uid="test-post")
    try:
        instance = workflow_start(template=template, document_id=deal.document_id, user=user)
    finally:
        pre_save.disconnect(sender=Instance, dispatch_uid="test-pre")
        post_save.disconnect(sender=Instance, dispatch_uid="test-post")

    assert seen == [(pre_save, instance.pk, None), (post_save, instance.pk, True)]
    assert stored(instance) == stored(Instance.objects.get(pk=instance.pk))
    instance.state_title = "Saved again"
    instance.save()  # an UPDATE: an INSERT of the same id would fail
    assert Instance.objects.get(pk=instance.pk).state_title == "Saved again"


def test_a_start_whose_instance_cannot_go_in_leaves_nothing(user, deal, monkeypatch) -> None:
    template = published(
        node("SetFieldActivity", FieldValue={"COMMENTS": "Set by process"}), log("hi"), user=user
    )
    first = workflow_start(template=template, document_id=deal.document_id, user=user)
    written = rows(first)
    deal.refresh_from_db()
    version, changes = deal.version, TimelineEntry.objects.count()
    # The next start draws the id the first one has.
    monkeypatch.setattr(Instance._meta.get_field("id"), "_get_default", lambda: first.pk)

    with pytest.raises(IntegrityError):
        workflow_start(template=template, document_id=deal.document_id, user=user)

    assert rows(first) == written
    assert Instance.objects.count() == 1
    deal.refresh_from_db()
    assert deal.version == version
    assert TimelineEntry.objects.count() == changes


def test_a_first_step_past_the_state_limit_goes_in_terminated_with_its_error(
    user, settings
) -> None:
    settings.BIZPROC_STATE_LIMIT_BYTES = 50_000
    deal = DealFactory(title="Big deal", assigned_by=user, comments="c" * 60_000)
    template = published(
        node("SetVariableActivity", VariableValue={"Note": "{=Document:COMMENTS}"}, Title="Copy"),
        user=user,
        variables={"Note": field("text")},
    )
    instance = workflow_start(template=template, document_id=deal.document_id, user=user)

    stored_instance = Instance.objects.get(pk=instance.pk)
    assert stored_instance.status == InstanceStatus.TERMINATED
    assert stored_instance.variables == {"Note": None}  # as before the step
    assert notes(stored_instance, ERROR) == [
        "The process's variables and state would take more than 48.8\xa0KB, so the process "
        "was stopped; its variables keep the values they had before this step."
    ]
    assert stored(instance) == stored(stored_instance)


def test_a_deal_changed_between_the_start_and_the_write_is_written_as_it_is_stored(
    user, deal, monkeypatch
) -> None:
    provider = document_providers.get("crm")
    read_checked = provider.read_checked

    def read_then_changed_elsewhere(document_id, **kwargs):
        read = read_checked(document_id, **kwargs)
        # Another writer's commit, after the start's read and before its write.
        Deal.objects.filter(pk=deal.pk).update(
            title="Renamed elsewhere", comments="Changed elsewhere", version=F("version") + 1
        )
        return read

    monkeypatch.setattr(provider, "read_checked", read_then_changed_elsewhere)
    template = published(
        log("Before: {=Document:COMMENTS}", title="Before"),
        node("SetFieldActivity", FieldValue={"COMMENTS": "Set by process"}),
        log("After: {=Document:TITLE}, {=Document:COMMENTS}", title="After"),
        user=user,
    )

    with CaptureQueriesContext(connection) as queries:
        instance = start(template, deal, user)

    # After the other writer's UPDATE, the one against the start's read finds no row: nothing
    # written, so the write is made again on the row read and locked, in a savepoint as any
    # write of the CRM.
    shown = statements(queries)
    assert (
        shown[shown.index("BEGIN") :][:10]
        == [
            "BEGIN",
            "SELECT crm_deal",
            "UPDATE crm_deal",
            *written_against_the_read()[:1],  # its UPDATE finds no row: no INSERT
            "SAVEPOINT",
            "SELECT crm_deal",
            "UPDATE crm_deal",
            "INSERT crm_timelineentry",
            "RELEASE",
            *new_instance_with_journal()[:1],
        ]
    )
    assert notes(instance, REPORT) == [
        "Before: ",  # the start's read
        "After: Renamed elsewhere, Set by process",
    ]
    deal.refresh_from_db()
    assert (deal.title, deal.comments, deal.version) == (
        "Renamed elsewhere",
        "Set by process",
        3,
    )
    changed = TimelineEntry.objects.filter(
        document_id=deal.document_id, kind=TimelineKind.CHANGED
    ).get()
    assert changed.changes == {"COMMENTS": ["Changed elsewhere", "Set by process"]}
    assert changed.version == 3


def test_a_write_the_values_refuse_is_journaled_and_leaves_the_deal_as_it_was(user, deal) -> None:
    """Refused against the start's read before anything is written, the write is judged again
    on the stored row in a savepoint (which may differ); refused there too, the process faults
    and the start commits it."""
    template = published(
        node(
            "SetFieldActivity", FieldValue={"PROBABILITY": "{=Document:TITLE}"}, Title="Bad write"
        ),
        log("never"),
        user=user,
    )
    start(template, DealFactory(assigned_by=user), user)  # warms the caches

    with CaptureQueriesContext(connection) as queries:
        instance = workflow_start(template=template, document_id=deal.document_id, user=user)

    assert statements(queries) == [
        "BEGIN",
        "SELECT crm_deal",
        "SAVEPOINT",
        "SELECT crm_deal",
        "ROLLBACK",
        "RELEASE",
        *new_instance_with_journal(),
        "COMMIT",
    ]
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.TERMINATED
    assert notes(instance, FAULT) == ["The value of field 'Probability, %' is not an integer."]
    deal.refresh_from_db()
    assert (deal.probability, deal.version) == (None, 1)
    assert not TimelineEntry.objects.filter(document_id=deal.document_id, kind=TimelineKind.CHANGED)


def test_a_failure_after_a_process_s_write_rolls_the_whole_start_back(user, deal) -> None:
    """The write against the start's read sets no savepoint, so what fails after its UPDATE
    (here a hook listener) cannot be undone alone: the start fails as a whole, with that
    error, and keeps nothing (no deal changed without its timeline, no process)."""

    def refuse(**kwargs) -> None:
        raise RuntimeError("listener failed")

    template = published(
        node("SetFieldActivity", FieldValue={"COMMENTS": "Lost"}), log("after"), user=user
    )
    document_hooks.on_updated.append(refuse)
    try:
        with pytest.raises(RuntimeError, match="listener failed"):
            workflow_start(template=template, document_id=deal.document_id, user=user)
    finally:
        document_hooks.on_updated.remove(refuse)

    assert not Instance.objects.exists()
    deal.refresh_from_db()
    assert (deal.comments, deal.version) == ("", 1)
    assert not TimelineEntry.objects.filter(document_id=deal.document_id, kind=TimelineKind.CHANGED)


def test_a_cache_that_fails_at_a_process_s_write_faults_the_process_with_nothing_written(
    user, deal, monkeypatch
) -> None:
    """The lists' counts are made stale before the UPDATE: a cache that fails there refuses
    the write before anything is written, so the process faults and the start commits."""

    def fail() -> None:
        raise ConnectionError("cache down")

    monkeypatch.setattr(crm_services, "counts_invalidate", fail)
    template = published(node("SetFieldActivity", FieldValue={"COMMENTS": "Lost"}), user=user)

    instance = start(template, deal, user)

    assert instance.status == InstanceStatus.TERMINATED
    assert notes(instance, FAULT) == ["An unexpected error stopped the process."]
    deal.refresh_from_db()
    assert (deal.comments, deal.version) == ("", 1)


def test_journal_notes_keep_quotes_braces_commas_backslashes_and_null_words(user, deal) -> None:
    # The rows go to PostgreSQL as one array per column: nothing in a note may break them.
    texts = ['a "quoted", {braced} note', 'back\\slash \\" and NULL', "NULL", "Ünïcode ✓"]
    template = published(*(log(text) for text in texts), user=user)
    instance = start(template, deal, user)

    assert notes(instance, REPORT) == texts
    # A process nobody started (auto-start) writes rows without a user.
    nobodys = workflow_start(
        template=template, document_id=deal.document_id, user=None, check_rights=False
    )
    assert notes(nobodys, REPORT) == texts
    assert not JournalEntry.objects.filter(instance=nobodys, user__isnull=False).exists()


def test_each_journal_row_keeps_the_moment_it_was_written(user, deal) -> None:
    template = published(log("one"), log("two"), user=user)
    before = timezone.now()
    instance = start(template, deal, user)
    after = timezone.now()

    moments = list(
        JournalEntry.objects.filter(instance=instance)
        .order_by("id")
        .values_list("created_at", flat=True)
    )
    assert len(moments) == 8
    assert before <= moments[0] and moments[-1] <= after
    assert moments == sorted(moments)


def test_start_and_stop_rows_can_be_switched_off(user, deal, settings) -> None:
    settings.BIZPROC_JOURNAL_START_STOP = False
    template = published(log("hello"), user=user)
    assert rows(start(template, deal, user)) == [(REPORT, "Log", "hello")]


OPERATOR_CASES = [
    ("=", "NEW", True),
    ("=", "WON", False),
    ("!=", "WON", True),
    (">", "500", True),
    (">=", "1000", True),
    ("<", "1000", False),
    ("<=", "1000", True),
    ("in", ["WON", "NEW"], True),
    ("!in", ["WON", "LOSE"], True),
    ("contain", "Big", True),
    ("!contain", "Big", False),
    ("empty", "", False),
    ("!empty", "", True),
]


@pytest.mark.parametrize(("operator", "value", "expected"), OPERATOR_CASES)
def test_field_conditions_with_every_operator(user, deal, operator, value, expected) -> None:
    field_code = {
        "contain": "TITLE",
        "!contain": "TITLE",
        ">": "OPPORTUNITY",
        ">=": "OPPORTUNITY",
        "<": "OPPORTUNITY",
        "<=": "OPPORTUNITY",
    }.get(operator, "STAGE_ID")
    template = published(
        node(
            "IfElseActivity",
            children=[
                branch({"fieldcondition": [[field_code, operator, value]]}, log("yes")),
                branch({"truecondition": "1"}, log("no")),
            ],
        ),
        user=user,
    )
    assert notes(start(template, deal, user), REPORT) == ["yes" if expected else "no"]


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [("=", "7", True), (">", "10", False), ("in", ["1", "7"], True), ("empty", "", False)],
)
def test_variable_conditions(user, deal, operator, value, expected) -> None:
    template = published(
        node(
            "IfElseActivity",
            children=[
                branch({"propertyvariablecondition": [["Count", operator, value]]}, log("yes")),
                branch({"truecondition": "1"}, log("no")),
            ],
        ),
        user=user,
        variables={"Count": field("int", default="7")},
    )
    assert notes(start(template, deal, user), REPORT) == ["yes" if expected else "no"]


def test_mixed_conditions_join_with_and_and_or(user, deal) -> None:
    condition = {
        "mixedcondition": [
            {
                "object": "Document",
                "field": "STAGE_ID",
                "operator": "=",
                "value": "WON",
                "joiner": "0",
            },
            {"object": "Template", "field": "Force", "operator": "=", "value": "Y", "joiner": "1"},
        ]
    }
    template = published(
        node(
            "IfElseActivity",
            children=[branch(condition, log("yes")), branch({"truecondition": "1"}, log("no"))],
        ),
        user=user,
        parameters={"Force": field("bool")},
    )
    assert notes(start(template, deal, user, Force="N"), REPORT) == ["no"]
    assert notes(start(template, deal, user, Force="Y"), REPORT) == ["yes"]


def test_nested_branches_take_the_first_true_path(user, deal) -> None:
    inner = node(
        "IfElseActivity",
        children=[
            branch({"fieldcondition": [["OPPORTUNITY", ">", "5000"]]}, log("huge")),
            branch({"fieldcondition": [["OPPORTUNITY", ">", "500"]]}, log("big")),
            branch({"truecondition": "1"}, log("small")),
        ],
    )
    template = published(
        node(
            "IfElseActivity",
            children=[
                branch({"fieldcondition": [["STAGE_ID", "=", "NEW"]]}, inner, log("after inner")),
                branch({"truecondition": "1"}, log("not new")),
            ],
        ),
        log("done"),
        user=user,
    )
    assert notes(start(template, deal, user), REPORT) == ["big", "after inner", "done"]


def test_a_condition_without_a_matching_branch_goes_on(user, deal) -> None:
    template = published(
        node(
            "IfElseActivity",
            children=[branch({"fieldcondition": [["STAGE_ID", "=", "WON"]]}, log("won"))],
        ),
        log("after"),
        user=user,
    )
    assert notes(start(template, deal, user), REPORT) == ["after"]


def test_a_loop_runs_while_its_condition_holds(user, deal) -> None:
    template = published(
        node(
            "WhileActivity",
            children=[
                sequence(
                    log("turn {=Variable:N}"),
                    node("SetVariableActivity", VariableValue={"N": "={=Variable:N}+1"}),
                )
            ],
            propertyvariablecondition=[["N", "<", "3"]],
        ),
        user=user,
        variables={"N": field("int", default="0")},
    )
    instance = start(template, deal, user)
    assert notes(instance, REPORT) == ["turn 0", "turn 1", "turn 2"]
    assert instance.status == InstanceStatus.COMPLETED


@pytest.fixture
def few_parameters_a_statement():
    """SQLite's own limit on a statement's parameters, lowered to 45 (four journal rows of ten
    values) for the test; PostgreSQL binds them in the client and has no such limit."""
    if connection.vendor != "sqlite":
        yield
        return
    connection.ensure_connection()
    limit = sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER
    before = connection.connection.setlimit(limit, 45)
    try:
        yield
    finally:
        connection.connection.setlimit(limit, before)


def test_a_step_writes_more_journal_rows_than_one_statement_can_carry(
    user, deal, few_parameters_a_statement
) -> None:
    template = published(
        node(
            "WhileActivity",
            children=[
                sequence(
                    log("turn {=Variable:N}"),
                    node("SetVariableActivity", VariableValue={"N": "={=Variable:N}+1"}),
                )
            ],
            propertyvariablecondition=[["N", "<", "5"]],
        ),
        user=user,
        variables={"N": field("int", default="0")},
    )
    instance = start(template, deal, user)
    assert notes(instance, REPORT) == [f"turn {n}" for n in range(5)]
    assert len(rows(instance)) > 4 * 4
    assert instance.status == InstanceStatus.COMPLETED


def test_journal_rows_keep_their_text_and_times_exactly(user, deal) -> None:
    """Whatever the text (quotes, backslashes, line breaks, any script, long) and however
    the rows go in, they read back as written, in order, each with its own time."""
    tricky = 'She said "ok"\\n\t{x} [=] \\"\' — Привет, 世界 🎉 ' + "x" * 5000
    template = published(log("first"), log(tricky, title="Ключ «1»"), log("last"), user=user)
    before = timezone.now()

    instance = start(template, deal, user)

    assert notes(instance, REPORT) == ["first", tricky, "last"]
    assert "Ключ «1»" in [title for _type, title, _note in rows(instance)]
    times = list(
        JournalEntry.objects.filter(instance=instance)
        .order_by("id")
        .values_list("created_at", flat=True)
    )
    assert times == sorted(times)
    assert before <= times[0] <= times[-1] <= timezone.now()
    assert any(moment.microsecond for moment in times)  # not cut to the second or millisecond


def test_a_loop_past_its_budget_writes_an_error_and_terminates(user, deal, settings) -> None:
    settings.BIZPROC_LOOP_LIMIT = 5
    template = published(
        node(
            "WhileActivity",
            children=[sequence(log("again"))],
            fieldcondition=[["STAGE_ID", "=", "NEW"]],
            Title="Forever",
        ),
        log("never"),
        user=user,
    )
    instance = start(template, deal, user)
    assert notes(instance, REPORT) == ["again"] * 5
    assert notes(instance, ERROR) == ["The loop stopped after 5 turns: its iteration budget."]
    assert instance.status == InstanceStatus.TERMINATED
    assert instance.state_title == "Terminated"


def test_parallel_branches_join_when_all_have_finished(user, deal) -> None:
    template = published(
        node(
            "ParallelActivity",
            children=[
                sequence(
                    log("left 1"),
                    node("DelayActivity", TimeoutDuration="1", TimeoutDurationType="s"),
                    log("left 2"),
                ),
                sequence(log("right 1"), log("right 2")),
            ],
        ),
        log("joined"),
        user=user,
    )
    instance = start(template, deal, user)
    assert instance.status == InstanceStatus.RUNNING
    assert notes(instance, REPORT) == ["left 1", "right 1", "right 2"]
    assert instance.wake_at is not None

    run_tasks()
    instance.refresh_from_db()
    assert notes(instance, REPORT) == ["left 1", "right 1", "right 2", "left 2", "joined"]
    assert instance.status == InstanceStatus.COMPLETED


def test_a_pause_until_a_moment_in_the_past_does_not_wait(user, deal) -> None:
    template = published(
        node("DelayActivity", TimeoutTime="2020-01-01 10:00"), log("on"), user=user
    )
    instance = start(template, deal, user)
    assert instance.status == InstanceStatus.COMPLETED


def test_a_pause_is_durable_a_task_wakes_it(user, deal) -> None:
    template = published(
        node("DelayActivity", TimeoutDuration="1", TimeoutDurationType="s"), log("woke"), user=user
    )
    before = timezone.now()
    instance = start(template, deal, user)
    assert instance.status == InstanceStatus.RUNNING
    assert instance.wake_at >= before + datetime.timedelta(seconds=1)
    assert notes(instance, REPORT) == []

    run_tasks()
    instance.refresh_from_db()
    assert notes(instance, REPORT) == ["woke"]
    assert instance.status == InstanceStatus.COMPLETED


def test_a_child_process_without_waiting(user, deal) -> None:
    child = published(
        log("child on {=Document:ID} got {=Template:Greeting}"),
        user=user,
        parameters={"Greeting": field("string", required=True)},
        name="Child",
    )
    parent = published(
        node(
            "StartWorkflowActivity",
            "A_start",
            DocumentId="{=Document:ID}",
            TemplateId=str(child.pk),
            TemplateParameters={"Greeting": "hi"},
            UseSubscription="N",
        ),
        log("parent started {=A_start:WorkflowId}"),
        user=user,
    )
    instance = start(parent, deal, user)
    child_instance = Instance.objects.get(parent=instance)
    assert notes(child_instance, REPORT) == [f"child on {deal.pk} got hi"]
    assert notes(instance, REPORT) == [f"parent started {child_instance.pk}"]
    assert instance.status == child_instance.status == InstanceStatus.COMPLETED


def test_after_a_child_process_the_parent_reads_what_the_child_wrote(user, deal) -> None:
    child = published(
        node("SetFieldActivity", FieldValue={"TITLE": "by child"}), user=user, name="Child"
    )
    parent = published(
        node("SetFieldActivity", FieldValue={"TITLE": "by parent"}),
        node(
            "StartWorkflowActivity",
            DocumentId="{=Document:ID}",
            TemplateId=str(child.pk),
            UseSubscription="N",
        ),
        log("now {=Document:TITLE}"),
        user=user,
    )
    assert notes(start(parent, deal, user), REPORT) == ["now by child"]


def test_a_child_process_with_waiting_resumes_the_parent_when_it_finishes(user, deal) -> None:
    child = published(
        node("DelayActivity", TimeoutDuration="1", TimeoutDurationType="s"),
        log("child done"),
        user=user,
        name="Child",
    )
    parent = published(
        node(
            "StartWorkflowActivity",
            DocumentId="{=Document:ID}",
            TemplateId=str(child.pk),
            UseSubscription="Y",
        ),
        log("parent goes on"),
        user=user,
    )
    instance = start(parent, deal, user)
    assert instance.status == InstanceStatus.RUNNING
    assert notes(instance, REPORT) == []

    run_tasks()
    instance.refresh_from_db()
    child_instance = Instance.objects.get(parent=instance)
    assert notes(child_instance, REPORT) == ["child done"]
    assert notes(instance, REPORT) == ["parent goes on"]
    assert instance.status == InstanceStatus.COMPLETED


def test_the_terminate_block_stops_the_process_with_its_state_title(user, deal) -> None:
    template = published(
        log("before"),
        node("TerminateActivity", StateTitle="Stopped by rule"),
        log("after"),
        user=user,
    )
    instance = start(template, deal, user)
    assert notes(instance, REPORT) == ["before"]
    assert (instance.status, instance.state_title) == (InstanceStatus.TERMINATED, "Stopped by rule")


def test_set_state_title_shows_on_the_process(user, deal) -> None:
    template = published(
        node("SetStateTitleActivity", TargetStateTitle="Waiting for {=Document:TITLE}"), user=user
    )
    assert start(template, deal, user).state_title == "Waiting for Big deal"


def test_a_fault_terminates_the_process_with_a_fault_row_in_the_starters_language(
    user, deal
) -> None:
    user.language = "ru"
    user.save()
    template = published(
        node(
            "SetFieldActivity", FieldValue={"PROBABILITY": "{=Document:TITLE}"}, Title="Bad write"
        ),
        log("never"),
        user=user,
    )
    instance = start(template, deal, user)
    assert instance.status == InstanceStatus.TERMINATED
    assert instance.state_title == "Выполнение прервано"
    assert notes(instance, FAULT) == ["Значение поля 'Вероятность, %' не является целым числом"]
    assert notes(instance, REPORT) == []


def test_terminate_and_kill_from_outside(user, deal) -> None:
    template = published(
        node("DelayActivity", TimeoutDuration="1", TimeoutDurationType="h"), user=user
    )
    first, second = start(template, deal, user), start(template, deal, user)

    runtime.instance_terminate(instance=first, user=user)
    assert (first.status, first.state_title) == (InstanceStatus.TERMINATED, "Terminated")
    assert first.wake_at is None
    assert notes(first, 5) == ["The process was stopped."]

    runtime.instance_kill(instance=second)
    assert not Instance.objects.filter(pk=second.pk).exists()
    assert not JournalEntry.objects.filter(instance_id=second.pk).exists()

    with pytest.raises(ProcessRefused, match="finished already"):
        runtime.instance_terminate(instance=first, user=user)


def test_auto_start_on_create_and_on_change(user) -> None:
    published(log("created {=Document:TITLE}"), user=user, auto_execute=1, name="On create")
    published(log("changed {=Document:TITLE}"), user=user, auto_execute=2, name="On change")

    deal = crm_services.record_create(entity_type="DEAL", values={"TITLE": "Fresh"}, user=user)
    created = Instance.objects.get(document_id=deal.document_id)
    assert notes(created, REPORT) == ["created Fresh"]

    crm_services.record_update(record=deal, values={"TITLE": "Renamed"}, user=user)
    changed = Instance.objects.filter(document_id=deal.document_id).exclude(pk=created.pk).get()
    assert notes(changed, REPORT) == ["changed Renamed"]


def test_a_process_that_changes_its_document_on_change_runs_once(user) -> None:
    published(
        node("SetFieldActivity", FieldValue={"COMMENTS": "touched {=Document:TITLE}"}),
        user=user,
        auto_execute=2,
    )
    deal = crm_services.record_create(entity_type="DEAL", values={"TITLE": "Loop?"}, user=user)
    crm_services.record_update(record=deal, values={"TITLE": "Edited"}, user=user)
    deal.refresh_from_db()
    assert deal.comments == "touched Edited"
    assert Instance.objects.filter(document_id=deal.document_id).count() == 1


def test_deleting_a_record_terminates_its_processes_and_keeps_their_journal(user, deal) -> None:
    template = published(
        log("start"), node("DelayActivity", TimeoutDuration="1", TimeoutDurationType="d"), user=user
    )
    instance = start(template, deal, user)
    crm_services.record_delete(record=deal, user=user)
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.TERMINATED
    assert notes(instance, REPORT) == ["start"]
    assert notes(instance, TrackingType.CUSTOM) == ["The item was deleted."]


def test_typed_parameters_are_converted_and_target_user_is_the_starter(user, deal) -> None:
    template = published(
        log(
            "{=Template:When} {=Template:Count} {=Template:Who > printable}"
            " {=Template:TargetUser > printable}"
        ),
        user=user,
        parameters={
            "When": field("date", required=True),
            "Count": field("int", required=True),
            "Who": field("user"),
        },
    )
    instance = start(template, deal, user, When="01.03.2026", Count="42", Who=f"user_{user.pk}")
    assert notes(instance, REPORT) == ["2026-03-01 42 Ivan Petrov Ivan Petrov"]


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"Count": "many", "When": "2026-01-01"}, "The value of field 'Count' is not an integer."),
        ({"Count": "1"}, "The field 'When' is required."),
        (
            {"Count": "1", "When": "soon"},
            "The date in field 'When' does not match the format 'YYYY-MM-DD'.",
        ),
        ({"Count": "1", "When": "2026-01-01", "Evil": "1"}, "Unknown parameter: Evil"),
    ],
)
def test_bad_parameters_are_refused_and_nothing_is_created(user, deal, parameters, message) -> None:
    template = published(
        log("x"),
        user=user,
        parameters={
            "Count": field("int", "Count", required=True),
            "When": field("date", "When", required=True),
        },
    )
    with pytest.raises(ProcessRefused) as refused:
        workflow_start(
            template=template, document_id=deal.document_id, user=user, parameters=parameters
        )
    assert message in refused.value.message
    assert not Instance.objects.exists()


def test_bad_parameters_are_refused_in_russian_for_a_russian_user(user, deal) -> None:
    template = published(
        log("x"), user=user, parameters={"Count": field("int", "Количество", required=True)}
    )
    user.language = "ru"
    with pytest.raises(ProcessRefused) as refused:
        workflow_start(
            template=template, document_id=deal.document_id, user=user, parameters={"Count": "x"}
        )
    assert refused.value.message == "Значение поля 'Количество' не является целым числом"


def test_an_inactive_template_another_type_or_a_missing_record_is_refused(user, deal) -> None:
    template = published(log("x"), user=user)
    lead = LeadFactory(assigned_by=user)
    cases = [
        (lead.document_id, "Template type and DOCUMENT_ID mismatch!"),
        ("DEAL_999999", "Cannot find item with this ID."),
        ("rubbish", "Wrong DOCUMENT_ID!"),
    ]
    for document_id, message in cases:
        with pytest.raises(ProcessRefused) as refused:
            workflow_start(template=template, document_id=document_id, user=user)
        assert refused.value.message == message
    template.active = False
    template.save()
    with pytest.raises(ProcessRefused, match="The template is inactive"):
        workflow_start(template=template, document_id=deal.document_id, user=user)
    assert not Instance.objects.exists()


def test_a_user_without_the_start_right_is_refused(deal, user) -> None:
    template = published(log("x"), user=user)
    outsider = UserFactory()
    with pytest.raises(ProcessRefused, match="You may not start processes on this item"):
        workflow_start(template=template, document_id=deal.document_id, user=outsider)
    assert not Instance.objects.exists()


def test_a_lost_wake_up_is_found_by_the_sweeper(user, deal, settings) -> None:
    settings.BIZPROC_SWEEP_GRACE_SECONDS = 0
    template = published(
        node("DelayActivity", TimeoutDuration="1", TimeoutDurationType="h"), log("woke"), user=user
    )
    instance = start(template, deal, user)
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()  # the wake-up task is lost
    Instance.objects.filter(pk=instance.pk).update(
        wake_at=timezone.now() - datetime.timedelta(seconds=1),
        state={
            **instance.state,
            "waits": {
                k: {"until": (timezone.now() - datetime.timedelta(seconds=1)).isoformat()}
                for k in instance.state["waits"]
            },
        },
    )
    assert runtime.instances_sweep() == 1
    run_tasks()
    instance.refresh_from_db()
    assert notes(instance, REPORT) == ["woke"]
    assert Deal.objects.filter(pk=deal.pk).exists()

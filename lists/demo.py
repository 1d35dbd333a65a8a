"""The demo company's process lists: a leave request and an expense report, each with a
published template that starts when an employee submits the form — approval by the approver
the form names, a second approval by the director for a long leave or a large amount, the
request marked approved or rejected, and its author told.

Lists are data, so their names are in one language: English names, the Russian ones in the
description (Bitrix's own Russian: «Заявление на отпуск», «Авансовый отчёт»). The people are
the CRM demo's (``crm.demo``, loaded first by ``demo_data``): Helen Carter (head of sales)
approves and reads every request, Irina Sokolova (the administrator) is the second approver,
Mark Lee designs the processes.
"""

import datetime
from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from bizproc import services as bizproc_services
from bizproc.models import AutoExecute, Template
from bizproc.tree import root_node
from lists import services
from lists.documents import document_type_of_list
from lists.models import List, ListIcon, ListKind

LEAVE_CODE = "leave_request"
EXPENSE_CODE = "expense_report"
LEAVE_TEMPLATE = "Leave approval"
EXPENSE_TEMPLATE = "Expense approval"
LONG_LEAVE_DAYS = 10
LARGE_AMOUNT = 50_000

_STATUS_OPTIONS = [
    {"value": "Approved", "xml_id": "approved", "sort": 10},
    {"value": "Rejected", "xml_id": "rejected", "sort": 20},
]


class DemoUsersMissing(Exception):
    """The CRM demo's people are not there (``demo_data`` was not run)."""


def demo_people() -> dict[str, Any]:
    """The CRM demo's users by username; DemoUsersMissing when one is missing."""
    wanted = ("admin", "helen", "mark", "anna", "boris")
    found = {user.username: user for user in get_user_model().objects.filter(username__in=wanted)}
    missing = [username for username in wanted if username not in found]
    if missing:
        raise DemoUsersMissing(", ".join(missing))
    return found


def _block(type_: str, name: str, title: str, **properties: Any) -> dict[str, Any]:
    return {
        "Type": type_,
        "Name": name,
        "Properties": {"Title": title, **properties},
        "Children": [],
    }


def _sequence(name: str, title: str, *children: dict[str, Any]) -> dict[str, Any]:
    return {
        "Type": "SequenceActivity",
        "Name": name,
        "Properties": {"Title": title},
        "Children": list(children),
    }


def _branch(name: str, title: str, condition: Mapping[str, Any], *children: dict) -> dict:
    return {
        "Type": "IfElseBranchActivity",
        "Name": name,
        "Properties": {"Title": title, **condition},
        "Children": list(children),
    }


def _decided(prefix: str, status: str, state: str) -> list[dict[str, Any]]:
    """Marks the request (its Status field) and the process's state."""
    return [
        _block(
            "SetFieldActivity",
            f"{prefix}1_1_1_1",
            f"Mark as {status}",
            FieldValue={"PROPERTY_STATUS": status},
        ),
        _block("SetStateTitleActivity", f"{prefix}2_1_1_1", state, TargetStateTitle=state),
    ]


def _approval(
    name: str, title: str, users: list[str], task: str, description: str, *, yes: list, no: list
) -> dict[str, Any]:
    approval = _block(
        "ApproveActivity",
        name,
        title,
        Users=users,
        ApproveType="any",
        Name=task,
        Description=description,
        TaskButton1Message="Approve",
        TaskButton2Message="Reject",
        ShowComment="Y",
        CommentLabelMessage="Comment",
        SetStatusMessage="Y",
        StatusMessage=f"Waiting: {title.lower()}",
    )
    approval["Children"] = [
        _sequence(f"{name}Y", "Approved", *yes),
        _sequence(f"{name}N", "Rejected", *no),
    ]
    return approval


def _tree(
    *,
    prefix: str,
    what: str,
    description: str,
    condition: Mapping[str, Any],
    condition_title: str,
    director: Any,
    before: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> dict[str, Any]:
    """Approver → (a second approval by the director when ``condition`` holds) → the request
    marked approved or rejected → its author told."""
    second = _approval(
        f"A{prefix}21_1_1_1",
        "Director's approval",
        [f"user_{director.pk}"],
        f"{what} (second approval): {{=Document:NAME}}",
        description,
        yes=_decided(f"A{prefix}3", "approved", "Approved"),
        no=_decided(f"A{prefix}4", "rejected", "Rejected"),
    )
    check = {
        "Type": "IfElseActivity",
        "Name": f"A{prefix}11_1_1_1",
        "Properties": {"Title": condition_title},
        "Children": [
            _branch(f"A{prefix}12_1_1_1", "Yes", condition, second),
            _branch(
                f"A{prefix}13_1_1_1",
                "No",
                {"truecondition": "1"},
                *_decided(f"A{prefix}5", "approved", "Approved"),
            ),
        ],
    }
    first = _approval(
        f"A{prefix}01_1_1_1",
        "Approver's approval",
        ["{=Document:PROPERTY_APPROVER}"],
        f"{what}: {{=Document:NAME}}",
        description,
        yes=[check],
        no=_decided(f"A{prefix}6", "rejected", "Rejected"),
    )
    tell = _block(
        "IMNotifyActivity",
        f"A{prefix}91_1_1_1",
        "Tell the author",
        MessageUserTo=["{=Document:CREATED_BY}"],
        MessageSite=f"Your {what.lower()} “{{=Document:NAME}}” is "
        "{=Document:PROPERTY_STATUS_printable}.",
    )
    tree = root_node()
    tree["Children"] = [*before, first, tell]
    return tree


def _list(*, admin: Any, values: dict[str, Any], fields: list[dict[str, Any]]) -> tuple[List, bool]:
    found = List.objects.filter(code=values["code"]).first()
    if found is not None:
        return found, False
    created = services.list_create(values=values, user=admin)
    for sort, field in enumerate(fields, start=1):
        services.listfield_create(list_=created, values={"sort": sort * 10, **field}, user=admin)
    return created, True


def _template(
    *, list_: List, admin: Any, name: str, description: str, tree: dict, variables: dict
) -> Template:
    document_type = document_type_of_list(list_)
    found = Template.objects.for_document_type(document_type).listed().filter(name=name).first()
    if found is not None:
        return found
    template = bizproc_services.template_create(
        document_type=document_type,
        name=name,
        description=description,
        auto_execute=AutoExecute.CREATE,
        user=admin,
    )
    template.tree = tree
    template.variables = variables
    template.save()
    bizproc_services.template_publish(template=template, user=admin, comment="Demo")
    return template


def _access(people: Mapping[str, Any]) -> dict[str, list[str]]:
    manager = f"U{people['helen'].pk}"
    return {
        "add": ["AU"],
        "read": [manager],
        "edit": [manager],
        "design": [f"U{people['mark'].pk}"],
    }


def _status_field() -> dict[str, Any]:
    """The decision, which the process writes: people do not fill it in."""
    return {
        "code": "STATUS",
        "name": "Status",
        "type": "L",
        "options": _STATUS_OPTIONS,
        "settings": {"SHOW_ADD_FORM": "N", "SHOW_EDIT_FORM": "N"},
    }


def _approver_field(people: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "code": "APPROVER",
        "name": "Approver",
        "type": "S:employee",
        "required": True,
        "default": f"user_{people['helen'].pk}",
    }


def leave_list_create(people: Mapping[str, Any]) -> tuple[List, bool]:
    admin = people["admin"]
    list_, created = _list(
        admin=admin,
        values={
            "kind": ListKind.PROCESSES,
            "name": "Leave request",
            "description": "«Заявление на отпуск». Ask for a vacation, a sick leave or an "
            "unpaid leave: your approver decides, a leave of more than "
            f"{LONG_LEAVE_DAYS} days goes to the director too.",
            "code": LEAVE_CODE,
            "sort": 100,
            "icon": ListIcon.CALENDAR,
            "element_name": "Request",
            "access": _access(people),
        },
        fields=[
            {
                "code": "KIND",
                "name": "Kind of leave",
                "type": "L",
                "required": True,
                "options": [
                    {"value": "Vacation", "xml_id": "vacation", "default": True},
                    {"value": "Sick leave", "xml_id": "sick"},
                    {"value": "Unpaid leave", "xml_id": "unpaid"},
                ],
            },
            {"code": "DATE_FROM", "name": "From", "type": "S:Date", "required": True},
            {"code": "DATE_TO", "name": "To", "type": "S:Date", "required": True},
            {"code": "DAYS", "name": "Days", "type": "N", "required": True},
            _approver_field(people),
            _status_field(),
        ],
    )
    description = (
        "{=Document:CREATED_BY > printable} asks for {=Document:PROPERTY_DAYS} days "
        "({=Document:PROPERTY_KIND_printable}) from {=Document:PROPERTY_DATE_FROM} "
        "to {=Document:PROPERTY_DATE_TO}."
    )
    _template(
        list_=list_,
        admin=admin,
        name=LEAVE_TEMPLATE,
        description="The approver decides; a leave of more than "
        f"{LONG_LEAVE_DAYS} days needs the director's approval too.",
        tree=_tree(
            prefix="7",
            what="Leave request",
            description=description,
            condition={
                "fieldcondition": [["PROPERTY_DAYS", ">", str(LONG_LEAVE_DAYS)]],
            },
            condition_title=f"More than {LONG_LEAVE_DAYS} days?",
            director=admin,
        ),
        variables={},
    )
    return list_, created


def expense_list_create(people: Mapping[str, Any]) -> tuple[List, bool]:
    admin = people["admin"]
    list_, created = _list(
        admin=admin,
        values={
            "kind": ListKind.PROCESSES,
            "name": "Expense report",
            "description": "«Авансовый отчёт». Report what you spent with the receipts: your "
            f"approver decides, more than {LARGE_AMOUNT:,} goes to the director too.",
            "code": EXPENSE_CODE,
            "sort": 200,
            "icon": ListIcon.MONEY,
            "element_name": "Report",
            "access": _access(people),
        },
        fields=[
            {"code": "AMOUNT", "name": "Amount", "type": "S:Money", "required": True},
            {"code": "PURPOSE", "name": "Purpose", "type": "S:HTML", "required": True},
            {"code": "RECEIPTS", "name": "Receipts", "type": "F", "multiple": True},
            {
                "code": "CATEGORY",
                "name": "Category",
                "type": "L",
                "required": True,
                "options": [
                    {"value": "Travel", "xml_id": "travel", "default": True},
                    {"value": "Office supplies", "xml_id": "office"},
                    {"value": "Training", "xml_id": "training"},
                    {"value": "Client entertainment", "xml_id": "client"},
                ],
            },
            _approver_field(people),
            _status_field(),
        ],
    )
    description = (
        "{=Document:CREATED_BY > printable} reports {=Document:PROPERTY_AMOUNT_printable} "
        "({=Document:PROPERTY_CATEGORY_printable}): {=Document:PROPERTY_PURPOSE}"
    )
    _template(
        list_=list_,
        admin=admin,
        name=EXPENSE_TEMPLATE,
        description=f"The approver decides; more than {LARGE_AMOUNT:,} needs the director's "
        "approval too.",
        tree=_tree(
            prefix="8",
            what="Expense report",
            description=description,
            before=[
                _block(
                    "SetVariableActivity",
                    "A800_1_1_1",
                    "Amount as a number",
                    VariableValue={"Amount": "{{=floatval({=Document:PROPERTY_AMOUNT})}}"},
                )
            ],
            condition={"propertyvariablecondition": [["Amount", ">", str(LARGE_AMOUNT)]]},
            condition_title=f"More than {LARGE_AMOUNT:,}?",
            director=admin,
        ),
        variables={
            "Amount": {
                "Name": "Amount",
                "Description": "",
                "Type": "double",
                "Required": "0",
                "Multiple": "0",
                "Default": "",
            }
        },
    )
    return list_, created


def _samples(people: Mapping[str, Any], leave: List, expense: List) -> None:
    """Two requests to look at: Anna's leave waiting for Helen, Boris's expense report that
    Helen has already approved (its process goes on in the worker)."""
    from bizproc.models import ProcessTask
    from bizproc.process_tasks import task_answer

    today = timezone.localdate()
    services.element_create(
        list_=leave,
        values={
            "NAME": "Summer vacation",
            "PROPERTY_KIND": "vacation",
            "PROPERTY_DATE_FROM": today + datetime.timedelta(days=30),
            "PROPERTY_DATE_TO": today + datetime.timedelta(days=36),
            "PROPERTY_DAYS": 5,
        },
        user=people["anna"],
    )
    report = services.element_create(
        list_=expense,
        values={
            "NAME": "Trip to the Kazan client",
            "PROPERTY_AMOUNT": "12500|RUB",
            "PROPERTY_PURPOSE": "Train tickets and hotel for the client meeting.",
            "PROPERTY_CATEGORY": "travel",
        },
        user=people["boris"],
    )
    task = ProcessTask.objects.filter(document_id=report.document_id).first()
    if task is not None:
        task_answer(task=task, user=people["helen"], approve=True, comment="Fine, thanks.")


@transaction.atomic
def demo_lists_create() -> list[str]:
    """Creates the demo's process lists, their templates and two sample requests, each once
    (lists by code, templates by name); returns what it created, for the command to say."""
    people = demo_people()
    leave, leave_created = leave_list_create(people)
    expense, expense_created = expense_list_create(people)
    if leave_created and expense_created:
        _samples(people, leave, expense)
    return [
        list_.name
        for list_, created in ((leave, leave_created), (expense, expense_created))
        if created
    ]

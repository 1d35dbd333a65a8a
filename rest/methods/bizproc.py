"""``bizproc.workflow.*``, ``bizproc.workflow.template.*`` and ``bizproc.task.*`` over the
engine's services.

Rights are the ones the pages use, asked of the document provider: starting, stopping and
deleting a process needs "start processes" on its document; adding, changing and deleting a
template needs "design automation" on its document type. ``bizproc.workflow.instances`` is for
administrators of the documents' kind (CRM, lists), as in Bitrix24 (no page lists every
process); tasks are their people's own
(a CRM administrator may list everyone's). Error codes and texts are
Bitrix24's where it has them.
"""

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from bizproc import design, process_tasks, runtime, services
from bizproc.bounds import bounded_int, localtime
from bizproc.compiled import CompiledQuery
from bizproc.documents import DocumentError, DocumentProvider, DocumentType, Operation
from bizproc.documents import document_providers as providers
from bizproc.fieldtypes import Field, FieldType, FieldValueError
from bizproc.models import (
    AutoExecute,
    Instance,
    ProcessTask,
    ProcessTaskUser,
    TaskStatus,
    Template,
)
from crm.permissions import is_crm_admin
from rest.api import Call, Page, RestError, access_denied, method, not_found
from rest.listing import (
    FilterField,
    filter_q,
    invalid,
    mapping,
    ordering,
    page_of,
    selection,
    start_of,
    string_list,
)

WRONG_WORKFLOW = "ERROR_WRONG_WORKFLOW_ID"
TEMPLATE_INVALID = "ERROR_TEMPLATE_VALIDATION_FAILURE"
TEMPLATE_NOT_FOUND = "ERROR_TEMPLATE_NOT_FOUND"


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else str(value) if value is not None else ""


def _datetime(value: Any) -> str | None:
    return localtime(value).isoformat(timespec="seconds") if value else None


def _id_or_none(value: Any) -> str | None:
    return str(value) if value is not None else None


def _triple(raw: Any) -> list[str] | None:
    items = list(raw.values()) if isinstance(raw, Mapping) else raw
    if not isinstance(items, list) or len(items) != 3:
        return None
    return [_text(item) for item in items]


def _document_type(
    module: str, entity: str, kind: str | None = None
) -> tuple[DocumentProvider, DocumentType] | None:
    """The provider and the type of ``module`` and ``entity`` (and ``kind``, when given)."""
    try:
        provider = providers.get(module)
    except DocumentError:
        return None
    if kind is not None:
        found = provider.resolve_type(entity, kind)
        return (provider, found) if found is not None else None
    for known in provider.document_types():
        if known.entity == entity:
            return provider, known
    return None


# Processes --------------------------------------------------------------------------------

# What a start reads of its template (not the draft's blocks, schemas and notices).
START_FIELDS = (
    "pk",
    "module",
    "entity",
    "document_type",
    "active",
    "published_version",
    "published_token",
)


_START_TEMPLATE = CompiledQuery(
    lambda pk: Template.objects.listed().only(*START_FIELDS).filter(pk=pk).order_by()[:1],
    pk=-(2**62) + 7919,
)


@method("bizproc.workflow.start")
def workflow_start(call: Call) -> str:
    raw_template = _text(call.param("TEMPLATE_ID"))
    if not raw_template:
        raise RestError("Empty TEMPLATE_ID", WRONG_WORKFLOW)
    pk = bounded_int(raw_template, minimum=1)
    template = _START_TEMPLATE.first(pk=pk) if pk else None
    if template is None:
        raise RestError("Template not found", WRONG_WORKFLOW)
    items = _triple(call.param("DOCUMENT_ID"))
    if items is None or not items[2]:
        raise RestError("Wrong DOCUMENT_ID!")
    try:
        provider = providers.get(items[0])
    except DocumentError:
        raise RestError("Incorrect document type!") from None
    try:
        # An id that names its type ("DEAL_5", a list element's "17")…
        document_id = provider.normalize_id(items[2])
    except DocumentError:
        # … or one that takes it from the entity (the CRM's "5").
        found = _document_type(items[0], items[1])
        if found is None:
            raise RestError("Incorrect document type!") from None
        try:
            document_id = provider.normalize_id(items[2], document_type=found[1])
        except DocumentError as error:
            raise RestError(error.message) from None
    try:
        document_type = provider.document_type_of(document_id)
    except DocumentError:
        raise not_found() from None
    if provider.resolve_type(items[1], document_type.type) != document_type:
        raise RestError("Incorrect document type!")
    if tuple(document_type) != tuple(template.document_type_triple):
        raise RestError("Template type and DOCUMENT_ID mismatch!")
    # A document the user may not read does not exist for them, whatever else is wrong: its
    # reading right is judged where the start reads it, and again only for a refusal.
    try:
        parameters = mapping(call.param("PARAMETERS"), "PARAMETERS")
    except RestError:
        _hidden_unless_readable(call, provider, document_id)
        raise
    try:
        # All or nothing in its own transaction, where it reads the document once for the
        # rights (refused: StartForbidden, or as a missing document) and for the process.
        instance = runtime.workflow_start(
            template=template,
            document_id=document_id,
            user=call.user,
            parameters=parameters,
            hide_unreadable=True,
        )
    except runtime.StartForbidden:
        raise PermissionDenied from None
    except runtime.ProcessRefused as refused:
        _hidden_unless_readable(call, provider, document_id)
        raise RestError(refused.message, "ERROR_CORE") from None
    return instance.pk


def _hidden_unless_readable(call: Call, provider: DocumentProvider, document_id: str) -> None:
    if not provider.can(call.user, Operation.READ, document_id=document_id):
        raise not_found()


def _instance(call: Call) -> Instance:
    """The process the ``ID`` names, if its document may be read; its starter's rights are
    checked by the caller."""
    instance_id = _text(call.param("ID"))
    if not instance_id:
        raise RestError("Empty workflow instance ID", WRONG_WORKFLOW)
    instance = Instance.objects.filter(pk=instance_id[:32]).first()
    if instance is None:
        raise not_found()
    provider = providers.get(instance.module)
    if not provider.can(call.user, Operation.READ, document_id=instance.document_id):
        raise not_found()
    if not provider.can(call.user, Operation.START_PROCESS, document_id=instance.document_id):
        raise PermissionDenied
    return instance


@method("bizproc.workflow.terminate")
def workflow_terminate(call: Call) -> bool:
    instance = _instance(call)
    try:
        runtime.instance_terminate(
            instance=instance, user=call.user, state_title=_text(call.param("STATUS"))
        )
    except runtime.ProcessRefused as refused:
        raise RestError(refused.message, "ERROR_CORE") from None
    return True


@method("bizproc.workflow.kill")
def workflow_kill(call: Call) -> bool:
    runtime.instance_kill(instance=_instance(call))
    return True


def _integer(raw: Any) -> int | None:
    text = _text(raw)
    if text == "":
        return None
    value = bounded_int(text, minimum=0)
    if value is None:
        raise ValueError("The value is not an integer.")
    return value


def _moment(raw: Any) -> Any:
    try:
        return Field("DATE", "DATE", FieldType.DATETIME).convert(raw)
    except FieldValueError as error:
        raise ValueError(error.message) from None


_INSTANCE_FIELDS = {
    "ID": FilterField("id", _text),
    "MODIFIED": FilterField("modified_at", _moment),
    "OWNED_UNTIL": FilterField("owned_until", _moment),
    "MODULE_ID": FilterField("module", _text),
    "ENTITY": FilterField("entity", _text),
    "DOCUMENT_ID": FilterField("document_id", _text, text=True),
    "STARTED": FilterField("started_at", _moment),
    "STARTED_BY": FilterField("started_by_id", _integer),
    "TEMPLATE_ID": FilterField("template_id", _integer),
}


def _instance_out(instance: Instance, codes: list[str]) -> dict[str, Any]:
    values = {
        "ID": instance.pk,
        "MODIFIED": _datetime(instance.modified_at),
        "OWNED_UNTIL": _datetime(instance.owned_until),
        "MODULE_ID": instance.module,
        "ENTITY": instance.entity,
        "DOCUMENT_ID": instance.document_id,
        "STARTED": _datetime(instance.started_at),
        "STARTED_BY": _id_or_none(instance.started_by_id),
        "TEMPLATE_ID": _id_or_none(instance.template_id),
    }
    return {code: values[code] for code in codes}


@method("bizproc.workflow.instances")
def workflow_instances(call: Call) -> Page:
    """The running processes (Bitrix24 lists unfinished ones only) of the documents the user
    administers: a CRM administrator's CRM records, a lists administrator's list elements."""
    modules = [
        provider.module for provider in providers.all() if provider.is_administrator(call.user)
    ]
    if not modules:
        raise PermissionDenied
    codes = selection(
        call.param("SELECT"), list(_INSTANCE_FIELDS), ["ID", "MODIFIED", "OWNED_UNTIL"]
    )
    paths = {code: field.path for code, field in _INSTANCE_FIELDS.items()}
    queryset = (
        Instance.objects.unfinished()
        .filter(module__in=modules)
        .filter(filter_q(call.param("FILTER"), _INSTANCE_FIELDS))
        .order_by(*ordering(call.param("ORDER"), paths, ["-modified_at"]))
    )
    rows, total, following = page_of(queryset, start_of(call.param("start")))
    return Page([_instance_out(row, codes) for row in rows], total, following)


# Templates --------------------------------------------------------------------------------


def _designable(call: Call, template: Template) -> None:
    provider = providers.get(template.module)
    if not provider.can(call.user, Operation.DESIGN, document_type=template.document_type_triple):
        raise PermissionDenied


def _template_data(raw: Any) -> bytes:
    """A ``.bpt`` file as Bitrix24 accepts one: an upload, ``[name, base64]`` or base64."""
    if isinstance(raw, UploadedFile):
        return raw.read()
    items = list(raw.values()) if isinstance(raw, Mapping) else raw
    if isinstance(items, list) and len(items) == 2:
        raw = items[1]
    if isinstance(raw, UploadedFile):
        return raw.read()
    if not isinstance(raw, str) or not raw.strip():
        raise RestError("Incorrect field TEMPLATE_DATA!", TEMPLATE_INVALID)
    try:
        return base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise RestError("Incorrect field TEMPLATE_DATA!", TEMPLATE_INVALID) from None


def _auto_execute(raw: Any) -> int:
    value = bounded_int(_text(raw) or "0")
    if value not in AutoExecute.values:
        raise RestError("Incorrect field AUTO_EXECUTE!", TEMPLATE_INVALID)
    return value


def _name(raw: Any) -> str:
    name = _text(raw)
    if not name:
        raise RestError("Empty template name!", TEMPLATE_INVALID)
    return name


@method("bizproc.workflow.template.add")
def template_add(call: Call) -> int:
    """Imports a ``.bpt`` file as a new template, as Bitrix does: its ID whenever the file is a
    readable template within the caller's rights. It is published at once when it can be;
    otherwise it stays a draft whose problems show on it (and in ``template.list``'s
    ``NOTICES``), as do the fields the import created."""
    triple = _triple(call.param("DOCUMENT_TYPE"))
    found = _document_type(*triple) if triple else None
    if found is None:
        raise RestError("Incorrect field DOCUMENT_TYPE!", TEMPLATE_INVALID)
    provider, document_type = found
    if not provider.can(call.user, Operation.DESIGN, document_type=document_type):
        raise PermissionDenied
    name = _name(call.param("NAME"))
    auto_execute = _auto_execute(call.param("AUTO_EXECUTE"))
    data = _template_data(call.param("TEMPLATE_DATA"))
    try:
        outcome = services.template_import(
            data=data,
            document_type=document_type,
            name=name,
            user=call.user,
            description=_text(call.param("DESCRIPTION")),
            auto_execute=auto_execute,
        )
    except services.AccessRefused:
        raise access_denied() from None
    except services.EditRefused as refused:
        raise RestError(
            f"Incorrect field TEMPLATE_DATA! {refused.message}", TEMPLATE_INVALID
        ) from None
    return outcome.template.pk


def _template(call: Call) -> Template:
    pk = bounded_int(_text(call.param("ID")), minimum=1)
    template = Template.objects.listed().filter(pk=pk).first() if pk else None
    if template is None:
        raise RestError("Workflow template not found.", TEMPLATE_NOT_FOUND)
    _designable(call, template)
    return template


@method("bizproc.workflow.template.update")
def template_update(call: Call) -> int:
    """Changes a template's settings and, with ``TEMPLATE_DATA``, its blocks (as an import);
    then publishes the draft when it can be, else keeps it with its problems in its notices.
    Through the designer's services: a wrong setting, an unreadable file or a reference beyond
    the caller's rights changes nothing."""
    template = _template(call)
    raw_fields = mapping(call.param("FIELDS"), "FIELDS")
    fields = {str(key).upper(): value for key, value in raw_fields.items()}
    if not fields.keys() & {"NAME", "DESCRIPTION", "TEMPLATE_DATA", "AUTO_EXECUTE"}:
        raise RestError("No fields to update.", TEMPLATE_INVALID)
    with transaction.atomic():
        try:
            design.template_replace(
                template=template,
                revision=template.revision,
                user=call.user,
                name=_name(fields["NAME"]) if "NAME" in fields else None,
                description=_text(fields["DESCRIPTION"]) if "DESCRIPTION" in fields else None,
                auto_execute=_auto_execute(fields["AUTO_EXECUTE"])
                if "AUTO_EXECUTE" in fields
                else None,
                bpt_data=_template_data(fields["TEMPLATE_DATA"])
                if "TEMPLATE_DATA" in fields
                else None,
            )
        except services.AccessRefused:
            raise access_denied() from None
        except services.EditRefused as refused:
            raise RestError(
                f"Incorrect field TEMPLATE_DATA! {refused.message}", TEMPLATE_INVALID
            ) from None
        try:
            services.draft_publish_if_sound(template=template, user=call.user)
        except services.AccessRefused:
            raise access_denied() from None
    return template.pk


@method("bizproc.workflow.template.delete")
def template_delete(call: Call) -> bool:
    """As the designer deletes: a template whose versions have processes is deactivated and
    hidden, kept for them."""
    design.template_delete(template=_template(call), user=call.user)
    return True


def _template_out(template: Template, codes: list[str]) -> dict[str, Any]:
    values = {
        "ID": str(template.pk),
        "MODULE_ID": template.module,
        "ENTITY": template.entity,
        "DOCUMENT_TYPE": list(template.document_type_triple),
        "AUTO_EXECUTE": str(template.auto_execute),
        "NAME": template.name,
        "DESCRIPTION": template.description,
        "ACTIVE": "Y" if template.active else "N",
        "TEMPLATE": [template.tree],
        "PARAMETERS": template.parameters,
        "VARIABLES": template.variables,
        "CONSTANTS": template.constants,
        "MODIFIED": _datetime(template.modified_at),
        "USER_ID": _id_or_none(template.modified_by_id),
        # Ours: what the last import or publication found (problems, warnings, fields made).
        "NOTICES": [
            {
                "LEVEL": notice.get("level", ""),
                "CODE": notice.get("code", ""),
                "MESSAGE": notice.get("message", ""),
                "ACTIVITY_NAME": notice.get("node") or "",
            }
            for notice in template.notices or []
        ],
    }
    return {code: values[code] for code in codes}


_TEMPLATE_FIELDS = {
    "ID": FilterField("id", _integer),
    "MODULE_ID": FilterField("module", _text),
    "ENTITY": FilterField("entity", _text),
    "DOCUMENT_TYPE": FilterField("document_type", _text),
    "AUTO_EXECUTE": FilterField("auto_execute", _integer),
    "NAME": FilterField("name", _text, text=True),
    "MODIFIED": FilterField("modified_at", _moment),
    "USER_ID": FilterField("modified_by_id", _integer),
}
_TEMPLATE_SELECT = [
    "ID",
    "MODULE_ID",
    "ENTITY",
    "DOCUMENT_TYPE",
    "AUTO_EXECUTE",
    "NAME",
    "DESCRIPTION",
    "ACTIVE",
    "TEMPLATE",
    "PARAMETERS",
    "VARIABLES",
    "CONSTANTS",
    "MODIFIED",
    "USER_ID",
    "NOTICES",
]


@method("bizproc.workflow.template.list")
def template_list(call: Call) -> Page:
    """The templates of the document types the user may design (not smart scenarios')."""
    designable = [
        document_type
        for provider in providers.all()
        for document_type in provider.document_types()
        if provider.can(call.user, Operation.DESIGN, document_type=document_type)
    ]
    if not designable:
        raise PermissionDenied
    codes = selection(call.param("SELECT"), _TEMPLATE_SELECT, ["ID"])
    paths = {code: field.path for code, field in _TEMPLATE_FIELDS.items()}
    of_types = Q()
    for document_type in designable:
        of_types |= Q(
            module=document_type.module,
            entity=document_type.entity,
            document_type=document_type.type,
        )
    queryset = (
        Template.objects.listed()
        .filter(of_types)
        .filter(filter_q(call.param("FILTER"), _TEMPLATE_FIELDS))
        .order_by(*ordering(call.param("ORDER"), paths, ["id"]))
    )
    rows, total, following = page_of(queryset, start_of(call.param("start")))
    return Page([_template_out(row, codes) for row in rows], total, following)


# Tasks ------------------------------------------------------------------------------------
#
# Bitrix's ``RestService::getTaskList`` / ``completeTask``: names it does not know in SELECT,
# FILTER and ORDER are left out; the default SELECT is ID, WORKFLOW_ID, DOCUMENT_NAME, NAME;
# ENTITY, DOCUMENT_ID and DOCUMENT_URL always come; the default order is ID descending.

# The block each kind of task comes from (``ACTIVITY``).
_TASK_ACTIVITIES = {
    "approve": "ApproveActivity",
    "review": "ReviewActivity",
    "request": "RequestInformationActivity",
    "optional_request": "RequestInformationOptionalActivity",
}
_TASK_KINDS = {activity: kind for kind, activity in _TASK_ACTIVITIES.items()}


def _task_kind(raw: Any) -> str:
    return _TASK_KINDS.get(_text(raw), _text(raw))  # an unknown block matches no task


_TASK_FIELDS = {
    "ID": FilterField("task_id", _integer),
    "ACTIVITY": FilterField("task__kind", _task_kind),
    "ACTIVITY_NAME": FilterField("task__activity_name", _text),
    "WORKFLOW_ID": FilterField("task__instance_id", _text),
    "DOCUMENT_NAME": FilterField("task__document_id", _text, text=True),
    "NAME": FilterField("task__name", _text, text=True),
    "DESCRIPTION": FilterField("task__description", _text, text=True),
    "MODIFIED": FilterField("task__completed_at", _moment),
    "WORKFLOW_STARTED": FilterField("task__instance__started_at", _moment),
    "WORKFLOW_STARTED_BY": FilterField("task__instance__started_by_id", _integer),
    "OVERDUE_DATE": FilterField("task__overdue_at", _moment),
    "WORKFLOW_TEMPLATE_ID": FilterField("task__instance__template_id", _integer),
    "WORKFLOW_TEMPLATE_NAME": FilterField("task__instance__template__name", _text, text=True),
    "WORKFLOW_STATE": FilterField("task__instance__state_title", _text, text=True),
    "STATUS": FilterField("task__status", _integer),
    "USER_ID": FilterField("user_id", _integer),
    "USER_STATUS": FilterField("status", _integer),
    "MODULE_ID": FilterField("task__instance__module", _text),
    "ENTITY": FilterField("task__instance__entity", _text),
    "DOCUMENT_ID": FilterField("task__document_id", _text),
}
_TASK_SELECT = [*_TASK_FIELDS, "PARAMETERS"]
_TASK_DEFAULT_SELECT = ["ID", "WORKFLOW_ID", "DOCUMENT_NAME", "NAME"]
_TASK_ALWAYS = ["ENTITY", "DOCUMENT_ID"]
_FILTER_KEY = re.compile(r"([^A-Za-z]*)(.*)", re.DOTALL)
# ``STATUS`` as ``bizproc.task.complete`` takes it (Bitrix's CBPTaskUserStatus): yes, no, ok,
# cancel — and which of them each kind of task takes.
_TASK_ANSWERS = {"1": "yes", "2": "no", "3": "ok", "4": "cancel"}
_TASK_ANSWERS |= {name: name for name in _TASK_ANSWERS.values()}
_TASK_ANSWERS_FIT = {
    "approve": {"yes": True, "no": False},
    "review": {"ok": True},
    "request": {"ok": True},
    "optional_request": {"ok": True, "cancel": False},
}
_TASK_USER_CANCEL = "4"  # a person's "cancel" in Bitrix (ours is the task's CANCELED)


def _filter_code(key: Any) -> str:
    """A filter key's field, without its operator (``>=MODIFIED``)."""
    match = _FILTER_KEY.fullmatch(str(key).strip())
    return match[2].strip().upper() if match else ""


def _known_task_filter(raw: Any) -> dict[str, Any]:
    """The filter without the fields Bitrix does not filter tasks on (it ignores them)."""
    return {k: v for k, v in mapping(raw, "filter").items() if _filter_code(k) in _TASK_FIELDS}


def _task_order(raw: Any) -> list[str]:
    """``ORDER`` as Bitrix reads it: unknown fields left out, anything but DESC ascending."""
    order = []
    for key, direction in mapping(raw, "order").items():
        field = _TASK_FIELDS.get(str(key).strip().upper())
        if field is not None:
            descending = _text(direction).upper() == "DESC"
            order.append(f"-{field.path}" if descending else field.path)
    order = order or ["-task_id"]
    return [*order, "-id" if order[-1].startswith("-") else "id"]


def _task_parameters(task: ProcessTask) -> dict[str, Any]:
    """The task's PARAMETERS as Bitrix's REST gives them: the comment's label and rule, the
    buttons' labels and, for Request information, its ``Fields``."""
    parameters: dict[str, Any] = {
        "CommentLabel": task.comment_label,
        "CommentRequired": str(task.parameters.get("CommentRequired") or "N"),
        "ShowComment": "Y" if task.show_comment else "N",
    }
    if task.kind == "approve":
        parameters |= {"StatusYesLabel": task.yes_label, "StatusNoLabel": task.no_label}
    else:
        parameters["StatusOkLabel"] = task.yes_label
    if task.kind == "optional_request":
        parameters["StatusCancelLabel"] = task.no_label
    if task.kind in process_tasks.REQUEST_KINDS:
        parameters["Fields"] = [
            {
                "Id": field["Name"],
                "Type": field.get("Type") or "string",
                "Name": field.get("Title") or field["Name"],
                "Description": field.get("Description") or "",
                "Multiple": bool(field.get("Multiple")),
                "Required": bool(field.get("Required")),
                "Options": field.get("Options") or None,
                "Settings": None,
                "Default": field.get("Default", ""),
            }
            for field in process_tasks.request_fields(task)
        ]
    return parameters


def _task_out(row: ProcessTaskUser, codes: list[str], titles: Mapping[str, str]) -> dict[str, Any]:
    task, instance = row.task, row.task.instance
    provider = providers.get(instance.module)
    user_status = str(row.status)
    if row.status == TaskStatus.CANCELED:
        user_status = _TASK_USER_CANCEL
    values = {
        "ID": str(task.pk),
        "ACTIVITY": _TASK_ACTIVITIES.get(task.kind, task.kind),
        "ACTIVITY_NAME": task.activity_name,
        "WORKFLOW_ID": instance.pk,
        "DOCUMENT_NAME": titles.get(task.document_id, task.document_id),
        "DESCRIPTION": task.description,
        "NAME": task.name,
        "MODIFIED": _datetime(row.answered_at or task.completed_at or task.created_at),
        "WORKFLOW_STARTED": _datetime(instance.started_at),
        "WORKFLOW_STARTED_BY": _id_or_none(instance.started_by_id),
        "OVERDUE_DATE": _datetime(task.overdue_at),
        "WORKFLOW_TEMPLATE_ID": _id_or_none(instance.template_id),
        "WORKFLOW_TEMPLATE_NAME": instance.template.name if instance.template else "",
        "WORKFLOW_STATE": instance.state_title,
        "STATUS": str(task.status),
        "USER_ID": str(row.user_id),
        "USER_STATUS": user_status,
        "MODULE_ID": instance.module,
        "ENTITY": instance.entity,
        "DOCUMENT_ID": task.document_id,
        "PARAMETERS": _task_parameters(task),
    }
    out = {code: values[code] for code in codes}
    out["DOCUMENT_URL"] = provider.url(task.document_id)
    return out


def _document_titles(rows: list[ProcessTaskUser]) -> dict[str, str]:
    titles: dict[str, str] = {}
    for module in {row.task.instance.module for row in rows}:
        ids = {row.task.document_id for row in rows if row.task.instance.module == module}
        titles |= providers.get(module).titles(ids)
    return titles


@method("bizproc.task.list")
def task_list(call: Call) -> Page:
    """Tasks given by processes, one row per task and person: the caller's own; a CRM
    administrator sees everyone's (``FILTER: {USER_ID: …}`` narrows them down)."""
    filters = _known_task_filter(call.param("FILTER"))
    asked_user = next((v for k, v in filters.items() if _filter_code(k) == "USER_ID"), None)
    rows = ProcessTaskUser.objects.select_related("task__instance__template")
    if not is_crm_admin(call.user):
        if asked_user is not None and _text(asked_user) != str(call.user.pk):
            raise PermissionDenied
        rows = rows.filter(user=call.user)
    wanted = [code.upper() for code in string_list(call.param("SELECT"), "select")]
    chosen = [code for code in _TASK_SELECT if code in wanted] or _TASK_DEFAULT_SELECT
    codes = [*_TASK_ALWAYS, *(code for code in chosen if code not in _TASK_ALWAYS)]
    queryset = rows.filter(filter_q(filters, _TASK_FIELDS)).order_by(
        *_task_order(call.param("ORDER"))
    )
    page, total, following = page_of(queryset, start_of(call.param("start")))
    titles = _document_titles(page)
    return Page([_task_out(row, codes, titles) for row in page], total, following)


@method("bizproc.task.complete")
def task_complete(call: Call) -> bool:
    """Answers one of the caller's own tasks that still waits for them: ``STATUS`` 1/yes or
    2/no for an approval, 3/ok for a review or a Request information (whose ``FIELDS`` are
    the values by field ID), 4/cancel to decline the optional request; ``COMMENT`` is kept
    with the answer."""
    if call.param("TASK_ID") in (None, "", 0, "0"):
        raise RestError("empty TASK_ID", "ERROR_TASK_VALIDATION")
    answer = _TASK_ANSWERS.get(_text(call.param("STATUS")).lower())
    if answer is None:
        raise RestError("incorrect STATUS", "ERROR_TASK_VALIDATION")
    task_id = bounded_int(_text(call.param("TASK_ID")), minimum=1)
    mine = (
        ProcessTaskUser.objects.select_related("task")
        .filter(task_id=task_id, user=call.user)
        .first()
        if task_id
        else None
    )
    if mine is None:
        raise RestError("Task not found", "ERROR_TASK_NOT_FOUND")
    if mine.status != TaskStatus.WAITING or mine.task.status != TaskStatus.WAITING:
        raise RestError("Task already completed", "ERROR_TASK_COMPLETED")
    task = mine.task
    approve = _TASK_ANSWERS_FIT.get(task.kind, {}).get(answer)
    if approve is None:
        raise RestError(_("No action specified."), "ERROR_TASK_EXECUTION")
    comment = _text(call.param("COMMENT"))
    if problem := process_tasks.comment_problem(comment):
        raise invalid(problem)
    fields = mapping(call.param("FIELDS"), "FIELDS")
    try:
        process_tasks.task_answer(
            task=task, user=call.user, approve=approve, comment=comment, fields=fields
        )
    except process_tasks.TaskRefused as refused:
        if refused.errors:
            raise RestError(refused.message, "ERROR_TASK_EXECUTION") from None
        raise RestError("Task already completed", "ERROR_TASK_COMPLETED") from None
    return True

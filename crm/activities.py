"""CRM robots: add a comment to the record's timeline, change a deal's stage or a lead's status."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from bizproc.activities.base import (
    Activity,
    ActivityFault,
    Category,
    Problem,
    Property,
    PropertyType,
    Reference,
    Status,
    ValidationContext,
    activities,
    has_expression,
    is_empty,
)
from bizproc.activities.context import Context
from bizproc.expressions import display_text
from bizproc.user_values import users_resolve
from crm import services
from crm.documents import parse_document_id
from crm.models import RECORD_MODELS

STAGE_FIELDS = ("STAGE_ID", "STATUS_ID")  # deals, leads


@activities.register
class CrmTimelineCommentAdd(Activity):
    type = "CrmTimelineCommentAdd"
    title = gettext_lazy("Add a comment")
    category = Category.DOCUMENT
    robot = True
    properties = (
        Property("Title", pgettext_lazy("block", "Title"), PropertyType.STRING),
        Property("CommentText", gettext_lazy("Comment"), PropertyType.TEXT, required=True),
        # Written as this user: choosing someone else is an administrator's (bizproc.scope).
        Property(
            "CommentUser",
            gettext_lazy("Author"),
            PropertyType.USER,
            reference=Reference.RUN_AS,
        ),
    )

    def execute(self, ctx: Context) -> Status:
        values = self.properties_values
        entity_type, pk = parse_document_id(ctx.instance.document_id)
        record = RECORD_MODELS[entity_type].objects.filter(pk=pk).first()
        if record is None:
            raise ActivityFault(_("Cannot find item with this ID."))
        authors = users_resolve(ctx, values.get("CommentUser"))  # every form Bitrix writes
        author_id = authors[0] if authors else ctx.starter_id
        try:
            services.timeline_comment_add(
                record=record,
                text=display_text(ctx.evaluate(values.get("CommentText"))),
                user=get_user_model()(pk=author_id) if author_id else None,
                by_process=True,
            )
        except ValidationError as error:
            raise ActivityFault(" ".join(error.messages)) from None
        return Status.CLOSED

    def summary(self) -> str:
        return str(self.properties_values.get("CommentText") or "")[:60]


@activities.register
class CrmChangeStatusActivity(Activity):
    type = "CrmChangeStatusActivity"
    title = gettext_lazy("Change stage")
    category = Category.DOCUMENT
    robot = True
    properties = (
        Property("Title", pgettext_lazy("block", "Title"), PropertyType.STRING),
        Property("TargetStatus", gettext_lazy("Stage"), PropertyType.STRING, required=True),
    )

    def validate_properties(self, ctx: ValidationContext) -> list[Problem]:
        problems = super().validate_properties(ctx)
        stage = next(
            (ctx.document_fields[c] for c in STAGE_FIELDS if c in ctx.document_fields), None
        )
        target = self.properties_values.get("TargetStatus")
        if stage is None:
            problems.append(
                self.problem("TargetStatus", _("Only deals and leads have stages."), "type")
            )
        elif not is_empty(target) and not has_expression(target) and target not in stage.options:
            problems.append(
                self.problem(
                    "TargetStatus",
                    _("The value of field '%(name)s' is incorrect.") % {"name": stage.name},
                    "type",
                )
            )
        return problems

    def execute(self, ctx: Context) -> Status:
        code = next((c for c in STAGE_FIELDS if c in ctx.document_fields()), None)
        if code is None:
            raise ActivityFault(_("Only deals and leads have stages."))
        ctx.document_write({code: ctx.evaluate(self.properties_values.get("TargetStatus"))})
        return Status.CLOSED

    def summary(self) -> str:
        return str(self.properties_values.get("TargetStatus") or "")

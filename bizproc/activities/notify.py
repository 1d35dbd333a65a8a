"""Notify user (Bitrix ``IMNotifyActivity``): an in-app notification for each recipient."""

from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from bizproc.activities.base import (
    Activity,
    ActivityFault,
    Category,
    Problem,
    Property,
    PropertyType,
    Status,
    ValidationContext,
    activities,
    has_expression,
    is_empty,
)
from bizproc.activities.context import Context
from bizproc.expressions import display_text
from bizproc.notifications import Notice, notices_send
from bizproc.user_values import users_resolve


def user_ids(ctx: Context, value: Any) -> list[int]:
    """The active users an evaluated user value names, once each, in every form Bitrix writes
    them (``bizproc.user_values``); blocks that hold the stored value use ``users_resolve``."""
    return users_resolve(ctx, value, evaluated=True)


# Bitrix's ``NOTIFY_TYPE`` values (the im module's constants): the dialog offers a personal
# notification (IM_NOTIFY_FROM, from the sender) or a system one (IM_NOTIFY_SYSTEM, from
# nobody); files may also hold a plain message (IM_NOTIFY_MESSAGE) or a confirmation
# (IM_NOTIFY_CONFIRM), which are sent as personal ones.
PERSONAL, SYSTEM = "2", "4"
MESSAGE_TYPES = {
    PERSONAL: pgettext_lazy("notification", "Personal"),
    SYSTEM: pgettext_lazy("notification", "System"),
}
ALL_TYPES = frozenset({"0", "1", PERSONAL, SYSTEM})


@activities.register
class IMNotifyActivity(Activity):
    type = "IMNotifyActivity"
    title = gettext_lazy("Notify user")
    category = Category.NOTIFICATIONS
    robot = True
    properties = (
        Property("Title", pgettext_lazy("block", "Title"), PropertyType.STRING),
        Property("MessageUserFrom", gettext_lazy("From"), PropertyType.USER),
        Property(
            "MessageUserTo", gettext_lazy("To"), PropertyType.USER, required=True, multiple=True
        ),
        Property("MessageSite", gettext_lazy("Message"), PropertyType.TEXT, required=True),
        # Kept for Bitrix files: the e-mail text and the notification kind.
        Property("MessageOut", gettext_lazy("Text for e-mail"), PropertyType.TEXT),
        Property(
            "MessageType",
            gettext_lazy("Kind"),
            PropertyType.SELECT,
            options=MESSAGE_TYPES,
            default=PERSONAL,
        ),
    )

    def validate_properties(self, ctx: ValidationContext) -> list[Problem]:
        """Every kind Bitrix writes is accepted; the dialog offers two."""
        kind = self.properties_values.get("MessageType")
        plain = not is_empty(kind) and not has_expression(kind)
        problems = [
            problem
            for problem in super().validate_properties(ctx)
            if not (plain and problem.parameter == "MessageType")
        ]
        if plain and str(kind) not in ALL_TYPES:
            message = _("Unknown kind of notification: %(kind)s") % {"kind": kind}
            problems.append(self.problem("MessageType", message, "type"))
        return problems

    def execute(self, ctx: Context) -> Status:
        values = self.properties_values
        recipients = users_resolve(ctx, values.get("MessageUserTo"))
        users = list(get_user_model().objects.filter(pk__in=recipients, is_active=True))
        if not users:
            raise ActivityFault(_("The notification has no recipient."))
        kind = str(ctx.evaluate(values.get("MessageType")) or PERSONAL)
        # A system notification has no sender (Bitrix's IM_NOTIFY_SYSTEM sends from nobody).
        senders = [] if kind == SYSTEM else users_resolve(ctx, values.get("MessageUserFrom"))
        text = display_text(ctx.evaluate(values.get("MessageSite")))
        link = ctx.provider.url(ctx.instance.document_id)
        sender_id = senders[0] if senders else None
        notices_send(
            notices=[Notice(user.pk, text, link=link, sender_id=sender_id) for user in users]
        )
        return Status.CLOSED

    def summary(self) -> str:
        return str(self.properties_values.get("MessageSite") or "")[:60]

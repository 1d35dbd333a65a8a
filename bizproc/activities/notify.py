"""Notify user (Bitrix ``IMNotifyActivity``): an in-app notification for each recipient."""

from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from bizproc.activities.base import (
    Activity,
    ActivityFault,
    Category,
    Property,
    PropertyType,
    Status,
    activities,
)
from bizproc.activities.context import Context
from bizproc.expressions import display_text
from bizproc.fieldtypes import user_id_of
from bizproc.notifications import Notice, notices_send


def user_ids(ctx: Context, value: Any) -> list[int]:
    """User ids of a user property's evaluated ``user_5`` values, once each; ``author`` is the
    document's responsible (a CRM record's), or its author (a list element's)."""
    ids = []
    for item in value if isinstance(value, list) else [value]:
        if item == "author":
            document = ctx.document()
            item = document.get("ASSIGNED_BY_ID") or document.get("CREATED_BY")
        user_id = user_id_of(str(item)) if item else None
        if user_id is not None and user_id not in ids:
            ids.append(user_id)
    return ids


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
            options={
                "1": pgettext_lazy("notification", "Personal"),
                "2": pgettext_lazy("notification", "System"),
            },
            default="2",
        ),
    )

    def execute(self, ctx: Context) -> Status:
        values = self.properties_values
        recipients = user_ids(ctx, ctx.evaluate(values.get("MessageUserTo")))
        users = list(get_user_model().objects.filter(pk__in=recipients, is_active=True))
        if not users:
            raise ActivityFault(_("The notification has no recipient."))
        senders = user_ids(ctx, ctx.evaluate(values.get("MessageUserFrom")))
        text = display_text(ctx.evaluate(values.get("MessageSite")))
        link = ctx.provider.url(ctx.instance.document_id)
        sender_id = senders[0] if senders else None
        notices_send(
            notices=[Notice(user.pk, text, link=link, sender_id=sender_id) for user in users]
        )
        return Status.CLOSED

    def summary(self) -> str:
        return str(self.properties_values.get("MessageSite") or "")[:60]

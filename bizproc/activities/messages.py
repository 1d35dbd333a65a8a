"""Social network message (Bitrix's ``SocNetMessageActivity``): a message from a user to users,
shown in each recipient's notifications with its sender."""

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
from bizproc.activities.standard import TITLE
from bizproc.expressions import display_text
from bizproc.notifications import Notice, notices_send
from bizproc.user_values import people_names, users_resolve

# Bitrix's ``MessageFormat``: a plain message, or one "from the robot" with the item named.
FORMATS = {
    "": pgettext_lazy("message format", "Message"),
    "robot": pgettext_lazy("message format", "Message from the robot"),
}


@activities.register
class SocNetMessageActivity(Activity):
    type = "SocNetMessageActivity"
    title = gettext_lazy("Social network message")
    category = Category.NOTIFICATIONS
    properties = (
        TITLE,
        Property("MessageUserFrom", gettext_lazy("Sender"), PropertyType.USER),
        Property(
            "MessageUserTo",
            gettext_lazy("Recipients"),
            PropertyType.USER,
            required=True,
            multiple=True,
        ),
        Property("MessageText", gettext_lazy("Message text"), PropertyType.TEXT, required=True),
        Property(
            "MessageFormat",
            gettext_lazy("Format"),
            PropertyType.SELECT,
            options=FORMATS,
            default="",
        ),
    )

    def execute(self, ctx: Context) -> Status:
        values = self.properties_values
        recipients = users_resolve(ctx, values.get("MessageUserTo"))
        if not recipients:
            raise ActivityFault(_("The message has no recipient."))
        senders = users_resolve(ctx, values.get("MessageUserFrom"))
        sender_id = senders[0] if senders else None
        text = display_text(ctx.evaluate(values.get("MessageText")))
        if str(ctx.evaluate(values.get("MessageFormat")) or "") == "robot":
            # Bitrix's robot format names the item the message is about.
            text = _("Robot message. %(item)s: %(text)s") % {
                "item": ctx.provider.title(ctx.instance.document_id),
                "text": text,
            }
        link = ctx.provider.url(ctx.instance.document_id)
        notices_send(
            notices=[Notice(pk, text, link=link, sender_id=sender_id) for pk in recipients]
        )
        ctx.journal.custom(
            self.node["Name"],
            self.display_title,
            _("Message sent to %(users)s") % {"users": people_names(recipients)},
        )
        return Status.CLOSED

    def summary(self) -> str:
        return str(self.properties_values.get("MessageText") or "")[:60]

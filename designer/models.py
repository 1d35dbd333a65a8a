"""The state the designer keeps of its own: each user's log of edits per template (for undo
and redo). Deleted templates kept for their processes are the engine's (``Template.deleted_at``),
so that every way of deleting one, the designer's and REST's, behaves the same."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from bizproc.jsonfield import OrderedJSONField
from bizproc.models import Template


class EditLogEntry(models.Model):
    """One edit a user applied to a template's draft, with the draft before and after it.

    Snapshots rather than inverse operations: undoing puts ``before`` back as a new revision
    whatever the edit was, and comparing the draft with ``after`` tells whether anyone changed
    it since. A user's entries on a template are the ones done, then the undone ones (the redo
    tail, which the next edit clears).
    """

    template = models.ForeignKey(
        Template, verbose_name=_("template"), on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    before = OrderedJSONField(_("draft before"))
    after = OrderedJSONField(_("draft after"))
    undone = models.BooleanField(_("undone"), default=False)
    created_at = models.DateTimeField(_("made"), auto_now_add=True)

    class Meta:
        verbose_name = _("edit log entry")
        verbose_name_plural = _("edit log entries")
        indexes = [
            models.Index(fields=["template", "user", "undone"], name="designer_editlog_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.template_id}/{self.user_id}/{self.pk}"

"""The one piece of state the designer keeps of its own: which templates were deleted.

A template's versions are protected by the processes that run them (a process keeps the
version it started with), so a template whose versions have processes cannot be removed. The
designer then deactivates it — nothing new starts from it — and records the deletion here, which
keeps it out of the designer's lists while its processes finish and keep their journals.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from bizproc.models import Template


class DeletedTemplate(models.Model):
    template = models.OneToOneField(
        Template,
        verbose_name=_("template"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="designer_deletion",
    )
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("deleted by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    deleted_at = models.DateTimeField(_("deleted"), auto_now_add=True)

    class Meta:
        verbose_name = _("deleted template")
        verbose_name_plural = _("deleted templates")

    def __str__(self) -> str:
        return str(self.template)

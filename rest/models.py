"""Inbound webhooks: a secret URL through which a program acts with one user's rights."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Webhook(models.Model):
    """An inbound webhook, ``/rest/<user id>/<token>/<method>``, acting as its user.

    Only the SHA-256 of the token is kept (see ``rest.services.token_hash``). The leaky bucket of
    the rate limit lives on the row, so that every server process shares it.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="webhooks",
    )
    name = models.CharField(_("name"), max_length=100)
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    # The leaky bucket: its level after the last request, and when (seconds since the epoch).
    bucket_level = models.FloatField(default=0.0, editable=False)
    bucket_at = models.FloatField(default=0.0, editable=False)

    class Meta:
        verbose_name = _("inbound webhook")
        verbose_name_plural = _("inbound webhooks")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.name

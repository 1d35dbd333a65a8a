"""Inbound webhooks: a secret URL through which a program acts with one user's rights."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Webhook(models.Model):
    """An inbound webhook, ``/rest/<user id>/<token>/<method>``, acting as its user.

    Only the SHA-256 of the token is kept (see ``rest.services.token_hash``). The rate limit
    counts per user, in the cache (``rest.services.rest_quota_take``).
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

    class Meta:
        verbose_name = _("inbound webhook")
        verbose_name_plural = _("inbound webhooks")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.name

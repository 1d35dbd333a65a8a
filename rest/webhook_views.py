"""The webhooks section of the profile page: create (the token shown once), list, revoke.

The profile page (accounts) draws it and serves these views under ``profile/webhooks/``:
``RestConfig.ready()`` registers ``webhooks_section``."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.profile import ProfileSection
from accounts.views import profile_render
from rest.models import Webhook
from rest.services import webhook_create, webhook_path, webhook_revoke

TEMPLATE = "rest/webhooks.html"


def webhooks_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {"webhooks": list(request.user.webhooks.all()), **extra}


def _answer(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """The webhooks section alone for htmx, else the whole profile page around it."""
    if request.htmx:
        return render(request, TEMPLATE, context, status=status)
    return profile_render(request, section_contexts={"webhooks": context}, status=status)


@login_required
@require_POST
def webhook_add(request: HttpRequest) -> HttpResponse:
    """Creates a webhook and shows its URL — the only time the token is ever shown."""
    name = request.POST.get("name", "")
    try:
        webhook, token = webhook_create(user=request.user, name=name)
    except ValidationError as error:
        context = webhooks_context(request, webhook_errors=error.messages, webhook_name=name)
        return _answer(request, context, status=422)
    url = request.build_absolute_uri(webhook_path(webhook=webhook, token=token))
    return _answer(request, webhooks_context(request, new_webhook=webhook, new_webhook_url=url))


@login_required
@require_POST
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Revokes a webhook of the signed-in user (someone else's is refused with 403)."""
    webhook = get_object_or_404(Webhook, pk=pk)
    webhook_revoke(webhook=webhook, user=request.user)
    notice = _("The webhook “%(name)s” was revoked.") % {"name": webhook.name}
    if request.htmx:
        return _answer(request, webhooks_context(request, webhook_notice=notice))
    messages.success(request, notice)
    return redirect("accounts:profile")


webhooks_section = ProfileSection(
    name="webhooks",
    template=TEMPLATE,
    context=webhooks_context,
    urlpatterns=[
        path("", webhook_add, name="webhook-create"),
        path("<int:pk>/revoke/", webhook_delete, name="webhook-revoke"),
    ],
)

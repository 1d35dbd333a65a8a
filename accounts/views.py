from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from accounts.forms import ProfileForm
from accounts.services import notification_list, notification_mark_all_read
from rest.models import Webhook
from rest.services import webhook_create, webhook_path, webhook_revoke


@login_required
@vary_on_headers("HX-Request")
def profile(request: HttpRequest) -> HttpResponse:
    """The profile form, the user's notifications and webhooks.

    ``?before=<notification id>`` lists the notifications older than that one (with htmx:
    only them, to be appended under those shown).
    """
    before = _cursor(request)
    if request.htmx and before is not None:
        return render(
            request, "accounts/profile.html#notification-items", _notifications(request, before)
        )
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your profile was saved."))
        return redirect("accounts:profile")
    context = {"form": form, **_notifications(request, before), **_webhooks(request)}
    return render(request, "accounts/profile.html", context)


def _cursor(request: HttpRequest) -> int | None:
    """The ``before`` id of a page of older notifications; anything else is the first page."""
    raw = request.GET.get("before", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None


def _notifications(request: HttpRequest, before: int | None = None) -> dict[str, Any]:
    rows, older = notification_list(user=request.user, before_id=before)
    return {"notifications": rows, "older_notifications": older}


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    """Marks the signed-in user's notifications read (it takes no id: no one else's can be)."""
    notification_mark_all_read(user=request.user)
    notice = _("All notifications are marked as read.")
    if request.htmx:
        context = {**_notifications(request), "notifications_notice": notice}
        return render(request, "accounts/profile.html#notifications", context)
    messages.success(request, notice)
    return redirect("accounts:profile")


def _webhooks(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {"webhooks": list(request.user.webhooks.all()), **extra}


def _webhook_section(
    request: HttpRequest, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """The webhooks section alone for htmx, else the whole profile page around it."""
    if request.htmx:
        return render(request, "accounts/profile.html#webhooks", context, status=status)
    context |= {"form": ProfileForm(instance=request.user), **_notifications(request)}
    return render(request, "accounts/profile.html", context, status=status)


@login_required
@require_POST
def webhook_add(request: HttpRequest) -> HttpResponse:
    """Creates a webhook and shows its URL — the only time the token is ever shown."""
    name = request.POST.get("name", "")
    try:
        webhook, token = webhook_create(user=request.user, name=name)
    except ValidationError as error:
        context = _webhooks(request, webhook_errors=error.messages, webhook_name=name)
        return _webhook_section(request, context, status=422)
    url = request.build_absolute_uri(webhook_path(webhook=webhook, token=token))
    return _webhook_section(request, _webhooks(request, new_webhook=webhook, new_webhook_url=url))


@login_required
@require_POST
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Revokes a webhook of the signed-in user (someone else's is refused with 403)."""
    webhook = get_object_or_404(Webhook, pk=pk)
    webhook_revoke(webhook=webhook, user=request.user)
    notice = _("The webhook “%(name)s” was revoked.") % {"name": webhook.name}
    if request.htmx:
        return _webhook_section(request, _webhooks(request, webhook_notice=notice))
    messages.success(request, notice)
    return redirect("accounts:profile")


def login_locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """The page django-axes shows instead of the login form's answer once the username is
    locked out from this address (``AXES_LOCKOUT_CALLABLE``): the site's layout, the visitor's
    language, 429 Too Many Requests."""
    minutes = settings.LOGIN_LOCKOUT_MINUTES
    message = ngettext(
        "Too many failed attempts to log in with this username from your address. "
        "Try again in %(minutes)d minute, or ask an administrator to unlock it.",
        "Too many failed attempts to log in with this username from your address. "
        "Try again in %(minutes)d minutes, or ask an administrator to unlock it.",
        minutes,
    ) % {"minutes": minutes}
    return render(request, "registration/locked_out.html", {"message": message}, status=429)


def login_attempt_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The username django-axes records a failed login under (``AXES_USERNAME_CALLABLE``), cut
    to its column's 255 characters: the login forms do not enforce the username's length, and
    PostgreSQL would refuse a longer one with an error instead of the form's answer."""
    username = (credentials or request.POST).get("username")
    return username[:255] if isinstance(username, str) else None

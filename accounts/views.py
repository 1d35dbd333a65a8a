from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts import people
from accounts.forms import ProfileForm
from accounts.http import AuthenticatedHttpRequest
from accounts.profile import profile_sections
from accounts.services import notification_list, notification_mark_all_read


@login_required
@vary_on_headers("HX-Request")
def profile(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The profile form, the user's notifications and the sections other apps add (webhooks).

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
        user = form.save()
        # Said in the language just chosen, which the next page is shown in.
        translation.activate(user.language)
        messages.success(request, _("Your profile was saved."))
        return redirect("accounts:profile")
    return profile_render(request, form=form, before=before)


def profile_render(
    request: AuthenticatedHttpRequest,
    *,
    form: ProfileForm | None = None,
    before: int | None = None,
    section_contexts: dict[str, dict[str, Any]] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The whole profile page. Each section another app adds is drawn from its own context, or
    from ``section_contexts[name]`` when that app answers its section's form without htmx."""
    given = section_contexts or {}
    sections = [
        render_to_string(
            section.template,
            given[section.name] if section.name in given else section.context(request),
            request,
        )
        for section in profile_sections
    ]
    context = {
        "form": form if form is not None else ProfileForm(instance=request.user),
        **_notifications(request, before),
        "profile_sections": sections,
    }
    return render(request, "accounts/profile.html", context, status=status)


def _cursor(request: HttpRequest) -> int | None:
    """The ``before`` id of a page of older notifications; anything else is the first page."""
    raw = request.GET.get("before", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None


def _notifications(request: AuthenticatedHttpRequest, before: int | None = None) -> dict[str, Any]:
    rows, older = notification_list(user=request.user, before_id=before)
    return {"notifications": rows, "older_notifications": older}


@login_required
@require_POST
def notifications_read(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Marks the signed-in user's notifications read (it takes no id: no one else's can be)."""
    notification_mark_all_read(user=request.user)
    notice = _("All notifications are marked as read.")
    if request.htmx:
        context = {**_notifications(request), "notifications_notice": notice}
        return render(request, "accounts/profile.html#notifications", context)
    messages.success(request, notice)
    return redirect("accounts:profile")


@login_required
@require_GET
def people_search(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The user picker's choices for what is typed (``q``), as the picker's list draws them.

    Searched, not listed in each page: a company has more people than a page should carry,
    and at most ``people.SEARCH_LIMIT`` come back. Every signed-in person may pick anyone, as
    the CRM's forms and the designer let them; inactive users are never offered."""
    found, more = people.people_search(query=request.GET.get("q", "")[:200])
    return render(request, "accounts/people_options.html", {"people": found, "more": more})


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

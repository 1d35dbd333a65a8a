"""The company structure's pages and the absence chart.

Everyone signed in reads them; structure administrators change departments and people's
departments, absence administrators add and delete absences, working calendar administrators
(``bizproc.calendars.may_change_calendar``) change the working calendar — everyone else reads
it, as the absence chart shows its days off to all (403 for anyone else's changes; 404 for what
does not exist).
"""

import datetime
import re
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.dates import WEEKDAYS
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect

from accounts import absences, structure
from accounts.forms import AbsenceForm, DepartmentForm, PersonDepartmentsForm, WorkCalendarForm
from accounts.http import AuthenticatedHttpRequest
from accounts.models import Absence, Department, User
from bizproc import calendars

_MONTH_RE = re.compile(r"(\d{4})-(\d{2})")
_MAX_ID = 2**63 - 1


def _id(raw: object) -> int | None:
    text = str(raw or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if 1 <= value <= _MAX_ID else None


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    if request.htmx:  # type: ignore[attr-defined]
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _structure_admin(request: AuthenticatedHttpRequest) -> None:
    if not structure.is_structure_admin(request.user):
        raise PermissionDenied


def _department_or_404(pk: int) -> Department:
    found = Department.objects.filter(pk=pk).first() if pk <= _MAX_ID else None
    if found is None:
        raise Http404
    return found


# --- the structure -------------------------------------------------------------------------------


@login_required
@require_safe
def company(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The company structure: departments as a tree, with their heads and people."""
    context = {
        "tree": structure.department_tree(),
        "may_manage": structure.is_structure_admin(request.user),
    }
    return render(request, "accounts/company.html", context)


def _department_form_page(
    request: AuthenticatedHttpRequest, department: Department | None
) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    parent_id = _id(request.GET.get("parent"))
    form = DepartmentForm(data, department=department, parent_id=parent_id)
    if data is not None and form.is_valid():
        try:
            if department is None:
                saved = structure.department_create(
                    values=form.values(), member_ids=form.member_ids
                )
            else:
                saved = structure.department_update(
                    department=department, values=form.values(), member_ids=form.member_ids
                )
        except ValidationError as error:
            form.add_service_errors(error)
        except Department.DoesNotExist:  # deleted meanwhile
            raise Http404 from None
        else:
            messages.success(request, _("Department “%(name)s” saved.") % {"name": saved.name})
            return _redirect(request, reverse("accounts:company"))
    template = "accounts/department_form.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#department-form"
    response = render(
        request,
        template,
        {"form": form, "department": department},
        status=422 if form.errors else 200,
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def department_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    _structure_admin(request)
    return _department_form_page(request, None)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def department_update(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _structure_admin(request)
    return _department_form_page(request, _department_or_404(pk))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def department_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Asks, then deletes a department without sub-departments (says why it will not else)."""
    _structure_admin(request)
    department = _department_or_404(pk)
    refusal = ""
    if request.method == "POST":
        try:
            structure.department_delete(department=department)
        except ValidationError as error:
            refusal = " ".join(error.messages)
        else:
            messages.success(
                request, _("Department “%(name)s” deleted.") % {"name": department.name}
            )
            return _redirect(request, reverse("accounts:company"))
    context = {
        "department": department,
        "children": list(department.children.order_by("sort", "name")),
        "member_count": department.members.count(),
        "refusal": refusal,
    }
    return render(
        request, "accounts/department_confirm_delete.html", context, status=409 if refusal else 200
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def person_departments(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The departments a person works in."""
    _structure_admin(request)
    person = User.objects.filter(pk=pk).first() if pk <= _MAX_ID else None
    if person is None:
        raise Http404
    form = PersonDepartmentsForm(request.POST if request.method == "POST" else None, user=person)
    if request.method == "POST" and form.is_valid():
        try:
            structure.user_departments_set(
                user=person, department_ids=form.cleaned_data["departments"]
            )
        except ValidationError as error:
            form.add_error("departments", error.message_dict["departments"])
        else:
            messages.success(
                request,
                _("The departments of %(name)s are saved.") % {"name": person.get_full_name()},
            )
            return redirect("accounts:company")
    return render(
        request,
        "accounts/person_departments.html",
        {"form": form, "person": person},
        status=422 if form.errors else 200,
    )


# --- the absence chart ---------------------------------------------------------------------------


def _month(raw: str) -> datetime.date:
    """The month asked for (``YYYY-MM``), or the current one."""
    match = _MONTH_RE.fullmatch(raw.strip())
    if match and 1 <= int(match[2]) <= 12 and 1900 <= int(match[1]) <= 9998:
        return datetime.date(int(match[1]), int(match[2]), 1)
    return timezone.localdate().replace(day=1)


def _chart_context(request: AuthenticatedHttpRequest, form: AbsenceForm | None) -> dict[str, Any]:
    month = _month(request.GET.get("month", ""))
    department_id = _id(request.GET.get("department"))
    if department_id is not None and not absences.department_exists(department_id):
        department_id = None
    chart = absences.absence_chart(month=month, department_id=department_id)
    may_manage = absences.may_manage_absences(request.user)
    query: dict[str, str] = {"department": str(department_id)} if department_id else {}
    return {
        "chart": chart,
        "departments": [
            (pk, "\u2003" * depth + name) for pk, name, depth in structure.department_choices()
        ],
        "department_id": department_id,
        "may_manage": may_manage,
        "form": form if form is not None else (AbsenceForm() if may_manage else None),
        "previous_query": urlencode({"month": chart.previous.strftime("%Y-%m"), **query}),
        "next_query": urlencode({"month": chart.next.strftime("%Y-%m"), **query}),
        "current_query": urlencode({"month": month.strftime("%Y-%m"), **query}),
        "kinds": absences.absence_kinds(),
        "today": timezone.localdate(),
    }


@login_required
@require_safe
def absence_chart(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The absence chart of a month (``?month=YYYY-MM``), of a department and its
    sub-departments (``?department=<id>``) or of everyone."""
    return render(request, "accounts/absence_chart.html", _chart_context(request, None))


@login_required
@require_POST
def absence_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Adds an absence from the chart's form; back to the chart of the month it starts in."""
    if not absences.may_manage_absences(request.user):
        raise PermissionDenied
    form = AbsenceForm(request.POST)
    if form.is_valid():
        start, end = form.moments()
        try:
            absence = absences.absence_create(
                user_id=form.user_ids[0],
                start=start,
                end=end,
                kind=form.cleaned_data["kind"],
                reason=form.cleaned_data["reason"],
                author_id=request.user.pk,
            )
        except ValidationError as error:
            for name, problems in error.message_dict.items():
                for problem in problems:
                    if name == "user":
                        form.user_errors.append(problem)
                    form.add_error(name if name in form.fields else None, problem)
        else:
            messages.success(
                request,
                _("The absence of %(name)s is added to the chart.")
                % {"name": absence.user.get_full_name()},
            )
            query = urlencode({"month": form.cleaned_data["start"].strftime("%Y-%m")})
            return _redirect(request, f"{reverse('accounts:absence-chart')}?{query}")
    template = "accounts/absence_chart.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#absence-form"
    response = render(request, template, _chart_context(request, form), status=422)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_POST
def absence_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    if not absences.may_manage_absences(request.user):
        raise PermissionDenied
    absence = None
    if pk <= _MAX_ID:
        absence = Absence.objects.select_related("user").filter(pk=pk).first()
    if absence is None:
        raise Http404
    absences.absence_delete(absence=absence)
    messages.success(
        request,
        _("The absence of %(name)s is deleted.") % {"name": absence.user.get_full_name()},
    )
    # Back to the month and department shown (the form says which), rebuilt from their values.
    month = request.POST.get("month", "")
    back = {"month": _month(month).strftime("%Y-%m")} if month else {}
    back = back or {"month": timezone.localdate(absence.start).strftime("%Y-%m")}
    department_id = _id(request.POST.get("department"))
    if department_id is not None:
        back["department"] = str(department_id)
    return _redirect(request, f"{reverse('accounts:absence-chart')}?{urlencode(back)}")


# --- the working calendar ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def work_calendar(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The company's working calendar: its administrators change it, everyone else reads it."""
    may_change = calendars.may_change_calendar(request.user)
    if request.method == "POST" and not may_change:
        raise PermissionDenied
    calendar = calendars.calendar_get()
    form = WorkCalendarForm(request.POST if request.method == "POST" else None, calendar=calendar)
    if request.method == "POST" and form.is_valid():
        try:
            calendars.calendar_update(user=request.user, **form.values())
        except ValidationError as error:
            for name, problems in error.message_dict.items():
                for problem in problems:
                    form.add_error(name if name in form.fields else None, problem)
        else:
            messages.success(request, _("The working calendar is saved."))
            return redirect("accounts:work-calendar")
    context = {
        "form": form,
        "may_change": may_change,
        "calendar": calendar,
        "days_off": [name for number, name in WEEKDAYS.items() if number in calendar.weekend],
        "yearly_holidays": [
            datetime.date(2000, month, day) for month, day in sorted(calendar.yearly_holidays)
        ],
        "holidays": sorted(calendar.holidays),
        "workdays": sorted(calendar.workdays),
        "site_zone": settings.TIME_ZONE,
    }
    return render(
        request, "accounts/work_calendar.html", context, status=422 if form.errors else 200
    )

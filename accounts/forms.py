import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.absences import REASON_MAX_LENGTH
from accounts.models import AbsenceKind, Department, User, time_zone_choices
from accounts.people import user_picker, user_pk_of
from accounts.structure import (
    NAME_MAX_LENGTH,
    SORT_MAX,
    DepartmentValues,
    department_choices,
    department_subtree_ids,
)
from bizproc.workcalendar import WorkCalendar


class ProfileForm(forms.ModelForm):
    # Declared for its choices; a declared field does not take the model field's label.
    time_zone = forms.ChoiceField(
        label=User._meta.get_field("time_zone").verbose_name, choices=time_zone_choices
    )

    class Meta:
        model = User
        fields = ["full_name", "email", "language", "time_zone"]


# --- the company structure and the absence chart ------------------------------------------------


def _picked(values: list[str]) -> tuple[list[int], bool]:
    """The user ids a picker posted, and whether every value named one."""
    pks = [pk for value in values if (pk := user_pk_of(value)) is not None]
    return list(dict.fromkeys(pks)), len(pks) == len([v for v in values if v.strip()])


class DepartmentForm(forms.Form):
    """A department's name, place in the tree, head and people. Its rules (no cycle, an active
    head) are ``accounts.structure``'s; the form checks the shape of what is typed."""

    name = forms.CharField(label=_("Name"), max_length=NAME_MAX_LENGTH)
    parent = forms.TypedChoiceField(
        label=_("Parent department"), required=False, coerce=int, empty_value=None
    )
    sort = forms.IntegerField(label=_("Sort"), min_value=0, max_value=SORT_MAX, initial=500)

    def __init__(
        self,
        data: QueryDict | None = None,
        *,
        department: Department | None = None,
        parent_id: int | None = None,
    ) -> None:
        initial: dict[str, Any] = {"parent": parent_id}
        if department is not None:
            initial = {
                "name": department.name,
                "parent": department.parent_id,
                "sort": department.sort,
            }
        super().__init__(data, initial=initial)
        self.department = department
        self.picker_errors: dict[str, list[str]] = {}
        inside = department_subtree_ids(department.pk) if department is not None else set()
        self.fields["parent"].choices = [  # type: ignore[attr-defined]
            ("", _("None: a top-level department")),
            *(
                (pk, "\u2003" * depth + name)
                for pk, name, depth in department_choices()
                if pk not in inside
            ),
        ]
        if data is not None:
            head_values = [data.get("head", "")]
            member_values = data.getlist("members")
        elif department is not None:
            head_values = [str(department.head_id or "")]
            member_values = [str(pk) for pk in department.members.values_list("pk", flat=True)]
        else:
            head_values, member_values = [], []
        self.head_ids, self.head_ok = _picked(head_values)
        self.member_ids, self.members_ok = _picked(member_values)
        self.head_picker = user_picker(
            id="id_head", name="head", label=str(_("Head")), values=head_values
        )
        self.members_picker = user_picker(
            id="id_members",
            name="members",
            label=str(_("People")),
            values=member_values,
            multiple=True,
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.head_ok or len(self.head_ids) > 1:
            self.picker_error("head", _("Choose the head from the list of people."))
        if not self.members_ok:
            self.picker_error("members", _("Choose the department's people from the list."))
        return cleaned

    def picker_error(self, name: str, message: Any) -> None:
        """An error of a user picker (not a form field): shown under it, and failing the form."""
        self.picker_errors.setdefault(name, []).append(str(message))
        self.add_error(None, message)

    @property
    def general_errors(self) -> list[str]:
        """The form's errors that belong to no input."""
        shown = {message for messages in self.picker_errors.values() for message in messages}
        return [str(m) for m in self.non_field_errors() if str(m) not in shown]

    def values(self) -> DepartmentValues:
        return DepartmentValues(
            name=self.cleaned_data["name"],
            parent_id=self.cleaned_data["parent"],
            head_id=self.head_ids[0] if self.head_ids else None,
            sort=self.cleaned_data["sort"],
        )

    def add_service_errors(self, error: ValidationError) -> None:
        for name, messages in error.message_dict.items():
            for message in messages:
                if name in self.fields:
                    self.add_error(name, message)
                elif name in ("head", "members"):
                    self.picker_error(name, message)
                else:
                    self.add_error(None, message)


class PersonDepartmentsForm(forms.Form):
    """The departments a person works in (Bitrix's UF_DEPARTMENT)."""

    departments = forms.TypedMultipleChoiceField(
        label=_("Departments"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, data: QueryDict | None = None, *, user: User) -> None:
        super().__init__(
            data, initial={"departments": list(user.departments.values_list("pk", flat=True))}
        )
        self.fields["departments"].choices = [  # type: ignore[attr-defined]
            (pk, "\u2003" * depth + name) for pk, name, depth in department_choices()
        ]


class AbsenceForm(forms.Form):
    """An absence as the chart's page adds it: whole days, from the first to the last, in the
    time zone of the person who adds it."""

    kind = forms.ChoiceField(label=_("Kind of absence"), choices=AbsenceKind.choices)
    start = forms.DateField(
        label=pgettext_lazy("period", "From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=pgettext_lazy("period", "To"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, data: QueryDict | None = None) -> None:
        super().__init__(data)
        values = [data.get("user", "")] if data is not None else []
        self.user_ids, self.user_ok = _picked(values)
        self.user_picker = user_picker(
            id="id_user", name="user", label=str(_("Employee")), values=values, required=True
        )
        self.user_errors: list[str] = []

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.user_ok or len(self.user_ids) != 1:
            self.user_errors.append(str(_("Choose the employee who is away from the list.")))
            self.add_error(None, self.user_errors[-1])
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", _("The absence ends before it starts."))
        return cleaned

    def moments(self) -> tuple[datetime.datetime, datetime.datetime]:
        """The first day's start and the last day's end in the active time zone."""
        zone = timezone.get_current_timezone()
        start = datetime.datetime.combine(self.cleaned_data["start"], datetime.time(), zone)
        last = datetime.datetime.combine(self.cleaned_data["end"], datetime.time.max, zone)
        return start, last.replace(microsecond=0)


# --- the working calendar ------------------------------------------------------------------------

_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")
_LINES_MAX = 2000  # lines a date box may hold (the service keeps at most 1000 dates)


def _lines(text: str) -> list[str]:
    """The items of a box: one per line (or separated by commas, as Bitrix writes them)."""
    return [item.strip() for item in text.replace(",", "\n").splitlines() if item.strip()]


class WorkCalendarForm(forms.Form):
    """The company's working calendar as its page edits it: days off as checkboxes, hours,
    dates one per line."""

    weekend = forms.TypedMultipleChoiceField(
        label=_("Days off in the week"),
        choices=list(WEEKDAYS.items()),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    work_start = forms.TimeField(
        label=_("Working day starts"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    work_end = forms.TimeField(
        label=_("Working day ends"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    yearly_holidays = forms.CharField(
        label=_("Holidays every year"),
        help_text=_(
            "One per line, as day.month: 1.1 for the 1st of January, 8.3 for the 8th of March."
        ),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    holidays = forms.CharField(
        label=_("One-off holidays"),
        help_text=_("One date per line: 2025-01-08 or 08.01.2025."),
        required=False,
        max_length=30_000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    workdays = forms.CharField(
        label=_("Working days that would be days off"),
        help_text=_("One date per line: a Saturday worked for a bridge day, say."),
        required=False,
        max_length=30_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False)

    def __init__(self, data: QueryDict | None = None, *, calendar: WorkCalendar) -> None:
        initial = {
            "weekend": sorted(calendar.weekend),
            "work_start": calendar.work_start.strftime("%H:%M"),
            "work_end": calendar.work_end.strftime("%H:%M"),
            "yearly_holidays": "\n".join(
                f"{day}.{month}" for month, day in sorted(calendar.yearly_holidays)
            ),
            "holidays": "\n".join(day.isoformat() for day in sorted(calendar.holidays)),
            "workdays": "\n".join(day.isoformat() for day in sorted(calendar.workdays)),
            "time_zone": calendar.time_zone,
        }
        super().__init__(data, initial=initial)
        site_zone = _("The site's time zone (%(zone)s)") % {"zone": settings.TIME_ZONE}
        self.fields["time_zone"].choices = [("", site_zone), *time_zone_choices()]  # type: ignore[attr-defined]
        for name in ("yearly_holidays", "holidays", "workdays"):
            self.fields[name].widget.attrs["aria-describedby"] = f"id_{name}_helptext"

    def _dates(self, name: str) -> list[datetime.date]:
        found: list[datetime.date] = []
        items = _lines(self.cleaned_data.get(name, ""))
        if len(items) > _LINES_MAX:
            raise ValidationError(_("At most %(max)d dates.") % {"max": _LINES_MAX // 2})
        for number, item in enumerate(items, 1):
            for pattern in _DATE_FORMATS:
                try:
                    found.append(datetime.datetime.strptime(item, pattern).date())
                    break
                except ValueError:
                    continue
            else:
                raise ValidationError(
                    _("Line %(line)d: “%(text)s” is not a date such as 2025-01-08 or 08.01.2025.")
                    % {"line": number, "text": item[:40]}
                )
        return found

    def clean_holidays(self) -> list[datetime.date]:
        return self._dates("holidays")

    def clean_workdays(self) -> list[datetime.date]:
        return self._dates("workdays")

    def clean_yearly_holidays(self) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = []
        items = _lines(self.cleaned_data.get("yearly_holidays", ""))
        for number, item in enumerate(items[: _LINES_MAX + 1], 1):
            day, dot, month = item.partition(".")
            if not (dot and day.isdigit() and month.isdigit() and len(day + month) <= 4):
                raise ValidationError(
                    _("Line %(line)d: “%(text)s” is not a day.month such as 8.3.")
                    % {"line": number, "text": item[:40]}
                )
            found.append((int(month), int(day)))
        return found

    def values(self) -> dict[str, Any]:
        """The service's keyword arguments."""
        return {name: self.cleaned_data[name] for name in self.fields}

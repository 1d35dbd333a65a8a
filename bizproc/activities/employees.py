"""Blocks about the company's people, asked through the company directory
(``bizproc.directory.company``): Select employee (Bitrix's ``GetUserActivity``) and Absence
(``AbsenceActivity``, which adds to the absence chart)."""

import datetime
import random
from collections.abc import Iterator, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from bizproc.activities.base import (
    Activity,
    ActivityFault,
    Category,
    Problem,
    Property,
    PropertyType,
    Result,
    Status,
    ValidationContext,
    activities,
    has_expression,
    is_empty,
)
from bizproc.activities.context import Context
from bizproc.activities.standard import TITLE
from bizproc.directory import company
from bizproc.expressions import display_text
from bizproc.fieldtypes import Field, FieldType, FieldValueError
from bizproc.models import ActivityStorage
from bizproc.user_values import active_only, people_names, users_resolve

RANDOM, SEQUENT, BOSS = "random", "sequent", "boss"
USER_TYPES = {
    RANDOM: gettext_lazy("Random employee"),
    SEQUENT: gettext_lazy("In turn"),
    BOSS: gettext_lazy("Head of the employee"),
}
# How far up the departments "the head" may look when a level has no head (or is absent).
LEVELS_SEARCHED = 100


@activities.register
class GetUserActivity(Activity):
    """Select employee: a random one, the next in turn, or the head of an employee's department
    up to ``MaxLevel`` levels; absent people skipped (``SkipAbsent``); when nobody is found, the
    reserve users (``ReserveUserParameter``). The result ``GetUser`` names the chosen people."""

    type = "GetUserActivity"
    title = gettext_lazy("Select employee")
    category = Category.OTHER
    properties = (
        TITLE,
        Property(
            "UserType",
            gettext_lazy("Which employee"),
            PropertyType.SELECT,
            options=USER_TYPES,
            default=RANDOM,
        ),
        Property(
            "UserParameter",
            gettext_lazy("Employees"),
            PropertyType.USER,
            required=True,
            multiple=True,
        ),
        Property("MaxLevel", gettext_lazy("Levels of heads"), PropertyType.INT, default="1"),
        Property(
            "ReserveUserParameter",
            gettext_lazy("Reserve employee"),
            PropertyType.USER,
            required=True,
            multiple=True,
        ),
        Property(
            "SkipAbsent", gettext_lazy("Skip absent employees"), PropertyType.BOOL, default="Y"
        ),
        Property(
            "SkipAbsentReserve",
            gettext_lazy("Skip absent reserve employees"),
            PropertyType.BOOL,
            default="Y",
        ),
        # Kept for Bitrix files: there is no work-time tracking to ask.
        Property(
            "SkipTimeman",
            gettext_lazy("Skip employees who have not started their working day"),
            PropertyType.BOOL,
            default="N",
        ),
        Property(
            "SkipTimemanReserve",
            gettext_lazy("Skip reserve employees who have not started their working day"),
            PropertyType.BOOL,
            default="N",
        ),
    )
    results = (Result("GetUser", gettext_lazy("Selected employee"), FieldType.USER),)

    def validate_properties(self, ctx: ValidationContext) -> list[Problem]:
        problems = super().validate_properties(ctx)
        kind = self.properties_values.get("UserType")
        if not is_empty(kind) and not has_expression(kind) and str(kind) not in USER_TYPES:
            problems.append(
                self.problem(
                    "UserType",
                    _("Unknown way to select an employee: %(type)s") % {"type": kind},
                    "type",
                )
            )
        return problems

    def execute(self, ctx: Context) -> Status:
        values = self.properties_values
        name = self.node["Name"]
        kind = str(ctx.evaluate(values.get("UserType")) or RANDOM)
        skip_absent = str(ctx.evaluate(values.get("SkipAbsent")) or "Y").upper() != "N"
        if kind == BOSS:
            chosen = self._heads(ctx, skip_absent)
        elif kind == SEQUENT:
            chosen = self._next(ctx, skip_absent)
        else:
            chosen = self._random(ctx, skip_absent)
        if chosen:
            ctx.set_result(name, "GetUser", _value(chosen))
            ctx.journal.custom(
                name, self.display_title, _("Selected: %(users)s") % {"users": people_names(chosen)}
            )
            return Status.CLOSED
        if str(ctx.evaluate(values.get("SkipAbsentReserve")) or "Y").upper() == "N":
            skip_absent = False
        reserve = users_resolve(ctx, values.get("ReserveUserParameter"))
        if skip_absent:
            reserve = self._present(ctx, reserve)
        if kind == RANDOM:
            reserve = reserve[:1]  # Bitrix: the first reserve user; otherwise all of them
        if not reserve:
            ctx.set_result(name, "GetUser", None)
            ctx.journal.error(
                name, self.display_title, _("No employee found, and no reserve employee either.")
            )
            return Status.CLOSED
        ctx.set_result(name, "GetUser", _value(reserve))
        ctx.journal.custom(
            name,
            self.display_title,
            _("No employee found; the reserve is selected: %(users)s")
            % {"users": people_names(reserve)},
        )
        return Status.CLOSED

    @staticmethod
    def _present(ctx: Context, user_ids: list[int]) -> list[int]:
        """Those of ``user_ids`` not absent now."""
        absent = company.directory.absent(user_ids, at=ctx.now) if user_ids else set()
        return [pk for pk in user_ids if pk not in absent]

    def _candidates(self, ctx: Context, skip_absent: bool) -> list[int]:
        users = users_resolve(ctx, self.properties_values.get("UserParameter"))
        return self._present(ctx, users) if skip_absent else users

    def _random(self, ctx: Context, skip_absent: bool) -> list[int]:
        users = self._candidates(ctx, skip_absent)
        return [random.choice(users)] if users else []  # noqa: S311 — not a secret

    def _next(self, ctx: Context, skip_absent: bool) -> list[int]:
        """The one after the one chosen last time (by any process of the template), as the
        list now stands; absent people are passed over."""
        every = users_resolve(ctx, self.properties_values.get("UserParameter"))
        available = set(self._present(ctx, every) if skip_absent else every)
        with transaction.atomic():
            stored, _created = ActivityStorage.objects.select_for_update().get_or_create(
                template_id=ctx.version.template_id,
                activity_name=self.node["Name"],
                key="lastUserId",
            )
            last = stored.value
            if last in every:
                position = every.index(last) + 1
                every = every[position:] + every[:position]
            chosen = next((pk for pk in every if pk in available), None)
            if chosen is None:
                return []
            stored.value = chosen
            stored.save(update_fields=["value"])
        return [chosen]

    def _heads(self, ctx: Context, skip_absent: bool) -> list[int]:
        """The heads of the first employee's departments, nearest first: ``MaxLevel`` of them
        (0: all), a level with no head, or whose head is absent, counting for nothing."""
        users = users_resolve(ctx, self.properties_values.get("UserParameter"))
        if not users:
            return []
        employee = users[0]
        try:
            levels = int(str(ctx.evaluate(self.properties_values.get("MaxLevel")) or 1))
        except ValueError:
            raise ActivityFault(
                _("The value of field '%(name)s' is not an integer.")
                % {"name": _("Levels of heads")}
            ) from None
        heads = [
            pk
            for pk in company.directory.heads_of(employee, levels=LEVELS_SEARCHED)
            if pk != employee
        ]
        heads = active_only(heads)
        if skip_absent:
            heads = self._present(ctx, heads)
        return heads[:levels] if levels > 0 else heads

    def summary(self) -> str:
        return str(USER_TYPES.get(str(self.properties_values.get("UserType") or RANDOM), ""))


def _value(user_ids: list[int]) -> Any:
    """Bitrix's result: ``user_5`` for one person, a list for several."""
    values = [f"user_{pk}" for pk in user_ids]
    return values[0] if len(values) == 1 else values


class AbsenceKinds(Mapping[str, str]):
    """The absence chart's kinds of absence (Bitrix's ``ABSENCE_TYPE`` codes), read from the
    company directory whenever they are asked for: the dialog's options."""

    def _kinds(self) -> dict[str, str]:
        return company.directory.absence_kinds()

    def __getitem__(self, key: str) -> str:
        return self._kinds()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._kinds())

    def __len__(self) -> int:
        return len(self._kinds())


@activities.register
class AbsenceActivity(Activity):
    """Adds an absence to the absence chart for each of the users (Bitrix's
    ``AbsenceActivity``; its property names, including ``AbsenceDesrc``, are kept)."""

    type = "AbsenceActivity"
    title = gettext_lazy("Absence chart")
    category = Category.OTHER
    properties = (
        TITLE,
        Property(
            "AbsenceUser", gettext_lazy("Employee"), PropertyType.USER, required=True, multiple=True
        ),
        Property("AbsenceName", gettext_lazy("Reason"), PropertyType.STRING, required=True),
        Property("AbsenceDesrc", gettext_lazy("Description"), PropertyType.TEXT),
        Property(
            "AbsenceFrom", pgettext_lazy("absence", "Start"), PropertyType.DATETIME, required=True
        ),
        Property(
            "AbsenceTo", pgettext_lazy("absence", "End"), PropertyType.DATETIME, required=True
        ),
        Property(
            "AbsenceType",
            gettext_lazy("Type of absence"),
            PropertyType.SELECT,
            options=AbsenceKinds(),
        ),
        # Kept for Bitrix files: the absence element's state fields.
        Property("AbsenceState", pgettext_lazy("absence", "State"), PropertyType.STRING),
        Property("AbsenceFinishState", gettext_lazy("Final state"), PropertyType.STRING),
    )

    def validate_properties(self, ctx: ValidationContext) -> list[Problem]:
        """A type of absence is one the absence chart knows (any, when no chart is kept)."""
        problems = super().validate_properties(ctx)
        kind = self.properties_values.get("AbsenceType")
        if not company.directory.absence_kinds():
            return [problem for problem in problems if problem.parameter != "AbsenceType"]
        return [
            self.problem(
                "AbsenceType", _("Unknown type of absence: %(type)s") % {"type": kind}, "type"
            )
            if problem.parameter == "AbsenceType" and problem.code == "type"
            else problem
            for problem in problems
        ]

    def execute(self, ctx: Context) -> Status:
        values = self.properties_values
        name = self.node["Name"]
        users = users_resolve(ctx, values.get("AbsenceUser"))
        if not users:
            raise ActivityFault(_("The absence has no employee."))
        start, end = self._moment(ctx, "AbsenceFrom", False), self._moment(ctx, "AbsenceTo", True)
        if end < start:
            raise ActivityFault(_("The absence ends before it starts."))
        reason = display_text(ctx.evaluate(values.get("AbsenceName"))).strip()
        if not reason:
            raise ActivityFault(_("The absence has no reason."))
        description = display_text(ctx.evaluate(values.get("AbsenceDesrc"))).strip()
        kind = display_text(ctx.evaluate(values.get("AbsenceType"))).strip()
        kinds = company.directory.absence_kinds()
        if kind and kind not in kinds:
            raise ActivityFault(_("Unknown type of absence: %(type)s") % {"type": kind})
        if not kind:
            kind = next(iter(kinds), "")
        for user_id in users:
            try:
                company.directory.absence_add(
                    user_id=user_id,
                    start=start,
                    end=end,
                    kind=kind,
                    reason="\n".join(text for text in (reason, description) if text),
                    author_id=ctx.starter_id,
                )
            except ValueError as error:
                raise ActivityFault(str(error)) from None
        ctx.journal.custom(
            name,
            self.display_title,
            _("Absence added for %(users)s: %(start)s – %(end)s")
            % {
                "users": people_names(users),
                "start": _shown(start),
                "end": _shown(end),
            },
        )
        return Status.CLOSED

    def _moment(self, ctx: Context, code: str, end: bool) -> datetime.datetime:
        """A start or end as a moment; a date alone is the start (or the end) of that day."""
        title = next(str(prop.title) for prop in self.properties if prop.name == code)
        value = ctx.evaluate(self.properties_values.get(code))
        value = value[0] if isinstance(value, list) and value else value
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            day: datetime.date | None = value
        elif isinstance(value, str) and len(value.strip()) <= 10:
            try:
                day = Field(code, title, FieldType.DATE, required=True).convert(value)
            except FieldValueError as error:
                raise ActivityFault(error.message) from None
        else:
            day = None
        if day is not None:
            moment = datetime.datetime.combine(day, datetime.time.max if end else datetime.time())
            return timezone.make_aware(moment)
        try:
            moment = Field(code, title, FieldType.DATETIME, required=True).convert(value)
        except FieldValueError as error:
            raise ActivityFault(error.message) from None
        return moment

    def summary(self) -> str:
        return str(self.properties_values.get("AbsenceName") or "")[:60]


def _shown(moment: datetime.datetime) -> str:
    local = timezone.localtime(moment)
    if local.time() in (datetime.time(), datetime.time.max):
        return local.strftime("%d.%m.%Y")
    return local.strftime("%d.%m.%Y %H:%M")

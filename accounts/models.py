import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    RUSSIAN = "ru", _("Russian")


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class Department(models.Model):
    """A department of the company structure (Bitrix's ``department``): a tree by ``parent``,
    headed by a user (``UF_HEAD``); its people are the users whose ``departments`` hold it."""

    name = models.CharField(_("name"), max_length=255)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    head = models.ForeignKey(
        "User",
        verbose_name=_("head"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="headed_departments",
    )
    sort = models.PositiveIntegerField(_("sort"), default=500)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["sort", "name", "pk"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A CRM user: responsible for records, member of CRM roles, starter of processes."""

    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    language = models.CharField(
        _("language"), max_length=2, choices=Language, default=Language.ENGLISH
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    is_crm_admin = models.BooleanField(
        _("CRM administrator"),
        default=False,
        help_text=_("May do everything in the CRM and in automation, whatever the roles say."),
    )
    # Bitrix's UF_DEPARTMENT: a user may work in several departments.
    departments = models.ManyToManyField(
        Department, verbose_name=_("departments"), blank=True, related_name="members"
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["full_name", "username"]

    def __str__(self) -> str:
        return self.get_full_name()

    def get_full_name(self) -> str:
        return self.full_name or super().get_full_name() or self.username

    @property
    def document_user_id(self) -> str:
        """The user as a business-process value (``user_<id>``)."""
        return f"user_{self.pk}"


class Notification(models.Model):
    """An in-app message to a user (the Notify user robot); listed on their profile page."""

    user = models.ForeignKey(
        User, verbose_name=_("to"), on_delete=models.CASCADE, related_name="notifications"
    )
    sender = models.ForeignKey(
        User,
        verbose_name=_("from"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    text = models.TextField(_("text"))
    link = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    # Set by ``notification_list`` for the profile page, not stored.
    shown_link: str

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="accounts_notification_user_idx")
        ]

    def __str__(self) -> str:
        return self.text[:80]


class AbsenceKind(models.TextChoices):
    """Bitrix's ``ABSENCE_TYPE`` codes of the absence chart."""

    VACATION = "VACATION", _("Annual leave")
    ASSIGNMENT = "ASSIGNMENT", _("Business trip")
    LEAVESICK = "LEAVESICK", _("Sick leave")
    LEAVEMATERINITY = "LEAVEMATERINITY", _("Maternity leave")
    LEAVEUNPAYED = "LEAVEUNPAYED", _("Unpaid leave")
    PERSONAL = "PERSONAL", _("Personal")
    OTHER = "OTHER", _("Other")


class Absence(models.Model):
    """A stretch of time a user is away (the absence chart), from ``start`` to ``end``
    inclusive."""

    user = models.ForeignKey(
        User, verbose_name=_("employee"), on_delete=models.CASCADE, related_name="absences"
    )
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("to"))
    kind = models.CharField(
        _("kind of absence"), max_length=20, choices=AbsenceKind, default=AbsenceKind.VACATION
    )
    reason = models.CharField(_("reason"), max_length=1000, blank=True)
    author = models.ForeignKey(
        User,
        verbose_name=_("added by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        ordering = ["start", "pk"]
        indexes = [
            models.Index(fields=["user", "start"], name="accounts_absence_user_idx"),
            models.Index(fields=["start", "end"], name="accounts_absence_span_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")), name="accounts_absence_ends_after"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_kind_display()}"

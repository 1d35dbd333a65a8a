from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from accounts.models import Absence, Department, Notification, User
from accounts.structure import DepartmentValues, department_problems


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "full_name", "email", "language", "is_crm_admin", "is_active"]
    list_filter = ["is_crm_admin", "is_staff", "is_superuser", "is_active", "language"]
    search_fields = ["username", "full_name", "email"]
    filter_horizontal = [*BaseUserAdmin.filter_horizontal, "departments"]
    fieldsets = [
        *(BaseUserAdmin.fieldsets or ()),
        (_("CRM"), {"fields": ["full_name", "language", "time_zone", "is_crm_admin"]}),
        (_("Company structure"), {"fields": ["departments"]}),
    ]


class DepartmentAdminForm(forms.ModelForm):
    """Refuses what the structure's pages refuse: a cycle, an inactive head."""

    class Meta:
        model = Department
        fields = ["name", "parent", "head", "sort"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        values = DepartmentValues(
            name=cleaned.get("name") or "",
            parent_id=cleaned["parent"].pk if cleaned.get("parent") else None,
            head_id=cleaned["head"].pk if cleaned.get("head") else None,
            sort=cleaned.get("sort") or 0,
        )
        problems = department_problems(values, self.instance if self.instance.pk else None)
        for name, message in problems.items():
            self.add_error(name if name in self.fields else None, message)
        return cleaned


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    """Departments; a department with sub-departments cannot be deleted (move them first)."""

    form = DepartmentAdminForm
    list_display = ["name", "parent", "head", "sort"]
    list_select_related = ["parent", "head"]
    search_fields = ["name", "head__username", "head__full_name"]
    autocomplete_fields = ["parent", "head"]


@admin.register(Absence)
class AbsenceAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "start", "end", "short_reason", "author"]
    list_filter = ["kind", "start"]
    list_select_related = ["user", "author"]
    search_fields = ["user__username", "user__full_name", "reason"]
    autocomplete_fields = ["user"]
    readonly_fields = ["author", "created_at"]
    date_hierarchy = "start"

    @admin.display(description=_("reason"))
    def short_reason(self, absence: Absence) -> str:
        return Truncator(absence.reason).chars(80)

    def save_model(self, request: HttpRequest, obj: Absence, form: Any, change: bool) -> None:
        if not change:
            obj.author = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Read-only: notifications are written by processes (the Notify user block) and read on
    their recipient's profile page; staff may look them up, and delete one."""

    list_display = ["user", "sender", "short_text", "created_at", "read_at"]
    list_filter = ["read_at", "created_at"]
    search_fields = [
        "text",
        "user__username",
        "user__full_name",
        "sender__username",
        "sender__full_name",
    ]
    list_select_related = ["user", "sender"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description=_("text"))
    def short_text(self, notification: Notification) -> str:
        return Truncator(notification.text).chars(80)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

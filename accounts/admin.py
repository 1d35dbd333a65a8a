from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from accounts.models import Notification, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "full_name", "email", "language", "is_crm_admin", "is_active"]
    list_filter = ["is_crm_admin", "is_staff", "is_superuser", "is_active", "language"]
    search_fields = ["username", "full_name", "email"]
    fieldsets = [
        *(BaseUserAdmin.fieldsets or ()),
        (_("CRM"), {"fields": ["full_name", "language", "time_zone", "is_crm_admin"]}),
    ]


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

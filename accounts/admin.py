from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "full_name", "email", "language", "is_crm_admin", "is_active"]
    list_filter = ["is_crm_admin", "is_staff", "is_superuser", "is_active", "language"]
    search_fields = ["username", "full_name", "email"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (_("CRM"), {"fields": ["full_name", "language", "time_zone", "is_crm_admin"]}),
    ]

from django.contrib import admin

from rest.models import Webhook


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    """Webhooks are created on their owner's profile page (the token is shown only there);
    the admin lists them and may delete (revoke) one."""

    list_display = ["name", "user", "created_at", "last_used_at"]
    list_select_related = ["user"]
    search_fields = ["name", "user__username", "user__full_name"]
    readonly_fields = ["user", "name", "created_at", "last_used_at"]
    fields = readonly_fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

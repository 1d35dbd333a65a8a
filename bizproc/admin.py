from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from bizproc import runtime
from bizproc.activities import activities
from bizproc.models import Instance, JournalEntry, Template, TemplateVersion
from bizproc.tree import Node


def tree_outline(tree: Node) -> SafeString:
    """The tree as nested lists: each block's title, type, name and properties, escaped."""

    def render(node: Node) -> SafeString:
        activity = activities.for_node(node)
        properties = format_html_join(
            "",
            "<li><code>{}</code>: {}</li>",
            sorted((k, repr(v)) for k, v in (node.get("Properties") or {}).items()),
        )
        children = format_html_join(
            "", "{}", ((render(child),) for child in node.get("Children") or [])
        )
        return format_html(
            '<li><strong>{}</strong> <span class="{}">{}</span> <code>{}</code>'
            "<ul>{}</ul><ol>{}</ol></li>",
            activity.display_title,
            "" if activity.supported else "unsupported",
            node.get("Type")
            if activity.supported
            else _("%(type)s — unsupported") % {"type": node.get("Type")},
            node.get("Name"),
            properties,
            children,
        )

    return format_html('<ol class="bizproc-tree">{}</ol>', render(tree))


class VersionInline(admin.TabularInline):
    model = TemplateVersion
    fields = ["number", "published_by", "published_at", "comment"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "document_type", "auto_execute", "active", "revision", "modified_at"]
    list_filter = ["document_type", "active", "auto_execute"]
    search_fields = ["name", "description"]
    readonly_fields = [
        "outline",
        "revision",
        "created_by",
        "modified_by",
        "created_at",
        "modified_at",
    ]
    fields = [
        "name",
        "description",
        ("module", "entity", "document_type"),
        "auto_execute",
        "active",
        "sort",
        "outline",
        "parameters",
        "variables",
        "constants",
        "revision",
        ("created_by", "created_at"),
        ("modified_by", "modified_at"),
    ]
    inlines = [VersionInline]

    @admin.display(description=_("blocks"))
    def outline(self, obj: Template) -> SafeString:
        return tree_outline(obj.tree)


@admin.register(TemplateVersion)
class TemplateVersionAdmin(admin.ModelAdmin):
    list_display = ["template", "number", "published_by", "published_at", "comment"]
    list_filter = ["template__document_type"]
    search_fields = ["template__name", "comment"]
    list_select_related = ["template", "published_by"]
    exclude = ["tree"]
    readonly_fields = [
        "template",
        "number",
        "outline",
        "parameters",
        "variables",
        "constants",
        "draft_revision",
        "comment",
        "published_by",
        "published_at",
    ]

    @admin.display(description=_("blocks"))
    def outline(self, obj: TemplateVersion) -> SafeString:
        return tree_outline(obj.tree)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Instance)
class InstanceAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "template",
        "document_id",
        "status",
        "state_title",
        "started_by",
        "started_at",
    ]
    list_filter = ["status", "entity", "started_at"]
    search_fields = ["id", "document_id", "template__name", "state_title"]
    list_select_related = ["template", "started_by"]
    date_hierarchy = "started_at"
    actions = ["terminate"]
    readonly_fields = [f.name for f in Instance._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Instance | None = None) -> bool:
        return False

    @admin.action(description=_("Terminate the selected processes"))
    def terminate(self, request: HttpRequest, queryset) -> None:
        stopped = 0
        for instance in queryset.unfinished():
            runtime.instance_terminate(instance=instance, user=request.user)
            stopped += 1
        self.message_user(
            request,
            ngettext("%(count)d process stopped.", "%(count)d processes stopped.", stopped)
            % {"count": stopped},
        )


@admin.register(JournalEntry)
class JournalEntryAdmin(admin.ModelAdmin):
    """Read-only; filter one document's rows with ``?document_id=DEAL_5``."""

    list_display = [
        "created_at",
        "document_id",
        "activity_title",
        "type",
        "status",
        "result",
        "note",
        "user",
    ]
    list_filter = ["type", "status", "result"]
    search_fields = ["document_id", "note", "activity_title", "instance__id"]
    list_select_related = ["user"]
    show_full_result_count = False

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        return lookup in ("document_id", "instance__id__exact") or super().lookup_allowed(
            lookup, value, request
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: JournalEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: JournalEntry | None = None) -> bool:
        return False

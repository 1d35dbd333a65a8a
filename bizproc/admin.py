from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from bizproc.activities import activities
from bizproc.models import Template, TemplateVersion
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

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from bizproc import globals as global_fields
from bizproc import runtime, scenarios
from bizproc.activities import activities
from bizproc.documents import DocumentType, document_providers
from bizproc.fieldtypes import FieldType, type_choices
from bizproc.models import (
    GlobalField,
    GlobalKind,
    Instance,
    InstanceQuerySet,
    JournalEntry,
    ProcessTask,
    ProcessTaskUser,
    Scenario,
    ScenarioRun,
    Template,
    TemplateVersion,
    WorkCalendar,
)
from bizproc.schemas import flag, options_of
from bizproc.tree import Node
from bizproc.usages import FieldUsage


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
    readonly_fields = ("number", "published_by", "published_at", "comment")
    fields = readonly_fields
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

    def save_model(
        self, request: HttpRequest, obj: Template, form: forms.ModelForm, change: bool
    ) -> None:
        if not change:
            obj.save()
            return
        # Not the published version this page read: a publication since then stays.
        fields = [f.name for f in Template._meta.concrete_fields if not f.primary_key]
        kept = ("published_version", "published_token")
        obj.save(update_fields=[name for name in fields if name not in kept])


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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: TemplateVersion | None = None
    ) -> bool:
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

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Instance | None:
        # Process ids are text: one PostgreSQL cannot even compare (a NUL byte) is no process.
        if "\x00" in object_id:
            return None
        return super().get_object(request, object_id, from_field)

    @admin.action(description=_("Terminate the selected processes"))
    def terminate(self, request: HttpRequest, queryset: InstanceQuerySet) -> None:
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

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        return lookup in ("document_id", "instance__id__exact") or super().lookup_allowed(
            lookup, value, request
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: JournalEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: JournalEntry | None = None) -> bool:
        return False


class ProcessTaskUserInline(admin.TabularInline):
    model = ProcessTaskUser
    readonly_fields = ("user", "status", "comment", "answered_at")
    fields = readonly_fields
    extra = 0
    can_delete = False


@admin.register(ProcessTask)
class ProcessTaskAdmin(admin.ModelAdmin):
    """Read-only: tasks are given by processes and answered on their users' Tasks page."""

    list_display = ["name", "kind", "document_id", "status", "created_at", "completed_at"]
    list_filter = ["kind", "status"]
    search_fields = ["name", "document_id", "instance__id"]
    list_select_related = ["instance"]
    inlines = [ProcessTaskUserInline]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ProcessTask | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ProcessTask | None = None) -> bool:
        return False  # its process's block waits for it: stop the process instead


def _document_type_choices() -> list[tuple[str, str]]:
    return [
        ("|".join(document_type), provider.caption(document_type))
        for provider in document_providers.all()
        for document_type in provider.document_types()
    ]


class ScenarioAdminForm(forms.ModelForm):
    """Edits a scenario as its JSON export does: typed schema and robots, all checked first."""

    document_type_key = forms.ChoiceField(label=_("entity type"), choices=_document_type_choices)
    parameters = forms.JSONField(label=_("start parameters"), required=False, initial=dict)
    constants = forms.JSONField(label=_("constants"), required=False, initial=dict)
    robots = forms.JSONField(label=_("robots"), required=False, initial=list)

    class Meta:
        model = Scenario
        fields = ["name", "description", "active", "sort"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scenario = self.instance
        if scenario.pk:
            self.fields["document_type_key"].initial = "|".join(scenario.document_type_triple)
            self.fields["parameters"].initial = scenario.template.parameters
            self.fields["constants"].initial = scenario.template.constants
            self.fields["robots"].initial = scenario.template.tree.get("Children", [])

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        key = cleaned.get("document_type_key")
        if key:
            cleaned["document_type_triple"] = DocumentType(*key.split("|"))
            problems = scenarios.scenario_problems(
                document_type=cleaned["document_type_triple"],
                name=cleaned.get("name") or "",
                parameters=cleaned.get("parameters") or {},
                constants=cleaned.get("constants") or {},
                robots=cleaned.get("robots") or [],
            )
            for problem in problems:
                self.add_error(None, problem)
        return cleaned


class RunInline(admin.TabularInline):
    model = ScenarioRun
    readonly_fields = ("document_id", "status", "started_by", "created_at", "finished_at", "error")
    fields = readonly_fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True


@admin.register(Scenario)
class ScenarioAdmin(admin.ModelAdmin):
    form = ScenarioAdminForm
    list_display = ["name", "document_type", "active", "sort", "modified_at"]
    list_filter = ["document_type", "active"]
    search_fields = ["name", "description"]
    actions = ["export_json"]
    fields = [
        "name",
        "description",
        "document_type_key",
        "active",
        "sort",
        "parameters",
        "constants",
        "robots",
    ]

    def save_model(
        self, request: HttpRequest, obj: Scenario, form: forms.ModelForm, change: bool
    ) -> None:
        data = form.cleaned_data
        saved = scenarios.scenario_save(
            user=request.user,
            document_type=data["document_type_triple"],
            name=data["name"],
            description=data.get("description") or "",
            active=data.get("active", True),
            sort=data.get("sort") or 500,
            parameters=data.get("parameters") or {},
            constants=data.get("constants") or {},
            robots=data.get("robots") or [],
            scenario=obj if change else None,
        )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: Scenario) -> None:
        scenarios.scenario_delete(scenario=obj, user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Scenario]) -> None:
        for scenario in queryset:
            scenarios.scenario_delete(scenario=scenario, user=request.user)

    @admin.action(description=_("Export as JSON"))
    def export_json(self, request: HttpRequest, queryset: QuerySet[Scenario]) -> HttpResponse:
        exported = [
            scenarios.scenario_export(scenario=s) for s in queryset.select_related("template")
        ]
        body = json.dumps(
            exported[0] if len(exported) == 1 else exported, ensure_ascii=False, indent=2
        )
        response = HttpResponse(body, content_type="application/json")
        response["Content-Disposition"] = 'attachment; filename="smart-scenarios.json"'
        return response

    def get_urls(self) -> list:
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="bizproc_scenario_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a JSON export: a new scenario, or the reasons it was refused (nothing saved)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        errors: list[str] = []
        if request.method == "POST":
            upload = request.FILES.get("file")
            if upload is None:
                errors.append(str(_("Choose a file.")))
            else:
                try:
                    scenario = scenarios.scenario_import(
                        data=upload.read(5 * 1024 * 1024 + 1), user=request.user
                    )
                except scenarios.ScenarioRefused as refused:
                    errors.extend(refused.errors.values() or [refused.message])
                else:
                    self.message_user(request, _("Imported: %(name)s") % {"name": scenario.name})
                    return redirect("admin:bizproc_scenario_change", scenario.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import a smart scenario"),
            "errors": errors,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/bizproc/scenario_import.html", context)


@admin.register(ScenarioRun)
class ScenarioRunAdmin(admin.ModelAdmin):
    list_display = ["scenario", "document_id", "status", "started_by", "created_at", "finished_at"]
    list_filter = ["status", "scenario"]
    search_fields = ["document_id", "scenario__name"]
    list_select_related = ["scenario", "started_by"]
    readonly_fields = [f.name for f in ScenarioRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ScenarioRun | None = None) -> bool:
        return False


@admin.register(WorkCalendar)
class WorkCalendarAdmin(admin.ModelAdmin):
    """The working calendar, to read: it is changed on its page (Company → Working calendar),
    which checks the values and tells running processes."""

    list_display = ["__str__", "work_start", "work_end", "time_zone", "modified_at", "modified_by"]
    readonly_fields = [f.name for f in WorkCalendar._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: WorkCalendar | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: WorkCalendar | None = None) -> bool:
        return False


def _usages_text(usages: list[FieldUsage]) -> str:
    """The processes that use a global, as the admin names them."""
    return ", ".join(
        gettext("%(name)s (published)") % {"name": usage.template.name}
        if usage.published
        else gettext("%(name)s (draft)") % {"name": usage.template.name}
        for usage in usages
    )


def _value_lines(value: Any) -> str:
    items = value if isinstance(value, list) else [value]
    return "\n".join(str(item) for item in items if item is not None)


class GlobalFieldAdminForm(forms.ModelForm):
    """Edits a global as its page does and saves it through ``bizproc.globals`` (whose
    refusals become the form's errors): nothing the services refuse is saved here."""

    kind = forms.ChoiceField(label=_("kind"), choices=GlobalKind.choices)
    code = forms.CharField(
        label=_("ID"),
        required=False,
        max_length=64,
        help_text=_("Leave empty for the next Constant<n> or Variable<n>."),
    )
    name = forms.CharField(label=_("name"), max_length=global_fields.MAX_NAME)
    description = forms.CharField(
        label=_("description"),
        required=False,
        max_length=global_fields.MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    type = forms.ChoiceField(label=_("type"), choices=type_choices, initial=FieldType.STRING)
    multiple = forms.BooleanField(label=_("several values"), required=False)
    required = forms.BooleanField(label=_("required"), required=False)
    options = forms.JSONField(
        label=_("options"),
        required=False,
        initial=dict,
        help_text=_('A list\'s options: {"key": "label", …}.'),
    )
    visibility = forms.ChoiceField(label=_("visibility"), choices=global_fields.visibility_choices)
    value = forms.CharField(
        label=_("value"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One value a line when the global holds several."),
    )

    request_user: Any = None
    saved: GlobalField | None = None

    class Meta:
        model = GlobalField
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        found = self.instance
        if found.pk:
            definition = found.definition
            self.initial.update(
                name=found.name,
                description=definition.get("Description", ""),
                type=found.type,
                multiple=flag(definition.get("Multiple", "0")),
                required=flag(definition.get("Required", "0")),
                options=options_of(definition),
                visibility=found.visibility,
                value=_value_lines(found.value),
            )

    def _post_clean(self) -> None:
        # The services judge everything (the model's own checks would refuse an empty ID,
        # which means "the next one"); saved here, inside the admin's transaction.
        if self.errors:
            return
        data = self.cleaned_data
        options = data.get("options") or {}
        if not isinstance(options, dict):
            self.add_error("options", gettext('Write the options as {"key": "label", …}.'))
            return
        text = str(data.get("value") or "")
        value: Any = [line.strip() for line in text.splitlines()] if data["multiple"] else text
        found = self.instance if self.instance.pk else None
        try:
            self.saved = global_fields.global_save(
                user=self.request_user,
                kind=found.kind if found else data["kind"],
                code="" if found else data.get("code") or "",
                name=data["name"],
                description=data.get("description") or "",
                type=data["type"],
                multiple=data["multiple"],
                required=data["required"],
                options={str(key): str(label) for key, label in options.items()},
                visibility=data["visibility"],
                value=value,
                instance=found,
            )
        except global_fields.GlobalRefused as refused:
            for key, message in refused.errors.items():
                self.add_error(key if key in self.fields else None, message)
            if refused.usages:
                self.add_error(
                    None,
                    gettext("Used in: %(templates)s.")
                    % {"templates": _usages_text(refused.usages)},
                )


@admin.register(GlobalField)
class GlobalFieldAdmin(admin.ModelAdmin):
    """Global constants and variables, saved and deleted through ``bizproc.globals``: a type
    or visibility that processes rely on is kept, a global in use is not deleted."""

    form = GlobalFieldAdminForm
    list_display = ["kind", "code", "name", "type_caption", "visibility_caption", "value_text"]
    list_filter = ["kind", "visibility"]
    search_fields = ["code", "definition"]
    fields = [
        "kind",
        "code",
        "name",
        "description",
        "type",
        "multiple",
        "required",
        "options",
        "visibility",
        "value",
        ("created_by", "created_at"),
        ("modified_by", "modified_at"),
    ]
    readonly_fields = ["created_by", "created_at", "modified_by", "modified_at"]

    def get_readonly_fields(
        self, request: HttpRequest, obj: GlobalField | None = None
    ) -> list[str]:
        # A global's kind and ID are for life: processes name it by them.
        kept = ["kind", "code"] if obj is not None else []
        return [*kept, *self.readonly_fields]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        form = super().get_form(request, obj, change=change, **kwargs)
        setattr(form, "request_user", request.user)  # noqa: B010 - the class admin makes now
        return form

    def save_model(
        self, request: HttpRequest, obj: GlobalField, form: forms.ModelForm, change: bool
    ) -> None:
        saved = getattr(form, "saved", None)
        assert saved is not None  # noqa: S101 - a valid form has saved it
        obj.pk = saved.pk
        obj.refresh_from_db()

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[Any, Any, Any, Any]:
        """A global processes use is shown as protected by them, and is not deleted."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        for found in objs:
            usages = global_fields.global_usages(kind=found.kind, code=found.code)
            if usages:
                protected = [
                    *protected,
                    gettext("%(global)s is used in: %(templates)s")
                    % {"global": found.code, "templates": _usages_text(usages)},
                ]
        return deleted, counts, perms_needed, protected

    def delete_model(self, request: HttpRequest, obj: GlobalField) -> None:
        try:
            global_fields.global_delete(user=request.user, instance=obj)
        except global_fields.GlobalRefused as refused:
            raise PermissionDenied(refused.message) from None

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[GlobalField]) -> None:
        for found in queryset:
            self.delete_model(request, found)

    @admin.display(description=_("name"))
    def name(self, obj: GlobalField) -> str:
        return obj.name

    @admin.display(description=_("type"))
    def type_caption(self, obj: GlobalField) -> str:
        return str(dict(type_choices()).get(obj.type, obj.type))

    @admin.display(description=_("visibility"))
    def visibility_caption(self, obj: GlobalField) -> str:
        return global_fields.visibility_caption(obj.visibility)

    @admin.display(description=_("value"))
    def value_text(self, obj: GlobalField) -> str:
        value = obj.value
        items = [item for item in (value if isinstance(value, list) else [value]) if item != ""]
        items = [item for item in items if item is not None]
        if obj.type == FieldType.USER:
            shown = runtime.user_names(items)
        elif isinstance(value, bool):
            shown = gettext("Yes") if value else gettext("No")
        else:
            options = options_of(obj.definition)
            shown = ", ".join(options.get(str(item), str(item)) for item in items)
        return Truncator(shown).chars(80)

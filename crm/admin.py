from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from crm import services
from crm.fields import Kind, field_specs, record_values, specs_of
from crm.forms import form_value
from crm.models import (
    Company,
    Contact,
    Deal,
    EntityType,
    Lead,
    Role,
    RolePermission,
    Status,
    StoredFile,
    TimelineEntry,
    UserField,
    UserFieldItem,
)


@admin.register(Status)
class StatusAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "list", "sort", "semantics"]
    list_filter = ["list", "semantics"]
    search_fields = ["name", "code"]
    list_editable = ["sort"]


class RolePermissionInline(admin.TabularInline):
    model = RolePermission
    extra = 0


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]
    search_fields = ["name", "description"]
    filter_horizontal = ["users"]
    inlines = [RolePermissionInline]


@admin.register(RolePermission)
class RolePermissionAdmin(admin.ModelAdmin):
    list_display = ["role", "entity_type", "action", "level"]
    list_filter = ["entity_type", "action", "level", "role"]
    list_select_related = ["role"]


def _form_values(form: forms.ModelForm, entity_type: str, *, changed_only: bool) -> dict:
    """The form's cleaned data as service values by Bitrix code."""
    values = {}
    for spec in specs_of(entity_type):
        if spec.custom is not None:
            if spec.code in form.cleaned_data and (
                not changed_only or spec.code in form.changed_data
            ):
                raw = form.cleaned_data[spec.code]
                values[spec.code] = raw.splitlines() if spec.multiple else raw
            continue
        if spec.read_only or spec.attr not in form.cleaned_data:
            continue
        if changed_only and spec.attr not in form.changed_data:
            continue
        value = form.cleaned_data[spec.attr]
        if spec.kind in (Kind.USER, Kind.LINK):
            value = value.pk if value is not None else None
        elif spec.kind == Kind.LINKS:
            value = [item.pk for item in value]
        elif spec.kind == Kind.MULTI:
            # The admin edits the column as JSON: any JSON may come, the services judge it.
            items = value if isinstance(value, list) else [] if value is None else [value]
            value = [item.get("VALUE", "") if isinstance(item, dict) else item for item in items]
        values[spec.code] = value
    return values


def _custom_form_fields(entity_type: str) -> dict[str, forms.Field]:
    return {
        spec.code: forms.CharField(
            label=spec.caption,
            required=False,
            strip=False,
            widget=forms.Textarea(attrs={"rows": 2}) if spec.multiple else forms.TextInput,
        )
        for spec in specs_of(entity_type)
        if spec.custom is not None
    }


class RecordAdminForm(forms.ModelForm):
    """Validates with the services' rules, so the admin refuses what every other path refuses.

    Custom fields get a text input each (one value per line for a multiple one), holding the
    value as the CRM's own form posts it; the services convert and judge it.
    """

    request_user: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            held = record_values(self.instance)
            for spec in specs_of(self._meta.model.entity_type):
                if spec.custom is not None and spec.code in self.fields:
                    value = form_value(spec, held.get(spec.code))
                    self.initial[spec.code] = "\n".join(value) if isinstance(value, list) else value

    def clean(self) -> dict:
        cleaned = super().clean()
        entity_type = self._meta.model.entity_type
        is_update = self.instance.pk is not None
        try:
            services.record_validate(
                entity_type=entity_type,
                values=_form_values(self, entity_type, changed_only=is_update),
                user=self.request_user,
                record=self.instance if is_update else None,
            )
        except ValidationError as error:
            specs = field_specs(entity_type)
            for code, messages in error.message_dict.items():
                spec = specs.get(code)
                attr = None if spec is None else code if spec.custom else spec.attr
                for message in messages:
                    self.add_error(attr if attr in self.fields else None, message)
        return cleaned


class RecordAdmin(admin.ModelAdmin):
    """Saves through ``crm.services``, so admin edits are checked and hooked like any other."""

    form = RecordAdminForm
    exclude = ["uf"]  # custom fields get inputs of their own (``RecordAdminForm``)
    list_select_related = ["assigned_by"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_by", "modified_by", "created_at", "modified_at", "version"]
    raw_id_fields = ["assigned_by"]
    list_per_page = 50

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        # The custom fields as of now (definitions change while the process runs): declared
        # on the form, not asked of the model, which knows only their column ``uf``.
        # The add and change views pass the fieldsets' names, custom ones among them: the
        # model form is built from the model's own fields only.
        custom = _custom_form_fields(self.model.entity_type)
        if "fields" not in kwargs:
            kwargs["fields"] = flatten_fieldsets(self.get_fieldsets(request, obj))
        if kwargs["fields"] is not None:
            kwargs["fields"] = [name for name in kwargs["fields"] if name not in custom]
        form = super().get_form(request, obj, change=change, **kwargs)
        form = type(form.__name__, (form,), custom)
        form.request_user = request.user
        return form

    def save_model(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool
    ) -> None:
        entity_type = obj.entity_type
        if change:
            original = type(obj).objects.get(pk=obj.pk)
            services.record_update(
                record=original,
                values=_form_values(form, entity_type, changed_only=True),
                user=request.user,
            )
        else:
            created = services.record_create(
                entity_type=entity_type,
                values=_form_values(form, entity_type, changed_only=False),
                user=request.user,
            )
            obj.pk = created.pk
        obj.refresh_from_db()

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm, formsets, change: bool
    ) -> None:
        # Many-to-many values were saved by the service.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.record_delete(record=obj, user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            services.record_delete(record=obj, user=request.user)


@admin.register(Deal)
class DealAdmin(RecordAdmin):
    list_display = ["title", "stage", "opportunity", "currency", "assigned_by", "created_at"]
    list_filter = ["stage", "currency", "created_at"]
    search_fields = ["title", "comments"]
    raw_id_fields = ["assigned_by", "company", "contact", "contacts"]


@admin.register(Lead)
class LeadAdmin(RecordAdmin):
    list_display = ["title", "status", "name", "last_name", "assigned_by", "created_at"]
    list_filter = ["status", "source", "created_at"]
    search_fields = ["title", "name", "last_name", "company_title"]


@admin.register(Contact)
class ContactAdmin(RecordAdmin):
    list_display = ["__str__", "post", "company", "assigned_by", "created_at"]
    list_filter = ["source", "created_at"]
    search_fields = ["name", "last_name", "post"]
    raw_id_fields = ["assigned_by", "company"]


@admin.register(Company)
class CompanyAdmin(RecordAdmin):
    list_display = ["title", "company_type", "industry", "assigned_by", "created_at"]
    list_filter = ["company_type", "industry", "created_at"]
    search_fields = ["title"]


@admin.register(TimelineEntry)
class TimelineEntryAdmin(admin.ModelAdmin):
    """Read-only: the timeline is written by the services and the comment form."""

    list_display = ["document_id", "kind", "author", "by_process", "created_at"]
    list_filter = ["kind", "by_process", "created_at"]
    search_fields = ["document_id", "text"]
    list_select_related = ["author"]
    date_hierarchy = "created_at"
    list_per_page = 50
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- custom fields -------------------------------------------------------------------------------

_USERFIELD_VALUES = [
    "code",
    "type",
    "labels",
    "multiple",
    "mandatory",
    "sort",
    "show_in_list",
    "show_filter",
    "settings",
    "xml_id",
]


class _DryRun(Exception):
    """Rolls back a service call made only to learn what it refuses."""


def _userfield_dry_run(call: Callable[[], object]) -> None:
    """Runs a field service in a savepoint that is always rolled back: the admin validates
    with the services' own rules before it saves (a ValidationError passes through)."""
    try:
        with transaction.atomic():
            call()
            raise _DryRun
    except _DryRun:
        pass


def _userfield_save(
    *, pk: int | None, entity_type: str, values: dict[str, Any], user: Any
) -> UserField:
    if pk is not None:
        field = UserField.objects.get(pk=pk)
        return services.userfield_update(field=field, values=values, user=user)
    return services.userfield_create(entity_type=entity_type, values=values, user=user)


class UserFieldAdminForm(forms.ModelForm):
    """Refuses what the field pages refuse: the services judge the values."""

    request_user: Any = None

    class Meta:
        model = UserField
        fields = ["entity_type", *_USERFIELD_VALUES]

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        values = {name: data[name] for name in _USERFIELD_VALUES if name in self.fields}
        # An emptied JSON box means "none", not "null".
        for name in ("labels", "settings"):
            if name in values and values[name] is None:
                values[name] = {}
        return values

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            _userfield_dry_run(
                lambda: _userfield_save(
                    pk=self.instance.pk,
                    entity_type=cleaned.get("entity_type") or self.instance.entity_type,
                    values=self.values(),
                    user=self.request_user,
                )
            )
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                for message in messages:
                    self.add_error(key if key in self.fields else None, message)
        return cleaned


def _items_of(formset: forms.BaseInlineFormSet) -> list[dict[str, Any]]:
    """The options of the inline as the services take them."""
    items = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None)
        if not data:
            continue
        item = data.get("id")
        items.append(
            {
                "id": item.pk if item is not None else None,
                "value": data.get("value", ""),
                "sort": data.get("sort"),
                "is_default": data.get("is_default", False),
                "xml_id": data.get("xml_id", ""),
                "delete": data.get("DELETE", False),
            }
        )
    return items


class UserFieldItemFormSet(forms.BaseInlineFormSet):
    """Checks the options with the services too (one default for a single field …), on the
    field as its form made it (``instance``); the form reports the field's own errors."""

    request_user: Any = None

    def clean(self) -> None:
        super().clean()
        field = self.instance
        if any(self.errors) or field.entity_type not in EntityType.values:
            return
        values = {name: getattr(field, name) for name in _USERFIELD_VALUES}
        values["items"] = _items_of(self)
        try:
            _userfield_dry_run(
                lambda: _userfield_save(
                    pk=field.pk,
                    entity_type=field.entity_type,
                    values=values,
                    user=self.request_user,
                )
            )
        except ValidationError as error:
            if error.message_dict.get("items"):
                raise ValidationError(error.message_dict["items"]) from None


class UserFieldItemInline(admin.TabularInline):
    model = UserFieldItem
    formset = UserFieldItemFormSet
    fields = ["value", "sort", "is_default", "xml_id"]
    extra = 0


@admin.register(UserField)
class UserFieldAdmin(admin.ModelAdmin):
    """Saves and deletes through ``crm.services``: the values index, the records' values and
    the field cache follow the definition as they do from the field pages."""

    form = UserFieldAdminForm
    inlines = [UserFieldItemInline]
    list_display = ["entity_type", "code", "type", "multiple", "mandatory", "sort"]
    list_filter = ["entity_type", "type"]
    search_fields = ["code", "xml_id"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A field's code and entity type are for life.
        return ["entity_type", "code", "created_at"] if obj is not None else ["created_at"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request_user = request.user
        return form

    def get_formsets_with_inlines(self, request: HttpRequest, obj: Any = None):
        for formset, inline in super().get_formsets_with_inlines(request, obj):
            formset.request_user = request.user
            yield formset, inline

    def save_model(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool
    ) -> None:
        saved = _userfield_save(
            pk=obj.pk if change else None,
            entity_type=obj.entity_type,
            values=form.values(),
            user=request.user,
        )
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm, formsets, change: bool
    ) -> None:
        for formset in formsets:
            if formset.has_changed():
                services.userfield_update(
                    field=UserField.objects.get(pk=form.instance.pk),
                    values={"items": _items_of(formset)},
                    user=request.user,
                )
            # The change message reads what a formset saved; the service saved the options.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.userfield_delete(field=obj, user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            services.userfield_delete(field=obj, user=request.user)


@admin.register(StoredFile)
class StoredFileAdmin(admin.ModelAdmin):
    """Read-only: files come from records' file fields, which decide who may read them."""

    list_display = ["name", "size", "content_type", "created_by", "created_at"]
    search_fields = ["name"]
    list_select_related = ["created_by"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

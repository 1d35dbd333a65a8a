"""The Django admin of lists. Every write goes through ``lists.services``, so the admin refuses
what the pages and REST refuse and fires the same process hooks; elements are added on the
pages (their typed form) and only edited here, files only read."""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest

from lists import services
from lists.models import Element, ElementFile, List, ListField, ListFieldOption

_LIST_VALUES = ["name", "description", "code", "sort", "icon", "kind", "bizproc", "element_name"]
_FIELD_VALUES = ["name", "sort", "multiple", "required", "show_in_list", "filterable", "default"]
_ELEMENT_VALUES = {
    "name": "NAME",
    "sort": "SORT",
    "active_from": "ACTIVE_FROM",
    "active_to": "ACTIVE_TO",
    "preview_text": "PREVIEW_TEXT",
    "detail_text": "DETAIL_TEXT",
}


def _errors_onto(form: forms.ModelForm, error: ValidationError, names: dict[str, str]) -> None:
    """The services' messages next to the admin's inputs (``names``: service key → input)."""
    for key, messages in error.message_dict.items():
        target = names.get(key, key)
        for message in messages:
            form.add_error(target if target in form.fields else None, message)


class ServiceCheckedForm(forms.ModelForm):
    """Saves once the form is checked, through the services (their refusals become the
    form's errors); ``save_model`` then has nothing left to write."""

    request_user: Any = None
    saved: Any = None

    def save_through_services(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def _post_clean(self) -> None:
        # After the model's own checks (its unique codes): a row saved earlier would fail them.
        super()._post_clean()
        if self.errors:
            return
        try:
            self.saved = self.save_through_services()
        except ValidationError as error:
            _errors_onto(self, error, self.service_names())
        except PermissionDenied as denied:
            self.add_error(None, str(denied))

    def service_names(self) -> dict[str, str]:
        return {}


class ListAdminForm(ServiceCheckedForm):
    def save_through_services(self) -> List:
        values = {name: self.cleaned_data[name] for name in _LIST_VALUES if name in self.fields}
        values["access"] = self.cleaned_data.get("access") or {}
        if self.instance.pk:
            values.pop("kind", None)
            return services.list_update(list_=self.instance, values=values, user=self.request_user)
        return services.list_create(values=values, user=self.request_user)


class ListFieldInline(admin.TabularInline):
    """A list's properties, to read: they are edited on their own admin page."""

    model = ListField
    fields = ["code", "name", "type", "multiple", "required", "sort"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class _ServiceAdmin(admin.ModelAdmin):
    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request_user = request.user
        return form

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.pk = form.saved.pk
        obj.refresh_from_db()

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # The inlines here are read-only: saving their formsets writes nothing.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


@admin.register(List)
class ListAdmin(_ServiceAdmin):
    form = ListAdminForm
    list_display = ["name", "code", "kind", "bizproc", "sort"]
    list_filter = ["kind", "bizproc"]
    search_fields = ["name", "code"]
    readonly_fields = ["created_by", "created_at"]
    inlines = [ListFieldInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The type of a list is chosen once.
        return [*self.readonly_fields, "kind"] if obj is not None else list(self.readonly_fields)

    def delete_model(self, request: HttpRequest, obj: List) -> None:
        services.list_delete(list_=obj, user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            services.list_delete(list_=obj, user=request.user)


class ListFieldAdminForm(ServiceCheckedForm):
    def save_through_services(self) -> ListField:
        values = {name: self.cleaned_data[name] for name in _FIELD_VALUES if name in self.fields}
        if "settings" in self.fields:
            values["settings"] = self.cleaned_data.get("settings") or {}
        if self.instance.pk:
            return services.listfield_update(
                field=self.instance, values=values, user=self.request_user
            )
        values |= {"code": self.cleaned_data["code"], "type": self.cleaned_data["type"]}
        return services.listfield_create(
            list_=self.cleaned_data["list"], values=values, user=self.request_user
        )


class ListFieldOptionInline(admin.TabularInline):
    """The options of a List property, to read: they are edited on the field's page."""

    model = ListFieldOption
    fields = ["value", "xml_id", "sort", "default"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ListField)
class ListFieldAdmin(_ServiceAdmin):
    form = ListFieldAdminForm
    list_display = ["name", "code", "list", "type", "multiple", "required", "sort"]
    list_filter = ["type", "list"]
    search_fields = ["name", "code"]
    list_select_related = ["list"]
    inlines = [ListFieldOptionInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A property's list, code and type are chosen once.
        return ["list", "code", "type"] if obj is not None else []

    def delete_model(self, request: HttpRequest, obj: ListField) -> None:
        services.listfield_delete(field=obj, user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            services.listfield_delete(field=obj, user=request.user)


class ElementAdminForm(ServiceCheckedForm):
    def save_through_services(self) -> Element:
        values = {
            code: self.cleaned_data[name]
            for name, code in _ELEMENT_VALUES.items()
            if name in self.changed_data
        }
        element = Element.objects.get(pk=self.instance.pk)
        services.element_update(element=element, values=values, user=self.request_user)
        return element

    def service_names(self) -> dict[str, str]:
        return {code: name for name, code in _ELEMENT_VALUES.items()}


@admin.register(Element)
class ElementAdmin(_ServiceAdmin):
    """Elements' built-in fields, edited through the services; property values are shown as
    stored (they are edited on the element's page, whose form knows their types)."""

    form = ElementAdminForm
    fields = [
        "list",
        *_ELEMENT_VALUES,
        "values",
        "code",
        "created_by",
        "created_at",
        "modified_by",
        "modified_at",
        "version",
    ]
    readonly_fields = [
        "list",
        "values",
        "code",
        "created_by",
        "created_at",
        "modified_by",
        "modified_at",
        "version",
    ]
    list_display = ["name", "list", "created_by", "created_at"]
    list_filter = ["list"]
    search_fields = ["name"]
    list_select_related = ["list", "created_by"]
    list_per_page = 50
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Element) -> None:
        services.element_delete(element=obj, user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            services.element_delete(element=obj, user=request.user)


@admin.register(ElementFile)
class ElementFileAdmin(admin.ModelAdmin):
    """Read-only: files are uploaded with an element's form."""

    list_display = ["name", "size", "element", "uploaded_by", "uploaded_at"]
    search_fields = ["name"]
    list_select_related = ["element", "uploaded_by"]
    readonly_fields = ["file", "name", "size", "content_type", "uploaded_by", "uploaded_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

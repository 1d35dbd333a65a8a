"""Universal lists (Bitrix's information blocks of type ``lists`` and ``bitrix_processes``).

A list has built-in element fields as Bitrix names them (``NAME``, ``SORT``, ``ACTIVE_FROM`` …)
and properties of its own (``PROPERTY_<CODE>``, ``ListField``) with Bitrix's property types.
An element keeps its property values in one JSON column keyed by the property's id, in a form
that sorts and compares in the database as the type does (see ``lists.properties``).
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ListKind(models.TextChoices):
    """Bitrix's ``IBLOCK_TYPE_ID``: a plain list, or one whose form employees fill to start a
    process ("Processes in the feed")."""

    LISTS = "lists", pgettext_lazy("list kind", "List")
    PROCESSES = "bitrix_processes", pgettext_lazy("list kind", "Process (in the feed)")


class Right(models.TextChoices):
    """What a list's access grants beyond the own elements everyone may read and edit."""

    READ = "read", _("Read every element")
    ADD = "add", _("Add elements")
    EDIT = "edit", _("Edit and delete every element")
    DESIGN = "design", _("Design its processes")


class ListIcon(models.TextChoices):
    LIST = "list", pgettext_lazy("icon", "List")
    CALENDAR = "calendar", pgettext_lazy("icon", "Calendar")
    MONEY = "money", pgettext_lazy("icon", "Money")
    PLANE = "plane", pgettext_lazy("icon", "Trip")
    DOCUMENT = "document", pgettext_lazy("icon", "Document")
    BOX = "box", pgettext_lazy("icon", "Box")


class List(models.Model):
    kind = models.CharField(_("type"), max_length=20, choices=ListKind, default=ListKind.LISTS)
    name = models.CharField(_("name"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    code = models.CharField(_("code"), max_length=50, unique=True)
    sort = models.PositiveIntegerField(_("sort"), default=500)
    icon = models.CharField(_("icon"), max_length=20, choices=ListIcon, default=ListIcon.LIST)
    bizproc = models.BooleanField(_("business processes"), default=True)
    # {right: ["AU" (every user) | "U<user id>" | "G<group id>", …]}, Bitrix's access codes.
    access = models.JSONField(_("access"), default=dict, blank=True)
    element_name = models.CharField(_("element name"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["sort", "name", "pk"]
        verbose_name = _("list")
        verbose_name_plural = _("lists")

    def __str__(self) -> str:
        return self.name


class PropertyType(models.TextChoices):
    """Bitrix's property types (``PROPERTY_TYPE`` and ``USER_TYPE`` joined by a colon)."""

    STRING = "S", pgettext_lazy("property type", "String")
    NUMBER = "N", pgettext_lazy("property type", "Number")
    LIST = "L", pgettext_lazy("property type", "List")
    FILE = "F", pgettext_lazy("property type", "File")
    ELEMENT = "E", pgettext_lazy("property type", "Link to an element")
    DATE = "S:Date", pgettext_lazy("property type", "Date")
    DATETIME = "S:DateTime", pgettext_lazy("property type", "Date and time")
    EMPLOYEE = "S:employee", pgettext_lazy("property type", "Employee")
    HTML = "S:HTML", pgettext_lazy("property type", "HTML/text")
    MONEY = "S:Money", pgettext_lazy("property type", "Money")
    SEQUENCE = "N:Sequence", pgettext_lazy("property type", "Counter")


class ListField(models.Model):
    """A property of a list's elements: ``PROPERTY_<code>`` in processes, ``PROPERTY_<id>``
    in REST values."""

    list = models.ForeignKey(
        List, on_delete=models.CASCADE, related_name="properties", verbose_name=_("list")
    )
    code = models.CharField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=255)
    type = models.CharField(_("type"), max_length=20, choices=PropertyType)
    multiple = models.BooleanField(_("multiple"), default=False)
    required = models.BooleanField(_("required"), default=False)
    sort = models.PositiveIntegerField(_("sort"), default=500)
    default = models.JSONField(_("default value"), null=True, blank=True, encoder=DjangoJSONEncoder)
    show_in_list = models.BooleanField(_("shown in the list"), default=True)
    filterable = models.BooleanField(_("shown in the filter"), default=False)
    # E: {"LINK_IBLOCK_ID": <list id>}; N:Sequence: {"next": <the next number>}.
    settings = models.JSONField(_("settings"), default=dict, blank=True)

    class Meta:
        ordering = ["sort", "pk"]
        verbose_name = _("list field")
        verbose_name_plural = _("list fields")
        constraints = [
            models.UniqueConstraint(fields=["list", "code"], name="lists_field_code_unique")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def engine_code(self) -> str:
        return f"PROPERTY_{self.code}"

    @property
    def rest_code(self) -> str:
        return f"PROPERTY_{self.pk}"


class ListFieldOption(models.Model):
    """An option of an ``L`` property; its id is the value REST reads and writes, its
    ``xml_id`` the key processes use."""

    field = models.ForeignKey(
        ListField, on_delete=models.CASCADE, related_name="options", verbose_name=_("field")
    )
    value = models.CharField(_("value"), max_length=255)
    xml_id = models.CharField(_("external code"), max_length=100)
    sort = models.PositiveIntegerField(_("sort"), default=500)
    default = models.BooleanField(_("default"), default=False)

    class Meta:
        ordering = ["sort", "pk"]
        verbose_name = _("option")
        verbose_name_plural = _("options")
        constraints = [
            models.UniqueConstraint(fields=["field", "xml_id"], name="lists_option_xml_unique")
        ]

    def __str__(self) -> str:
        return self.value


class Element(models.Model):
    list = models.ForeignKey(
        List, on_delete=models.CASCADE, related_name="elements", verbose_name=_("list")
    )
    name = models.CharField(_("name"), max_length=255)
    code = models.CharField(_("code"), max_length=255, blank=True)
    sort = models.IntegerField(_("sort"), default=500)
    active_from = models.DateTimeField(_("active from"), null=True, blank=True)
    active_to = models.DateTimeField(_("active to"), null=True, blank=True)
    preview_text = models.TextField(_("preview text"), blank=True)
    detail_text = models.TextField(_("detail text"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    modified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("modified by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    modified_at = models.DateTimeField(_("modified"), default=timezone.now, editable=False)
    # Raised by every change: an edit based on an older version is refused.
    version = models.PositiveIntegerField(_("version"), default=1)
    values = models.JSONField(
        _("property values"), default=dict, blank=True, encoder=DjangoJSONEncoder
    )

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("element")
        verbose_name_plural = _("elements")
        indexes = [
            models.Index(fields=["list", "-id"], name="lists_el_list_id_idx"),
            models.Index(fields=["list", "created_by", "-id"], name="lists_el_own_idx"),
            models.Index(fields=["list", "name", "id"], name="lists_el_name_idx"),
            models.Index(fields=["list", "sort", "id"], name="lists_el_sort_idx"),
            # The element table sorts on its dates too (Created, Modified).
            models.Index(fields=["list", "created_at", "id"], name="lists_el_created_idx"),
            models.Index(fields=["list", "modified_at", "id"], name="lists_el_modified_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["list", "code"], condition=~Q(code=""), name="lists_el_code_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def document_id(self) -> str:
        """Bitrix's document id of an element: its ID."""
        return str(self.pk)


class ElementFile(models.Model):
    """A file a person uploaded for an ``F`` property; values hold its id."""

    file = models.FileField(_("file"), upload_to="lists/%Y/%m/", max_length=255)
    name = models.CharField(_("name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    # The element whose value holds it (None until saved in one).
    element = models.ForeignKey(
        Element,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="files",
        verbose_name=_("element"),
    )

    class Meta:
        verbose_name = _("file")
        verbose_name_plural = _("files")

    def __str__(self) -> str:
        return self.name


class GrantOperation(models.TextChoices):
    READ = "read", pgettext_lazy("access", "Read")
    EDIT = "edit", _("Edit")


class ElementGrant(models.Model):
    """A right on one element that a process granted (the Set permissions block): a user, or
    the members of a group, may read (or edit, which includes reading) it from now on."""

    element = models.ForeignKey(
        Element, on_delete=models.CASCADE, related_name="grants", verbose_name=_("element")
    )
    operation = models.CharField(_("operation"), max_length=10, choices=GrantOperation)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    group = models.ForeignKey(
        "auth.Group",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("group"),
    )
    # The process that granted it (its id): "replace" takes back what processes granted.
    workflow_id = models.CharField(_("process"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("element right")
        verbose_name_plural = _("element rights")
        indexes = [
            models.Index(fields=["user", "operation"], name="lists_grant_user_idx"),
            models.Index(fields=["group", "operation"], name="lists_grant_group_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(group__isnull=False),
                name="lists_grant_someone",
            )
        ]

    def __str__(self) -> str:
        return f"{self.element_id} · {self.operation}"

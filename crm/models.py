"""CRM records (leads, contacts, companies, deals), their reference lists and access roles.

Records are written only through ``crm.services``; field codes towards the engine, REST and
``.bpt`` files are Bitrix's (``TITLE``, ``STAGE_ID`` …) and are mapped in ``crm.documents``.
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class EntityType(models.TextChoices):
    LEAD = "LEAD", _("Lead")
    CONTACT = "CONTACT", _("Contact")
    COMPANY = "COMPANY", _("Company")
    DEAL = "DEAL", _("Deal")


class StatusList(models.TextChoices):
    """The reference lists, named as Bitrix names them (``b_crm_status.ENTITY_ID``)."""

    LEAD_STATUS = "STATUS", _("Lead statuses")
    DEAL_STAGE = "DEAL_STAGE", _("Deal stages")
    SOURCE = "SOURCE", _("Sources")
    COMPANY_TYPE = "COMPANY_TYPE", _("Company types")
    INDUSTRY = "INDUSTRY", _("Industries")


class Semantics(models.TextChoices):
    IN_PROGRESS = "P", _("In progress")
    SUCCESS = "S", pgettext_lazy("stage", "Success")  # «Успех», not a journal row's «Успешно»
    FAILURE = "F", _("Failure")


class Status(models.Model):
    """One row of a reference list: a deal stage, a lead status, a source …"""

    list = models.CharField(_("list"), max_length=20, choices=StatusList)
    code = models.CharField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=100)
    sort = models.PositiveIntegerField(_("sort"), default=100)
    semantics = models.CharField(
        _("semantics"), max_length=1, choices=Semantics, default=Semantics.IN_PROGRESS
    )

    class Meta:
        verbose_name = _("reference row")
        verbose_name_plural = _("reference rows")
        ordering = ["list", "sort", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["list", "code"], name="crm_status_unique_code"),
        ]

    def __str__(self) -> str:
        return self.name


class Currency(models.TextChoices):
    RUB = "RUB", _("Russian ruble")
    USD = "USD", _("US dollar")
    EUR = "EUR", _("Euro")


class Record(models.Model):
    """What every CRM record has: a responsible user, authorship and an edit version."""

    entity_type: EntityType

    comments = models.TextField(_("comment"), blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    modified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("modified by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Set by the services (not auto_now), so imports and demo data can keep their own dates.
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    modified_at = models.DateTimeField(_("modified"), default=timezone.now, editable=False)
    # Bumped by every write, so an edit based on an older version can be refused.
    version = models.PositiveIntegerField(_("version"), default=1)
    # The values of the custom fields (``UserField``) by code, as ``crm.custom_fields`` stores
    # them: one column read with the row, indexed per filterable field (see the README).
    uf = models.JSONField(_("custom fields"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        abstract = True
        ordering = ["-pk"]

    def get_absolute_url(self) -> str:
        return reverse(
            "crm:record-detail", kwargs={"entity": self.entity_type.lower(), "pk": self.pk}
        )

    @property
    def document_id(self) -> str:
        return f"{self.entity_type}_{self.pk}"


class Company(Record):
    entity_type = EntityType.COMPANY

    title = models.CharField(_("company name"), max_length=255)
    company_type = models.CharField(_("company type"), max_length=50, blank=True)
    industry = models.CharField(_("industry"), max_length=50, blank=True)
    revenue = models.DecimalField(
        _("annual revenue"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, choices=Currency, blank=True)
    phone = models.JSONField(_("phone"), default=list, blank=True)
    email = models.JSONField(_("email"), default=list, blank=True)

    class Meta(Record.Meta):
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        indexes = [
            models.Index(fields=["assigned_by", "-id"], name="crm_company_assigned_idx"),
            models.Index(fields=["title", "id"], name="crm_company_title_idx"),
            models.Index(fields=["created_at", "id"], name="crm_company_created_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class Contact(Record):
    entity_type = EntityType.CONTACT

    name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    post = models.CharField(_("position"), max_length=255, blank=True)
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contacts",
    )
    source = models.CharField(_("source"), max_length=50, blank=True)
    phone = models.JSONField(_("phone"), default=list, blank=True)
    email = models.JSONField(_("email"), default=list, blank=True)

    class Meta(Record.Meta):
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            models.Index(fields=["assigned_by", "-id"], name="crm_contact_assigned_idx"),
            models.Index(fields=["last_name", "name", "id"], name="crm_contact_name_idx"),
            models.Index(fields=["created_at", "id"], name="crm_contact_created_idx"),
        ]

    def __str__(self) -> str:
        return " ".join(part for part in (self.name, self.last_name) if part) or f"#{self.pk}"


class Lead(Record):
    entity_type = EntityType.LEAD

    title = models.CharField(_("lead name"), max_length=255)
    name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    company_title = models.CharField(_("company name"), max_length=255, blank=True)
    status = models.CharField(_("status"), max_length=50, default="NEW")
    source = models.CharField(_("source"), max_length=50, blank=True)
    opportunity = models.DecimalField(
        _("amount"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, choices=Currency, blank=True)
    phone = models.JSONField(_("phone"), default=list, blank=True)
    email = models.JSONField(_("email"), default=list, blank=True)

    class Meta(Record.Meta):
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            models.Index(fields=["assigned_by", "-id"], name="crm_lead_assigned_idx"),
            models.Index(fields=["status", "-id"], name="crm_lead_status_idx"),
            models.Index(
                fields=["status", "assigned_by", "-id"], name="crm_lead_status_assigned_idx"
            ),
            models.Index(fields=["title", "id"], name="crm_lead_title_idx"),
            models.Index(fields=["created_at", "id"], name="crm_lead_created_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class Deal(Record):
    entity_type = EntityType.DEAL

    title = models.CharField(_("deal name"), max_length=255)
    stage = models.CharField(_("stage"), max_length=50, default="NEW")
    probability = models.PositiveSmallIntegerField(_("probability, %"), null=True, blank=True)
    opportunity = models.DecimalField(
        _("amount"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, choices=Currency, blank=True)
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deals",
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="primary_deals",
    )
    contacts = models.ManyToManyField(
        Contact, verbose_name=_("contacts"), blank=True, related_name="deals"
    )
    begin_date = models.DateField(_("start date"), null=True, blank=True)
    close_date = models.DateField(_("close date"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=50, blank=True)

    class Meta(Record.Meta):
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        indexes = [
            models.Index(fields=["assigned_by", "-id"], name="crm_deal_assigned_idx"),
            models.Index(fields=["stage", "-id"], name="crm_deal_stage_idx"),
            models.Index(
                fields=["stage", "assigned_by", "-id"], name="crm_deal_stage_assigned_idx"
            ),
            models.Index(fields=["title", "id"], name="crm_deal_title_idx"),
            models.Index(fields=["created_at", "id"], name="crm_deal_created_idx"),
        ]

    def __str__(self) -> str:
        return self.title


RECORD_MODELS: dict[str, type[Record]] = {
    EntityType.LEAD: Lead,
    EntityType.CONTACT: Contact,
    EntityType.COMPANY: Company,
    EntityType.DEAL: Deal,
}


class Action(models.TextChoices):
    # Nouns, as Bitrix names access rights: «Удаление», where a button's verb is «Удалить».
    READ = "read", pgettext_lazy("access right", "Read")
    ADD = "add", pgettext_lazy("access right", "Add")
    UPDATE = "update", pgettext_lazy("access right", "Update")
    DELETE = "delete", pgettext_lazy("access right", "Delete")
    START_PROCESSES = "start_processes", _("Start processes")
    DESIGN_AUTOMATION = "design_automation", _("Design automation")


class Level(models.TextChoices):
    """Ordered: a higher level includes the lower ones."""

    NONE = "none", pgettext_lazy("access level", "None")  # «Нет доступа», a journal result «Нет»
    OWN = "own", pgettext_lazy("access level", "Own")
    ALL = "all", pgettext_lazy("access level", "All")


LEVEL_ORDER = {Level.NONE: 0, Level.OWN: 1, Level.ALL: 2}


class Role(models.Model):
    """A CRM role: a level per entity type and action; users get the highest of their roles."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("users"), blank=True, related_name="crm_roles"
    )

    class Meta:
        verbose_name = _("CRM role")
        verbose_name_plural = _("CRM roles")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RolePermission(models.Model):
    role = models.ForeignKey(
        Role, verbose_name=_("role"), on_delete=models.CASCADE, related_name="permissions"
    )
    entity_type = models.CharField(_("entity type"), max_length=10, choices=EntityType)
    action = models.CharField(_("action"), max_length=20, choices=Action)
    level = models.CharField(_("level"), max_length=4, choices=Level, default=Level.NONE)

    class Meta:
        verbose_name = _("role permission")
        verbose_name_plural = _("role permissions")
        ordering = ["role", "entity_type", "action"]
        constraints = [
            models.UniqueConstraint(
                fields=["role", "entity_type", "action"], name="crm_role_permission_unique"
            ),
            # Designing automation is per type: there is no "own" template.
            models.CheckConstraint(
                condition=~models.Q(action="design_automation", level="own"),
                name="crm_design_automation_not_own",
                violation_error_message=_("Design automation is either allowed or not."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.get_entity_type_display()} · {self.get_action_display()}"


class TimelineKind(models.TextChoices):
    CREATED = "created", pgettext_lazy("timeline", "Created")
    CHANGED = "changed", _("Fields changed")
    COMMENT = "comment", _("Comment")


class TimelineEntry(models.Model):
    """One event on a record's timeline: its creation, a change of fields, or a comment.

    Rows name their record by document id (``DEAL_5``), like the process journal, so one table
    serves every entity type. Creation and change rows are written by ``crm.services`` in the
    transaction of the write; ``version`` is the record's version after it, so the changes an
    edit form missed can be read back from the timeline.
    """

    document_id = models.CharField(_("document"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=TimelineKind)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    by_process = models.BooleanField(_("by a business process"), default=False)
    text = models.TextField(_("text"), blank=True)
    # {field code: [old, new]} with typed values as JSON (dates as ISO strings).
    changes = models.JSONField(_("changes"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    version = models.PositiveIntegerField(_("record version"), null=True, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["document_id", "-created_at", "-id"], name="crm_timeline_doc_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.document_id} · {self.get_kind_display()}"


class UserFieldType(models.TextChoices):
    """Bitrix's ``USER_TYPE_ID`` of a custom field."""

    STRING = "string", pgettext_lazy("field type", "String")
    INTEGER = "integer", pgettext_lazy("field type", "Integer")
    DOUBLE = "double", pgettext_lazy("field type", "Number")
    BOOLEAN = "boolean", pgettext_lazy("field type", "Yes/No")
    DATE = "date", pgettext_lazy("field type", "Date")
    DATETIME = "datetime", pgettext_lazy("field type", "Date and time")
    ENUMERATION = "enumeration", pgettext_lazy("field type", "List")
    EMPLOYEE = "employee", pgettext_lazy("field type", "Employee")
    MONEY = "money", pgettext_lazy("field type", "Money")
    URL = "url", pgettext_lazy("field type", "Link")
    CRM = "crm", pgettext_lazy("field type", "CRM record")
    FILE = "file", pgettext_lazy("field type", "File")


class UserField(models.Model):
    """A custom field of one entity type (Bitrix's ``UF_CRM_…``), made by a CRM administrator.

    Written only through ``crm.services`` (``userfield_create`` …), which keep the values in
    ``Record.uf``, the field's index and the field cache in step with the definition.
    ``labels`` holds the captions per place and language: ``{"form": {"en": …, "ru": …},
    "column": {…}, "filter": {…}}``. ``settings`` holds Bitrix's ``SETTINGS`` (the default
    value, a CRM link's entity types …).
    """

    entity_type = models.CharField(_("entity type"), max_length=10, choices=EntityType)
    code = models.CharField(_("code"), max_length=50)
    type = models.CharField(_("type"), max_length=20, choices=UserFieldType)
    labels = models.JSONField(_("labels"), default=dict, blank=True)
    multiple = models.BooleanField(_("multiple"), default=False)
    mandatory = models.BooleanField(_("required"), default=False)
    sort = models.PositiveIntegerField(_("sort"), default=100)
    show_in_list = models.BooleanField(_("shown in the list"), default=True)
    show_filter = models.BooleanField(_("shown in the filter"), default=True)
    settings = models.JSONField(_("settings"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    xml_id = models.CharField(_("external code"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["entity_type", "sort", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity_type", "code"], name="crm_userfield_unique_code"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class UserFieldItem(models.Model):
    """An option of an enumeration field; records hold its id (Bitrix's ``LIST`` item)."""

    field = models.ForeignKey(
        UserField, verbose_name=_("field"), on_delete=models.CASCADE, related_name="items"
    )
    value = models.CharField(_("value"), max_length=255)
    sort = models.PositiveIntegerField(_("sort"), default=100)
    is_default = models.BooleanField(_("default"), default=False)
    xml_id = models.CharField(_("external code"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("list option")
        verbose_name_plural = _("list options")
        ordering = ["field", "sort", "pk"]

    def __str__(self) -> str:
        return self.value


class StoredFile(models.Model):
    """A file a record's file field holds; it is served only to who may read that record."""

    file = models.FileField(_("file"), upload_to="crm/%Y/%m/")
    name = models.CharField(_("name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("stored file")
        verbose_name_plural = _("stored files")

    def __str__(self) -> str:
        return self.name


class ListSettings(models.Model):
    """The columns a person chose for one list; codes no longer known are skipped on reading."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    entity_type = models.CharField(_("entity type"), max_length=10, choices=EntityType)
    columns = models.JSONField(_("columns"), default=list, blank=True)

    class Meta:
        verbose_name = _("list settings")
        verbose_name_plural = _("list settings")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "entity_type"], name="crm_listsettings_unique_user_type"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.entity_type}"

"""Custom fields (``UF_CRM_…``): definitions, each type's conversion and storage, filters and
sorting in the database, type changes, deletion, and the refusals of bad input."""

import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models.fields.json import KeyTransform
from django.urls import reverse
from django.utils import translation

from crm import custom_fields, services
from crm.fields import field_specs, record_values
from crm.models import Action, Deal, Level, StoredFile, UserField
from tests.crm.factories import CompanyFactory, DealFactory, UserFactory, user_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return UserFactory(is_crm_admin=True)


@pytest.fixture
def manager():
    return user_with(
        {
            ("DEAL", Action.READ): Level.ALL,
            ("DEAL", Action.ADD): Level.ALL,
            ("DEAL", Action.UPDATE): Level.ALL,
            ("COMPANY", Action.READ): Level.ALL,
        }
    )


def make_field(admin, code, field_type, **values):
    return services.userfield_create(
        entity_type="DEAL",
        values={"code": code, "type": field_type, **values},
        user=admin,
    )


def deal_with(manager, **values):
    return services.record_create(
        entity_type="DEAL", values={"TITLE": "Deal", **values}, user=manager
    )


# --- definitions ---------------------------------------------------------------------------------


def test_a_code_gets_the_bitrix_prefix_and_upper_case(admin):
    field = make_field(admin, "contract_no", "string")
    assert field.code == "UF_CRM_CONTRACT_NO"
    assert "UF_CRM_CONTRACT_NO" in field_specs("DEAL")


@pytest.mark.parametrize("code", ["has space", "ÜBER", "", "X" * 60, "A-B"])
def test_a_code_that_is_not_a_bitrix_code_is_refused(admin, code):
    with pytest.raises(ValidationError) as refused:
        make_field(admin, code, "string")
    assert "code" in refused.value.message_dict
    assert not UserField.objects.exists()


def test_codes_are_unique_per_entity_type(admin):
    make_field(admin, "NO", "string")
    with pytest.raises(ValidationError) as refused:
        make_field(admin, "UF_CRM_NO", "integer")
    assert "already exists" in refused.value.message_dict["code"][0]
    services.userfield_create(
        entity_type="LEAD", values={"code": "NO", "type": "integer"}, user=admin
    )


def test_the_code_cannot_be_changed(admin):
    field = make_field(admin, "NO", "string")
    with pytest.raises(ValidationError):
        services.userfield_update(field=field, values={"code": "OTHER"}, user=admin)
    assert UserField.objects.get().code == "UF_CRM_NO"


def test_an_unknown_type_is_refused_in_russian(admin):
    with translation.override("ru"), pytest.raises(ValidationError) as refused:
        make_field(admin, "X", "matrix")
    assert "Неизвестный тип поля" in refused.value.message_dict["type"][0]


def test_only_crm_administrators_manage_fields(manager, admin):
    with pytest.raises(PermissionDenied):
        make_field(manager, "X", "string")
    field = make_field(admin, "X", "string")
    with pytest.raises(PermissionDenied):
        services.userfield_update(field=field, values={"sort": 5}, user=manager)
    with pytest.raises(PermissionDenied):
        services.userfield_delete(field=field, user=manager)
    assert UserField.objects.filter(pk=field.pk).exists()


def test_labels_follow_the_language_and_fall_back_to_the_form_label(admin):
    make_field(
        admin,
        "SRC",
        "string",
        labels={
            "form": {"en": "Source detail", "ru": "Источник подробно"},
            "column": {"en": "Src"},
        },
    )
    definition = field_specs("DEAL")["UF_CRM_SRC"].custom
    assert definition.label() == "Source detail"
    assert definition.label("column") == "Src"
    with translation.override("ru"):
        assert str(field_specs("DEAL")["UF_CRM_SRC"].caption) == "Источник подробно"
        assert definition.label("column") == "Источник подробно"


# --- values of each type -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field_type", "raw", "typed", "stored"),
    [
        ("string", "Cold call", "Cold call", "Cold call"),
        ("integer", "42", 42, 42),
        ("double", "2,5", 2.5, 2.5),
        ("boolean", "Y", True, True),
        ("boolean", "0", False, False),
        ("date", "2026-12-31", datetime.date(2026, 12, 31), "2026-12-31"),
        ("date", "31.12.2026", datetime.date(2026, 12, 31), "2026-12-31"),
        ("money", "1500|USD", "1500.00|USD", "1500.00|USD"),
        ("money", "99.5", "99.50|RUB", "99.50|RUB"),
        (
            "url",
            "https://example.com/a?b=1",
            "https://example.com/a?b=1",
            "https://example.com/a?b=1",
        ),
    ],
)
def test_each_type_converts_stores_and_reads_back(admin, manager, field_type, raw, typed, stored):
    make_field(admin, "F", field_type)
    deal = deal_with(manager, UF_CRM_F=raw)
    deal.refresh_from_db()
    assert deal.uf["UF_CRM_F"] == stored
    assert record_values(deal)["UF_CRM_F"] == typed


def test_a_datetime_is_stored_in_utc_and_read_back_as_the_same_moment(admin, manager):
    make_field(admin, "AT", "datetime")
    deal = deal_with(manager, UF_CRM_AT="2026-12-07T12:30:00+03:00")
    deal.refresh_from_db()
    assert deal.uf["UF_CRM_AT"] == "2026-12-07T09:30:00+00:00"
    assert record_values(deal)["UF_CRM_AT"] == datetime.datetime(
        2026, 12, 7, 9, 30, tzinfo=datetime.UTC
    )


def test_an_enumeration_holds_option_ids_and_refuses_unknown_ones(admin, manager):
    field = make_field(
        admin,
        "KIND",
        "enumeration",
        items=[{"value": "Retail"}, {"value": "Wholesale", "is_default": True}],
    )
    retail, wholesale = field.items.order_by("sort")
    deal = deal_with(manager)
    assert deal.uf["UF_CRM_KIND"] == wholesale.pk  # the default option
    services.record_update(record=deal, values={"UF_CRM_KIND": str(retail.pk)}, user=manager)
    deal.refresh_from_db()
    assert record_values(deal)["UF_CRM_KIND"] == str(retail.pk)
    with pytest.raises(ValidationError) as refused:
        services.record_update(record=deal, values={"UF_CRM_KIND": "999999"}, user=manager)
    assert "UF_CRM_KIND" in refused.value.message_dict
    deal.refresh_from_db()
    assert deal.uf["UF_CRM_KIND"] == retail.pk


def test_an_employee_field_holds_an_active_users_id(admin, manager):
    make_field(admin, "CURATOR", "employee")
    colleague = UserFactory()
    deal = deal_with(manager, UF_CRM_CURATOR=f"user_{colleague.pk}")
    assert deal.uf["UF_CRM_CURATOR"] == colleague.pk
    assert record_values(deal)["UF_CRM_CURATOR"] == f"user_{colleague.pk}"
    gone = UserFactory(is_active=False)
    with pytest.raises(ValidationError):
        deal_with(manager, UF_CRM_CURATOR=gone.pk)


def test_a_crm_link_must_name_a_record_the_user_may_read(admin, manager):
    from tests.crm.factories import CompanyFactory

    make_field(admin, "PARTNER", "crm", settings={"COMPANY": "Y", "DEAL": "Y"})
    company = CompanyFactory()
    deal = deal_with(manager, UF_CRM_PARTNER=f"CO_{company.pk}")
    assert deal.uf["UF_CRM_PARTNER"] == f"CO_{company.pk}"
    with pytest.raises(ValidationError):
        deal_with(manager, UF_CRM_PARTNER="CO_999999")
    with pytest.raises(ValidationError):
        deal_with(manager, UF_CRM_PARTNER=f"L_{company.pk}")  # leads are not allowed here


def test_a_multiple_field_keeps_a_list(admin, manager):
    make_field(admin, "TAGS", "string", multiple=True)
    deal = deal_with(manager, UF_CRM_TAGS=["a", "b", ""])
    assert deal.uf["UF_CRM_TAGS"] == ["a", "b"]
    assert record_values(deal)["UF_CRM_TAGS"] == ["a", "b"]


def test_a_person_may_attach_only_files_they_uploaded(admin, manager):
    make_field(admin, "SCAN", "file")
    own = StoredFile.objects.create(name="a.pdf", file="crm/a.pdf", created_by=manager)
    foreign = StoredFile.objects.create(name="b.pdf", file="crm/b.pdf", created_by=admin)
    deal = deal_with(manager, UF_CRM_SCAN=own.pk)
    assert deal.uf["UF_CRM_SCAN"] == own.pk
    with pytest.raises(ValidationError):
        deal_with(manager, UF_CRM_SCAN=foreign.pk)


@pytest.mark.parametrize(
    ("field_type", "raw"),
    [
        ("string", "x" * (1024 * 1024)),
        ("integer", "twelve"),
        ("integer", str(2**70)),
        ("double", "1e999"),
        ("boolean", "maybe"),
        ("date", "31/31/2026"),
        ("money", "ten|RUB"),
        ("money", "10|XXX"),
        ("url", "javascript:alert(1)"),
        ("employee", "user_999999"),
    ],
)
@pytest.mark.parametrize("language", ["en", "ru"])
def test_bad_values_are_refused_with_the_fields_name_and_nothing_is_stored(
    admin, manager, field_type, raw, language
):
    make_field(admin, "BAD", field_type, labels={"form": {"en": "Bad field", "ru": "Поле X"}})
    before = Deal.objects.count()
    with translation.override(language), pytest.raises(ValidationError) as refused:
        deal_with(manager, UF_CRM_BAD=raw)
    message = refused.value.message_dict["UF_CRM_BAD"][0]
    if language == "en":
        assert "Bad field" in message
    else:  # the message and the label both in Russian
        assert "Поле X" in message
        assert re.search("[а-я]{4}", message.replace("Поле X", ""))
    assert Deal.objects.count() == before


def test_a_mandatory_field_is_required_on_create(admin, manager):
    make_field(admin, "NO", "string", mandatory=True, labels={"form": {"ru": "Номер договора"}})
    with translation.override("ru"), pytest.raises(ValidationError) as refused:
        deal_with(manager)
    assert refused.value.message_dict["UF_CRM_NO"] == [
        "Поле 'Номер договора' должно быть обязательно заполнено"
    ]


def test_a_change_of_a_custom_field_is_on_the_timeline(admin, manager):
    from crm.models import TimelineEntry, TimelineKind

    make_field(admin, "NO", "string")
    deal = deal_with(manager, UF_CRM_NO="A-1")
    changes = services.record_update(record=deal, values={"UF_CRM_NO": "A-2"}, user=manager)
    assert changes == {"UF_CRM_NO": ("A-1", "A-2")}
    entry = TimelineEntry.objects.get(document_id=deal.document_id, kind=TimelineKind.CHANGED)
    assert entry.changes == {"UF_CRM_NO": ["A-1", "A-2"]}


def test_an_edit_based_on_an_older_version_of_a_custom_field_is_refused(admin, manager):
    make_field(admin, "NO", "string")
    deal = deal_with(manager, UF_CRM_NO="A-1")
    services.record_update(record=deal, values={"UF_CRM_NO": "A-2"}, user=manager)
    with pytest.raises(services.StaleRecord):
        services.record_update(
            record=deal, values={"UF_CRM_NO": "A-3"}, user=manager, expected_version=1
        )
    deal.refresh_from_db()
    assert deal.uf["UF_CRM_NO"] == "A-2"
    assert services.timeline_changes_since(record=deal, version=1) == {"UF_CRM_NO": ("A-1", "A-2")}


# --- filters and sorting in the database ---------------------------------------------------------


def test_records_filter_and_sort_on_integer_and_enumeration_values(admin):
    field = make_field(admin, "KIND", "enumeration", items=[{"value": "A"}, {"value": "B"}])
    make_field(admin, "RANK", "integer")
    a, b = field.items.order_by("sort")
    for rank, option in [(10, a), (2, a), (30, b), (100, a)]:
        DealFactory(uf={"UF_CRM_KIND": option.pk, "UF_CRM_RANK": rank})
    ranks = list(
        Deal.objects.filter(uf__UF_CRM_KIND=a.pk)
        .order_by(KeyTransform("UF_CRM_RANK", "uf"))
        .values_list("uf__UF_CRM_RANK", flat=True)
    )
    assert ranks == [2, 10, 100]
    assert Deal.objects.filter(uf__UF_CRM_RANK__gt=20).count() == 2


def test_a_filterable_field_gets_an_index_and_loses_it_when_deleted(admin):
    field = make_field(admin, "RANK", "integer")
    name = custom_fields.index_name(custom_fields.CustomField.of(field))
    with connection.cursor() as cursor:
        assert name in connection.introspection.get_constraints(cursor, "crm_deal")
    services.userfield_update(field=field, values={"show_filter": False}, user=admin)
    with connection.cursor() as cursor:
        assert name not in connection.introspection.get_constraints(cursor, "crm_deal")


# --- type changes and deletion -------------------------------------------------------------------


def test_a_type_change_converts_values_that_convert(admin, manager):
    field = make_field(admin, "NO", "string")
    deal = deal_with(manager, UF_CRM_NO="17")
    services.userfield_update(field=field, values={"type": "integer"}, user=admin)
    deal.refresh_from_db()
    assert deal.uf["UF_CRM_NO"] == 17


def test_a_type_change_is_refused_while_a_value_does_not_convert(admin, manager):
    field = make_field(admin, "NO", "string")
    deal = deal_with(manager, UF_CRM_NO="A-17")
    with pytest.raises(ValidationError) as refused:
        services.userfield_update(field=field, values={"type": "integer"}, user=admin)
    assert "1 records" in refused.value.message_dict["type"][0]
    deal.refresh_from_db()
    assert deal.uf["UF_CRM_NO"] == "A-17"
    assert UserField.objects.get().type == "string"


@pytest.mark.parametrize(("field_type", "value"), [("integer", 1), ("string", "1")])
def test_numbers_do_not_become_files_of_other_records(admin, manager, field_type, value):
    other = UserFactory()
    upload = SimpleUploadedFile("salaries.txt", b"secret")
    services.stored_file_create(upload=upload, user=other)
    field = make_field(admin, "NO", field_type)
    deal = deal_with(manager, UF_CRM_NO=value)

    with pytest.raises(ValidationError) as refused:
        services.userfield_update(field=field, values={"type": "file"}, user=admin)

    assert "1 records" in refused.value.message_dict["type"][0]
    deal.refresh_from_db()
    assert deal.uf["UF_CRM_NO"] == value
    assert UserField.objects.get().type == field_type


def test_a_field_without_values_may_become_a_file_field(admin, manager):
    field = make_field(admin, "NO", "string")
    deal_with(manager)

    services.userfield_update(field=field, values={"type": "file"}, user=admin)

    assert UserField.objects.get().type == "file"


def test_deleting_a_field_removes_its_values(admin, manager):
    field = make_field(admin, "NO", "string")
    deal = deal_with(manager, UF_CRM_NO="A-1", OPPORTUNITY="10")
    services.userfield_delete(field=field, user=admin)
    deal.refresh_from_db()
    assert "UF_CRM_NO" not in deal.uf
    assert "UF_CRM_NO" not in field_specs("DEAL")
    assert record_values(deal)["OPPORTUNITY"] == 10.0


def test_removing_an_option_removes_it_from_records(admin, manager):
    field = make_field(admin, "KIND", "enumeration", items=[{"value": "A"}, {"value": "B"}])
    a = field.items.order_by("sort").first()
    deal = deal_with(manager, UF_CRM_KIND=a.pk)
    services.userfield_update(
        field=field, values={"items": [{"id": a.pk, "delete": True}]}, user=admin
    )
    deal.refresh_from_db()
    assert "UF_CRM_KIND" not in deal.uf
    assert list(field.items.values_list("value", flat=True)) == ["B"]


# --- the Django admin ----------------------------------------------------------------------------


def test_the_admin_edits_custom_values_through_the_services(admin):
    from django.contrib.admin.sites import site
    from django.test import RequestFactory

    make_field(admin, "NO", "string", labels={"form": {"en": "Contract no."}})
    make_field(admin, "RANK", "integer", labels={"form": {"en": "Rank"}})
    deal = DealFactory(uf={"UF_CRM_NO": "A-1"})
    request = RequestFactory().get("/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    model_admin = site._registry[Deal]
    form_class = model_admin.get_form(request, deal, change=True)
    form = form_class(instance=deal)
    assert form.fields["UF_CRM_NO"].label == "Contract no."
    assert form.initial["UF_CRM_NO"] == "A-1"
    assert "uf" not in form.fields

    data = {name: form[name].value() for name in form.fields}
    data = {key: ("" if value is None else value) for key, value in data.items()}
    data |= {"UF_CRM_NO": "A-2", "UF_CRM_RANK": "twelve"}
    refused = form_class(data, instance=deal)
    assert not refused.is_valid()
    assert "Rank" in refused.errors["UF_CRM_RANK"][0]

    data["UF_CRM_RANK"] = "12"
    accepted = form_class(data, instance=Deal.objects.get(pk=deal.pk))
    assert accepted.is_valid(), accepted.errors
    model_admin.save_model(request, accepted.instance, accepted, change=True)
    deal.refresh_from_db()
    assert deal.uf == {"UF_CRM_NO": "A-2", "UF_CRM_RANK": 12}


# --- defaults that name records or files ---------------------------------------------------------


def test_a_file_field_takes_no_default_and_a_link_default_must_name_a_record(admin):
    with pytest.raises(ValidationError) as file_refusal:
        make_field(admin, "SCAN", "file", settings={"DEFAULT_VALUE": "5"})
    with pytest.raises(ValidationError) as link_refusal:
        make_field(admin, "PARTNER", "crm", settings={"COMPANY": "Y", "DEFAULT_VALUE": "999"})

    assert file_refusal.value.message_dict["settings"] == ["A file field takes no default value."]
    assert link_refusal.value.message_dict["settings"][0].startswith("The default value is")
    assert not UserField.objects.exists()


def test_a_link_default_no_longer_readable_leaves_new_records_without_it(admin, client):
    partner = CompanyFactory(title="Partner")
    make_field(admin, "PARTNER", "crm", settings={"COMPANY": "Y", "DEFAULT_VALUE": str(partner.pk)})
    own_only = user_with(
        {
            ("DEAL", Action.READ): Level.OWN,
            ("DEAL", Action.ADD): Level.OWN,
            ("COMPANY", Action.READ): Level.OWN,
        }
    )

    others = deal_with(own_only)
    partner.delete()
    after_deletion = deal_with(admin)
    client.force_login(admin)
    form = client.get(reverse("crm:record-create", args=["deal"]))

    assert others.uf == {}
    assert after_deletion.uf == {}
    assert form.status_code == 200


def test_a_process_may_move_the_records_own_files_but_attach_no_other(admin, manager):
    make_field(admin, "SCAN", "file")
    make_field(admin, "COPY", "file")
    own = StoredFile.objects.create(name="a.pdf", file="crm/a.pdf", created_by=manager)
    foreign = StoredFile.objects.create(name="b.pdf", file="crm/b.pdf", created_by=admin)
    deal = deal_with(manager, UF_CRM_SCAN=own.pk)
    services.record_update(record=deal, values={"UF_CRM_COPY": own.pk}, user=None, by_process=True)
    deal.refresh_from_db()
    assert deal.uf["UF_CRM_COPY"] == own.pk
    with pytest.raises(ValidationError):
        services.record_update(
            record=deal, values={"UF_CRM_COPY": foreign.pk}, user=manager, by_process=True
        )
    deal.refresh_from_db()
    assert deal.uf["UF_CRM_COPY"] == own.pk


def test_files_no_record_holds_are_pruned_once_old_enough(
    admin, manager, settings, tmp_path, django_capture_on_commit_callbacks
):
    import datetime as dt

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.utils import timezone

    settings.MEDIA_ROOT = tmp_path
    make_field(admin, "SCAN", "file", multiple=True)

    def upload(name: str, age_hours: int) -> StoredFile:
        stored = services.stored_file_create(upload=SimpleUploadedFile(name, b"%PDF"), user=manager)
        created = timezone.now() - dt.timedelta(hours=age_hours)
        StoredFile.objects.filter(pk=stored.pk).update(created_at=created)
        return stored

    held, orphan, fresh = upload("held.pdf", 48), upload("orphan.pdf", 48), upload("new.pdf", 1)
    deal_with(manager, UF_CRM_SCAN=[held.pk])
    orphan_path = tmp_path / orphan.file.name

    with django_capture_on_commit_callbacks(execute=True):
        call_command("prune_files")

    assert set(StoredFile.objects.values_list("pk", flat=True)) == {held.pk, fresh.pk}
    assert not orphan_path.exists()
    assert (tmp_path / held.file.name).exists()

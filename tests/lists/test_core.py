"""The lists core: lists, properties with Bitrix's types, elements, their rights and the
document provider the engine reads and writes them through."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction

from bizproc.documents import DocumentError, DocumentType, Operation, document_providers
from lists import permissions, services
from lists.documents import ListsDocumentProvider, document_type_of_list
from lists.models import Element, ElementFile, ListKind
from lists.properties import element_values, schema_of
from tests.crm.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return UserFactory(is_superuser=True)


@pytest.fixture
def employee():
    return UserFactory()


@pytest.fixture
def leave(admin):
    """A process list everyone may add to, with a list, a number, a date and a counter."""
    list_ = services.list_create(
        values={
            "kind": ListKind.PROCESSES,
            "name": "Leave request",
            "code": "leave",
            "access": {"add": ["AU"]},
        },
        user=admin,
    )
    services.listfield_create(
        list_=list_,
        values={
            "code": "kind",
            "name": "Kind",
            "type": "L",
            "required": True,
            "filterable": True,
            "options": [
                {"value": "Vacation", "xml_id": "vacation", "default": True},
                {"value": "Sick leave", "xml_id": "sick"},
            ],
        },
        user=admin,
    )
    services.listfield_create(
        list_=list_, values={"code": "days", "name": "Days", "type": "N"}, user=admin
    )
    services.listfield_create(
        list_=list_, values={"code": "from", "name": "From", "type": "S:Date"}, user=admin
    )
    services.listfield_create(
        list_=list_, values={"code": "number", "name": "No.", "type": "N:Sequence"}, user=admin
    )
    return list_


@pytest.fixture
def provider() -> ListsDocumentProvider:
    registered = document_providers.get("lists")
    assert isinstance(registered, ListsDocumentProvider)
    return registered


def test_an_element_gets_its_defaults_a_number_and_typed_values(leave, employee, provider):
    first = services.element_create(
        list_=leave,
        values={"NAME": "Summer", "PROPERTY_DAYS": "3,5", "PROPERTY_FROM": "2026-07-01"},
        user=employee,
    )
    second = services.element_create(list_=leave, values={"NAME": "Autumn"}, user=employee)
    values = provider.read(first.document_id)
    assert values["PROPERTY_KIND"] == "vacation"  # the default option, by its external code
    assert values["PROPERTY_DAYS"] == 3.5
    assert values["PROPERTY_FROM"] == datetime.date(2026, 7, 1)
    assert values["CREATED_BY"] == f"user_{employee.pk}"
    assert (values["PROPERTY_NUMBER"], provider.read(second.document_id)["PROPERTY_NUMBER"]) == (
        1,
        2,
    )


def test_bad_values_are_refused_field_by_field_and_nothing_is_stored(leave, employee):
    with pytest.raises(ValidationError) as refused:
        services.element_create(
            list_=leave,
            values={"PROPERTY_DAYS": "many", "PROPERTY_KIND": "holiday", "PROPERTY_NUMBER": 5},
            user=employee,
        )
    errors = refused.value.message_dict
    assert set(errors) == {"NAME", "PROPERTY_DAYS", "PROPERTY_KIND", "PROPERTY_NUMBER"}
    assert "required" in errors["NAME"][0]
    assert not Element.objects.exists()


def test_an_edit_based_on_an_older_version_is_refused(leave, employee):
    element = services.element_create(list_=leave, values={"NAME": "Summer"}, user=employee)
    services.element_update(
        element=element, values={"PROPERTY_DAYS": 2}, user=employee, expected_version=1
    )
    with pytest.raises(services.StaleElement):
        services.element_update(
            element=element, values={"PROPERTY_DAYS": 4}, user=employee, expected_version=1
        )
    element.refresh_from_db()
    assert element.values[str(schema_of(leave.pk).by_code("PROPERTY_DAYS").id)] == 2


def test_everyone_reads_and_edits_their_own_and_the_list_grants_more(leave, employee, admin):
    other = UserFactory()
    mine = services.element_create(list_=leave, values={"NAME": "Mine"}, user=employee)
    assert permissions.can_read(employee, mine) and permissions.can_edit(employee, mine)
    assert not permissions.can_read(other, mine)
    with pytest.raises(PermissionDenied):
        services.element_update(element=mine, values={"NAME": "Theirs"}, user=other)
    readers = Group.objects.create(name="Readers")
    other.groups.add(readers)
    services.list_update(list_=leave, values={"access": {"read": [f"G{readers.pk}"]}}, user=admin)
    # Access codes are read once per user object, and the element holds the list as it was.
    other = type(other).objects.get(pk=other.pk)
    mine = Element.objects.get(pk=mine.pk)
    assert permissions.can_read(other, mine) and not permissions.can_edit(other, mine)
    assert list(permissions.readable(employee, leave)) == [mine]


def test_only_the_add_right_adds(admin, employee):
    closed = services.list_create(values={"name": "Closed", "code": "closed"}, user=admin)
    with pytest.raises(PermissionDenied):
        services.element_create(list_=closed, values={"NAME": "X"}, user=employee)
    with pytest.raises(PermissionDenied):
        services.list_create(values={"name": "Mine", "code": "mine"}, user=employee)


def test_codes_are_unique_and_types_and_codes_never_change(leave, admin):
    with pytest.raises(ValidationError):
        services.list_create(values={"name": "Again", "code": "leave"}, user=admin)
    with pytest.raises(ValidationError):
        services.listfield_create(
            list_=leave, values={"code": "DAYS", "name": "Days", "type": "S"}, user=admin
        )
    with pytest.raises(ValidationError):
        services.listfield_create(
            list_=leave, values={"code": "NAME", "name": "Name", "type": "S"}, user=admin
        )
    days = leave.properties.get(code="DAYS")
    with pytest.raises(ValidationError):
        services.listfield_update(field=days, values={"type": "S"}, user=admin)
    with pytest.raises(ValidationError):
        services.list_update(list_=leave, values={"kind": ListKind.LISTS}, user=admin)


def test_removing_an_option_or_a_field_removes_its_values(leave, admin, employee):
    element = services.element_create(
        list_=leave,
        values={"NAME": "Sick", "PROPERTY_KIND": "sick", "PROPERTY_DAYS": 2},
        user=employee,
    )
    kind = leave.properties.get(code="KIND")
    kept = kind.options.get(xml_id="vacation")
    services.listfield_update(
        field=kind,
        values={"options": [{"id": kept.pk, "value": "Vacation", "xml_id": "vacation"}]},
        user=admin,
    )
    services.listfield_delete(field=leave.properties.get(code="DAYS"), user=admin)
    element.refresh_from_db()
    assert set(element.values) == {str(leave.properties.get(code="NUMBER").pk)}


def test_a_person_attaches_only_files_they_uploaded(admin, employee):
    papers = services.list_create(
        values={"name": "Papers", "code": "papers", "access": {"add": ["AU"]}}, user=admin
    )
    services.listfield_create(
        list_=papers, values={"code": "scan", "name": "Scan", "type": "F"}, user=admin
    )
    theirs = services.element_file_create(upload=SimpleUploadedFile("a.pdf", b"%PDF-1"), user=admin)
    mine = services.element_file_create(
        upload=SimpleUploadedFile("b.pdf", b"%PDF-1"), user=employee
    )
    with pytest.raises(ValidationError):
        services.element_create(
            list_=papers, values={"NAME": "X", "PROPERTY_SCAN": theirs.pk}, user=employee
        )
    element = services.element_create(
        list_=papers, values={"NAME": "X", "PROPERTY_SCAN": mine.pk}, user=employee
    )
    assert ElementFile.objects.get(pk=mine.pk).element == element


def test_the_provider_speaks_bitrix_document_ids(leave, employee, admin, provider):
    element = services.element_create(list_=leave, values={"NAME": "Summer"}, user=employee)
    canonical = DocumentType("lists", "BizprocDocument", f"iblock_{leave.pk}")
    assert provider.document_type_of(element.document_id) == canonical
    assert provider.resolve_type("Bitrix\\Lists\\BizprocDocumentLists", canonical.type) == canonical
    assert provider.normalize_id(f" {element.pk} ", document_type=canonical) == str(element.pk)
    with pytest.raises(DocumentError):
        provider.normalize_id("DEAL_5")
    other = services.list_create(values={"name": "Other", "code": "other"}, user=admin)
    with pytest.raises(DocumentError):
        provider.normalize_id(
            element.pk, document_type=DocumentType("lists", "BizprocDocument", f"iblock_{other.pk}")
        )
    assert provider.can(employee, Operation.START_PROCESS, document_id=element.document_id)
    assert not provider.can(employee, Operation.DESIGN, document_type=canonical)
    assert provider.can(admin, Operation.DESIGN, document_type=canonical)


def test_a_process_writes_with_system_rights_and_bad_values_are_its_errors(
    leave, employee, provider
):
    element = services.element_create(list_=leave, values={"NAME": "Summer"}, user=employee)
    saved = provider.write(element.document_id, {"PROPERTY_KIND": "sick"}, user_id=None)
    assert saved["PROPERTY_KIND"] == "sick"
    with pytest.raises(DocumentError) as refused:
        provider.write(element.document_id, {"PROPERTY_DAYS": "x"}, user_id=None)
    assert "PROPERTY_DAYS" in refused.value.errors


def test_bpt_fields_describe_properties_as_bitrix_lists_do(leave, provider):
    described = provider.bpt_fields(document_type_of_list(leave))
    kind = described["PROPERTY_KIND"]
    assert (kind["Type"], kind["TypeReal"], kind["Options"]) == (
        "select",
        "L",
        {"vacation": "Vacation", "sick": "Sick leave"},
    )
    assert kind["Alias"] == f"PROPERTY_{leave.properties.get(code='KIND').pk}"
    assert described["PROPERTY_FROM"]["TypeReal"] == "S:Date"
    assert described["CREATED_BY"]["Type"] == "user"


def test_a_filterable_property_gets_its_indexes_and_loses_them(leave, admin):
    kind = leave.properties.get(code="KIND")

    def present() -> set[str]:
        with connection.cursor() as cursor:
            names = connection.introspection.get_constraints(cursor, Element._meta.db_table)
        return {name for name in names if name.startswith(f"lists_el_p{kind.pk}")}

    assert present() == {f"lists_el_p{kind.pk}", f"lists_el_p{kind.pk}_desc"}
    services.listfield_update(field=kind, values={"filterable": False}, user=admin)
    assert present() == set()


def test_a_new_field_may_have_a_default_and_a_stale_default_is_left_out(leave, admin, employee):
    services.listfield_create(
        list_=leave,
        values={"code": "place", "name": "Place", "type": "S", "default": "Office"},
        user=admin,
    )
    helper = UserFactory()
    services.listfield_create(
        list_=leave,
        values={"code": "deputy", "name": "Deputy", "type": "S:employee", "default": helper.pk},
        user=admin,
    )
    helper.is_active = False
    helper.save()
    element = services.element_create(list_=leave, values={"NAME": "Summer"}, user=employee)
    values = element_values(element)
    assert (values["PROPERTY_PLACE"], values["PROPERTY_DEPUTY"]) == ("Office", None)


@pytest.mark.parametrize(
    "values",
    [
        {"SORT": 10**30},
        {"SORT": 2**40},
        {"PROPERTY_DAYS": 10**400},
        {"PROPERTY_DAYS": float("nan")},
        {"CODE": "c" * 300},
        {"PREVIEW_TEXT": "x" * 200_000},
        {"PROPERTY_FROM": "31.02.2026"},
        {"PROPERTY_KIND": {"a": 1}},
        {"PROPERTY_KIND": ["vacation", "sick"]},
    ],
)
def test_hostile_values_are_refused_as_errors_of_their_field(leave, employee, values):
    with pytest.raises(ValidationError) as refused:
        services.element_create(list_=leave, values={"NAME": "X", **values}, user=employee)
    assert set(refused.value.message_dict) == set(values)
    assert not Element.objects.exists()


def test_hostile_list_and_field_settings_are_refused(leave, admin):
    with pytest.raises(ValidationError):
        services.list_update(list_=leave, values={"access": {"read": 5}}, user=admin)
    with pytest.raises(ValidationError):
        services.listfield_create(
            list_=leave,
            values={
                "code": "link",
                "name": "Link",
                "type": "E",
                "settings": {"LINK_IBLOCK_ID": "²"},
            },
            user=admin,
        )


def test_a_person_links_only_elements_they_may_read(admin, employee):
    salaries = services.list_create(values={"name": "Salaries", "code": "salaries"}, user=admin)
    secret = services.element_create(list_=salaries, values={"NAME": "CEO"}, user=admin)
    notes = services.list_create(
        values={"name": "Notes", "code": "notes", "access": {"add": ["AU"]}}, user=admin
    )
    services.listfield_create(
        list_=notes, values={"code": "about", "name": "About", "type": "E"}, user=admin
    )
    with pytest.raises(ValidationError) as refused:
        services.element_create(
            list_=notes, values={"NAME": "Mine", "PROPERTY_ABOUT": secret.pk}, user=employee
        )
    assert "PROPERTY_ABOUT" in refused.value.message_dict
    made = services.element_create(
        list_=notes, values={"NAME": "Admin's", "PROPERTY_ABOUT": secret.pk}, user=admin
    )
    assert element_values(made)["PROPERTY_ABOUT"] == secret.pk


def test_a_field_added_in_a_transaction_that_rolls_back_is_not_remembered(leave, admin):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.listfield_create(
            list_=leave, values={"code": "ghost", "name": "Ghost", "type": "S"}, user=admin
        )
        assert schema_of(leave.pk).by_code("PROPERTY_GHOST") is not None
        raise RuntimeError
    assert schema_of(leave.pk).by_code("PROPERTY_GHOST") is None

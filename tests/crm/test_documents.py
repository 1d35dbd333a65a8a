"""The CRM as a document provider: ids, field lists, typed reads, converted writes, messages."""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import User
from bizproc.documents import DocumentError, DocumentType
from bizproc.fieldtypes import FieldType
from bizproc.hooks import document_hooks
from crm import services
from crm.counts import GENERATION_KEY
from crm.documents import DOCUMENT_TYPES, CrmDocumentProvider
from crm.models import (
    RECORD_MODELS,
    Company,
    Contact,
    Deal,
    Lead,
    Record,
    Status,
    StatusList,
    TimelineEntry,
    TimelineKind,
    UserField,
)
from tests.crm.factories import (
    CompanyFactory,
    ContactFactory,
    DealFactory,
    LeadFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

DEAL = DOCUMENT_TYPES["DEAL"]
LEAD = DOCUMENT_TYPES["LEAD"]
CONTACT = DOCUMENT_TYPES["CONTACT"]
COMPANY = DOCUMENT_TYPES["COMPANY"]

CREATED = datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
MODIFIED = datetime.datetime(2025, 2, 3, 4, 5, 6, tzinfo=datetime.UTC)

# The field codes of DOMAIN.md §7.
DOMAIN_CODES = {
    "DEAL": "ID TITLE STAGE_ID PROBABILITY OPPORTUNITY CURRENCY_ID COMPANY_ID CONTACT_ID "
    "CONTACT_IDS BEGINDATE CLOSEDATE COMMENTS SOURCE_ID ASSIGNED_BY_ID CREATED_BY_ID "
    "MODIFY_BY_ID DATE_CREATE DATE_MODIFY",
    "LEAD": "ID TITLE NAME LAST_NAME COMPANY_TITLE STATUS_ID SOURCE_ID OPPORTUNITY CURRENCY_ID "
    "PHONE EMAIL COMMENTS ASSIGNED_BY_ID CREATED_BY_ID MODIFY_BY_ID DATE_CREATE DATE_MODIFY",
    "CONTACT": "ID NAME LAST_NAME POST COMPANY_ID PHONE EMAIL COMMENTS SOURCE_ID ASSIGNED_BY_ID "
    "CREATED_BY_ID MODIFY_BY_ID DATE_CREATE DATE_MODIFY",
    "COMPANY": "ID TITLE COMPANY_TYPE INDUSTRY REVENUE CURRENCY_ID PHONE EMAIL COMMENTS "
    "ASSIGNED_BY_ID CREATED_BY_ID MODIFY_BY_ID DATE_CREATE DATE_MODIFY",
}


def multi(*values: str) -> list[dict[str, str]]:
    return [{"VALUE": value, "VALUE_TYPE": "WORK"} for value in values]


@dataclass
class World:
    responsible: User
    author: User
    editor: User
    other: User
    company: Company
    company2: Company
    contact: Contact
    contact2: Contact
    lead: Lead
    deal: Deal

    def record(self, entity_type: str) -> Record:
        return {
            "DEAL": self.deal,
            "LEAD": self.lead,
            "CONTACT": self.contact,
            "COMPANY": self.company,
        }[entity_type]


@pytest.fixture
def world() -> World:
    """One fully filled record of every type; responsible, author and editor all differ."""
    responsible, author, editor, other = UserFactory.create_batch(4)
    people = {
        "assigned_by": responsible,
        "created_by": author,
        "modified_by": editor,
        "created_at": CREATED,
        "modified_at": MODIFIED,
    }
    company = CompanyFactory(
        title="Acme",
        company_type="CUSTOMER",
        industry="IT",
        revenue=Decimal("1000000.75"),
        currency="RUB",
        phone=multi("+7 495 000-00-00"),
        email=multi("info@acme.example"),
        comments="Key client",
        **people,
    )
    company2 = CompanyFactory(title="Globex")
    contact = ContactFactory(
        name="Ivan",
        last_name="Petrov",
        post="CEO",
        company=company,
        source="CALL",
        phone=multi("+7 999 000-00-01", "+7 999 000-00-02"),
        email=multi("ivan@acme.example"),
        comments="Prefers calls",
        **people,
    )
    contact2 = ContactFactory(name="Anna", last_name="Smirnova")
    lead = LeadFactory(
        title="Website lead",
        name="Oleg",
        last_name="Sidorov",
        company_title="Initech",
        status="IN_PROCESS",
        source="WEB",
        opportunity=Decimal("1234.50"),
        currency="USD",
        phone=multi("+7 999 000-00-03"),
        email=multi("oleg@initech.example"),
        comments="Asked for a demo",
        **people,
    )
    deal = DealFactory(
        title="Big deal",
        stage="PREPARATION",
        probability=30,
        opportunity=Decimal("5000.00"),
        currency="EUR",
        company=company,
        contact=contact,
        contacts=[contact2, contact],
        begin_date=datetime.date(2025, 1, 15),
        close_date=datetime.date(2025, 6, 30),
        source="PARTNER",
        comments="Needs approval",
        **people,
    )
    return World(
        responsible, author, editor, other, company, company2, contact, contact2, lead, deal
    )


def people_values(world: World) -> dict[str, Any]:
    return {
        "ASSIGNED_BY_ID": f"user_{world.responsible.pk}",
        "CREATED_BY_ID": f"user_{world.author.pk}",
        "MODIFY_BY_ID": f"user_{world.editor.pk}",
        "DATE_CREATE": CREATED,
        "DATE_MODIFY": MODIFIED,
    }


# --- reading --------------------------------------------------------------------------------------


def test_deal_reads_every_field_with_its_typed_value(world, provider):
    assert provider.read(world.deal.document_id) == {
        "ID": world.deal.pk,
        "TITLE": "Big deal",
        "STAGE_ID": "PREPARATION",
        "PROBABILITY": 30,
        "OPPORTUNITY": 5000.0,
        "CURRENCY_ID": "EUR",
        "COMPANY_ID": world.company.pk,
        "CONTACT_ID": world.contact.pk,
        "CONTACT_IDS": sorted([world.contact.pk, world.contact2.pk]),
        "BEGINDATE": datetime.date(2025, 1, 15),
        "CLOSEDATE": datetime.date(2025, 6, 30),
        "SOURCE_ID": "PARTNER",
        "COMMENTS": "Needs approval",
        **people_values(world),
    }


def test_lead_reads_every_field_with_its_typed_value(world, provider):
    assert provider.read(world.lead.document_id) == {
        "ID": world.lead.pk,
        "TITLE": "Website lead",
        "NAME": "Oleg",
        "LAST_NAME": "Sidorov",
        "COMPANY_TITLE": "Initech",
        "STATUS_ID": "IN_PROCESS",
        "SOURCE_ID": "WEB",
        "OPPORTUNITY": 1234.5,
        "CURRENCY_ID": "USD",
        "PHONE": ["+7 999 000-00-03"],
        "EMAIL": ["oleg@initech.example"],
        "COMMENTS": "Asked for a demo",
        **people_values(world),
    }


def test_contact_reads_every_field_with_its_typed_value(world, provider):
    assert provider.read(world.contact.document_id) == {
        "ID": world.contact.pk,
        "NAME": "Ivan",
        "LAST_NAME": "Petrov",
        "POST": "CEO",
        "COMPANY_ID": world.company.pk,
        "PHONE": ["+7 999 000-00-01", "+7 999 000-00-02"],
        "EMAIL": ["ivan@acme.example"],
        "SOURCE_ID": "CALL",
        "COMMENTS": "Prefers calls",
        **people_values(world),
    }


def test_company_reads_every_field_with_its_typed_value(world, provider):
    assert provider.read(world.company.document_id) == {
        "ID": world.company.pk,
        "TITLE": "Acme",
        "COMPANY_TYPE": "CUSTOMER",
        "INDUSTRY": "IT",
        "REVENUE": 1000000.75,
        "CURRENCY_ID": "RUB",
        "PHONE": ["+7 495 000-00-00"],
        "EMAIL": ["info@acme.example"],
        "COMMENTS": "Key client",
        **people_values(world),
    }


@pytest.mark.parametrize("entity_type", ["DEAL", "LEAD", "CONTACT", "COMPANY"])
def test_read_gives_python_types_not_model_types(world, provider, entity_type):
    """Money is a float (not a Decimal), dates are dates, date-times are aware."""
    values = provider.read(world.record(entity_type).document_id)

    assert set(values) == set(DOMAIN_CODES[entity_type].split())
    assert type(values["ID"]) is int
    for code in ("OPPORTUNITY", "REVENUE"):
        if code in values:
            assert type(values[code]) is float
    for code in ("BEGINDATE", "CLOSEDATE"):
        if code in values:
            assert type(values[code]) is datetime.date
    for code in ("DATE_CREATE", "DATE_MODIFY"):
        assert isinstance(values[code], datetime.datetime)
        assert timezone.is_aware(values[code])
    for code in ("PHONE", "EMAIL"):
        if code in values:
            assert values[code] and all(type(item) is str for item in values[code])
    if "CONTACT_IDS" in values:
        assert values["CONTACT_IDS"] and all(type(item) is int for item in values["CONTACT_IDS"])


def test_empty_fields_read_as_empty_values(provider):
    deal = DealFactory(title="Bare")
    values = provider.read(deal.document_id)
    assert (values["PROBABILITY"], values["OPPORTUNITY"], values["COMPANY_ID"]) == (
        None,
        None,
        None,
    )
    assert (values["CONTACT_IDS"], values["BEGINDATE"], values["COMMENTS"]) == ([], None, "")


def test_reading_a_missing_record_is_refused(provider):
    deal = DealFactory()
    missing = f"DEAL_{deal.pk + 1000}"

    with pytest.raises(DocumentError) as error:
        provider.read(missing)

    assert error.value.message == "Cannot find item with this ID."
    assert provider.exists(deal.document_id)
    assert not provider.exists(missing)


# --- writing --------------------------------------------------------------------------------------


def test_a_write_returns_the_values_as_saved_and_a_missing_record_is_refused(provider):
    deal = DealFactory(title="Old", comments="")
    missing = f"DEAL_{deal.pk + 1000}"

    saved = provider.write(deal.document_id, {"TITLE": "New"}, user_id=None)
    with pytest.raises(DocumentError) as error:
        provider.write(missing, {"TITLE": "New"}, user_id=None)

    assert (saved["TITLE"], saved["COMMENTS"]) == ("New", "")
    assert dict(saved) == dict(provider.read(deal.document_id))
    assert error.value.message == "Cannot find item with this ID."
    assert not provider.exists(missing)


def user_ref(name: str, as_value: bool = True):
    """A raw or expected value naming one of the world's users."""

    def resolve(world: World) -> Any:
        pk = getattr(world, name).pk
        return f"user_{pk}" if as_value else pk

    return resolve


def pk_of(name: str, text: bool = False):
    def resolve(world: World) -> Any:
        pk = getattr(world, name).pk
        return str(pk) if text else pk

    return resolve


def resolved(value: Any, world: World) -> Any:
    if callable(value):
        return value(world)
    if isinstance(value, list):
        return [resolved(item, world) for item in value]
    return value


WRITE_CASES = [
    # Deal
    ("DEAL", "TITLE", "Bigger deal", "Bigger deal"),
    ("DEAL", "STAGE_ID", "WON", "WON"),
    ("DEAL", "STAGE_ID", "Deal won", "WON"),
    ("DEAL", "PROBABILITY", "42", 42),
    ("DEAL", "PROBABILITY", 42, 42),
    ("DEAL", "OPPORTUNITY", "1 234,50", 1234.5),
    ("DEAL", "OPPORTUNITY", "1234.5", 1234.5),
    ("DEAL", "OPPORTUNITY", 99, 99.0),
    ("DEAL", "CURRENCY_ID", "USD", "USD"),
    ("DEAL", "CURRENCY_ID", "US dollar", "USD"),
    ("DEAL", "COMPANY_ID", pk_of("company2", text=True), pk_of("company2")),
    ("DEAL", "CONTACT_ID", pk_of("contact2"), pk_of("contact2")),
    ("DEAL", "CONTACT_IDS", [pk_of("contact2", text=True)], [pk_of("contact2")]),
    ("DEAL", "BEGINDATE", "2026-03-01", datetime.date(2026, 3, 1)),
    ("DEAL", "BEGINDATE", "01.03.2026", datetime.date(2026, 3, 1)),
    ("DEAL", "CLOSEDATE", "2026-03-01 10:30:00", datetime.date(2026, 3, 1)),
    ("DEAL", "SOURCE_ID", "CALL", "CALL"),
    ("DEAL", "SOURCE_ID", "By recommendation", "RECOMMENDATION"),
    ("DEAL", "COMMENTS", "Line one\nLine two", "Line one\nLine two"),
    ("DEAL", "ASSIGNED_BY_ID", user_ref("other"), user_ref("other")),
    ("DEAL", "ASSIGNED_BY_ID", user_ref("other", as_value=False), user_ref("other")),
    # Lead
    ("LEAD", "TITLE", "Phone lead", "Phone lead"),
    ("LEAD", "NAME", "Pavel", "Pavel"),
    ("LEAD", "LAST_NAME", "Ivanov", "Ivanov"),
    ("LEAD", "COMPANY_TITLE", "Umbrella", "Umbrella"),
    ("LEAD", "STATUS_ID", "JUNK", "JUNK"),
    ("LEAD", "STATUS_ID", "Good lead", "CONVERTED"),
    ("LEAD", "SOURCE_ID", "Call", "CALL"),
    ("LEAD", "OPPORTUNITY", "10 000,01", 10000.01),
    ("LEAD", "CURRENCY_ID", "EUR", "EUR"),
    ("LEAD", "PHONE", "+7 999 111-22-33", ["+7 999 111-22-33"]),
    (
        "LEAD",
        "PHONE",
        ["+7 999 111-22-33", "+7 999 111-22-44"],
        ["+7 999 111-22-33", "+7 999 111-22-44"],
    ),
    ("LEAD", "EMAIL", "new@initech.example", ["new@initech.example"]),
    ("LEAD", "COMMENTS", "Called back", "Called back"),
    ("LEAD", "ASSIGNED_BY_ID", user_ref("other"), user_ref("other")),
    # Contact
    ("CONTACT", "NAME", "Ivan Jr.", "Ivan Jr."),
    ("CONTACT", "LAST_NAME", "Petrov-Vodkin", "Petrov-Vodkin"),
    ("CONTACT", "POST", "CTO", "CTO"),
    ("CONTACT", "COMPANY_ID", pk_of("company2", text=True), pk_of("company2")),
    ("CONTACT", "PHONE", ["+7 999 555-55-55"], ["+7 999 555-55-55"]),
    ("CONTACT", "EMAIL", ["a@example.com", "b@example.com"], ["a@example.com", "b@example.com"]),
    ("CONTACT", "SOURCE_ID", "WEB", "WEB"),
    ("CONTACT", "COMMENTS", "Moved", "Moved"),
    ("CONTACT", "ASSIGNED_BY_ID", user_ref("other"), user_ref("other")),
    # Company
    ("COMPANY", "TITLE", "Acme Holding", "Acme Holding"),
    ("COMPANY", "COMPANY_TYPE", "SUPPLIER", "SUPPLIER"),
    ("COMPANY", "COMPANY_TYPE", "Partner", "PARTNER"),
    ("COMPANY", "INDUSTRY", "Banking services", "BANKING"),
    ("COMPANY", "REVENUE", "2 500 000,25", 2500000.25),
    ("COMPANY", "CURRENCY_ID", "Euro", "EUR"),
    ("COMPANY", "PHONE", "+7 495 111-11-11", ["+7 495 111-11-11"]),
    ("COMPANY", "EMAIL", "sales@acme.example", ["sales@acme.example"]),
    ("COMPANY", "COMMENTS", "Lost interest", "Lost interest"),
    ("COMPANY", "ASSIGNED_BY_ID", user_ref("other", as_value=False), user_ref("other")),
]


@pytest.mark.parametrize(
    ("entity_type", "code", "raw", "expected"),
    WRITE_CASES,
    ids=[f"{case[0]}-{case[1]}-{case[2]!r}" for case in WRITE_CASES],
)
def test_write_converts_the_raw_value_and_reads_back_typed(
    world, provider, entity_type, code, raw, expected
):
    record = world.record(entity_type)
    expected = resolved(expected, world)
    assert provider.read(record.document_id)[code] != expected  # the write is a real change

    provider.write(record.document_id, {code: resolved(raw, world)}, user_id=world.editor.pk)

    value = provider.read(record.document_id)[code]
    assert value == expected
    assert type(value) is type(expected)
    assert RECORD_MODELS[entity_type].objects.get(pk=record.pk).version == 2


def test_written_money_phone_and_contacts_are_stored_in_their_columns(world, provider):
    provider.write(
        world.deal.document_id,
        {"OPPORTUNITY": "1 234,50", "CONTACT_IDS": [world.contact2.pk]},
        user_id=None,
    )
    provider.write(world.lead.document_id, {"PHONE": "+7 999 111-22-33"}, user_id=None)

    deal = Deal.objects.get(pk=world.deal.pk)
    assert deal.opportunity == Decimal("1234.50")
    assert list(deal.contacts.values_list("pk", flat=True)) == [world.contact2.pk]
    assert Lead.objects.get(pk=world.lead.pk).phone == multi("+7 999 111-22-33")


def test_a_write_of_several_fields_stores_them_all(world, provider):
    provider.write(
        world.deal.document_id,
        {"TITLE": "Renamed", "STAGE_ID": "Deal lost", "PROBABILITY": "0", "CLOSEDATE": ""},
        user_id=world.editor.pk,
    )
    values = provider.read(world.deal.document_id)
    assert (values["TITLE"], values["STAGE_ID"], values["PROBABILITY"], values["CLOSEDATE"]) == (
        "Renamed",
        "LOSE",
        0,
        None,
    )


# --- writing against the values read before ------------------------------------------------------


def deal_changes(deal: Deal) -> list[dict[str, Any]]:
    """The changes the deal's timeline lists, oldest first."""
    return list(
        TimelineEntry.objects.filter(document_id=deal.document_id, kind=TimelineKind.CHANGED)
        .order_by("pk")
        .values_list("changes", flat=True)
    )


def test_a_write_against_the_values_read_before_does_not_read_the_record_again(world, provider):
    """Nor does it set a savepoint in the caller's transaction (the test's): the UPDATE and
    the timeline's INSERT, which PostgreSQL takes as one statement."""
    current = provider.read(world.deal.document_id)
    assert current["COMMENTS"] == "Needs approval"
    generation = cache.get(GENERATION_KEY)

    with CaptureQueriesContext(connection) as queries:
        saved = provider.write(
            world.deal.document_id, {"COMMENTS": "Called"}, user_id=world.editor.pk, current=current
        )

    sent = [q["sql"].replace('"', "") for q in queries]
    if connection.vendor == "postgresql":
        assert len(sent) == 1, sent
        assert sent[0].startswith("WITH changed AS (UPDATE crm_deal SET")
        assert "INSERT INTO crm_timelineentry" in sent[0]
    else:
        assert [" ".join(sql.split()[:3]) for sql in sent] == [
            "UPDATE crm_deal SET",
            "INSERT INTO crm_timelineentry",
        ]
    deal = Deal.objects.get(pk=world.deal.pk)
    assert (deal.comments, deal.title, deal.version, deal.modified_by) == (
        "Called",
        "Big deal",
        2,
        world.editor,
    )
    assert deal_changes(deal) == [{"COMMENTS": ["Needs approval", "Called"]}]
    assert dict(saved) == dict(provider.read(world.deal.document_id))
    assert cache.get(GENERATION_KEY) != generation  # the deal lists' counts are stale


def test_a_write_against_the_values_read_before_leaves_the_timeline_row_a_locked_one_does(
    provider,
):
    """Typed values (a sum, a date, a person) make the same timeline row either way."""
    author, responsible = UserFactory.create_batch(2)
    against_read, locked = DealFactory.create_batch(
        2, title="Same", opportunity=Decimal("10"), assigned_by=responsible
    )
    values = {
        "OPPORTUNITY": "1500.50",
        "CLOSEDATE": "2026-03-01",
        "ASSIGNED_BY_ID": author.pk,
        "COMMENTS": 'It\'s "quoted" {x}',
    }

    provider.write(
        against_read.document_id,
        values,
        user_id=author.pk,
        current=provider.read(against_read.document_id),
    )
    provider.write(locked.document_id, values, user_id=author.pk)

    def row(deal: Deal) -> tuple:
        entry = TimelineEntry.objects.get(document_id=deal.document_id, kind=TimelineKind.CHANGED)
        assert entry.created_at is not None
        return (entry.author_id, entry.by_process, entry.text, entry.changes, entry.version)

    assert row(against_read) == row(locked)
    author_id, by_process, text, changes, version = row(locked)
    assert (author_id, by_process, text, version) == (author.pk, True, "", 2)
    assert changes == {
        "OPPORTUNITY": [10.0, 1500.5],
        "CLOSEDATE": [None, "2026-03-01"],
        "ASSIGNED_BY_ID": [f"user_{responsible.pk}", f"user_{author.pk}"],
        "COMMENTS": ["", values["COMMENTS"]],
    }


def test_a_record_changed_since_the_read_is_written_against_the_stored_row(world, provider):
    current = provider.read(world.deal.document_id)
    services.record_update(
        record=Deal.objects.get(pk=world.deal.pk),
        values={"TITLE": "Renamed meanwhile", "COMMENTS": "Changed meanwhile"},
        user=world.other,
        by_process=True,
    )

    saved = provider.write(
        world.deal.document_id, {"COMMENTS": "By process"}, user_id=None, current=current
    )

    deal = Deal.objects.get(pk=world.deal.pk)
    assert (deal.title, deal.comments, deal.version) == ("Renamed meanwhile", "By process", 3)
    assert deal_changes(deal)[-1] == {"COMMENTS": ["Changed meanwhile", "By process"]}
    assert (saved["TITLE"], saved["COMMENTS"]) == ("Renamed meanwhile", "By process")


def test_a_refused_write_against_the_values_read_before_changes_nothing(
    world, provider, records_snapshot
):
    current = provider.read(world.deal.document_id)
    before = records_snapshot()

    with pytest.raises(DocumentError) as error:
        provider.write(
            world.deal.document_id,
            {"COMMENTS": "Fine", "PROBABILITY": "abc"},
            user_id=None,
            current=current,
        )

    assert error.value.errors == {
        "PROBABILITY": "The value of field 'Probability, %' is not an integer."
    }
    assert records_snapshot() == before
    assert deal_changes(world.deal) == []


def test_a_write_refused_against_the_values_read_before_leaves_the_transaction_usable(
    world, provider
):
    """The refusal comes before anything is written: the caller's transaction (the test's)
    goes on, and the deal can be written in it."""
    current = provider.read(world.deal.document_id)

    with pytest.raises(DocumentError):
        provider.write(
            world.deal.document_id, {"PROBABILITY": "abc"}, user_id=None, current=current
        )
    provider.write(world.deal.document_id, {"PROBABILITY": "40"}, user_id=None, current=current)

    deal = Deal.objects.get(pk=world.deal.pk)
    assert (deal.probability, deal.version) == (40, 2)
    assert deal_changes(deal) == [{"PROBABILITY": [world.deal.probability, 40]}]


def test_a_failure_after_the_write_against_the_values_read_before_rolls_back_the_transaction(
    world, provider, records_snapshot
):
    """The UPDATE has no savepoint to be undone alone: when what follows it fails (here a hook
    listener), the caller's whole transaction is rolled back, so no part of the write stays."""
    current = provider.read(world.deal.document_id)
    before = records_snapshot()

    def refuse(**kwargs: Any) -> None:
        raise RuntimeError("listener failed")

    document_hooks.on_updated.append(refuse)
    try:
        with transaction.atomic():
            with pytest.raises(RuntimeError, match="listener failed"):
                provider.write(
                    world.deal.document_id, {"COMMENTS": "Lost"}, user_id=None, current=current
                )
            assert transaction.get_rollback()
    finally:
        document_hooks.on_updated.remove(refuse)

    assert records_snapshot() == before
    assert deal_changes(world.deal) == []


def test_a_custom_field_deleted_since_the_read_gets_no_value_back_from_the_write(world, provider):
    admin = UserFactory(is_crm_admin=True)
    for code in ("GONE", "KEPT"):
        services.userfield_create(
            entity_type="DEAL", values={"code": code, "type": "string"}, user=admin
        )
    provider.write(world.deal.document_id, {"UF_CRM_GONE": "old value"}, user_id=None)
    current = provider.read(world.deal.document_id)
    services.userfield_delete(field=UserField.objects.get(code="UF_CRM_GONE"), user=admin)

    provider.write(
        world.deal.document_id, {"UF_CRM_KEPT": "new value"}, user_id=None, current=current
    )

    assert Deal.objects.get(pk=world.deal.pk).uf == {"UF_CRM_KEPT": "new value"}


def test_a_company_deleted_since_the_read_is_no_longer_the_old_value_of_the_change(world, provider):
    current = provider.read(world.deal.document_id)
    assert current["COMPANY_ID"] == world.company.pk
    services.record_delete(record=world.company, user=None)

    saved = provider.write(
        world.deal.document_id, {"COMPANY_ID": world.company2.pk}, user_id=None, current=current
    )

    assert saved["COMPANY_ID"] == world.company2.pk
    assert deal_changes(world.deal) == [{"COMPANY_ID": [None, world.company2.pk]}]


# --- field lists ----------------------------------------------------------------------------------


def fields_by_code(provider, document_type: DocumentType) -> dict[str, Any]:
    return {field.code: field for field in provider.fields(document_type)}


@pytest.mark.parametrize("entity_type", ["DEAL", "LEAD", "CONTACT", "COMPANY"])
def test_field_list_has_exactly_the_domain_codes(provider, entity_type):
    assert set(fields_by_code(provider, DOCUMENT_TYPES[entity_type])) == set(
        DOMAIN_CODES[entity_type].split()
    )


@pytest.mark.parametrize("entity_type", ["DEAL", "LEAD", "CONTACT", "COMPANY"])
def test_id_authorship_and_dates_are_read_only_and_responsible_is_a_required_user(
    provider, entity_type
):
    fields = fields_by_code(provider, DOCUMENT_TYPES[entity_type])
    for code in ("ID", "CREATED_BY_ID", "MODIFY_BY_ID", "DATE_CREATE", "DATE_MODIFY"):
        assert fields[code].read_only, code
    assert (fields["DATE_CREATE"].type, fields["DATE_MODIFY"].type) == ("datetime", "datetime")
    responsible = fields["ASSIGNED_BY_ID"]
    assert (responsible.type, responsible.required, responsible.read_only) == (
        FieldType.USER,
        True,
        False,
    )
    assert not any(
        field.read_only
        for code, field in fields.items()
        if code not in ("ID", "CREATED_BY_ID", "MODIFY_BY_ID", "DATE_CREATE", "DATE_MODIFY")
    )


def test_deal_fields_describe_stage_probability_amount_and_contacts(provider):
    fields = fields_by_code(provider, DEAL)

    stage = fields["STAGE_ID"]
    assert (stage.name, stage.type, stage.required, stage.multiple) == (
        "Stage",
        FieldType.SELECT,
        True,
        False,
    )
    assert list(stage.options) == [
        "NEW",
        "PREPARATION",
        "PREPAYMENT_INVOICE",
        "EXECUTING",
        "FINAL_INVOICE",
        "WON",
        "LOSE",
    ]
    assert (stage.options["WON"], stage.options["LOSE"]) == ("Deal won", "Deal lost")
    assert (fields["PROBABILITY"].name, fields["PROBABILITY"].type) == (
        "Probability, %",
        FieldType.INT,
    )
    assert fields["OPPORTUNITY"].type == FieldType.DOUBLE
    assert fields["CONTACT_IDS"].multiple and not fields["CONTACT_ID"].multiple
    assert (fields["TITLE"].required, fields["TITLE"].max_length) == (True, 255)
    assert fields["BEGINDATE"].type == FieldType.DATE
    assert set(fields["CURRENCY_ID"].options) == {"RUB", "USD", "EUR"}
    assert not fields["PROBABILITY"].required


def test_a_lists_options_are_read_when_asked_for_and_then_kept(provider, django_assert_num_queries):
    """An edit's validation and a dialog's list of values take a record's fields without ever
    looking at the stages: once the process holds the custom field definitions (one query,
    then kept), they cost no query."""
    with django_assert_num_queries(1):
        fields_by_code(provider, DEAL)
    with django_assert_num_queries(0):
        stage = fields_by_code(provider, DEAL)["STAGE_ID"]
    Status.objects.filter(list=StatusList.DEAL_STAGE, code="WON").update(name="Closed, won")
    with django_assert_num_queries(1):
        assert stage.options["WON"] == "Closed, won"
        assert "LOSE" in stage.options and len(stage.options) == 7


def test_lead_fields_describe_status_and_multiple_phones(provider):
    fields = fields_by_code(provider, LEAD)
    assert list(fields["STATUS_ID"].options) == [
        "NEW",
        "IN_PROCESS",
        "PROCESSED",
        "CONVERTED",
        "JUNK",
    ]
    assert fields["STATUS_ID"].required
    assert fields["PHONE"].multiple and fields["EMAIL"].multiple
    assert fields["SOURCE_ID"].options["CALL"] == "Call"
    assert len(fields["SOURCE_ID"].options) == 8
    assert (fields["TITLE"].name, fields["TITLE"].required) == ("Lead name", True)


def test_contact_fields_have_no_title_and_no_required_name(provider):
    fields = fields_by_code(provider, CONTACT)
    assert "TITLE" not in fields
    assert not fields["NAME"].required and not fields["LAST_NAME"].required
    assert (fields["NAME"].max_length, fields["COMPANY_ID"].type) == (100, FieldType.INT)


def test_company_fields_offer_types_and_industries(provider):
    fields = fields_by_code(provider, COMPANY)
    assert list(fields["COMPANY_TYPE"].options) == [
        "CUSTOMER",
        "SUPPLIER",
        "COMPETITOR",
        "PARTNER",
        "OTHER",
    ]
    assert fields["INDUSTRY"].options["IT"] == "Information technology"
    assert len(fields["INDUSTRY"].options) == 11
    assert (fields["REVENUE"].name, fields["REVENUE"].type) == ("Annual revenue", "double")


# --- document ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "document_type", "expected"),
    [
        ("DEAL_5", None, "DEAL_5"),
        ("deal_5", None, "DEAL_5"),
        (" Deal_005 ", None, "DEAL_5"),
        ("DEAL_5", DEAL, "DEAL_5"),
        (5, DEAL, "DEAL_5"),
        ("5", LEAD, "LEAD_5"),
        ("COMPANY_12", COMPANY, "COMPANY_12"),
        ("contact_7", None, "CONTACT_7"),
    ],
)
def test_normalize_id_gives_the_canonical_document_id(provider, raw, document_type, expected):
    assert provider.normalize_id(raw, document_type=document_type) == expected


@pytest.mark.parametrize(
    ("raw", "document_type"),
    [
        ("FOO_5", None),
        ("FOO_x", None),
        ("DEAL_abc", None),
        ("DEAL_", None),
        ("DEAL_-5", None),
        ("", None),
        (None, None),
        (None, DEAL),
        (5, None),
        ("5", None),
        ("DEAL 5", None),
    ],
)
def test_normalize_id_refuses_malformed_ids(provider, raw, document_type):
    with pytest.raises(DocumentError) as error:
        provider.normalize_id(raw, document_type=document_type)
    assert error.value.message == "Wrong DOCUMENT_ID!"


def test_normalize_id_refuses_an_id_of_another_type(provider):
    with pytest.raises(DocumentError) as error:
        provider.normalize_id("LEAD_5", document_type=DEAL)
    assert error.value.message == "Incorrect document type!"


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=50)
@given(
    entity_type=st.sampled_from(["DEAL", "LEAD", "CONTACT", "COMPANY"]),
    pk=st.integers(min_value=1, max_value=10**18 - 1),
    lower=st.booleans(),
)
def test_normalize_id_round_trips_any_positive_id(entity_type, pk, lower):
    provider = CrmDocumentProvider()
    prefix = entity_type.lower() if lower else entity_type
    normalized = provider.normalize_id(f"{prefix}_{pk}")
    assert normalized == f"{entity_type}_{pk}"
    assert provider.normalize_id(pk, document_type=DOCUMENT_TYPES[entity_type]) == normalized
    assert provider.document_type_of(normalized) == DOCUMENT_TYPES[entity_type]


@pytest.mark.parametrize(
    "document_id",
    ["DEAL_abc", "FOO_1", "", "DEAL_99999999"],
    ids=["abc", "foo", "empty", "missing"],
)
def test_reading_or_writing_a_bad_id_is_refused(provider, document_id, records_snapshot):
    DealFactory()
    before = records_snapshot()
    with pytest.raises(DocumentError):
        provider.read(document_id)
    with pytest.raises(DocumentError):
        provider.write(document_id, {"TITLE": "x"}, user_id=None)
    assert records_snapshot() == before


# --- refused writes -------------------------------------------------------------------------------

REFUSED_CASES = [
    ("DEAL", "PROBABILITY", "abc", "The value of field 'Probability, %' is not an integer."),
    ("DEAL", "PROBABILITY", "4.5", "The value of field 'Probability, %' is not an integer."),
    ("DEAL", "OPPORTUNITY", "x", "The value of field 'Amount' is not a number."),
    (
        "DEAL",
        "BEGINDATE",
        "31/31/2026",
        "The date in field 'Start date' does not match the format 'YYYY-MM-DD'.",
    ),
    (
        "DEAL",
        "CLOSEDATE",
        "2026-02-30",
        "The date in field 'Close date' does not match the format 'YYYY-MM-DD'.",
    ),
    ("DEAL", "STAGE_ID", "NOPE", "The value of field 'Stage' is incorrect."),
    ("DEAL", "STAGE_ID", "", "The field 'Stage' is required."),
    ("DEAL", "TITLE", "", "The field 'Deal name' is required."),
    (
        "DEAL",
        "TITLE",
        "x" * 256,
        "The value of field 'Deal name' is too long: at most 255 characters.",
    ),
    ("DEAL", "ASSIGNED_BY_ID", "user_99999", "The value of field 'Responsible' is incorrect."),
    ("DEAL", "ASSIGNED_BY_ID", "nobody", "The value of field 'Responsible' is incorrect."),
    ("DEAL", "COMPANY_ID", 99999, "The value of field 'Company' is incorrect."),
    ("DEAL", "CONTACT_IDS", [99999], "The value of field 'Contacts' is incorrect."),
    ("DEAL", "CURRENCY_ID", "GBP", "The value of field 'Currency' is incorrect."),
    ("DEAL", "ID", "7", "The field 'ID' is read-only."),
    ("DEAL", "DATE_CREATE", "2026-01-01", "The field 'Created' is read-only."),
    ("DEAL", "CREATED_BY_ID", "user_1", "The field 'Created by' is read-only."),
    ("DEAL", "FOO", "bar", "Unknown field: FOO"),
    ("LEAD", "STATUS_ID", "NOPE", "The value of field 'Status' is incorrect."),
    ("LEAD", "OPPORTUNITY", "12 abc", "The value of field 'Amount' is not a number."),
    ("LEAD", "MODIFY_BY_ID", "user_1", "The field 'Modified by' is read-only."),
    ("CONTACT", "COMPANY_ID", "abc", "The value of field 'Company' is not an integer."),
    (
        "CONTACT",
        "NAME",
        "x" * 101,
        "The value of field 'First name' is too long: at most 100 characters.",
    ),
    ("COMPANY", "REVENUE", "1,2,3", "The value of field 'Annual revenue' is not a number."),
    ("COMPANY", "COMPANY_TYPE", "NOPE", "The value of field 'Company type' is incorrect."),
    ("COMPANY", "DATE_MODIFY", "2026-01-01", "The field 'Modified' is read-only."),
]


@pytest.mark.parametrize(
    ("entity_type", "code", "raw", "message"),
    REFUSED_CASES,
    ids=[f"{case[0]}-{case[1]}-{str(case[2])[:12]}" for case in REFUSED_CASES],
)
def test_wrong_value_is_refused_with_the_domain_message_and_nothing_changes(
    world, provider, records_snapshot, entity_type, code, raw, message
):
    record = world.record(entity_type)
    model = RECORD_MODELS[entity_type]
    row_before = list(model.objects.filter(pk=record.pk).values())
    before = records_snapshot()

    with pytest.raises(DocumentError) as error:
        provider.write(record.document_id, {code: raw}, user_id=world.editor.pk)

    assert error.value.message == message
    assert message in error.value.errors.values()
    assert list(model.objects.filter(pk=record.pk).values()) == row_before
    assert row_before[0]["version"] == 1
    assert records_snapshot() == before


def test_one_wrong_value_refuses_the_whole_write_and_names_every_wrong_field(
    world, provider, records_snapshot
):
    before = records_snapshot()

    with pytest.raises(DocumentError) as error:
        provider.write(
            world.deal.document_id,
            {"TITLE": "Good title", "PROBABILITY": "abc", "STAGE_ID": "NOPE"},
            user_id=world.editor.pk,
        )

    assert error.value.errors == {
        "PROBABILITY": "The value of field 'Probability, %' is not an integer.",
        "STAGE_ID": "The value of field 'Stage' is incorrect.",
    }
    assert records_snapshot() == before
    assert provider.read(world.deal.document_id)["TITLE"] == "Big deal"


@pytest.mark.parametrize(
    ("code", "raw"),
    [
        ("PROBABILITY", "-5"),
        ("PROBABILITY", "9999999999999999999"),
        ("COMPANY_ID", "9999999999999999999"),
        ("CONTACT_IDS", ["9999999999999999999"]),
    ],
)
def test_out_of_range_integer_is_refused_with_a_message_and_nothing_changes(
    world, provider, records_snapshot, code, raw
):
    """Not a database crash: the process journal needs a message naming the field."""
    before = records_snapshot()

    with pytest.raises(DocumentError) as error:
        provider.write(world.deal.document_id, {code: raw}, user_id=world.editor.pk)

    assert code in error.value.errors
    assert records_snapshot() == before


# --- Russian --------------------------------------------------------------------------------------


def caption_in_russian(provider, document_type: DocumentType, code: str) -> str:
    with translation.override("ru"):
        return fields_by_code(provider, document_type)[code].name


RUSSIAN_CASES = [
    ("PROBABILITY", "abc", lambda name: "Значение поля 'Вероятность, %' не является целым числом"),
    ("OPPORTUNITY", "x", lambda name: f"Значение поля '{name}' не является действительным числом"),
    (
        "BEGINDATE",
        "31/31/2026",
        lambda name: f"Значение даты в поле '{name}' не соответствует формату",
    ),
    ("STAGE_ID", "NOPE", lambda name: f"Значение поля '{name}' не верно"),
    ("TITLE", "", lambda name: f"Поле '{name}' должно быть обязательно заполнено"),
]


@pytest.mark.parametrize(
    ("code", "raw", "expected"), RUSSIAN_CASES, ids=[case[0] for case in RUSSIAN_CASES]
)
def test_wrong_value_is_refused_in_russian(world, provider, records_snapshot, code, raw, expected):
    """Bitrix's Russian wording (DOMAIN.md §3), with the field's Russian caption."""
    before = records_snapshot()
    name = caption_in_russian(provider, DEAL, code)
    assert name != fields_by_code(provider, DEAL)[code].name  # the caption is translated too

    with translation.override("ru"), pytest.raises(DocumentError) as error:
        provider.write(world.deal.document_id, {code: raw}, user_id=world.editor.pk)

    assert expected(name) in error.value.message
    assert records_snapshot() == before


def test_probability_caption_is_russian_in_russian(provider):
    assert caption_in_russian(provider, DEAL, "PROBABILITY") == "Вероятность, %"


def test_missing_record_is_reported_in_russian(provider):
    with translation.override("ru"), pytest.raises(DocumentError) as error:
        provider.read("DEAL_99999")
    assert error.value.message == "Элемент с таким ID не найден"


# --- versions and modification stamps -------------------------------------------------------------


def test_a_write_bumps_the_version_and_stamps_modification(world, provider):
    started = timezone.now()

    provider.write(world.deal.document_id, {"TITLE": "Renamed"}, user_id=world.other.pk)

    deal = Deal.objects.get(pk=world.deal.pk)
    values = provider.read(world.deal.document_id)
    assert deal.version == 2
    assert started <= values["DATE_MODIFY"] <= timezone.now()
    assert values["MODIFY_BY_ID"] == f"user_{world.other.pk}"
    assert values["DATE_CREATE"] == CREATED  # creation stamps are kept
    assert values["CREATED_BY_ID"] == f"user_{world.author.pk}"


def test_a_second_write_bumps_the_version_again(world, provider):
    provider.write(world.deal.document_id, {"TITLE": "One"}, user_id=None)
    provider.write(world.deal.document_id, {"TITLE": "Two"}, user_id=None)
    assert Deal.objects.get(pk=world.deal.pk).version == 3


def _sorted_contacts(world: World) -> list[int]:
    return sorted([world.contact.pk, world.contact2.pk])


NO_CHANGE_CASES = [
    ("DEAL", {"TITLE": "Big deal"}),
    ("DEAL", {"STAGE_ID": "Preparing documents"}),
    ("DEAL", {"PROBABILITY": "30"}),
    ("DEAL", {"OPPORTUNITY": "5 000,00"}),
    ("DEAL", {"BEGINDATE": "15.01.2025"}),
    ("DEAL", {"CURRENCY_ID": "Euro"}),
    ("DEAL", {"ASSIGNED_BY_ID": user_ref("responsible", as_value=False)}),
    ("DEAL", {"COMPANY_ID": pk_of("company", text=True)}),
    ("DEAL", {"CONTACT_IDS": _sorted_contacts}),  # in the order they are read
    ("LEAD", {"PHONE": "+7 999 000-00-03", "OPPORTUNITY": 1234.5}),
    ("CONTACT", {"NAME": "Ivan", "COMPANY_ID": pk_of("company")}),
    ("COMPANY", {"INDUSTRY": "Information technology", "REVENUE": "1 000 000,75"}),
]


@pytest.mark.parametrize(
    ("entity_type", "values"),
    NO_CHANGE_CASES,
    ids=[f"{case[0]}-{'+'.join(case[1])}" for case in NO_CHANGE_CASES],
)
def test_a_write_without_an_actual_change_keeps_version_and_stamps(
    world, provider, entity_type, values
):
    record = world.record(entity_type)
    before = provider.read(record.document_id)

    provider.write(
        record.document_id,
        {code: resolved(raw, world) for code, raw in values.items()},
        user_id=world.other.pk,
    )

    assert provider.read(record.document_id) == before
    assert RECORD_MODELS[entity_type].objects.get(pk=record.pk).version == 1


@pytest.mark.parametrize(
    ("entity_type", "code"),
    [
        ("DEAL", "COMMENTS"),
        ("LEAD", "NAME"),
        ("LEAD", "COMPANY_TITLE"),
        ("CONTACT", "POST"),
        ("COMPANY", "COMMENTS"),
    ],
)
def test_writing_an_empty_value_to_an_empty_field_is_not_a_change(provider, entity_type, code):
    """A form or SetField that leaves an empty field empty must not count as an edit."""
    factories = {
        "DEAL": DealFactory,
        "LEAD": LeadFactory,
        "CONTACT": ContactFactory,
        "COMPANY": CompanyFactory,
    }
    record = factories[entity_type]()
    assert provider.read(record.document_id)[code] == ""

    provider.write(record.document_id, {code: ""}, user_id=None)

    assert RECORD_MODELS[entity_type].objects.get(pk=record.pk).version == 1


def test_writing_the_same_contacts_in_another_order_is_not_a_change(world, provider):
    """CONTACT_IDS is a set of links; its read order is by id."""
    provider.write(
        world.deal.document_id,
        {"CONTACT_IDS": sorted(_sorted_contacts(world), reverse=True)},
        user_id=None,
    )
    assert Deal.objects.get(pk=world.deal.pk).version == 1


def test_writing_the_same_unrounded_amount_twice_changes_the_record_once(world, provider):
    """The amount is kept to cents; the second identical write finds nothing to change."""
    provider.write(world.deal.document_id, {"OPPORTUNITY": "100.005"}, user_id=None)
    stored = provider.read(world.deal.document_id)["OPPORTUNITY"]
    provider.write(world.deal.document_id, {"OPPORTUNITY": "100.005"}, user_id=None)

    assert provider.read(world.deal.document_id)["OPPORTUNITY"] == stored
    assert Deal.objects.get(pk=world.deal.pk).version == 2


@pytest.mark.parametrize(
    ("entity_type", "code"),
    [
        ("DEAL", "SOURCE_ID"),
        ("DEAL", "CURRENCY_ID"),
        ("LEAD", "SOURCE_ID"),
        ("CONTACT", "SOURCE_ID"),
        ("COMPANY", "COMPANY_TYPE"),
        ("COMPANY", "INDUSTRY"),
    ],
)
def test_clearing_an_optional_list_field_empties_it(world, provider, entity_type, code):
    record = world.record(entity_type)
    assert provider.read(record.document_id)[code] != ""

    provider.write(record.document_id, {code: ""}, user_id=world.editor.pk)

    assert provider.read(record.document_id)[code] == ""
    assert RECORD_MODELS[entity_type].objects.get(pk=record.pk).version == 2


@pytest.mark.parametrize(
    "code", ["PROBABILITY", "OPPORTUNITY", "COMPANY_ID", "CONTACT_ID", "BEGINDATE", "COMMENTS"]
)
def test_clearing_an_optional_deal_field_empties_it(world, provider, code):
    provider.write(world.deal.document_id, {code: ""}, user_id=world.editor.pk)

    assert provider.read(world.deal.document_id)[code] in (None, "")
    assert Deal.objects.get(pk=world.deal.pk).version == 2

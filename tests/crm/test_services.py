"""Writes through ``crm.services``: hooks, validation, versions, defaults and process writes."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from bizproc.hooks import document_hooks
from crm import services
from crm.models import Action, Company, Contact, Deal, Lead, Level, Status, StatusList
from tests.crm.factories import (
    CompanyFactory,
    ContactFactory,
    DealFactory,
    LeadFactory,
    UserFactory,
    user_with,
)

pytestmark = pytest.mark.django_db

EVERYTHING_ON_DEALS = {
    ("DEAL", Action.READ): Level.ALL,
    ("DEAL", Action.ADD): Level.ALL,
    ("DEAL", Action.UPDATE): Level.ALL,
    ("DEAL", Action.DELETE): Level.ALL,
}


@pytest.fixture
def manager():
    """A user who may do everything to deals and read every company and contact."""
    return user_with(
        {
            **EVERYTHING_ON_DEALS,
            ("COMPANY", Action.READ): Level.ALL,
            ("CONTACT", Action.READ): Level.ALL,
            ("CONTACT", Action.ADD): Level.ALL,
            ("CONTACT", Action.UPDATE): Level.ALL,
            ("LEAD", Action.ADD): Level.ALL,
            ("COMPANY", Action.ADD): Level.ALL,
        }
    )


# --- hooks ---------------------------------------------------------------------------------------


def test_create_calls_the_created_hook_once_with_document_and_author(manager, hook_calls):
    deal = services.record_create(entity_type="DEAL", values={"TITLE": "Hooked"}, user=manager)

    assert hook_calls.created == [
        {"document_id": f"DEAL_{deal.pk}", "user_id": manager.pk, "by_process": False}
    ]
    assert hook_calls.updated == [] and hook_calls.deleted == []


def test_update_calls_the_updated_hook_with_typed_old_and_new_values(manager, hook_calls):
    deal = DealFactory(title="Old", stage="NEW")

    returned = services.record_update(
        record=deal,
        values={"TITLE": "New", "STAGE_ID": "Deal won", "OPPORTUNITY": "1 234,50"},
        user=manager,
    )

    expected_changes = {
        "TITLE": ("Old", "New"),
        "STAGE_ID": ("NEW", "WON"),
        "OPPORTUNITY": (None, 1234.5),
    }
    assert returned == expected_changes
    assert hook_calls.updated == [
        {
            "document_id": f"DEAL_{deal.pk}",
            "user_id": manager.pk,
            "changes": expected_changes,
            "by_process": False,
        }
    ]
    assert hook_calls.created == [] and hook_calls.deleted == []


def test_update_reports_only_the_fields_that_really_changed(manager, hook_calls):
    deal = DealFactory(title="Same", stage="NEW", probability=10)

    services.record_update(
        record=deal, values={"TITLE": "Same", "STAGE_ID": "NEW", "PROBABILITY": "20"}, user=manager
    )

    assert [call["changes"] for call in hook_calls.updated] == [{"PROBABILITY": (10, 20)}]


def test_process_update_tells_the_hook_it_came_from_a_process(hook_calls, provider):
    deal = DealFactory(title="Old")
    editor = UserFactory()

    services.record_update(record=deal, values={"TITLE": "By system"}, user=None, by_process=True)
    provider.write(deal.document_id, {"TITLE": "By process"}, user_id=editor.pk)

    assert hook_calls.updated == [
        {
            "document_id": deal.document_id,
            "user_id": None,
            "changes": {"TITLE": ("Old", "By system")},
            "by_process": True,
        },
        {
            "document_id": deal.document_id,
            "user_id": editor.pk,
            "changes": {"TITLE": ("By system", "By process")},
            "by_process": True,
        },
    ]


def test_process_create_tells_the_hook_it_came_from_a_process(hook_calls):
    responsible = UserFactory()

    deal = services.record_create(
        entity_type="DEAL",
        values={"TITLE": "By process", "ASSIGNED_BY_ID": f"user_{responsible.pk}"},
        user=None,
        by_process=True,
    )

    assert [(call["document_id"], call["by_process"]) for call in hook_calls.created] == [
        (f"DEAL_{deal.pk}", True)
    ]


def test_delete_calls_the_deleted_hook_with_document_and_user(manager, hook_calls):
    deal = DealFactory()
    document_id = deal.document_id

    services.record_delete(record=deal, user=manager)

    assert hook_calls.deleted == [{"document_id": document_id, "user_id": manager.pk}]
    assert hook_calls.created == [] and hook_calls.updated == []


def test_an_update_without_changes_calls_no_hook(manager, hook_calls):
    deal = DealFactory(title="Same")

    assert services.record_update(record=deal, values={"TITLE": "Same"}, user=manager) == {}
    assert not hook_calls.any


@pytest.mark.parametrize(
    ("refusal", "exception"),
    [
        ("create-denied", PermissionDenied),
        ("create-invalid", ValidationError),
        ("update-denied", PermissionDenied),
        ("update-invalid", ValidationError),
        ("update-stale", services.StaleRecord),
        ("delete-denied", PermissionDenied),
    ],
)
def test_a_refused_write_calls_no_hook(refusal, exception, manager, hook_calls, records_snapshot):
    nobody = UserFactory()
    deal = DealFactory(title="Untouched")
    before = records_snapshot()

    with pytest.raises(exception):
        match refusal:
            case "create-denied":
                services.record_create(entity_type="DEAL", values={"TITLE": "X"}, user=nobody)
            case "create-invalid":
                services.record_create(entity_type="DEAL", values={"TITLE": ""}, user=manager)
            case "update-denied":
                services.record_update(record=deal, values={"TITLE": "X"}, user=nobody)
            case "update-invalid":
                services.record_update(record=deal, values={"PROBABILITY": "x"}, user=manager)
            case "update-stale":
                services.record_update(
                    record=deal, values={"TITLE": "X"}, user=manager, expected_version=7
                )
            case "delete-denied":
                services.record_delete(record=deal, user=nobody)

    assert not hook_calls.any
    assert records_snapshot() == before


def test_a_failing_hook_listener_aborts_the_write(manager, records_snapshot):
    def refuse(**kwargs):
        raise RuntimeError("engine refused")

    deal = DealFactory(title="Untouched")
    before = records_snapshot()
    document_hooks.on_created.append(refuse)
    document_hooks.on_updated.append(refuse)
    try:
        with pytest.raises(RuntimeError):
            services.record_create(entity_type="DEAL", values={"TITLE": "X"}, user=manager)
        with pytest.raises(RuntimeError):
            services.record_update(record=deal, values={"TITLE": "X"}, user=manager)
    finally:
        document_hooks.on_created.remove(refuse)
        document_hooks.on_updated.remove(refuse)

    assert records_snapshot() == before


# --- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity_type", "message"),
    [
        ("DEAL", "The field 'Deal name' is required."),
        ("LEAD", "The field 'Lead name' is required."),
        ("COMPANY", "The field 'Company name' is required."),
    ],
)
def test_create_without_title_is_refused_and_stores_nothing(
    manager, records_snapshot, entity_type, message
):
    before = records_snapshot()

    with pytest.raises(ValidationError) as error:
        services.record_create(entity_type=entity_type, values={"COMMENTS": "x"}, user=manager)

    assert error.value.message_dict == {"TITLE": [message]}
    assert records_snapshot() == before


@pytest.mark.parametrize(
    ("values", "code", "message"),
    [
        (
            {"TITLE": "X", "STAGE_ID": "NO_SUCH_STAGE"},
            "STAGE_ID",
            "The value of field 'Stage' is incorrect.",
        ),
        (
            {"TITLE": "x" * 256},
            "TITLE",
            "The value of field 'Deal name' is too long: at most 255 characters.",
        ),
        (
            {"TITLE": "X", "PROBABILITY": "high"},
            "PROBABILITY",
            "The value of field 'Probability, %' is not an integer.",
        ),
        (
            {"TITLE": "X", "ASSIGNED_BY_ID": "user_99999"},
            "ASSIGNED_BY_ID",
            "The value of field 'Responsible' is incorrect.",
        ),
    ],
    ids=["missing-stage", "long-title", "probability", "responsible"],
)
def test_create_with_a_wrong_value_is_refused_on_that_field(
    manager, records_snapshot, values, code, message
):
    before = records_snapshot()

    with pytest.raises(ValidationError) as error:
        services.record_create(entity_type="DEAL", values=values, user=manager)

    assert error.value.message_dict == {code: [message]}
    assert records_snapshot() == before


def test_a_title_of_exactly_255_characters_is_accepted(manager):
    deal = services.record_create(entity_type="DEAL", values={"TITLE": "x" * 255}, user=manager)
    assert Deal.objects.get(pk=deal.pk).title == "x" * 255


def test_update_with_an_over_long_title_is_refused_and_changes_nothing(manager, records_snapshot):
    deal = DealFactory(title="Short")
    before = records_snapshot()

    with pytest.raises(ValidationError) as error:
        services.record_update(record=deal, values={"TITLE": "y" * 256}, user=manager)

    assert list(error.value.message_dict) == ["TITLE"]
    assert records_snapshot() == before


def test_responsible_must_be_an_active_user(manager, records_snapshot):
    former = UserFactory(is_active=False)
    before = records_snapshot()

    with pytest.raises(ValidationError) as error:
        services.record_create(
            entity_type="DEAL", values={"TITLE": "X", "ASSIGNED_BY_ID": former.pk}, user=manager
        )

    assert error.value.message_dict == {
        "ASSIGNED_BY_ID": ["The value of field 'Responsible' is incorrect."]
    }
    assert records_snapshot() == before


@pytest.fixture
def own_company_reader():
    """May add and update any deal, but reads only their own companies and contacts."""
    return user_with(
        {
            ("DEAL", Action.ADD): Level.ALL,
            ("DEAL", Action.UPDATE): Level.ALL,
            ("COMPANY", Action.READ): Level.OWN,
            ("CONTACT", Action.READ): Level.OWN,
        }
    )


def test_deal_cannot_be_linked_to_a_company_the_user_may_not_read(
    own_company_reader, records_snapshot
):
    foreign = CompanyFactory()
    before = records_snapshot()

    with pytest.raises(ValidationError) as error:
        services.record_create(
            entity_type="DEAL",
            values={"TITLE": "X", "COMPANY_ID": foreign.pk},
            user=own_company_reader,
        )

    assert error.value.message_dict == {
        "COMPANY_ID": ["The value of field 'Company' is incorrect."]
    }
    assert records_snapshot() == before


def test_deal_can_be_linked_to_a_company_the_user_may_read(own_company_reader):
    mine = CompanyFactory(assigned_by=own_company_reader)

    deal = services.record_create(
        entity_type="DEAL", values={"TITLE": "X", "COMPANY_ID": mine.pk}, user=own_company_reader
    )

    assert Deal.objects.get(pk=deal.pk).company_id == mine.pk


def test_update_cannot_link_a_company_or_contacts_the_user_may_not_read(
    own_company_reader, records_snapshot
):
    deal = DealFactory()
    foreign_company = CompanyFactory()
    mine, foreign_contact = ContactFactory(assigned_by=own_company_reader), ContactFactory()
    before = records_snapshot()

    with pytest.raises(ValidationError) as error:
        services.record_update(
            record=deal,
            values={"COMPANY_ID": foreign_company.pk, "CONTACT_IDS": [mine.pk, foreign_contact.pk]},
            user=own_company_reader,
        )

    assert error.value.message_dict == {
        "COMPANY_ID": ["The value of field 'Company' is incorrect."],
        "CONTACT_IDS": ["The value of field 'Contacts' is incorrect."],
    }
    assert records_snapshot() == before


def test_update_can_link_contacts_the_user_may_read(own_company_reader):
    deal = DealFactory()
    mine = ContactFactory.create_batch(2, assigned_by=own_company_reader)

    services.record_update(
        record=deal, values={"CONTACT_IDS": [c.pk for c in mine]}, user=own_company_reader
    )

    assert sorted(deal.contacts.values_list("pk", flat=True)) == sorted(c.pk for c in mine)


def test_contact_without_first_and_last_name_is_refused(manager, records_snapshot):
    before = records_snapshot()

    with pytest.raises(ValidationError) as error:
        services.record_create(
            entity_type="CONTACT", values={"POST": "CEO", "NAME": "  "}, user=manager
        )

    assert error.value.message_dict == {"NAME": ["Enter a first name or a last name."]}
    assert records_snapshot() == before


@pytest.mark.parametrize("values", [{"NAME": "Ivan"}, {"LAST_NAME": "Petrov"}])
def test_contact_with_only_one_of_the_names_is_stored(manager, values):
    contact = services.record_create(entity_type="CONTACT", values=values, user=manager)
    stored = Contact.objects.get(pk=contact.pk)
    assert (stored.name or stored.last_name) == next(iter(values.values()))


def test_clearing_both_names_of_a_contact_is_refused(manager, records_snapshot):
    contact = ContactFactory(name="Ivan", last_name="")
    before = records_snapshot()

    with pytest.raises(ValidationError) as error:
        services.record_update(record=contact, values={"NAME": ""}, user=manager)

    assert list(error.value.message_dict) == ["NAME"]
    assert records_snapshot() == before


def test_record_validate_returns_typed_values_and_writes_nothing(manager, records_snapshot):
    deal = DealFactory(probability=10)
    before = records_snapshot()

    typed = services.record_validate(
        entity_type="DEAL",
        values={"PROBABILITY": "42", "STAGE_ID": "Deal won", "OPPORTUNITY": "1 234,50"},
        user=manager,
        record=deal,
    )

    assert typed == {"PROBABILITY": 42, "STAGE_ID": "WON", "OPPORTUNITY": 1234.5}
    assert records_snapshot() == before


def test_validation_message_is_given_in_russian(manager):
    with translation.override("ru"), pytest.raises(ValidationError) as error:
        services.record_create(
            entity_type="DEAL", values={"TITLE": "X", "PROBABILITY": "abc"}, user=manager
        )
    assert error.value.message_dict["PROBABILITY"] == [
        "Значение поля 'Вероятность, %' не является целым числом"
    ]


# --- versions ------------------------------------------------------------------------------------


def test_an_edit_based_on_an_older_version_is_refused_as_stale(manager, records_snapshot):
    deal = DealFactory(title="Original")
    loaded_version = deal.version
    services.record_update(record=deal, values={"TITLE": "Someone else's edit"}, user=manager)
    before = records_snapshot()

    with pytest.raises(services.StaleRecord) as error:
        services.record_update(
            record=deal, values={"TITLE": "My edit"}, user=manager, expected_version=loaded_version
        )

    assert error.value.record.version == loaded_version + 1
    assert records_snapshot() == before
    assert Deal.objects.get(pk=deal.pk).title == "Someone else's edit"


def test_an_edit_based_on_the_current_version_is_saved_and_bumps_it(manager):
    deal = DealFactory(title="Original")

    services.record_update(
        record=deal, values={"TITLE": "My edit"}, user=manager, expected_version=deal.version
    )

    stored = Deal.objects.get(pk=deal.pk)
    assert (stored.title, stored.version, stored.modified_by_id) == ("My edit", 2, manager.pk)
    assert deal.version == 2  # the caller's object is refreshed


# --- defaults ------------------------------------------------------------------------------------


def test_new_deal_gets_the_first_stage_and_the_author_as_responsible(manager):
    deal = services.record_create(entity_type="DEAL", values={"TITLE": "Fresh"}, user=manager)

    stored = Deal.objects.get(pk=deal.pk)
    assert stored.stage == "NEW"
    assert (stored.assigned_by_id, stored.created_by_id, stored.modified_by_id) == (
        manager.pk,
        manager.pk,
        manager.pk,
    )
    assert stored.version == 1


def test_new_deal_gets_the_first_stage_of_the_configured_order(manager):
    Status.objects.filter(list=StatusList.DEAL_STAGE, code="PREPARATION").update(sort=1)

    deal = services.record_create(entity_type="DEAL", values={"TITLE": "Fresh"}, user=manager)

    assert Deal.objects.get(pk=deal.pk).stage == "PREPARATION"


def test_new_deal_keeps_an_explicit_stage_and_responsible(manager):
    colleague = UserFactory()

    deal = services.record_create(
        entity_type="DEAL",
        values={"TITLE": "Fresh", "STAGE_ID": "EXECUTING", "ASSIGNED_BY_ID": colleague.pk},
        user=manager,
    )

    stored = Deal.objects.get(pk=deal.pk)
    assert (stored.stage, stored.assigned_by_id, stored.created_by_id) == (
        "EXECUTING",
        colleague.pk,
        manager.pk,
    )


def test_new_lead_gets_status_new(manager):
    lead = services.record_create(entity_type="LEAD", values={"TITLE": "Fresh"}, user=manager)
    stored = Lead.objects.get(pk=lead.pk)
    assert (stored.status, stored.assigned_by_id) == ("NEW", manager.pk)


def test_new_company_stores_converted_values(manager):
    company = services.record_create(
        entity_type="COMPANY",
        values={"TITLE": "Acme", "REVENUE": "1 000,5", "INDUSTRY": "IT", "PHONE": "+7 1"},
        user=manager,
    )
    stored = Company.objects.get(pk=company.pk)
    assert (stored.revenue, stored.industry, stored.phone) == (
        Decimal("1000.50"),
        "IT",
        [{"VALUE": "+7 1", "VALUE_TYPE": "WORK"}],
    )


# --- process writes ------------------------------------------------------------------------------


def test_process_create_by_the_system_needs_no_rights(records_snapshot):
    responsible = UserFactory()
    company = CompanyFactory()

    deal = services.record_create(
        entity_type="DEAL",
        values={"TITLE": "By system", "ASSIGNED_BY_ID": responsible.pk, "COMPANY_ID": company.pk},
        user=None,
        by_process=True,
    )

    stored = Deal.objects.get(pk=deal.pk)
    assert (stored.title, stored.assigned_by_id, stored.company_id, stored.stage) == (
        "By system",
        responsible.pk,
        company.pk,
        "NEW",
    )


def test_process_writes_on_behalf_of_a_user_without_rights_are_allowed():
    powerless = UserFactory()  # no roles at all
    foreign_company = CompanyFactory()
    deal = DealFactory(title="Old")

    created = services.record_create(
        entity_type="DEAL",
        values={"TITLE": "By process", "COMPANY_ID": foreign_company.pk},
        user=powerless,
        by_process=True,
    )
    services.record_update(
        record=deal, values={"TITLE": "Changed by process"}, user=powerless, by_process=True
    )

    stored = Deal.objects.get(pk=created.pk)
    assert (stored.assigned_by_id, stored.created_by_id, stored.company_id) == (
        powerless.pk,
        powerless.pk,
        foreign_company.pk,
    )
    updated = Deal.objects.get(pk=deal.pk)
    assert (updated.title, updated.modified_by_id, updated.version) == (
        "Changed by process",
        powerless.pk,
        2,
    )


def test_the_same_writes_without_by_process_are_refused_positive_control(records_snapshot):
    powerless = UserFactory()
    deal = DealFactory(title="Old")
    before = records_snapshot()

    with pytest.raises(PermissionDenied):
        services.record_create(entity_type="DEAL", values={"TITLE": "X"}, user=powerless)
    with pytest.raises(PermissionDenied):
        services.record_update(record=deal, values={"TITLE": "X"}, user=powerless)

    assert records_snapshot() == before


def test_system_update_keeps_the_last_modifier(records_snapshot):
    editor = UserFactory()
    deal = DealFactory(title="Old", modified_by=editor)

    services.record_update(record=deal, values={"TITLE": "New"}, user=None, by_process=True)

    stored = Deal.objects.get(pk=deal.pk)
    assert (stored.title, stored.modified_by_id, stored.version) == ("New", editor.pk, 2)


@pytest.mark.parametrize("user_kind", ["system", "powerless"])
def test_process_writes_are_still_validated(user_kind, records_snapshot):
    user = None if user_kind == "system" else UserFactory()
    deal = DealFactory(title="Old")
    before = records_snapshot()

    with pytest.raises(ValidationError) as update_error:
        services.record_update(
            record=deal,
            values={"PROBABILITY": "abc", "STAGE_ID": "NOPE"},
            user=user,
            by_process=True,
        )
    with pytest.raises(ValidationError) as create_error:
        services.record_create(
            entity_type="DEAL",
            values={"TITLE": "", "ASSIGNED_BY_ID": UserFactory().pk},
            user=user,
            by_process=True,
        )

    assert set(update_error.value.message_dict) == {"PROBABILITY", "STAGE_ID"}
    assert set(create_error.value.message_dict) == {"TITLE"}
    snapshot_after = records_snapshot()
    assert snapshot_after == before


def test_system_create_without_a_responsible_is_refused(records_snapshot):
    before = records_snapshot()

    with pytest.raises(ValidationError) as error:
        services.record_create(
            entity_type="LEAD", values={"TITLE": "Orphan"}, user=None, by_process=True
        )

    assert error.value.message_dict == {"ASSIGNED_BY_ID": ["The field 'Responsible' is required."]}
    assert records_snapshot() == before


def test_system_delete_needs_no_rights():
    lead = LeadFactory()
    pk = lead.pk

    services.record_delete(record=lead, user=None)

    assert not Lead.objects.filter(pk=pk).exists()

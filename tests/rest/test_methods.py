"""The REST endpoint through Django's test client: request shapes, rights, errors, batch, limits.

Webhooks are made with the real service; records with the CRM factories (straight through the
models, so that the rights under test are not also the setup's).
"""

import base64
import json
import zlib
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from bizproc import scenarios
from bizproc.bpt import BptContent, bpt_write
from bizproc.models import Instance, InstanceStatus, RunStatus, ScenarioRun, Template
from crm.documents import DOCUMENT_TYPES
from crm.models import Deal
from rest.models import Webhook
from rest.services import webhook_authenticate, webhook_create, webhook_path, webhook_revoke
from tests.bizproc.builders import field
from tests.crm.factories import ContactFactory, DealFactory, LeadFactory, UserFactory, user_with

pytestmark = pytest.mark.django_db

DEAL_TYPE = ["crm", "CCrmDocumentDeal", "DEAL"]


def hook(user) -> str:
    webhook, token = webhook_create(user=user, name="Test")
    return webhook_path(webhook=webhook, token=token)


def call(client: Client, base: str, method: str, params: Any = None, **kwargs) -> tuple[int, dict]:
    """POSTs ``params`` as JSON (or ``data=`` as a form, or GETs with ``query=``)."""
    if "query" in kwargs:
        response = client.get(f"{base}{method}?{kwargs['query']}")
    elif "data" in kwargs:
        response = client.post(f"{base}{method}", kwargs["data"])
    elif "body" in kwargs:
        response = client.post(f"{base}{method}", kwargs["body"], content_type="application/json")
    else:
        response = client.post(
            f"{base}{method}", json.dumps(params or {}), content_type="application/json"
        )
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()


@pytest.fixture
def admin():
    return UserFactory(is_crm_admin=True, username="boss")


@pytest.fixture
def base(admin) -> str:
    return hook(admin)


def delay_bpt(title: str = "Wait an hour") -> bytes:
    """A .bpt whose process waits an hour, so that it stays running."""
    tree = {
        "Type": "SequentialWorkflowActivity",
        "Name": "Template",
        "Properties": {"Title": "Waits"},
        "Children": [
            {
                "Type": "DelayActivity",
                "Name": "A1_1_1_1",
                "Properties": {
                    "Title": title,
                    "TimeoutDuration": "1",
                    "TimeoutDurationType": "h",
                },
                "Children": [],
            }
        ],
    }
    return bpt_write(
        BptContent(
            version=2,
            template=[tree],
            parameters={},
            variables={},
            constants={},
            document_fields={},
        )
    )


# Records ------------------------------------------------------------------------------------


def test_a_deal_goes_through_add_get_update_list_and_delete(client, base, admin) -> None:
    contact = ContactFactory(assigned_by=admin)
    status, body = call(
        client,
        base,
        "crm.deal.add",
        {
            "fields": {
                "TITLE": "Cloud migration",
                "OPPORTUNITY": "1500.5",
                "CURRENCY_ID": "USD",
                "CONTACT_IDS": [contact.pk],
                "TYPE_ID": "SALE",  # a Bitrix field we do not model: ignored, as Bitrix does
            }
        },
    )
    assert status == 200, body
    deal_id = body["result"]
    assert isinstance(deal_id, int)
    assert set(body["time"]) >= {"start", "finish", "duration", "processing", "operating"}

    status, body = call(client, base, "crm.deal.get", {"id": deal_id})
    deal = body["result"]
    assert (deal["ID"], deal["TITLE"], deal["OPPORTUNITY"]) == (
        str(deal_id),
        "Cloud migration",
        "1500.50",
    )
    assert "CONTACT_IDS" not in deal  # as in Bitrix24: listed with select only
    assert deal["ASSIGNED_BY_ID"] == str(admin.pk)
    assert deal["STAGE_ID"] == "NEW"

    status, body = call(
        client, base, "crm.deal.update", {"id": deal_id, "fields": {"TITLE": "Renamed"}}
    )
    assert (status, body["result"]) == (200, True)
    assert Deal.objects.get(pk=deal_id).title == "Renamed"

    status, body = call(
        client,
        base,
        "crm.deal.list",
        {"filter": {"%TITLE": "renam"}, "select": ["TITLE", "CONTACT_IDS"]},
    )
    assert body["result"] == [
        {"ID": str(deal_id), "TITLE": "Renamed", "CONTACT_IDS": [str(contact.pk)]}
    ]
    assert body["total"] == 1 and "next" not in body

    status, body = call(client, base, "crm.deal.delete", {"id": deal_id})
    assert (status, body["result"]) == (200, True)
    assert not Deal.objects.filter(pk=deal_id).exists()


def test_php_bracket_forms_and_queries_case_insensitive_methods_and_json_suffix(
    client, base, admin
) -> None:
    status, body = call(
        client,
        base,
        "CRM.Deal.Add.json",
        data={"fields[TITLE]": "Bracket deal", "fields[OPPORTUNITY]": "250"},
    )
    assert status == 200, body
    DealFactory(title="Cheap", opportunity=Decimal(10), assigned_by=admin)
    status, body = call(
        client,
        base,
        "crm.deal.list",
        query="filter[%3EOPPORTUNITY]=100&select[]=ID&select[]=OPPORTUNITY&order[ID]=desc",
    )
    assert status == 200, body
    assert body["result"] == [
        {"ID": str(Deal.objects.get(title="Bracket deal").pk), "OPPORTUNITY": "250.00"}
    ]


def test_phone_and_email_are_bitrix_multi_fields(client, base) -> None:
    status, body = call(
        client,
        base,
        "crm.contact.add",
        {
            "fields": {
                "NAME": "Olga",
                "PHONE": [{"VALUE": "+7 999 000-11-22", "VALUE_TYPE": "WORK"}],
            }
        },
    )
    contact_id = body["result"]
    status, body = call(
        client,
        base,
        "crm.contact.update",
        {"id": contact_id, "fields": {"PHONE": [{"ID": "1", "DELETE": "Y"}, {"VALUE": "+7 111"}]}},
    )
    assert status == 200, body
    status, body = call(client, base, "crm.contact.get", {"id": contact_id})
    assert body["result"]["PHONE"] == [
        {"ID": "1", "VALUE_TYPE": "WORK", "VALUE": "+7 111", "TYPE_ID": "PHONE"}
    ]
    status, body = call(client, base, "crm.contact.fields")
    assert body["result"]["PHONE"]["type"] == "crm_multifield"
    assert body["result"]["PHONE"]["isMultiple"] is True


def test_lists_page_by_50_with_total_and_next_and_start_minus_one_skips_the_count(
    client, base, admin
) -> None:
    Deal.objects.bulk_create(
        Deal(title=f"Deal {i}", assigned_by=admin, created_by=admin, modified_by=admin)
        for i in range(120)
    )
    ids = list(Deal.objects.order_by("pk").values_list("pk", flat=True))
    seen, start = [], 0
    while start is not None:
        _status, body = call(client, base, "crm.deal.list", {"start": start, "select": ["ID"]})
        assert body["total"] == 120
        seen += [int(row["ID"]) for row in body["result"]]
        start = body.get("next")
    assert seen == ids

    _status, body = call(client, base, "crm.deal.list", {"start": -1, "order": {"ID": "DESC"}})
    assert len(body["result"]) == 50 and int(body["result"][0]["ID"]) == ids[-1]
    assert "total" not in body and "next" not in body


@pytest.mark.parametrize("deep_from", [1000, 50])
def test_deep_pages_keep_the_order_filter_and_total(client, base, admin, monkeypatch, deep_from):
    """From ``DEFERRED_JOIN_OFFSET`` on, pages are read ids first: same rows, same order."""
    monkeypatch.setattr("rest.listing.DEFERRED_JOIN_OFFSET", deep_from)
    Deal.objects.bulk_create(
        Deal(
            title=f"Deal {i}",
            opportunity=Decimal(i % 7),
            assigned_by=admin,
            created_by=admin,
            modified_by=admin,
        )
        for i in range(130)
    )
    wanted = list(
        Deal.objects.filter(opportunity__gt=1)
        .order_by("-opportunity", "pk")
        .values_list("pk", flat=True)
    )
    params = {"filter": {">OPPORTUNITY": 1}, "order": {"OPPORTUNITY": "DESC", "ID": "ASC"}}
    seen, start = [], 0
    while start is not None:
        _status, body = call(client, base, "crm.deal.list", {**params, "start": start})
        assert body["total"] == len(wanted)
        seen += [int(row["ID"]) for row in body["result"]]
        start = body.get("next")
    assert seen == wanted


def test_linked_contacts_are_listed_highest_first_in_one_query(
    client, base, admin, monkeypatch, django_assert_max_num_queries
) -> None:
    monkeypatch.setattr("rest.listing.DEFERRED_JOIN_OFFSET", 50)
    contacts = [ContactFactory() for _ in range(3)]
    deals = [DealFactory(assigned_by=admin) for _ in range(60)]
    for index, deal in enumerate(deals):
        deal.contacts.set(contacts[: index % 4])
    expected = {
        str(deal.pk): [str(contact.pk) for contact in reversed(contacts[: index % 4])]
        for index, deal in enumerate(deals)
    }
    for start in (0, 50):  # the deep page reads ids first
        # The webhook, its last use, the page (ids first when deep), the count, the links.
        with django_assert_max_num_queries(6):
            _status, body = call(
                client, base, "crm.deal.list", {"select": ["CONTACT_IDS"], "start": start}
            )
        assert {row["ID"]: row["CONTACT_IDS"] for row in body["result"]} == {
            row["ID"]: expected[row["ID"]] for row in body["result"]
        }
        assert len(body["result"]) == (50 if start == 0 else 10)


# Rights -------------------------------------------------------------------------------------


def test_a_user_with_own_rights_lists_exactly_their_deals(client) -> None:
    anna = user_with({("DEAL", "read"): "own"})
    other = UserFactory()
    mine = {DealFactory(assigned_by=anna).pk for _ in range(3)}
    for _ in range(4):
        DealFactory(assigned_by=other)
    status, body = call(client, hook(anna), "crm.deal.list", {"select": ["ID", "ASSIGNED_BY_ID"]})
    assert status == 200
    assert {int(row["ID"]) for row in body["result"]} == mine
    assert body["total"] == 3


def test_a_record_the_user_may_not_read_is_not_found(client) -> None:
    anna = user_with({("DEAL", "read"): "own", ("DEAL", "update"): "own"})
    hidden = DealFactory(title="Secret")
    base = hook(anna)
    for method, params in [
        ("crm.deal.get", {"id": hidden.pk}),
        ("crm.deal.update", {"id": hidden.pk, "fields": {"TITLE": "x"}}),
        ("crm.deal.get", {"id": 10**9}),
    ]:
        status, body = call(client, base, method, params)
        assert (status, body) == (400, {"error": "", "error_description": "Not found"})
    assert Deal.objects.get(pk=hidden.pk).title == "Secret"


def test_a_denied_write_is_403_access_denied_and_changes_nothing(client) -> None:
    reader = user_with({("DEAL", "read"): "all"})
    deal = DealFactory(title="Keep")
    base = hook(reader)
    expected = (403, {"error": "ACCESS_DENIED", "error_description": "Access denied!"})
    assert (
        call(client, base, "crm.deal.update", {"id": deal.pk, "fields": {"TITLE": "x"}}) == expected
    )
    assert call(client, base, "crm.deal.delete", {"id": deal.pk}) == expected
    assert call(client, base, "crm.deal.add", {"fields": {"TITLE": "New"}}) == expected
    assert list(Deal.objects.values_list("title", flat=True)) == ["Keep"]


def test_an_admin_only_method_is_refused_to_a_non_admin(client) -> None:
    user = user_with({("DEAL", "read"): "all"})
    status, body = call(client, hook(user), "bizproc.workflow.instances")
    assert (status, body["error"], body["error_description"]) == (
        403,
        "ACCESS_DENIED",
        "Access denied!",
    )


# Bad input ----------------------------------------------------------------------------------


def test_malformed_json_is_refused_and_creates_nothing(client, base) -> None:
    status, body = call(client, base, "crm.deal.add", body='{"fields": {"TITLE": "x"')
    assert (status, body["error"]) == (400, "INVALID_REQUEST")
    assert "Malformed JSON" in body["error_description"]
    status, body = call(client, base, "crm.deal.add", body='["not", "an", "object"]')
    assert (status, body["error"]) == (400, "INVALID_REQUEST")
    assert not Deal.objects.exists()


def test_unknown_methods_are_404(client, base) -> None:
    status, body = call(client, base, "crm.deal.explode")
    assert (status, body) == (
        404,
        {"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found!"},
    )


@pytest.mark.parametrize(
    ("method", "params", "code", "description"),
    [
        ("crm.deal.list", {"filter": "TITLE"}, "", "Parameter 'filter' must be array."),
        ("crm.deal.list", {"order": ["ID"]}, "", "Parameter 'order' must be array."),
        ("crm.deal.list", {"start": "first"}, "", "Parameter 'start' must be integer."),
        ("crm.deal.list", {"select": "ID"}, "", "Parameter 'select' must be array."),
        ("crm.deal.get", {"id": "seven"}, "", "ID is not defined or invalid."),
        ("crm.deal.add", {"fields": "TITLE=x"}, "", "Parameter 'fields' must be array."),
        ("crm.deal.add", {"fields": {"TITLE": "x", "OPPORTUNITY": "lots"}}, "", None),
        ("crm.deal.add", {"fields": {"STAGE_ID": "NEW"}}, "", None),
        ("crm.deal.list", {"filter": {">OPPORTUNITY": "lots"}}, "INVALID_ARG_VALUE", None),
        (
            "crm.deal.list",
            {"filter": {"COLOUR": "red"}},
            "INVALID_ARG_VALUE",
            "Unknown field in filter: COLOUR",
        ),
        (
            "crm.deal.list",
            {"order": {"COLOUR": "ASC"}},
            "INVALID_ARG_VALUE",
            "Unknown field in order: COLOUR",
        ),
        ("crm.deal.list", {"filter": {"%STAGE_ID": "N"}}, "INVALID_ARG_VALUE", None),
    ],
)
def test_wrong_parameters_get_a_clear_error_and_create_nothing(
    client, base, method, params, code, description
) -> None:
    status, body = call(client, base, method, params)
    assert status == 400, body
    assert body["error"] == code
    if description:
        assert body["error_description"] == description
    else:
        assert body["error_description"]
    assert not Deal.objects.exists()


def test_unknown_select_names_are_left_out_as_bitrix_leaves_them(client, base) -> None:
    DealFactory(title="Kept")
    status, body = call(client, base, "crm.deal.list", {"select": ["TITLE", "COLOUR"]})
    assert status == 200, body
    assert [set(row) for row in body["result"]] == [{"ID", "TITLE"}]


def test_a_failed_validation_names_the_field(client, base) -> None:
    _status, body = call(
        client, base, "crm.deal.add", {"fields": {"TITLE": "x", "OPPORTUNITY": "lots"}}
    )
    assert body["error_description"] == "OPPORTUNITY: The value of field 'Amount' is not a number."


def test_a_batch_of_51_commands_is_refused_whole(client, base) -> None:
    cmd = {f"c{i}": f"crm.deal.add?fields[TITLE]=Deal {i}" for i in range(51)}
    status, body = call(client, base, "batch", {"cmd": cmd})
    assert (status, body) == (
        400,
        {"error": "ERROR_BATCH_LENGTH_EXCEEDED", "error_description": "Max batch length exceeded"},
    )
    assert not Deal.objects.exists()


def test_a_corrupted_bpt_is_refused_and_no_template_is_created(client, base) -> None:
    good = delay_bpt()
    corrupted = good[:20] + bytes(b ^ 0x55 for b in good[20:60]) + good[60:]
    for data in (
        ["broken.bpt", base64.b64encode(corrupted).decode()],
        ["truncated.bpt", base64.b64encode(good[: len(good) // 2]).decode()],
        ["not-base64.bpt", "%%% not base64 %%%"],
        ["plain.bpt", base64.b64encode(zlib.compress(b"hello")).decode()],
    ):
        status, body = call(
            client,
            base,
            "bizproc.workflow.template.add",
            {"DOCUMENT_TYPE": DEAL_TYPE, "NAME": "Broken", "TEMPLATE_DATA": data},
        )
        assert (status, body["error"]) == (400, "ERROR_TEMPLATE_VALIDATION_FAILURE"), body
        assert body["error_description"].startswith("Incorrect field TEMPLATE_DATA!")
    assert not Template.objects.exists()


# Batch --------------------------------------------------------------------------------------


def test_batch_resolves_result_references_and_reports_per_command(client, base) -> None:
    status, body = call(
        client,
        base,
        "batch",
        {
            "halt": 0,
            "cmd": {
                "made": "crm.deal.add?fields[TITLE]=Batch deal&fields[OPPORTUNITY]=70",
                "read": "crm.deal.get?id=$result[made]",
                "copy": "crm.deal.add?fields[TITLE]=Copy of $result[read][TITLE]",
                "bad": "crm.deal.get?id=0",
                "list": "crm.deal.list?filter[%25TITLE]=batch&select[]=ID",
            },
        },
    )
    assert status == 200, body
    result = body["result"]
    made = result["result"]["made"]
    assert result["result"]["read"]["TITLE"] == "Batch deal"
    assert Deal.objects.get(pk=result["result"]["copy"]).title == "Copy of Batch deal"
    assert result["result_error"] == {
        "bad": {"error": "", "error_description": "ID is not defined or invalid."}
    }
    assert result["result_total"] == {"list": 2}
    assert result["result_next"] == []
    assert [row["ID"] for row in result["result"]["list"]] == [str(made), str(made + 1)]
    assert set(result["result_time"]) == {"made", "read", "copy", "list"}


def test_batch_halt_stops_at_the_first_error(client, base) -> None:
    status, body = call(
        client,
        base,
        "batch",
        {
            "halt": 1,
            "cmd": [
                "crm.deal.add?fields[TITLE]=First",
                "crm.deal.nothing",
                "crm.deal.add?fields[TITLE]=Never",
            ],
        },
    )
    result = body["result"]
    assert status == 200
    assert result["result_error"] == {
        "1": {"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found!"}
    }
    assert list(Deal.objects.values_list("title", flat=True)) == ["First"]


# Limits and tokens --------------------------------------------------------------------------


def test_the_rate_limit_answers_503_query_limit_exceeded(client, base, settings) -> None:
    settings.REST_RATE_LIMIT_PER_SECOND = 1
    settings.REST_RATE_LIMIT_BURST = 3
    statuses = [call(client, base, "crm.deal.fields")[0] for _ in range(4)]
    assert statuses == [200, 200, 200, 503]
    assert call(client, base, "crm.deal.fields")[1] == {
        "error": "QUERY_LIMIT_EXCEEDED",
        "error_description": "Too many requests",
    }


def test_a_revoked_or_wrong_token_is_401(client, admin) -> None:
    webhook, token = webhook_create(user=admin, name="Soon gone")
    base = webhook_path(webhook=webhook, token=token)
    assert call(client, base, "crm.deal.fields")[0] == 200
    assert Webhook.objects.get(pk=webhook.pk).last_used_at is not None
    webhook_revoke(webhook=webhook, user=admin)
    expected = (401, {"error": "NO_AUTH_FOUND", "error_description": "Wrong authorization data"})
    assert call(client, base, "crm.deal.fields") == expected
    other = UserFactory()
    assert call(client, f"/rest/{other.pk}/{token}/", "crm.deal.fields") == expected
    assert call(client, "/rest/abc/def/", "crm.deal.fields") == expected


def test_a_webhook_is_found_with_its_user_in_one_query(admin, django_assert_num_queries) -> None:
    webhook, token = webhook_create(user=admin, name="Reports")
    Webhook.objects.filter(pk=webhook.pk).update(last_used_at=webhook.created_at)
    stored = Webhook.objects.select_related("user").get(pk=webhook.pk)

    with django_assert_num_queries(1):
        found = webhook_authenticate(user_id=admin.pk, token=token)
        assert found is not None
        assert (found.user.username, found.user.time_zone) == (admin.username, admin.time_zone)
    assert [getattr(found, field.attname) for field in Webhook._meta.concrete_fields] == [
        getattr(stored, field.attname) for field in Webhook._meta.concrete_fields
    ]
    assert found.user.date_joined == stored.user.date_joined
    assert webhook_authenticate(user_id=admin.pk, token=token[:-1] + "?") is None


def test_a_deactivated_users_webhook_stops_working(client, admin, base) -> None:
    admin.is_active = False
    admin.save()
    assert call(client, base, "crm.deal.fields")[0] == 401


# Processes and templates --------------------------------------------------------------------


def test_templates_and_processes_over_rest(client, base, admin) -> None:
    data = ["wait.bpt", base64.b64encode(delay_bpt()).decode()]
    status, body = call(
        client,
        base,
        "bizproc.workflow.template.add",
        {"DOCUMENT_TYPE": DEAL_TYPE, "NAME": "Waiting", "TEMPLATE_DATA": data, "AUTO_EXECUTE": 0},
    )
    assert status == 200, body
    template_id = body["result"]
    assert Template.objects.get(pk=template_id).latest_version is not None

    status, body = call(
        client,
        base,
        "bizproc.workflow.template.update",
        {"ID": template_id, "FIELDS": {"NAME": "Renamed"}},
    )
    assert (status, body["result"]) == (200, template_id)
    status, body = call(client, base, "bizproc.workflow.template.list", {"select": ["ID", "NAME"]})
    assert body["result"] == [{"ID": str(template_id), "NAME": "Renamed"}]

    deal = DealFactory(assigned_by=admin)
    status, body = call(
        client,
        base,
        "bizproc.workflow.start",
        {"TEMPLATE_ID": template_id, "DOCUMENT_ID": ["crm", "CCrmDocumentDeal", f"DEAL_{deal.pk}"]},
    )
    assert status == 200, body
    instance_id = body["result"]
    assert Instance.objects.get(pk=instance_id).status == InstanceStatus.RUNNING

    status, body = call(
        client,
        base,
        "bizproc.workflow.instances",
        {
            "select": ["ID", "DOCUMENT_ID", "TEMPLATE_ID"],
            "filter": {"DOCUMENT_ID": f"DEAL_{deal.pk}"},
        },
    )
    assert body["result"] == [
        {"ID": instance_id, "DOCUMENT_ID": f"DEAL_{deal.pk}", "TEMPLATE_ID": str(template_id)}
    ]
    assert body["total"] == 1

    status, body = call(
        client, base, "bizproc.workflow.terminate", {"ID": instance_id, "STATUS": "Stopped by REST"}
    )
    assert (status, body["result"]) == (200, True)
    assert Instance.objects.get(pk=instance_id).status == InstanceStatus.TERMINATED
    status, body = call(client, base, "bizproc.workflow.kill", {"ID": instance_id})
    assert (status, body["result"]) == (200, True)
    assert not Instance.objects.filter(pk=instance_id).exists()


@pytest.mark.parametrize(
    ("params", "code", "description"),
    [
        ({}, "ERROR_WRONG_WORKFLOW_ID", "Empty TEMPLATE_ID"),
        ({"TEMPLATE_ID": 999999}, "ERROR_WRONG_WORKFLOW_ID", "Template not found"),
        ({"TEMPLATE_ID": "{template}", "DOCUMENT_ID": "DEAL_1"}, "", "Wrong DOCUMENT_ID!"),
        (
            {"TEMPLATE_ID": "{template}", "DOCUMENT_ID": ["crm", "CCrmDocumentDeal", "DEAL_x"]},
            "",
            "Wrong DOCUMENT_ID!",
        ),
        (
            {"TEMPLATE_ID": "{template}", "DOCUMENT_ID": ["crm", "CCrmDocumentBoat", "BOAT_1"]},
            "",
            "Incorrect document type!",
        ),
        (
            {
                "TEMPLATE_ID": "{template}",
                "DOCUMENT_ID": ["crm", "CCrmDocumentLead", "LEAD_{lead}"],
            },
            "",
            "Template type and DOCUMENT_ID mismatch!",
        ),
    ],
)
def test_workflow_start_refusals_use_bitrix_messages(
    client, base, admin, params, code, description
) -> None:
    call(
        client,
        base,
        "bizproc.workflow.template.add",
        {
            "DOCUMENT_TYPE": DEAL_TYPE,
            "NAME": "Waiting",
            "TEMPLATE_DATA": ["w.bpt", base64.b64encode(delay_bpt()).decode()],
        },
    )
    template = Template.objects.get()
    lead = LeadFactory(assigned_by=admin)
    filled = json.loads(
        json.dumps(params).replace("{template}", str(template.pk)).replace("{lead}", str(lead.pk))
    )
    status, body = call(client, base, "bizproc.workflow.start", filled)
    assert (status, body) == (400, {"error": code, "error_description": description})
    assert not Instance.objects.exists()


def test_starting_a_process_needs_the_start_right(client, admin, base) -> None:
    call(
        client,
        base,
        "bizproc.workflow.template.add",
        {
            "DOCUMENT_TYPE": DEAL_TYPE,
            "NAME": "Waiting",
            "TEMPLATE_DATA": ["w.bpt", base64.b64encode(delay_bpt()).decode()],
        },
    )
    reader = user_with({("DEAL", "read"): "all"})
    deal = DealFactory()
    status, body = call(
        client,
        hook(reader),
        "bizproc.workflow.start",
        {
            "TEMPLATE_ID": Template.objects.get().pk,
            "DOCUMENT_ID": ["crm", "CCrmDocumentDeal", f"DEAL_{deal.pk}"],
        },
    )
    assert (status, body["error"]) == (403, "ACCESS_DENIED")
    status, body = call(
        client,
        hook(reader),
        "bizproc.workflow.template.add",
        {"DOCUMENT_TYPE": DEAL_TYPE, "NAME": "Mine", "TEMPLATE_DATA": ["w.bpt", "eA=="]},
    )
    assert (status, body["error"]) == (403, "ACCESS_DENIED")
    assert not Instance.objects.exists() and Template.objects.count() == 1


def deal_template(client, base) -> int:
    call(
        client,
        base,
        "bizproc.workflow.template.add",
        {
            "DOCUMENT_TYPE": DEAL_TYPE,
            "NAME": "Waiting",
            "TEMPLATE_DATA": ["w.bpt", base64.b64encode(delay_bpt()).decode()],
        },
    )
    return Template.objects.get().pk


@pytest.mark.parametrize(
    "wrong",
    [
        {},
        {"PARAMETERS": "not an object"},
        {"PARAMETERS": {"Unknown": "1"}},
        {"inactive": True},
    ],
)
def test_a_deal_one_may_not_read_is_not_found_whatever_else_is_wrong(client, base, wrong) -> None:
    template_id = deal_template(client, base)
    if wrong.pop("inactive", False):
        Template.objects.filter(pk=template_id).update(active=False)
    starter = user_with({("DEAL", "start_processes"): "all"})
    deal = DealFactory()
    start = {"TEMPLATE_ID": template_id, "DOCUMENT_ID": [*DEAL_TYPE[:2], f"DEAL_{deal.pk}"]}
    status, body = call(client, hook(starter), "bizproc.workflow.start", start | wrong)
    assert (status, body["error_description"]) == (400, "Not found")
    assert not Instance.objects.exists()


def test_a_reader_is_told_what_is_wrong_with_a_start_before_the_right_to_start(
    client, base
) -> None:
    template_id = deal_template(client, base)
    reader = user_with({("DEAL", "read"): "all"})
    deal = DealFactory()
    start = {"TEMPLATE_ID": template_id, "DOCUMENT_ID": [*DEAL_TYPE[:2], f"DEAL_{deal.pk}"]}
    status, body = call(client, hook(reader), "bizproc.workflow.start", start | {"PARAMETERS": 1})
    assert (status, body["error_description"]) == (400, "Parameter 'PARAMETERS' must be array.")
    status, body = call(client, hook(reader), "bizproc.workflow.start", start)
    assert (status, body["error"]) == (403, "ACCESS_DENIED")
    Template.objects.filter(pk=template_id).update(active=False)
    status, body = call(client, hook(reader), "bizproc.workflow.start", start)
    assert (status, body) == (
        400,
        {"error": "ERROR_CORE", "error_description": "The template is inactive."},
    )


def test_a_rest_start_reads_the_deal_once_and_not_the_version(
    client, base, admin, django_assert_num_queries
) -> None:
    template_id = deal_template(client, base)
    starter = hook(user_with({("DEAL", "read"): "all", ("DEAL", "start_processes"): "all"}))
    first, second = DealFactory(assigned_by=admin), DealFactory(assigned_by=admin)
    start = {"TEMPLATE_ID": template_id, "DOCUMENT_ID": [*DEAL_TYPE[:2], f"DEAL_{first.pk}"]}
    assert call(client, starter, "bizproc.workflow.start", start)[0] == 200
    start["DOCUMENT_ID"][2] = f"DEAL_{second.pk}"
    # The webhook, the template, the deal and its reader's roles; the process and its journal
    # (one statement on PostgreSQL); the savepoint around them (the version is the one the
    # first start read).
    with django_assert_num_queries(7 if connection.vendor == "postgresql" else 8):
        status, body = call(client, starter, "bizproc.workflow.start", start)
    assert status == 200, body
    assert Instance.objects.get(pk=body["result"]).document_id == f"DEAL_{second.pk}"


def test_a_template_file_can_be_uploaded_as_a_form_file(client, base) -> None:
    status, body = call(
        client,
        base,
        "bizproc.workflow.template.add",
        data={
            "DOCUMENT_TYPE[0]": "crm",
            "DOCUMENT_TYPE[1]": "CCrmDocumentDeal",
            "DOCUMENT_TYPE[2]": "DEAL",
            "NAME": "Uploaded",
            "TEMPLATE_DATA": SimpleUploadedFile("w.bpt", delay_bpt()),
        },
    )
    assert status == 200, body
    assert Template.objects.get(pk=body["result"]).name == "Uploaded"


def test_smart_scenarios_are_listed_and_started_over_rest(client, base, admin) -> None:
    scenario = scenarios.scenario_save(
        user=admin,
        document_type=DOCUMENT_TYPES["DEAL"],
        name="Welcome pack",
        robots=[
            {"Type": "CrmTimelineCommentAdd", "Name": "R1", "Properties": {"CommentText": "hi"}}
        ],
    )
    first, second = DealFactory(assigned_by=admin), DealFactory(assigned_by=admin)
    status, body = call(client, base, "bizproc.script.list")
    assert [(row["ID"], row["NAME"], row["ACTIVE"]) for row in body["result"]] == [
        (str(scenario.pk), "Welcome pack", "Y")
    ]
    status, body = call(
        client,
        base,
        "bizproc.script.start",
        {"scriptId": scenario.pk, "documentIds": [f"DEAL_{first.pk}", second.pk]},
    )
    assert status == 200, body
    runs = ScenarioRun.objects.order_by("pk")
    assert body["result"] == {
        "status": "queued",
        "runs": [
            {"documentId": f"DEAL_{first.pk}", "runId": runs[0].pk},
            {"documentId": f"DEAL_{second.pk}", "runId": runs[1].pk},
        ],
    }
    assert {run.status for run in runs} == {RunStatus.QUEUED}

    reader = user_with({("DEAL", "read"): "all"})
    status, body = call(
        client,
        hook(reader),
        "bizproc.script.start",
        {"scriptId": scenario.pk, "documentIds": [first.pk]},
    )
    assert (status, body["error"]) == (403, "ACCESS_DENIED")
    status, body = call(
        client, base, "bizproc.script.start", {"scriptId": 0, "documentIds": [first.pk]}
    )
    assert (status, body["error_description"]) == (
        400,
        "The smart scenario you requested was not found.",
    )
    assert ScenarioRun.objects.count() == 2


def test_a_scenario_with_required_parameters_started_without_any_says_they_are_missing(
    client, base, admin
) -> None:
    scenario = scenarios.scenario_save(
        user=admin,
        document_type=DOCUMENT_TYPES["DEAL"],
        name="Points",
        parameters={
            "Points": field("int", "Points", required=True),
            "Note": field("string", "Note"),
        },
        robots=[
            {"Type": "CrmTimelineCommentAdd", "Name": "R1", "Properties": {"CommentText": "hi"}}
        ],
    )
    deal = DealFactory(assigned_by=admin)
    start = {"scriptId": scenario.pk, "documentIds": [deal.pk]}

    answers = [
        call(client, base, "bizproc.script.start", start | extra)
        for extra in ({}, {"parameters": {}}, {"parameters": {"Note": "hi"}})
    ]

    assert [(status, body["error_description"]) for status, body in answers] == [
        (400, "Smart scenario parameters are missing."),
        (400, "Smart scenario parameters are missing."),
        (400, "The required parameter is empty: Points."),
    ]
    assert not ScenarioRun.objects.exists()

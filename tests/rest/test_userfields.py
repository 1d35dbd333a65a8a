"""Custom fields over REST: ``crm.<entity>.userfield.*`` for CRM administrators, and custom
values in ``crm.<entity>.fields|add|get|list|update`` in Bitrix24's shapes."""

import base64
import datetime

import pytest
from django.test import Client

from crm.models import Action, Deal, EntityType, Level, StoredFile, UserField
from tests.crm.factories import CompanyFactory, DealFactory, UserFactory, user_with
from tests.rest.test_methods import call, hook

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return UserFactory(is_crm_admin=True, username="boss")


@pytest.fixture
def base(admin) -> str:
    return hook(admin)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def ok(client: Client, base: str, method: str, params: dict):
    status, body = call(client, base, method, params)
    assert status == 200, body
    return body["result"]


def add_field(client: Client, base: str, entity: str = "deal", **fields) -> int:
    return ok(client, base, f"crm.{entity}.userfield.add", {"fields": fields})


# --- crm.<entity>.userfield.* ------------------------------------------------------------------


def test_a_field_goes_through_add_get_list_update_and_delete(client, base) -> None:
    field_id = add_field(
        client,
        base,
        FIELD_NAME="contract_no",
        USER_TYPE_ID="string",
        LABEL="Contract",
        EDIT_FORM_LABEL={"en": "Contract number", "ru": "Номер договора"},
        SORT=200,
        XML_ID="CN",
        SETTINGS={"DEFAULT_VALUE": "n/a"},
    )
    assert isinstance(field_id, int)

    got = ok(client, base, "crm.deal.userfield.get", {"id": field_id})
    assert got["ID"] == str(field_id)
    assert got["ENTITY_ID"] == "CRM_DEAL"
    assert got["FIELD_NAME"] == "UF_CRM_CONTRACT_NO"
    assert (got["USER_TYPE_ID"], got["SORT"], got["XML_ID"]) == ("string", "200", "CN")
    assert (got["MULTIPLE"], got["MANDATORY"], got["SHOW_FILTER"]) == ("N", "N", "N")
    assert got["EDIT_FORM_LABEL"] == {"en": "Contract number", "ru": "Номер договора"}
    assert got["LIST_COLUMN_LABEL"] == {"en": "Contract", "ru": "Contract"}
    assert got["LIST_FILTER_LABEL"] == {"en": "Contract", "ru": "Contract"}
    assert got["SETTINGS"] == {"DEFAULT_VALUE": "n/a"}

    listed = ok(client, base, "crm.deal.userfield.list", {})
    assert [row["FIELD_NAME"] for row in listed] == ["UF_CRM_CONTRACT_NO"]
    assert "EDIT_FORM_LABEL" not in listed[0]  # labels only in the language the filter names
    in_russian = ok(client, base, "crm.deal.userfield.list", {"filter": {"LANG": "ru"}})
    assert in_russian[0]["EDIT_FORM_LABEL"] == "Номер договора"
    assert in_russian[0]["LIST_COLUMN_LABEL"] == "Contract"
    assert ok(client, base, "crm.lead.userfield.list", {}) == []

    assert ok(
        client,
        base,
        "crm.deal.userfield.update",
        {"id": field_id, "fields": {"LIST_COLUMN_LABEL": "No.", "SHOW_FILTER": "Y", "SORT": 5}},
    )
    got = ok(client, base, "crm.deal.userfield.get", {"id": field_id})
    assert got["LIST_COLUMN_LABEL"] == {"en": "No.", "ru": "No."}
    assert got["EDIT_FORM_LABEL"]["ru"] == "Номер договора"  # untouched
    assert (got["SHOW_FILTER"], got["SORT"]) == ("E", "5")

    assert ok(client, base, "crm.deal.userfield.delete", {"id": field_id}) is True
    status, body = call(client, base, "crm.deal.userfield.get", {"id": field_id})
    assert status == 404
    assert body["error"] == "ERROR_NOT_FOUND"
    assert not UserField.objects.exists()


def test_list_filters_and_orders_the_fields(client, base) -> None:
    add_field(client, base, FIELD_NAME="B", USER_TYPE_ID="integer", SORT=10, MULTIPLE="Y")
    add_field(client, base, FIELD_NAME="A", USER_TYPE_ID="string", SORT=20)
    add_field(client, base, FIELD_NAME="C", USER_TYPE_ID="string", SORT=30, MANDATORY="Y")

    def names(params):
        return [row["FIELD_NAME"] for row in ok(client, base, "crm.deal.userfield.list", params)]

    assert names({}) == ["UF_CRM_B", "UF_CRM_A", "UF_CRM_C"]
    assert names({"order": {"FIELD_NAME": "DESC"}}) == ["UF_CRM_C", "UF_CRM_B", "UF_CRM_A"]
    assert names({"filter": {"USER_TYPE_ID": "string"}}) == ["UF_CRM_A", "UF_CRM_C"]
    assert names({"filter": {"MULTIPLE": "Y"}}) == ["UF_CRM_B"]
    assert names({"filter": {"MANDATORY": "Y", ">SORT": 15}}) == ["UF_CRM_C"]


def test_enumeration_items_are_added_changed_and_deleted_by_id(client, base) -> None:
    field_id = add_field(
        client,
        base,
        FIELD_NAME="KIND",
        USER_TYPE_ID="enumeration",
        LABEL="Kind",
        LIST=[
            {"VALUE": "Retail", "SORT": 10, "DEF": "Y", "XML_ID": "R"},
            {"VALUE": "Wholesale", "SORT": 20},
            {"VALUE": "Other", "SORT": 30},
        ],
    )
    items = ok(client, base, "crm.deal.userfield.get", {"id": field_id})["LIST"]
    assert [(i["VALUE"], i["SORT"], i["DEF"], i["XML_ID"]) for i in items] == [
        ("Retail", "10", "Y", "R"),
        ("Wholesale", "20", "N", ""),
        ("Other", "30", "N", ""),
    ]
    retail, wholesale, other = items
    ok(
        client,
        base,
        "crm.deal.userfield.update",
        {
            "id": field_id,
            "fields": {
                "LIST": [
                    {"ID": wholesale["ID"], "VALUE": "Trade"},
                    {"ID": other["ID"], "DEL": "Y"},
                    {"VALUE": "Online", "SORT": 40},
                ]
            },
        },
    )
    items = ok(client, base, "crm.deal.userfield.get", {"id": field_id})["LIST"]
    assert [(i["ID"], i["VALUE"], i["SORT"], i["DEF"]) for i in items[:2]] == [
        (retail["ID"], "Retail", "10", "Y"),
        (wholesale["ID"], "Trade", "20", "N"),
    ]
    assert [i["VALUE"] for i in items] == ["Retail", "Trade", "Online"]


def test_only_crm_administrators_manage_fields(client, base) -> None:
    field_id = add_field(client, base, FIELD_NAME="NO", USER_TYPE_ID="string")
    manager = hook(
        user_with({("DEAL", Action.READ): Level.ALL, ("DEAL", Action.UPDATE): Level.ALL})
    )
    for method, params in [
        ("crm.deal.userfield.add", {"fields": {"FIELD_NAME": "X", "USER_TYPE_ID": "string"}}),
        ("crm.deal.userfield.get", {"id": field_id}),
        ("crm.deal.userfield.list", {}),
        ("crm.deal.userfield.update", {"id": field_id, "fields": {"LABEL": "Hacked"}}),
        ("crm.deal.userfield.delete", {"id": field_id}),
    ]:
        status, body = call(client, manager, method, params)
        assert (status, body["error"]) == (403, "ACCESS_DENIED"), method
    assert list(UserField.objects.values_list("code", "labels")) == [("UF_CRM_NO", {})]


def test_a_field_of_another_entity_type_is_not_reached_through_this_one(client, base) -> None:
    field_id = add_field(client, base, "lead", FIELD_NAME="NO", USER_TYPE_ID="string")
    status, body = call(client, base, "crm.deal.userfield.delete", {"id": field_id})
    assert (status, body["error"]) == (403, "ACCESS_DENIED")
    status, body = call(client, base, "crm.deal.userfield.get", {"id": "x"})
    assert (status, body["error_description"]) == (400, "ID is not defined or invalid.")
    assert UserField.objects.filter(entity_type=EntityType.LEAD).exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"FIELD_NAME": "has space", "USER_TYPE_ID": "string"}, "FIELD_NAME: The code may hold"),
        ({"FIELD_NAME": "NO", "USER_TYPE_ID": "colour"}, "USER_TYPE_ID: Unknown field type"),
        (
            {"FIELD_NAME": "NO", "USER_TYPE_ID": "string", "LABEL": "x" * 1_000_000},
            "LABEL: A label may be at most 255 characters long.",
        ),
        (
            {"FIELD_NAME": "NO", "USER_TYPE_ID": "integer", "SETTINGS": {"DEFAULT_VALUE": "ten"}},
            "SETTINGS: The default value is incorrect",
        ),
        ({"FIELD_NAME": "NO", "USER_TYPE_ID": "string", "SETTINGS": "big"}, "SETTINGS:"),
    ],
)
def test_a_bad_definition_is_refused_with_the_fields_name_and_nothing_is_stored(
    client, base, fields, message
) -> None:
    status, body = call(client, base, "crm.deal.userfield.add", {"fields": fields})
    assert status == 400
    assert body["error_description"].startswith(message), body
    assert not UserField.objects.exists()


def test_a_type_change_that_values_do_not_survive_is_refused_and_nothing_changes(
    client, base
) -> None:
    field_id = add_field(client, base, FIELD_NAME="NO", USER_TYPE_ID="string")
    deal_id = ok(client, base, "crm.deal.add", {"fields": {"TITLE": "D", "UF_CRM_NO": "A-17"}})
    status, body = call(
        client,
        base,
        "crm.deal.userfield.update",
        {"id": field_id, "fields": {"USER_TYPE_ID": "integer", "LABEL": "Number"}},
    )
    assert status == 400
    assert body["error_description"] == (
        "USER_TYPE_ID: The type cannot be changed: 1 records hold values that do not convert to it."
    )
    assert UserField.objects.get().type == "string"
    assert UserField.objects.get().labels == {}
    assert ok(client, base, "crm.deal.get", {"id": deal_id})["UF_CRM_NO"] == "A-17"


def test_deal_fields_describe_custom_fields_as_dynamic(client, base) -> None:
    add_field(
        client,
        base,
        FIELD_NAME="KIND",
        USER_TYPE_ID="enumeration",
        MULTIPLE="Y",
        MANDATORY="Y",
        EDIT_FORM_LABEL="Kind of deal",
        LIST_COLUMN_LABEL="Kind",
        LIST_FILTER_LABEL="Kind is",
        LIST=[{"VALUE": "Retail"}],
    )
    described = ok(client, base, "crm.deal.fields", {})["UF_CRM_KIND"]
    item_id = str(UserField.objects.get().items.get().pk)
    assert described == {
        "type": "enumeration",
        "isRequired": True,
        "isReadOnly": False,
        "isImmutable": False,
        "isMultiple": True,
        "isDynamic": True,
        "title": "Kind of deal",
        "listLabel": "Kind",
        "formLabel": "Kind of deal",
        "filterLabel": "Kind is",
        "settings": {},
        "items": [{"ID": item_id, "VALUE": "Retail"}],
    }
    assert ok(client, base, "crm.deal.fields", {})["TITLE"]["isDynamic"] is False


# --- custom values in crm.deal.* ---------------------------------------------------------------


def _moment(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("field_type", "value", "out", "conditions"),
    [
        ("string", "abc", "abc", [{"UF_CRM_X": "abc"}, {"%UF_CRM_X": "B"}]),
        ("integer", "42", "42", [{">UF_CRM_X": 41}, {"UF_CRM_X": "42"}]),
        ("double", 2.5, "2.5", [{"<=UF_CRM_X": 3}, {">UF_CRM_X": "2,4"}]),
        ("boolean", "Y", "1", [{"UF_CRM_X": "1"}, {"!UF_CRM_X": "N"}]),
        ("date", "2024-03-01", "2024-03-01", [{">=UF_CRM_X": "2024-02-01"}]),
        (
            "datetime",
            "2024-03-01T10:00:00+00:00",
            "2024-03-01T10:00:00+00:00",
            [{"<UF_CRM_X": "2025-01-01T00:00:00+00:00"}, {"UF_CRM_X": "2024-03-01T13:00:00+03:00"}],
        ),
        ("url", "https://example.com/a", "https://example.com/a", [{"%UF_CRM_X": "example"}]),
    ],
)
def test_a_custom_value_round_trips_and_filters(
    client, base, field_type, value, out, conditions
) -> None:
    add_field(client, base, FIELD_NAME="X", USER_TYPE_ID=field_type, SHOW_FILTER="Y")
    deal_id = ok(client, base, "crm.deal.add", {"fields": {"TITLE": "D", "UF_CRM_X": value}})
    DealFactory(title="Other")

    got = ok(client, base, "crm.deal.get", {"id": deal_id})["UF_CRM_X"]
    if field_type == "date":
        assert got.startswith(out + "T00:00:00")
    elif field_type == "datetime":
        assert _moment(got) == _moment(out)
    else:
        assert got == out
    for condition in conditions:
        rows = ok(
            client, base, "crm.deal.list", {"filter": condition, "select": ["ID", "UF_CRM_X"]}
        )
        assert [(row["ID"], row["UF_CRM_X"]) for row in rows] == [(str(deal_id), got)], condition


def test_enumeration_employee_money_and_crm_link_values(client, base, admin) -> None:
    add_field(
        client, base, FIELD_NAME="KIND", USER_TYPE_ID="enumeration", LIST=[{"VALUE": "Retail"}]
    )
    add_field(client, base, FIELD_NAME="OWNER", USER_TYPE_ID="employee")
    add_field(client, base, FIELD_NAME="PRICE", USER_TYPE_ID="money")
    add_field(
        client,
        base,
        FIELD_NAME="PARTNER",
        USER_TYPE_ID="crm",
        SETTINGS={"COMPANY": "Y", "DEAL": "Y"},
    )
    item_id = UserField.objects.get(code="UF_CRM_KIND").items.get().pk
    company = CompanyFactory()
    deal_id = ok(
        client,
        base,
        "crm.deal.add",
        {
            "fields": {
                "TITLE": "D",
                "UF_CRM_KIND": item_id,
                "UF_CRM_OWNER": admin.pk,
                "UF_CRM_PRICE": "100|RUB",
                "UF_CRM_PARTNER": f"CO_{company.pk}",
            }
        },
    )
    got = ok(client, base, "crm.deal.get", {"id": deal_id})
    assert got["UF_CRM_KIND"] == str(item_id)
    assert got["UF_CRM_OWNER"] == str(admin.pk)
    assert got["UF_CRM_PRICE"] == "100.00|RUB"
    assert got["UF_CRM_PARTNER"] == f"CO_{company.pk}"
    for condition in (
        {"UF_CRM_KIND": item_id},
        {"@UF_CRM_OWNER": [admin.pk, 10**6]},
        {"UF_CRM_PARTNER": f"co_{company.pk}"},
    ):
        rows = ok(client, base, "crm.deal.list", {"filter": condition})
        assert [row["ID"] for row in rows] == [str(deal_id)], condition
    status, body = call(client, base, "crm.deal.list", {"filter": {"UF_CRM_PRICE": "100.00|RUB"}})
    assert (status, body["error"]) == (400, "INVALID_ARG_VALUE")
    assert "UF_CRM_PRICE" in body["error_description"]


def test_an_unknown_enumeration_item_is_refused_and_no_deal_is_added(client, base) -> None:
    add_field(
        client, base, FIELD_NAME="KIND", USER_TYPE_ID="enumeration", LIST=[{"VALUE": "Retail"}]
    )
    status, body = call(
        client, base, "crm.deal.add", {"fields": {"TITLE": "D", "UF_CRM_KIND": 10**6}}
    )
    assert status == 400
    assert (
        body["error_description"] == "UF_CRM_KIND: The value of field 'UF_CRM_KIND' is incorrect."
    )
    assert not Deal.objects.exists()


def test_multiple_values_go_as_lists_and_order_sorts_on_a_custom_field(client, base) -> None:
    add_field(client, base, FIELD_NAME="TAGS", USER_TYPE_ID="string", MULTIPLE="Y")
    add_field(client, base, FIELD_NAME="RANK", USER_TYPE_ID="integer")
    ids = [
        ok(
            client,
            base,
            "crm.deal.add",
            {"fields": {"TITLE": f"D{rank}", "UF_CRM_RANK": rank, "UF_CRM_TAGS": ["a", "b"]}},
        )
        for rank in (20, 3, 100)
    ]
    assert ok(client, base, "crm.deal.get", {"id": ids[0]})["UF_CRM_TAGS"] == ["a", "b"]
    rows = ok(
        client, base, "crm.deal.list", {"order": {"UF_CRM_RANK": "DESC"}, "select": ["UF_CRM_RANK"]}
    )
    assert [row["UF_CRM_RANK"] for row in rows] == ["100", "20", "3"]
    status, body = call(client, base, "crm.deal.list", {"filter": {"UF_CRM_TAGS": "a"}})
    assert status == 400
    assert body["error_description"] == "UF_CRM_TAGS: Filtering on this field is not supported."


def test_select_star_leaves_custom_fields_out_and_uf_star_or_a_name_adds_them(client, base) -> None:
    add_field(client, base, FIELD_NAME="A", USER_TYPE_ID="string")
    add_field(client, base, FIELD_NAME="B", USER_TYPE_ID="string")
    deal_id = ok(
        client, base, "crm.deal.add", {"fields": {"TITLE": "D", "UF_CRM_A": "a", "UF_CRM_B": "b"}}
    )

    def keys(select):
        params = {"select": select} if select is not None else {}
        return set(ok(client, base, "crm.deal.list", params)[0])

    assert not {"UF_CRM_A", "UF_CRM_B"} & keys(None)
    assert not {"UF_CRM_A", "UF_CRM_B"} & keys(["*"])
    assert {"TITLE", "UF_CRM_A", "UF_CRM_B"} <= keys(["*", "UF_*"])
    assert keys(["UF_CRM_B", "NO_SUCH_FIELD"]) == {"ID", "UF_CRM_B"}
    got = ok(client, base, "crm.deal.get", {"id": deal_id})
    assert (got["UF_CRM_A"], got["UF_CRM_B"]) == ("a", "b")


def test_a_file_goes_in_as_base64_and_comes_out_with_its_download_address(
    client, base, admin, media
) -> None:
    add_field(client, base, FIELD_NAME="DOC", USER_TYPE_ID="file")
    content = base64.b64encode(b"hello").decode()
    deal_id = ok(
        client, base, "crm.deal.add", {"fields": {"TITLE": "D", "UF_CRM_DOC": ["a.txt", content]}}
    )
    stored = StoredFile.objects.get()
    assert (stored.name, stored.size, stored.created_by) == ("a.txt", 5, admin)
    assert stored.file.read() == b"hello"
    got = ok(client, base, "crm.deal.get", {"id": deal_id})["UF_CRM_DOC"]
    url = f"/crm/deal/{deal_id}/files/{stored.pk}/"
    assert got == {"id": stored.pk, "showUrl": url, "downloadUrl": url}

    # What get gives, posted back, keeps the file; a second one comes as fileData.
    ok(
        client,
        base,
        "crm.deal.update",
        {"id": deal_id, "fields": {"TITLE": "D2", "UF_CRM_DOC": got}},
    )
    assert ok(client, base, "crm.deal.get", {"id": deal_id})["UF_CRM_DOC"]["id"] == stored.pk
    ok(
        client,
        base,
        "crm.deal.update",
        {"id": deal_id, "fields": {"UF_CRM_DOC": {"fileData": ["b.txt", content]}}},
    )
    newer = StoredFile.objects.get(name="b.txt")
    assert ok(client, base, "crm.deal.get", {"id": deal_id})["UF_CRM_DOC"]["id"] == newer.pk


def test_multiple_files_are_lists(client, base, media) -> None:
    add_field(client, base, FIELD_NAME="DOCS", USER_TYPE_ID="file", MULTIPLE="Y")
    content = base64.b64encode(b"x").decode()
    deal_id = ok(
        client,
        base,
        "crm.deal.add",
        {"fields": {"TITLE": "D", "UF_CRM_DOCS": [["a.txt", content], ["b.txt", content]]}},
    )
    got = ok(client, base, "crm.deal.get", {"id": deal_id})["UF_CRM_DOCS"]
    assert [item["id"] for item in got] == list(
        StoredFile.objects.order_by("name").values_list("pk", flat=True)
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["a.txt", "@@@@"], "UF_CRM_DOC: The file content is not valid base64."),
        (
            ["a.txt", base64.b64encode(b"12345").decode()],
            "UF_CRM_DOC: The file “a.txt” is too large",
        ),
        ({"id": 10**6}, "UF_CRM_DOC: The value of field 'UF_CRM_DOC' is incorrect."),
    ],
)
def test_a_bad_file_is_refused_and_nothing_is_stored(
    client, base, media, settings, value, message
) -> None:
    settings.CRM_FILE_MAX_BYTES = 4
    add_field(client, base, FIELD_NAME="DOC", USER_TYPE_ID="file")
    status, body = call(
        client, base, "crm.deal.add", {"fields": {"TITLE": "D", "UF_CRM_DOC": value}}
    )
    assert status == 400
    assert body["error_description"].startswith(message), body
    assert not Deal.objects.exists()
    assert not StoredFile.objects.exists()
    assert not [path for path in media.rglob("*") if path.is_file()]


def test_a_file_refused_with_the_deal_leaves_no_content_behind(client, base, media) -> None:
    add_field(client, base, FIELD_NAME="DOC", USER_TYPE_ID="file")
    add_field(client, base, FIELD_NAME="RANK", USER_TYPE_ID="integer")
    content = base64.b64encode(b"hello").decode()
    status, _body = call(
        client,
        base,
        "crm.deal.add",
        {"fields": {"TITLE": "D", "UF_CRM_DOC": ["a.txt", content], "UF_CRM_RANK": "high"}},
    )
    assert status == 400
    assert not StoredFile.objects.exists()
    assert not [path for path in media.rglob("*") if path.is_file()]


def test_a_person_may_not_attach_a_file_someone_else_uploaded(client, base, media) -> None:
    add_field(client, base, FIELD_NAME="DOC", USER_TYPE_ID="file")
    content = base64.b64encode(b"secret").decode()
    ok(client, base, "crm.deal.add", {"fields": {"TITLE": "D", "UF_CRM_DOC": ["s.txt", content]}})
    foreign = StoredFile.objects.get()
    writer = hook(user_with({("DEAL", Action.READ): Level.ALL, ("DEAL", Action.ADD): Level.ALL}))
    status, _body = call(
        client, writer, "crm.deal.add", {"fields": {"TITLE": "Mine", "UF_CRM_DOC": foreign.pk}}
    )
    assert status == 400
    assert Deal.objects.count() == 1


@pytest.mark.parametrize(
    ("entity", "entity_id", "fields"),
    [
        ("lead", "CRM_LEAD", {"TITLE": "L"}),
        ("contact", "CRM_CONTACT", {"NAME": "Ann"}),
        ("company", "CRM_COMPANY", {"TITLE": "Co"}),
    ],
)
def test_every_entity_type_has_its_own_fields(client, base, entity, entity_id, fields) -> None:
    field_id = add_field(client, base, entity, FIELD_NAME="CODE", USER_TYPE_ID="integer")
    assert ok(client, base, f"crm.{entity}.userfield.get", {"id": field_id})["ENTITY_ID"] == (
        entity_id
    )
    record_id = ok(client, base, f"crm.{entity}.add", {"fields": {**fields, "UF_CRM_CODE": 7}})
    assert ok(client, base, f"crm.{entity}.get", {"id": record_id})["UF_CRM_CODE"] == "7"
    assert "UF_CRM_CODE" not in ok(client, base, "crm.deal.fields", {})


def test_a_date_default_given_as_bitrix_writes_it_fills_new_deals(client, base) -> None:
    add_field(
        client,
        base,
        FIELD_NAME="DUE",
        USER_TYPE_ID="date",
        SETTINGS={"DEFAULT_VALUE": {"TYPE": "FIXED", "VALUE": "2024-05-01"}},
    )
    assert UserField.objects.get().settings == {"DEFAULT_VALUE": "2024-05-01"}
    deal_id = ok(client, base, "crm.deal.add", {"fields": {"TITLE": "D"}})
    assert ok(client, base, "crm.deal.get", {"id": deal_id})["UF_CRM_DUE"].startswith(
        "2024-05-01T00:00:00"
    )

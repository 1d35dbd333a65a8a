"""Custom fields (``UF_CRM_…``) on the record pages: each type's input in the form, posted
the way a browser posts the form as drawn; required fields and bad values refused next to
their inputs; files uploaded, removed and downloaded only by who may read the record; the
stale-edit refusal; the card and the timeline showing values as people read them."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm import services
from crm.files import file_url
from crm.models import (
    RECORD_MODELS,
    Action,
    Deal,
    Level,
    StoredFile,
    TimelineEntry,
    TimelineKind,
)
from tests.crm.factories import CompanyFactory, DealFactory, UserFactory, user_with
from tests.html import by_id, by_role, html_parse, labelled, submitted, text, value

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return UserFactory(is_crm_admin=True)


@pytest.fixture
def manager():
    """May do everything to deals and read companies; works in Moscow time."""
    granted = {("DEAL", action): Level.ALL for action in Action}
    granted[("COMPANY", Action.READ)] = Level.ALL
    return user_with(granted, full_name="Anna Petrova", time_zone="Europe/Moscow")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def make_field(admin, code, field_type, label, **values):
    return services.userfield_create(
        entity_type="DEAL",
        values={
            "code": code,
            "type": field_type,
            "labels": {"form": {"en": label, "ru": f"{label} (ru)"}},
            **values,
        },
        user=admin,
    )


def snapshot() -> dict:
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (*RECORD_MODELS.values(), TimelineEntry, StoredFile)
    }


def create_url() -> str:
    return reverse("crm:record-create", args=["deal"])


def edit_url(deal) -> str:
    return reverse("crm:record-update", args=["deal", deal.pk])


def drawn(client, url: str) -> dict[str, list[str]]:
    """What the record form at ``url`` posts as drawn."""
    return submitted(client.get(url).text, "record-form")


def field_error(response, code: str) -> str:
    """The message shown next to the field's input."""
    return text(by_id(html_parse(response.text), f"{code}-error"))


def card_values(response) -> dict[str, str]:
    """The card's details: each caption and the value as read."""
    fields = by_id(html_parse(response.text), "record-fields")
    terms = [child for child in fields.children if not isinstance(child, str)]
    return {text(dt): text(dd) for dt, dd in zip(terms[::2], terms[1::2], strict=True)}


# --- each type through the form --------------------------------------------------------------


def _options(field) -> dict[str, str]:
    return {item.value: str(item.pk) for item in field.items.all()}


CASES = {
    # type: (definition extras, what the person fills in, stored value, drawn again)
    "string": ({}, {"": "Hello"}, "Hello", {"": ["Hello"]}),
    "string multiple": (
        {"multiple": True},
        {"": ["one", "two", ""]},
        ["one", "two"],
        {"": ["one", "two", ""]},
    ),
    "integer": ({}, {"": "42"}, 42, {"": ["42"]}),
    "double": ({}, {"": "12,5"}, 12.5, {"": ["12.5"]}),
    "boolean yes": ({}, {"": "Y"}, True, {"": ["Y"]}),
    "boolean no": ({}, {"": "N"}, False, {"": ["N"]}),
    "date": ({}, {"": "2026-03-01"}, "2026-03-01", {"": ["2026-03-01"]}),
    # Read in the person's time zone (Moscow, UTC+3), kept in UTC.
    "datetime": ({}, {"": "2026-03-01T10:30"}, "2026-03-01T07:30:00+00:00", None),
    "money": (
        {"settings": {"CURRENCY": "EUR"}},
        {"": "1500.5", "__currency": "USD"},
        "1500.50|USD",
        {"": ["1500.50"], "__currency": ["USD"]},
    ),
    "money multiple": (
        {"multiple": True},
        {"": ["10", "20,5", ""], "__currency": ["USD", "EUR", "RUB"]},
        ["10.00|USD", "20.50|EUR"],
        {"": ["10.00", "20.50", ""], "__currency": ["USD", "EUR", "RUB"]},
    ),
    "integer multiple": ({"multiple": True}, {"": ["1", "2", ""]}, [1, 2], {"": ["1", "2", ""]}),
    "url": ({}, {"": "https://example.com/a?b=1"}, "https://example.com/a?b=1", None),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_type_round_trips_through_the_form_as_a_browser_posts_it(client, admin, manager, case):
    extras, filled, stored, drawn_again = CASES[case]
    field_type = case.split()[0]
    make_field(admin, "VALUE", field_type, "Value", **extras)
    client.force_login(manager)
    form = drawn(client, create_url())
    form |= {"TITLE": ["Typed"]}
    form |= {f"UF_CRM_VALUE{suffix}": raw for suffix, raw in filled.items()}

    response = client.post(create_url(), form)

    assert response.status_code == 302, response.text
    deal = Deal.objects.get()
    assert deal.uf["UF_CRM_VALUE"] == stored
    again = drawn(client, edit_url(deal))
    expected = drawn_again or {"": [filled[""]]}
    for suffix, raw in expected.items():
        assert again[f"UF_CRM_VALUE{suffix}"] == raw
    # Saved again untouched, the form changes nothing.
    assert client.post(edit_url(deal), again).status_code == 302
    assert not TimelineEntry.objects.filter(kind=TimelineKind.CHANGED).exists()


def test_options_people_and_links_round_trip_through_the_form(client, admin, manager):
    colour = make_field(
        admin,
        "COLOUR",
        "enumeration",
        "Colour",
        items=[{"value": "Red"}, {"value": "Green"}],
    )
    sizes = make_field(
        admin,
        "SIZES",
        "enumeration",
        "Sizes",
        multiple=True,
        items=[{"value": "S"}, {"value": "M"}, {"value": "L"}],
    )
    make_field(admin, "OWNER", "employee", "Owner")
    make_field(admin, "TEAM", "employee", "Team", multiple=True)
    make_field(admin, "PARTNER", "crm", "Partner", settings={"COMPANY": "Y"})
    make_field(admin, "ANY", "crm", "Related", settings={"COMPANY": "Y", "DEAL": "Y"})
    make_field(
        admin, "MANY", "crm", "Related many", multiple=True, settings={"COMPANY": "Y", "DEAL": "Y"}
    )
    colleague = UserFactory(full_name="Boris Ivanov")
    company = CompanyFactory(title="Northwind")
    earlier = DealFactory(title="Earlier deal")
    client.force_login(manager)
    page = html_parse(client.get(create_url()).text)
    colours, size_ids = _options(colour), _options(sizes)
    # What a person finds: a select of colours, a box per size, both companies' groups.
    assert [text(option) for option in by_role(labelled(page, "Colour"), "option")] == [
        "Not selected",
        "Red",
        "Green",
    ]
    assert {box.attrs["value"] for box in by_role(page, "checkbox")} >= set(size_ids.values())
    related = labelled(page, "Related")
    assert {group.attrs["label"] for group in by_role(related, "group")} == {"Company", "Deal"}
    form = submitted(client.get(create_url()).text, "record-form") | {
        "TITLE": ["Linked"],
        "UF_CRM_COLOUR": [colours["Green"]],
        "UF_CRM_SIZES": [size_ids["S"], size_ids["L"]],
        "UF_CRM_OWNER": [f"user_{colleague.pk}"],
        "UF_CRM_TEAM": [f"user_{colleague.pk}", f"user_{manager.pk}"],
        "UF_CRM_PARTNER": [str(company.pk)],
        "UF_CRM_ANY": [f"CO_{company.pk}"],
        "UF_CRM_MANY": [f"D_{earlier.pk}", f"CO_{company.pk}"],
    }

    assert client.post(create_url(), form).status_code == 302

    deal = Deal.objects.exclude(pk=earlier.pk).get()
    assert deal.uf == {
        "UF_CRM_COLOUR": int(colours["Green"]),
        "UF_CRM_SIZES": [int(size_ids["S"]), int(size_ids["L"])],
        "UF_CRM_OWNER": colleague.pk,
        "UF_CRM_TEAM": [colleague.pk, manager.pk],
        "UF_CRM_PARTNER": str(company.pk),
        "UF_CRM_ANY": f"CO_{company.pk}",
        "UF_CRM_MANY": [f"D_{earlier.pk}", f"CO_{company.pk}"],
    }
    again_page = client.get(edit_url(deal)).text
    assert "Boris Ivanov" in again_page  # people are shown by name
    held = html_parse(again_page)
    assert "checked" in labelled(held, "Company: Northwind").attrs
    assert "checked" in labelled(held, "Deal: Earlier deal").attrs
    again = submitted(again_page, "record-form")
    assert again["UF_CRM_ANY"] == [f"CO_{company.pk}"]
    assert again["UF_CRM_SIZES"] == [size_ids["S"], size_ids["L"]]
    assert client.post(edit_url(deal), again).status_code == 302
    assert not TimelineEntry.objects.filter(kind=TimelineKind.CHANGED).exists()


def test_a_new_record_form_shows_the_defaults(client, admin, manager):
    make_field(admin, "LEVEL", "integer", "Level", settings={"DEFAULT_VALUE": 3})
    make_field(admin, "AGREED", "boolean", "Agreed", settings={"DEFAULT_VALUE": 1})
    client.force_login(manager)

    page = html_parse(client.get(create_url()).text)

    assert value(labelled(page, "Level")) == "3"
    assert value(labelled(page, "Agreed")) == "Y"


def test_a_yes_no_field_may_be_left_unset_and_set_back_to_unset(client, admin, manager):
    make_field(admin, "AGREED", "boolean", "Agreed")
    deal = services.record_create(
        entity_type="DEAL", values={"TITLE": "D", "UF_CRM_AGREED": True}, user=manager
    )
    client.force_login(manager)
    form = drawn(client, edit_url(deal)) | {"UF_CRM_AGREED": [""]}

    assert client.post(edit_url(deal), form).status_code == 302

    deal.refresh_from_db()
    assert "UF_CRM_AGREED" not in deal.uf


# --- refusals ------------------------------------------------------------------------------------


def test_a_mandatory_field_left_empty_is_refused_next_to_its_input(client, admin, manager):
    make_field(admin, "CONTRACT", "string", "Contract number", mandatory=True)
    client.force_login(manager)
    page = html_parse(client.get(create_url()).text)
    assert "required" in labelled(page, "Contract number").attrs
    form = drawn(client, create_url()) | {"TITLE": ["No contract"]}
    before = snapshot()

    response = client.post(create_url(), form)

    assert response.status_code == 422
    assert field_error(response, "UF_CRM_CONTRACT") == ("The field 'Contract number' is required.")
    assert snapshot() == before


def test_a_mandatory_yes_no_field_takes_no_for_an_answer(client, admin, manager):
    make_field(admin, "AGREED", "boolean", "Agreed", mandatory=True)
    client.force_login(manager)
    form = drawn(client, create_url()) | {"TITLE": ["Declined"], "UF_CRM_AGREED": ["N"]}

    assert client.post(create_url(), form).status_code == 302

    assert Deal.objects.get().uf["UF_CRM_AGREED"] is False


BAD = [
    ("integer", "twelve", "The value of field 'Value' is not an integer."),
    ("double", "much", "The value of field 'Value' is not a number."),
    ("date", "31/31/2026", "The date in field 'Value' does not match the format"),
    ("url", "javascript:alert(1)", "The value of field 'Value' is not a web address."),
    ("money", "ten", "The value of field 'Value' is not an amount with a currency."),
]


@pytest.mark.parametrize(("field_type", "raw", "message"), BAD)
def test_a_bad_value_is_refused_next_to_its_input_and_nothing_is_stored(
    client, admin, manager, field_type, raw, message
):
    make_field(admin, "VALUE", field_type, "Value")
    deal = DealFactory(assigned_by=manager, title="Kept")
    client.force_login(manager)
    form = drawn(client, edit_url(deal)) | {"TITLE": ["Changed"], "UF_CRM_VALUE": [raw]}
    before = snapshot()

    response = client.post(edit_url(deal), form)

    assert response.status_code == 422
    assert field_error(response, "UF_CRM_VALUE").startswith(message)
    input_ = by_id(html_parse(response.text), "id_UF_CRM_VALUE")
    assert input_.attrs["aria-invalid"] == "true"
    assert snapshot() == before


def test_the_message_and_the_label_are_in_the_persons_language(client, admin, manager):
    make_field(admin, "VALUE", "integer", "Value")
    manager.language = "ru"
    manager.save()
    client.force_login(manager)
    page = html_parse(client.get(create_url()).text)
    assert labelled(page, "Value (ru)")
    form = drawn(client, create_url()) | {"TITLE": ["Сделка"], "UF_CRM_VALUE": ["двенадцать"]}

    response = client.post(create_url(), form)

    assert response.status_code == 422
    assert field_error(response, "UF_CRM_VALUE") == (
        "Значение поля 'Value (ru)' не является целым числом"
    )
    assert not Deal.objects.exists()


# --- files ---------------------------------------------------------------------------------------


def upload(name: str = "contract.pdf", content: bytes = b"%PDF-1.4 signed") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def test_a_file_is_uploaded_with_the_form_and_downloaded_by_who_may_read_the_deal(
    client, admin, manager
):
    make_field(admin, "SCAN", "file", "Scan")
    client.force_login(manager)
    page = client.get(create_url()).text
    assert 'enctype="multipart/form-data"' in page
    assert labelled(html_parse(page), "Scan").attrs["type"] == "file"
    form = submitted(page, "record-form") | {"TITLE": ["With a scan"], "UF_CRM_SCAN": upload()}

    assert client.post(create_url(), form).status_code == 302

    deal = Deal.objects.get()
    stored = StoredFile.objects.get()
    assert deal.uf["UF_CRM_SCAN"] == stored.pk
    assert (stored.name, stored.size, stored.created_by) == ("contract.pdf", 15, manager)
    assert "contract.pdf" not in stored.file.name  # the name on disk is made up
    card = client.get(deal.get_absolute_url())
    link = by_role(html_parse(card.text), "link", "contract.pdf")[0]
    assert link.attrs["href"] == file_url(deal, stored.pk)
    download = client.get(link.attrs["href"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 signed"
    assert download["Content-Disposition"] == 'attachment; filename="contract.pdf"'
    assert "/media/" not in card.text

    stranger = user_with({("DEAL", Action.READ): Level.OWN})
    client.force_login(stranger)
    assert client.get(link.attrs["href"]).status_code == 404


def test_a_file_the_record_does_not_hold_is_not_served(client, admin, manager):
    make_field(admin, "SCAN", "file", "Scan")
    other = services.stored_file_create(upload=upload("other.pdf"), user=admin)
    held = services.stored_file_create(upload=upload(), user=manager)
    deal = services.record_create(
        entity_type="DEAL", values={"TITLE": "D", "UF_CRM_SCAN": held.pk}, user=manager
    )
    client.force_login(manager)

    assert client.get(file_url(deal, other.pk)).status_code == 404
    assert client.get(file_url(deal, held.pk)).status_code == 200


def test_a_file_is_removed_with_its_box_and_a_new_one_replaces_it(client, admin, manager):
    make_field(admin, "SCAN", "file", "Scan")
    first = services.stored_file_create(upload=upload("first.pdf"), user=manager)
    deal = services.record_create(
        entity_type="DEAL", values={"TITLE": "D", "UF_CRM_SCAN": first.pk}, user=manager
    )
    client.force_login(manager)
    page = client.get(edit_url(deal)).text
    remove = labelled(html_parse(page), "Remove “first.pdf”")
    form = submitted(page, "record-form")

    replaced = client.post(edit_url(deal), form | {"UF_CRM_SCAN": [str(first.pk), upload("b.pdf")]})

    assert replaced.status_code == 302
    deal.refresh_from_db()
    second = StoredFile.objects.get(name="b.pdf")
    assert deal.uf["UF_CRM_SCAN"] == second.pk
    form = submitted(client.get(edit_url(deal)).text, "record-form")
    form[remove.attrs["name"]] = [str(second.pk)]
    assert client.post(edit_url(deal), form).status_code == 302
    deal.refresh_from_db()
    assert "UF_CRM_SCAN" not in deal.uf


def test_several_files_are_uploaded_at_once(client, admin, manager):
    make_field(admin, "DOCS", "file", "Documents", multiple=True)
    client.force_login(manager)
    form = drawn(client, create_url()) | {
        "TITLE": ["Papers"],
        "UF_CRM_DOCS": [upload("a.pdf"), upload("b.pdf")],
    }

    assert client.post(create_url(), form).status_code == 302

    names = StoredFile.objects.in_bulk(Deal.objects.get().uf["UF_CRM_DOCS"])
    assert sorted(stored.name for stored in names.values()) == ["a.pdf", "b.pdf"]


def test_a_file_too_large_is_refused_with_its_limit_and_nothing_is_stored(
    client, admin, manager, settings
):
    settings.CRM_FILE_MAX_BYTES = 10
    make_field(admin, "SCAN", "file", "Scan")
    client.force_login(manager)
    form = drawn(client, create_url()) | {"TITLE": ["Big"], "UF_CRM_SCAN": upload("big.pdf")}
    before = snapshot()

    response = client.post(create_url(), form)

    assert response.status_code == 422
    assert field_error(response, "UF_CRM_SCAN") == (
        "The file “big.pdf” is too large: at most 10 bytes."
    )
    assert snapshot() == before


def test_a_file_uploaded_with_a_form_refused_for_another_field_is_kept_in_the_form(
    client, admin, manager
):
    make_field(admin, "SCAN", "file", "Scan")
    client.force_login(manager)
    form = drawn(client, create_url()) | {"TITLE": [""], "UF_CRM_SCAN": upload("keep.pdf")}

    refused = client.post(create_url(), form)

    assert refused.status_code == 422
    assert "keep.pdf" in text(html_parse(refused.text))
    again = submitted(refused.text, "record-form") | {"TITLE": ["Now titled"]}
    assert client.post(create_url(), again).status_code == 302
    stored = StoredFile.objects.get()
    assert Deal.objects.get().uf["UF_CRM_SCAN"] == stored.pk


def test_a_file_id_posted_by_hand_is_neither_named_nor_attached(client, admin, manager):
    make_field(admin, "SCAN", "file", "Scan")
    foreign = services.stored_file_create(upload=upload("secret.pdf"), user=admin)
    client.force_login(manager)
    form = drawn(client, create_url()) | {"TITLE": ["Sneaky"], "UF_CRM_SCAN": [str(foreign.pk)]}

    response = client.post(create_url(), form)

    assert response.status_code == 422
    assert "secret.pdf" not in response.text
    assert not Deal.objects.exists()


# --- stale edits -----------------------------------------------------------------------------


def test_a_stale_edit_names_the_custom_field_someone_changed_and_keeps_their_value(
    client, admin, manager
):
    make_field(admin, "LEVEL", "integer", "Level")
    deal = services.record_create(
        entity_type="DEAL", values={"TITLE": "Shared", "UF_CRM_LEVEL": 1}, user=manager
    )
    client.force_login(manager)
    opened = drawn(client, edit_url(deal))
    services.record_update(record=deal, values={"UF_CRM_LEVEL": 2}, user=admin)
    before = snapshot()

    refused = client.post(edit_url(deal), opened | {"TITLE": ["Mine"]})

    assert refused.status_code == 409
    notice = text(by_id(html_parse(refused.text), "stale-notice"))
    assert "Level: 1 → 2" in notice
    assert snapshot() == before
    again = submitted(refused.text, "record-form")
    assert again["UF_CRM_LEVEL"] == ["2"] and again["TITLE"] == ["Mine"]
    assert client.post(edit_url(deal), again).status_code == 302
    deal.refresh_from_db()
    assert (deal.title, deal.uf["UF_CRM_LEVEL"]) == ("Mine", 2)


def test_a_stale_edit_of_a_custom_field_keeps_the_persons_value_on_top(client, admin, manager):
    make_field(admin, "WHEN", "datetime", "Meeting")
    deal = services.record_create(entity_type="DEAL", values={"TITLE": "Shared"}, user=manager)
    client.force_login(manager)
    opened = drawn(client, edit_url(deal))
    services.record_update(record=deal, values={"TITLE": "Theirs"}, user=admin)

    refused = client.post(edit_url(deal), opened | {"UF_CRM_WHEN": ["2026-05-01T09:00"]})

    assert refused.status_code == 409
    again = submitted(refused.text, "record-form")
    assert again["UF_CRM_WHEN"] == ["2026-05-01T09:00"] and again["TITLE"] == ["Theirs"]
    assert client.post(edit_url(deal), again).status_code == 302
    deal.refresh_from_db()
    assert deal.uf["UF_CRM_WHEN"] == "2026-05-01T06:00:00+00:00"


# --- the card and the timeline -------------------------------------------------------------------


@pytest.fixture
def every_type(admin, manager):
    """A deal holding a value of every custom type, and the things the values name."""
    colour = make_field(admin, "COLOUR", "enumeration", "Colour", items=[{"value": "Green"}])
    for code, field_type, label, extras in [
        ("TEXT", "string", "Text", {}),
        ("TAGS", "string", "Tags", {"multiple": True}),
        ("COUNT", "integer", "Count", {}),
        ("RATE", "double", "Rate", {}),
        ("AGREED", "boolean", "Agreed", {}),
        ("DAY", "date", "Day", {}),
        ("WHEN", "datetime", "When", {}),
        ("OWNER", "employee", "Owner", {}),
        ("PRICE", "money", "Price", {}),
        ("SITE", "url", "Site", {}),
        ("PARTNER", "crm", "Partner", {"settings": {"COMPANY": "Y"}}),
        ("SCAN", "file", "Scan", {}),
    ]:
        make_field(admin, code, field_type, label, **extras)
    colleague = UserFactory(full_name="Boris Ivanov")
    company = CompanyFactory(title="Northwind")
    scan = services.stored_file_create(upload=upload("scan.pdf"), user=manager)
    values = {
        "TITLE": "Everything",
        "UF_CRM_COLOUR": str(colour.items.get().pk),
        "UF_CRM_TEXT": "<b>bold</b>",
        "UF_CRM_TAGS": ["a", "b"],
        "UF_CRM_COUNT": 12345,
        "UF_CRM_RATE": 2.5,
        "UF_CRM_AGREED": False,
        "UF_CRM_DAY": "2026-03-04",
        "UF_CRM_WHEN": "2026-03-04 09:30:00+00:00",
        "UF_CRM_OWNER": f"user_{colleague.pk}",
        "UF_CRM_PRICE": "1234.5|USD",
        "UF_CRM_SITE": "https://example.com/",
        "UF_CRM_PARTNER": str(company.pk),
        "UF_CRM_SCAN": scan.pk,
    }
    deal = services.record_create(entity_type="DEAL", values=values, user=manager)
    return deal, company, scan


def test_the_card_shows_each_type_as_people_read_it(client, manager, every_type):
    deal, company, scan = every_type
    client.force_login(manager)

    response = client.get(deal.get_absolute_url())

    shown = card_values(response)
    assert {caption: shown[caption] for caption in list(shown)[-13:]} == {
        "Colour": "Green",
        "Text": "<b>bold</b>",
        "Tags": "a, b",
        "Count": "12,345",
        "Rate": "2.5",
        "Agreed": "No",
        "Day": "2026-03-04",
        "When": "2026-03-04 12:30",  # in Moscow
        "Owner": "Boris Ivanov",
        "Price": "1,234.50 USD",
        "Site": "https://example.com/",
        "Partner": "Northwind",
        "Scan": "scan.pdf",
    }
    page = html_parse(response.text)
    site = by_role(page, "link", "https://example.com/")[0]
    assert site.attrs["rel"] == "noopener nofollow"
    assert by_role(page, "link", "Northwind")[0].attrs["href"] == company.get_absolute_url()
    assert by_role(page, "link", "scan.pdf")[0].attrs["href"] == file_url(deal, scan.pk)


def test_a_linked_record_the_viewer_may_not_read_is_shown_by_its_id(client, admin):
    make_field(admin, "PARTNER", "crm", "Partner", settings={"COMPANY": "Y"})
    hidden = CompanyFactory(title="Hidden company")
    deal = services.record_create(
        entity_type="DEAL",
        values={"TITLE": "D", "UF_CRM_PARTNER": str(hidden.pk), "ASSIGNED_BY_ID": admin.pk},
        user=None,
    )
    reader = user_with({("DEAL", Action.READ): Level.ALL})
    client.force_login(reader)

    response = client.get(deal.get_absolute_url())

    assert card_values(response)["Partner"] == f"#{hidden.pk}"
    assert "Hidden company" not in response.text


def test_an_address_that_is_not_a_web_link_is_shown_as_text(client, admin, manager):
    make_field(admin, "SITE", "url", "Site")
    deal = services.record_create(
        entity_type="DEAL", values={"TITLE": "D", "UF_CRM_SITE": "ftps://example.com/"}, user=admin
    )
    client.force_login(manager)

    response = client.get(deal.get_absolute_url())

    assert card_values(response)["Site"] == "ftps://example.com/"
    assert not by_role(html_parse(response.text), "link", "ftps://example.com/")


def timeline_changes(response) -> list[str]:
    entries = by_id(html_parse(response.text), "timeline-entries")
    return [
        text(item)
        for item in by_role(entries, "listitem")
        if item.attrs.get("class") is None and "→" in text(item)
    ]


def test_the_timeline_shows_custom_fields_changes_as_people_read_them(
    client, admin, manager, every_type
):
    deal, _company, _scan = every_type
    other = CompanyFactory(title="Contoso")
    services.record_update(
        record=deal,
        values={
            "UF_CRM_AGREED": True,
            "UF_CRM_WHEN": "2026-03-05 09:30:00+00:00",
            "UF_CRM_PRICE": "10|EUR",
            "UF_CRM_PARTNER": str(other.pk),
            "UF_CRM_SCAN": None,
            "UF_CRM_OWNER": f"user_{manager.pk}",
        },
        user=manager,
    )
    client.force_login(manager)

    changes = timeline_changes(client.get(deal.get_absolute_url()))

    # In the order of the fields, whatever order the database keeps the change's keys in.
    assert changes == [
        "Agreed: No → Yes",
        "When: 2026-03-04 12:30 → 2026-03-05 12:30",
        "Owner: Boris Ivanov → Anna Petrova",
        "Price: 1,234.50 USD → 10.00 EUR",
        "Partner: Northwind → Contoso",
        "Scan: scan.pdf → not set",
    ]


def test_a_change_of_a_field_since_deleted_is_shown_under_its_code(client, admin, manager):
    gone = make_field(admin, "GONE", "string", "Gone")
    deal = services.record_create(entity_type="DEAL", values={"TITLE": "D"}, user=manager)
    services.record_update(record=deal, values={"UF_CRM_GONE": "was here"}, user=manager)
    services.userfield_delete(field=gone, user=admin)
    client.force_login(manager)

    response = client.get(deal.get_absolute_url())

    assert response.status_code == 200
    assert timeline_changes(response) == ["UF_CRM_GONE: not set → was here"]


def test_a_change_written_before_the_field_changed_type_is_shown_as_stored(client, admin, manager):
    field = make_field(admin, "CODE", "string", "Code")
    deal = services.record_create(entity_type="DEAL", values={"TITLE": "D"}, user=manager)
    services.record_update(record=deal, values={"UF_CRM_CODE": "12"}, user=manager)
    services.userfield_update(field=field, values={"type": "integer"}, user=admin)
    TimelineEntry.objects.filter(kind=TimelineKind.CHANGED).update(
        changes={"UF_CRM_CODE": [None, "twelve"]}
    )
    client.force_login(manager)

    response = client.get(deal.get_absolute_url())

    assert timeline_changes(response) == ["Code: not set → twelve"]


def test_the_lookup_of_a_link_to_several_types_finds_records_of_each(client, admin, manager):
    make_field(admin, "ANY", "crm", "Related", settings={"COMPANY": "Y", "DEAL": "Y"})
    CompanyFactory(title="Northwind")
    DealFactory(title="North deal")
    CompanyFactory(title="Southwind")
    client.force_login(manager)

    response = client.get(reverse("crm:record-lookup", args=["deal", "UF_CRM_ANY"]), {"q": "north"})

    select = by_id(html_parse(response.text), "id_UF_CRM_ANY")
    assert [text(option) for option in by_role(select, "option")] == [
        "Not selected",
        "Northwind",
        "North deal",
    ]
    assert all(
        option.attrs["value"].startswith(("CO_", "D_")) for option in by_role(select, "option")[1:]
    )


def test_a_datetime_is_drawn_in_the_persons_time_zone(client, admin, manager):
    make_field(admin, "WHEN", "datetime", "When")
    deal = services.record_create(
        entity_type="DEAL",
        values={
            "TITLE": "D",
            "UF_CRM_WHEN": datetime.datetime(2026, 3, 1, 7, 30, tzinfo=datetime.UTC),
        },
        user=manager,
    )
    client.force_login(manager)

    page = html_parse(client.get(edit_url(deal)).text)

    field = labelled(page, "When")
    assert (field.attrs["type"], value(field)) == ("datetime-local", "2026-03-01T10:30")


def test_each_amount_of_a_multiple_money_field_has_its_own_name(client, admin, manager):
    make_field(admin, "PRICES", "money", "Prices", multiple=True)
    deal = services.record_create(
        entity_type="DEAL",
        values={"TITLE": "D", "UF_CRM_PRICES": ["10|USD", "20|EUR"]},
        user=manager,
    )
    client.force_login(manager)

    page = html_parse(client.get(edit_url(deal)).text)

    group = by_role(page, "group", "Prices")[0]
    assert [value(labelled(group, name)) for name in ("Prices 1", "Prices 2")] == ["10.00", "20.00"]
    assert value(labelled(group, "Currency: Prices 2")) == "EUR"
    assert value(labelled(group, "Another Prices")) == ""


def test_the_lookup_of_a_custom_link_needs_a_right_on_the_forms_entity_type(client, admin):
    make_field(admin, "ANY", "crm", "Related", settings={"COMPANY": "Y"})
    CompanyFactory(title="Northwind")
    company_reader = user_with({("COMPANY", Action.READ): Level.ALL})
    client.force_login(company_reader)

    response = client.get(reverse("crm:record-lookup", args=["deal", "UF_CRM_ANY"]), {"q": "north"})

    assert response.status_code == 403

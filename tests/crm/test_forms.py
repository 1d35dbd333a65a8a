"""Bad input on every CRM form: a clear message next to the field, in the user's language,
and nothing stored (every record and timeline row compared before and after)."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from crm.models import RECORD_MODELS, Action, Level, TimelineEntry
from tests.crm.factories import (
    CompanyFactory,
    ContactFactory,
    DealFactory,
    LeadFactory,
    UserFactory,
    user_with,
)

pytestmark = pytest.mark.django_db

FACTORIES = {
    "DEAL": DealFactory,
    "LEAD": LeadFactory,
    "CONTACT": ContactFactory,
    "COMPANY": CompanyFactory,
}
LONG = "x" * 256

# (entity type, field code, raw value, English message); "{company}" / "{user}" are filled in.
CASES = [
    ("DEAL", "TITLE", "", "The field 'Deal name' is required."),
    ("DEAL", "PROBABILITY", "abc", "The value of field 'Probability, %' is not an integer."),
    ("DEAL", "PROBABILITY", "101", "The value of field 'Probability, %' is incorrect."),
    ("DEAL", "OPPORTUNITY", "12,3,4", "The value of field 'Amount' is not a number."),
    ("DEAL", "BEGINDATE", "31/31/2026", "The date in field 'Start date' does not match"),
    ("DEAL", "STAGE_ID", "NOPE", "The value of field 'Stage' is incorrect."),
    ("DEAL", "COMPANY_ID", "{company}", "The value of field 'Company' is incorrect."),
    ("DEAL", "COMPANY_ID", "9" * 30, "The value of field 'Company' is not an integer."),
    ("DEAL", "ASSIGNED_BY_ID", "{user}", "The value of field 'Responsible' is incorrect."),
    ("DEAL", "TITLE", LONG, "The value of field 'Deal name' is too long: at most 255"),
    ("DEAL", "TITLE", "bad\x00byte", "Null characters are not allowed."),
    ("LEAD", "TITLE", "", "The field 'Lead name' is required."),
    ("LEAD", "OPPORTUNITY", "lots", "The value of field 'Amount' is not a number."),
    ("LEAD", "STATUS_ID", "NOPE", "The value of field 'Status' is incorrect."),
    ("LEAD", "ASSIGNED_BY_ID", "{user}", "The value of field 'Responsible' is incorrect."),
    ("LEAD", "COMPANY_TITLE", LONG, "The value of field 'Company name' is too long"),
    ("CONTACT", "NAME", "", "Enter a first name or a last name."),
    ("CONTACT", "COMPANY_ID", "abc", "The value of field 'Company' is not an integer."),
    ("CONTACT", "SOURCE_ID", "NOPE", "The value of field 'Source' is incorrect."),
    ("CONTACT", "COMPANY_ID", "{company}", "The value of field 'Company' is incorrect."),
    ("CONTACT", "LAST_NAME", "y" * 101, "The value of field 'Last name' is too long"),
    ("COMPANY", "TITLE", "", "The field 'Company name' is required."),
    ("COMPANY", "REVENUE", "1e99", "The value of field 'Annual revenue' is incorrect."),
    ("COMPANY", "COMPANY_TYPE", "NOPE", "The value of field 'Company type' is incorrect."),
    ("COMPANY", "ASSIGNED_BY_ID", "{user}", "The value of field 'Responsible' is incorrect."),
    ("COMPANY", "TITLE", LONG, "The value of field 'Company name' is too long"),
]
RUSSIAN = {
    "DEAL": ("TITLE", "", "Поле 'Название сделки' должно быть обязательно заполнено"),
    "LEAD": ("STATUS_ID", "NOPE", "Значение поля 'Статус' не верно"),
    "CONTACT": ("NAME", "", "Укажите имя или фамилию."),
    "COMPANY": ("REVENUE", "много", "Значение поля 'Годовой оборот' не является действительным"),
}
VALID = {
    "DEAL": {"TITLE": "Good deal", "STAGE_ID": "NEW"},
    "LEAD": {"TITLE": "Good lead", "STATUS_ID": "NEW"},
    "CONTACT": {"NAME": "Good", "LAST_NAME": "Person"},
    "COMPANY": {"TITLE": "Good company"},
}


@pytest.fixture
def editor():
    """May do everything to every type, but read only their own companies and contacts."""
    granted = {
        (et, action): Level.ALL
        for et in RECORD_MODELS
        for action in (Action.READ, Action.ADD, Action.UPDATE, Action.DELETE)
    }
    granted[("COMPANY", Action.READ)] = Level.OWN
    granted[("CONTACT", Action.READ)] = Level.OWN
    return user_with(granted)


def snapshot() -> dict:
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (*RECORD_MODELS.values(), TimelineEntry)
    }


def form_data(entity_type: str, code: str, raw: str) -> dict:
    hidden_company = CompanyFactory(title="Not yours")
    inactive = UserFactory(is_active=False)
    value = raw.format(company=hidden_company.pk, user=inactive.pk)
    return {code: value}


def open_create(client, user, entity_type: str) -> tuple[str, dict]:
    """The create form's URL and a valid filling of it."""
    url = reverse("crm:record-create", args=[entity_type.lower()])
    return url, {**VALID[entity_type], "ASSIGNED_BY_ID": user.pk}


def open_edit(client, user, entity_type: str) -> tuple[str, dict]:
    """The edit form's URL of a new record of the user and what the form holds."""
    record = FACTORIES[entity_type](assigned_by=user)
    url = reverse("crm:record-update", args=[entity_type.lower(), record.pk])
    opened = client.get(url).context["form"].initial
    return url, {**opened, "version": record.version}


def field_error(response, code: str) -> str:
    """The messages shown next to the field (or above the form)."""
    text = response.text
    marker = f'id="{code}-error">'
    shown = [part.split("</p>", 1)[0] for part in text.split(marker)[1:]]
    if 'id="form-errors"' in text:
        block = text[text.index('id="form-errors"') :]
        shown.append(block[: block.index("</div>")])
    return " ".join(shown)


@pytest.mark.parametrize("open_form", [open_create, open_edit], ids=["create", "edit"])
@pytest.mark.parametrize(("entity_type", "code", "raw", "message"), CASES)
def test_bad_input_is_refused_with_a_message_by_the_field_and_nothing_is_stored(
    client, editor, open_form, entity_type, code, raw, message
):
    client.force_login(editor)
    url, filled = open_form(client, editor, entity_type)
    data = form_data(entity_type, code, raw)
    if entity_type == "CONTACT" and code == "NAME":
        data["LAST_NAME"] = ""
    before = snapshot()

    response = client.post(url, {**filled, **data})

    assert response.status_code == 422
    assert escape(message) in field_error(response, code)
    assert 'aria-invalid="true"' in response.text
    assert snapshot() == before


@pytest.mark.parametrize("open_form", [open_create, open_edit], ids=["create", "edit"])
@pytest.mark.parametrize("entity_type", list(RUSSIAN))
def test_the_message_is_in_the_users_language(client, open_form, entity_type):
    granted = {(entity_type, action): Level.ALL for action in Action}
    russian = user_with(granted, language="ru")
    client.force_login(russian)
    url, filled = open_form(client, russian, entity_type)
    code, raw, message = RUSSIAN[entity_type]
    data = {code: raw, **({"LAST_NAME": ""} if entity_type == "CONTACT" else {})}
    before = snapshot()

    response = client.post(url, {**filled, **data})

    assert response.status_code == 422
    assert escape(message) in field_error(response, code)
    assert snapshot() == before


def test_an_htmx_form_gets_its_errors_back_as_the_form_alone(client, editor):
    client.force_login(editor)

    response = client.post(
        reverse("crm:record-create", args=["deal"]),
        {"TITLE": "", "ASSIGNED_BY_ID": editor.pk},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 422
    assert response.text.lstrip().startswith('<form id="record-form"')


def test_the_form_keeps_what_the_person_typed_when_it_comes_back(client, editor):
    client.force_login(editor)

    response = client.post(
        reverse("crm:record-create", args=["deal"]),
        {"TITLE": "Kept <title>", "PROBABILITY": "abc", "ASSIGNED_BY_ID": editor.pk},
    )

    assert 'value="Kept &lt;title&gt;"' in response.text
    assert 'value="abc"' in response.text


COMMENT_CASES = [
    ("", "The field 'Comment' is required.", "Поле 'Комментарий' должно быть обязательно"),
    ("   \n ", "The field 'Comment' is required.", "Поле 'Комментарий' должно быть обязательно"),
    (
        "x" * 5001,
        "The value of field 'Comment' is too long: at most 5000 characters.",
        "Значение поля 'Комментарий' слишком длинное: не больше 5000 символов.",
    ),
]


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize(("text", "english", "russian"), COMMENT_CASES)
def test_a_bad_comment_is_refused_with_a_message_and_nothing_is_stored(
    client, language, text, english, russian
):
    user = user_with({("DEAL", Action.READ): Level.ALL}, language=language)
    deal = DealFactory()
    client.force_login(user)
    before = snapshot()

    response = client.post(reverse("crm:comment-create", args=["deal", deal.pk]), {"text": text})

    assert response.status_code == 422
    shown = field_error(response, "comment")
    assert escape(english if language == "en" else russian) in shown
    assert snapshot() == before


def test_a_comment_with_a_null_character_is_refused(client):
    user = user_with({("DEAL", Action.READ): Level.ALL})
    deal = DealFactory()
    client.force_login(user)

    response = client.post(
        reverse("crm:comment-create", args=["deal", deal.pk]), {"text": "a\x00b"}
    )

    assert response.status_code == 422
    assert "Null characters are not allowed." in response.text
    assert not TimelineEntry.objects.exists()

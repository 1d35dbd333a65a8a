"""CRM pages: lists (search, filters, sorting, pages), record cards, create / edit / delete,
stale edits, htmx partials, and the rights on every page and partial.

Records are made with the factories; writes under test go through the pages.
"""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from crm import services, views
from crm.models import RECORD_MODELS, Action, Deal, Level, TimelineEntry, TimelineKind
from tests.crm.factories import (
    CompanyFactory,
    ContactFactory,
    DealFactory,
    LeadFactory,
    UserFactory,
    user_with,
)
from tests.html import submitted

pytestmark = pytest.mark.django_db

ENTITY_TYPES = ["DEAL", "LEAD", "CONTACT", "COMPANY"]
FACTORIES = {
    "DEAL": DealFactory,
    "LEAD": LeadFactory,
    "CONTACT": ContactFactory,
    "COMPANY": CompanyFactory,
}
VALID = {
    "DEAL": {"TITLE": "Page deal"},
    "LEAD": {"TITLE": "Page lead"},
    "CONTACT": {"NAME": "Page", "LAST_NAME": "Contact"},
    "COMPANY": {"TITLE": "Page company"},
}
HTMX = {"HX-Request": "true"}


def levels(level: str, actions=(Action.READ, Action.ADD, Action.UPDATE, Action.DELETE)) -> dict:
    return {(et, action): level for et in ENTITY_TYPES for action in actions}


@pytest.fixture
def admin():
    return UserFactory(full_name="Irina Sokolova", is_crm_admin=True, is_staff=True)


@pytest.fixture
def manager():
    """May do everything, but only to the records they are responsible for."""
    return user_with(levels(Level.OWN), full_name="Anna Petrova")


@pytest.fixture
def auditor():
    return user_with(levels(Level.ALL, actions=(Action.READ,)), full_name="Olga Smirnova")


def list_url(entity_type: str, **params) -> str:
    url = reverse("crm:record-list", args=[entity_type.lower()])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def names_listed(response) -> list[str]:
    """The record names in the list's rows, in order."""
    return re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a></th>', response.text)


def snapshot() -> dict:
    """Every record and timeline row, to compare before and after."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (*RECORD_MODELS.values(), TimelineEntry)
    }


# --- lists ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("entity_type", ENTITY_TYPES)
def test_every_list_shows_its_records_newest_first_with_a_total(client, admin, entity_type):
    older, newer = FACTORIES[entity_type].create_batch(2)
    client.force_login(admin)

    response = client.get(list_url(entity_type))

    assert response.status_code == 200
    assert names_listed(response) == [str(newer), str(older)]
    assert "Total: 2" in response.text
    assert '<caption class="visually-hidden">' in response.text
    assert 'scope="col"' in response.text


def test_an_own_manager_sees_only_their_deals(client, manager):
    mine = DealFactory(assigned_by=manager, title="Mine")
    DealFactory(title="Someone else's")
    client.force_login(manager)

    response = client.get(list_url("DEAL"))

    assert names_listed(response) == ["Mine"]
    assert "Total: 1" in response.text
    assert client.get(mine.get_absolute_url()).status_code == 200


def test_search_finds_deals_by_any_word_of_the_name_or_by_id(client, admin):
    cloud = DealFactory(title="Cloud migration for Atlas")
    DealFactory(title="Hardware refresh for Atlas")
    client.force_login(admin)

    assert names_listed(client.get(list_url("DEAL", q="CLOUD atlas"))) == [cloud.title]
    assert names_listed(client.get(list_url("DEAL", q=str(cloud.pk)))) == [cloud.title]
    assert "Nothing matches" in client.get(list_url("DEAL", q="nothing-like-it")).text


def test_search_finds_contacts_by_first_and_last_name(client, admin):
    ContactFactory(name="Ivan", last_name="Petrov")
    ContactFactory(name="Ivan", last_name="Sidorov")
    client.force_login(admin)

    assert names_listed(client.get(list_url("CONTACT", q="ivan petrov"))) == ["Ivan Petrov"]


def test_filters_by_stage_responsible_and_creation_dates(client, admin):
    anna, boris = UserFactory(full_name="Anna"), UserFactory(full_name="Boris")
    now = timezone.now()
    wanted = DealFactory(title="Wanted", stage="WON", assigned_by=anna, created_at=now)
    DealFactory(title="Other stage", stage="NEW", assigned_by=anna, created_at=now)
    DealFactory(title="Other person", stage="WON", assigned_by=boris, created_at=now)
    DealFactory(
        title="Too old", stage="WON", assigned_by=anna, created_at=now - datetime.timedelta(days=40)
    )
    client.force_login(admin)
    today = timezone.localdate()
    since = today - datetime.timedelta(days=7)

    response = client.get(
        list_url("DEAL", stage="WON", assigned=anna.pk, created_from=since, created_to=today)
    )

    assert names_listed(response) == [wanted.title]
    assert "Total: 1" in response.text


def test_the_responsible_filter_names_the_person_chosen(client, admin):
    anna, boris = UserFactory(full_name="Anna Petrova"), UserFactory(full_name="Boris Ivanov")
    DealFactory(title="For Anna", assigned_by=anna)
    DealFactory(title="For Boris", assigned_by=boris)
    client.force_login(admin)

    response = client.get(list_url("DEAL", assigned=f"user_{anna.pk}"))

    assert names_listed(response) == ["For Anna"]
    chosen = re.search(
        r'<ul class="chips" aria-label="Chosen: Responsible">(.*?)</ul>', response.text, re.S
    )
    assert re.findall(r'class="chip-name">([^<]+)<', chosen[1]) == ["Anna Petrova"]
    assert f'name="assigned" value="user_{anna.pk}"' in chosen[1]
    # Nobody chosen, or a value naming nobody: no filter, no chip.
    for assigned in ("", "user_x"):
        response = client.get(list_url("DEAL", assigned=assigned))
        assert sorted(names_listed(response)) == ["For Anna", "For Boris"]
        assert 'class="chip"' not in response.text


def test_the_record_form_shows_the_responsible_by_name_and_saves_it_as_drawn(client, admin):
    boris = UserFactory(full_name="Boris Ivanov")
    deal = DealFactory(title="Kept", assigned_by=boris)
    client.force_login(admin)
    url = reverse("crm:record-update", args=["deal", deal.pk])

    form = client.get(url).text

    assert re.search(r'<label for="id_ASSIGNED_BY_ID">Responsible', form)
    assert 'id="id_ASSIGNED_BY_ID"' in form and 'role="combobox"' in form
    assert re.findall(r'class="chip-name">([^<]+)<', form) == ["Boris Ivanov"]
    data = submitted(form, "record-form")
    assert data["ASSIGNED_BY_ID"] == [f"user_{boris.pk}"]
    response = client.post(url, {**data, "TITLE": "Renamed"})
    assert response.status_code == 302
    deal.refresh_from_db()
    assert (deal.title, deal.assigned_by) == ("Renamed", boris)


def test_sorting_by_name_both_ways_and_the_header_says_so(client, admin):
    for title in ["Bravo", "Alpha", "Charlie"]:
        DealFactory(title=title)
    client.force_login(admin)

    ascending = client.get(list_url("DEAL", sort="name"))
    descending = client.get(list_url("DEAL", sort="-name"))

    assert names_listed(ascending) == ["Alpha", "Bravo", "Charlie"]
    assert names_listed(descending) == ["Charlie", "Bravo", "Alpha"]
    assert 'aria-sort="ascending"' in ascending.text
    assert 'aria-sort="descending"' in descending.text


def test_pages_hold_fifty_records_and_a_page_past_the_end_shows_the_last(client, admin):
    DealFactory.create_batch(views.PER_PAGE + 3)
    client.force_login(admin)

    first = client.get(list_url("DEAL"))
    second = client.get(list_url("DEAL", page=2))
    past = client.get(list_url("DEAL", page=99))

    assert len(names_listed(first)) == views.PER_PAGE
    assert len(names_listed(second)) == 3
    assert "Page 2 of 2" in second.text
    assert names_listed(past) == names_listed(second)
    assert not set(names_listed(first)) & set(names_listed(second))


def test_a_big_list_is_counted_only_up_to_the_cap_and_still_pages(client, admin, monkeypatch):
    monkeypatch.setattr(views, "COUNT_CAP", 60)
    monkeypatch.setattr(views, "PER_PAGE", 25)
    DealFactory.create_batch(80)
    client.force_login(admin)

    response = client.get(list_url("DEAL", page=3))

    assert "Total: more than 60" in response.text
    assert "Page 3<" in response.text and "Page 3 of" not in response.text
    assert len(names_listed(response)) == 25
    assert 'id="page-next"' in response.text and 'id="page-last"' not in response.text
    assert len(names_listed(client.get(list_url("DEAL", page=4)))) == 5


@pytest.mark.parametrize(
    "params",
    [
        {"page": "abc"},
        {"page": "-3"},
        {"page": "9" * 40},
        {"stage": "NOPE"},
        {"assigned": "x"},
        {"created_from": "2026-13-45"},
        {"created_to": "0001-01-01"},
        {"sort": "password"},
        {"q": "x" * 500},
    ],
)
def test_garbage_in_the_query_string_is_ignored_not_an_error(client, admin, params):
    DealFactory(title="Still listed")
    client.force_login(admin)

    response = client.get(list_url("DEAL", **params))

    assert response.status_code == 200
    assert "Still listed" in response.text or "Nothing matches" in response.text


def test_htmx_gets_only_the_list_part_and_caches_keep_them_apart(client, admin):
    DealFactory(title="Partial deal")
    client.force_login(admin)

    partial = client.get(list_url("DEAL"), headers=HTMX)
    restore = client.get(list_url("DEAL"), headers={**HTMX, "HX-History-Restore-Request": "true"})

    assert partial.text.lstrip().startswith('<section id="record-list"')
    assert "<html" not in partial.text and "Partial deal" in partial.text
    assert "HX-Request" in partial.headers["Vary"]
    assert "<html" in restore.text


def test_the_list_has_a_bulk_selection_form_with_named_checkboxes(client, admin):
    deal = DealFactory(title="Pick me")
    client.force_login(admin)

    response = client.get(list_url("DEAL"))

    assert '<form id="bulk-actions"' in response.text
    assert 'aria-label="Select all on this page"' in response.text
    assert f'name="ids" value="{deal.pk}" aria-label="Select Pick me"' in response.text


def test_every_response_carries_the_server_timing(client, admin):
    client.force_login(admin)

    response = client.get(list_url("DEAL"))

    assert re.fullmatch(r"app;dur=\d+(\.\d+)?", response.headers["Server-Timing"])


# --- record card ---------------------------------------------------------------------------------


def test_the_card_shows_values_as_people_read_them(client, admin):
    boss = UserFactory(full_name="Helen Carter")
    company = CompanyFactory(title="Northwind")
    deal = DealFactory(
        title="Readable",
        stage="WON",
        assigned_by=boss,
        company=company,
        opportunity=12345.5,
        currency="EUR",
        begin_date=datetime.date(2026, 3, 4),
    )
    client.force_login(admin)

    page = client.get(deal.get_absolute_url()).text

    assert "Deal won" in page and "Helen Carter" in page
    assert f'<a href="{company.get_absolute_url()}">Northwind</a>' in page
    assert "12,345.50 EUR" in page
    assert '<time datetime="2026-03-04">2026-03-04</time>' in page
    assert '<section id="processes"' in page and ">Processes</h2>" in page


def test_the_card_names_a_linked_record_only_to_someone_who_may_read_it(client, manager):
    hidden = CompanyFactory(title="Hidden company")
    deal = DealFactory(assigned_by=manager, company=hidden)
    client.force_login(manager)

    page = client.get(deal.get_absolute_url()).text

    assert "Hidden company" not in page
    assert f"<dd>#{hidden.pk}</dd>" in page


def test_the_card_in_russian_uses_russian_names_and_dates(client, admin):
    admin.language = "ru"
    admin.save()
    deal = DealFactory(stage="WON", begin_date=datetime.date(2026, 3, 4), opportunity=1000)
    client.force_login(admin)

    page = client.get(deal.get_absolute_url()).text

    assert "Сделка успешна" in page
    assert "04.03.2026" in page
    assert "1\xa0000,00" in page


def test_the_timeline_shows_changes_and_comments_newest_first(client, admin):
    client.force_login(admin)
    client.post(reverse("crm:record-create", args=["deal"]), VALID["DEAL"])  # responsible: self
    deal = Deal.objects.get(title="Page deal")
    client.post(
        reverse("crm:record-update", args=["deal", deal.pk]),
        {"TITLE": "Page deal", "STAGE_ID": "WON", "ASSIGNED_BY_ID": admin.pk, "version": 1},
    )
    client.post(reverse("crm:comment-create", args=["deal", deal.pk]), {"text": "Called them"})

    page = client.get(deal.get_absolute_url()).text
    timeline = page[page.index('id="timeline"') :]

    stage_change = re.search(r"Stage:</span>\s*New → Deal won", timeline)
    assert stage_change is not None
    assert timeline.index("Called them") < stage_change.start() < timeline.index("Deal created")
    assert timeline.count("Irina Sokolova") == 3


def test_a_long_timeline_shows_twenty_entries_and_a_link_to_earlier_ones(client, admin):
    deal = DealFactory()
    moment = timezone.now()
    TimelineEntry.objects.bulk_create(
        TimelineEntry(
            document_id=deal.document_id,
            kind=TimelineKind.COMMENT,
            text=f"Note {n}",
            created_at=moment - datetime.timedelta(minutes=n),
        )
        for n in range(25)
    )
    client.force_login(admin)

    page = client.get(deal.get_absolute_url()).text
    more = re.search(r'hx-get="\?before=(\d+)"', page)
    earlier = client.get(deal.get_absolute_url(), {"before": more[1]}, headers=HTMX).text

    assert "Note 19<" in page and "Note 20<" not in page
    assert "<html" not in earlier
    assert re.findall(r"Note (\d+)<", earlier) == [str(n) for n in range(20, 25)]


# --- create, edit, delete ------------------------------------------------------------------------


@pytest.mark.parametrize("entity_type", ENTITY_TYPES)
def test_creating_a_record_writes_it_and_its_timeline_and_opens_its_card(
    client, admin, entity_type
):
    client.force_login(admin)
    url = reverse("crm:record-create", args=[entity_type.lower()])

    assert client.get(url).status_code == 200
    response = client.post(url, {**VALID[entity_type], "ASSIGNED_BY_ID": admin.pk})

    record = FACTORIES[entity_type]._meta.model.objects.get()
    assert response.status_code == 302 and response.url == record.get_absolute_url()
    assert record.assigned_by == admin
    entry = TimelineEntry.objects.get(document_id=record.document_id)
    assert (entry.kind, entry.author) == (TimelineKind.CREATED, admin)


def test_a_form_sent_by_htmx_leaves_for_the_card_with_a_client_redirect(client, admin):
    client.force_login(admin)

    response = client.post(
        reverse("crm:record-create", args=["deal"]),
        {"TITLE": "By htmx", "ASSIGNED_BY_ID": admin.pk},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == Deal.objects.get().get_absolute_url()


def test_editing_writes_only_the_fields_the_person_changed(client, admin):
    deal = DealFactory(title="Before", stage="NEW", comments="")
    client.force_login(admin)
    form = client.get(reverse("crm:record-update", args=["deal", deal.pk])).context["form"]
    data = {code: value for code, value in form.initial.items() if value not in ("", [])}

    response = client.post(
        reverse("crm:record-update", args=["deal", deal.pk]),
        {**data, "TITLE": "After", "version": deal.version},
    )

    assert response.status_code == 302
    deal.refresh_from_db()
    assert (deal.title, deal.version) == ("After", 2)
    entry = TimelineEntry.objects.get(document_id=deal.document_id, kind=TimelineKind.CHANGED)
    assert entry.changes == {"TITLE": ["Before", "After"]}


def test_a_stale_edit_is_refused_with_what_changed_and_nothing_is_overwritten(client, admin):
    client.force_login(admin)
    client.post(reverse("crm:record-create", args=["deal"]), {"TITLE": "Shared"})  # self
    deal = Deal.objects.get()
    url = reverse("crm:record-update", args=["deal", deal.pk])
    opened = client.get(url).context["form"].initial  # the second person opens the form
    other = user_with({("DEAL", Action.UPDATE): Level.ALL, ("DEAL", Action.READ): Level.ALL})
    services.record_update(record=deal, values={"STAGE_ID": "WON"}, user=other)
    before = snapshot()

    response = client.post(url, {**opened, "TITLE": "Mine", "version": 1})

    assert response.status_code == 409
    notice = response.text[response.text.index('id="stale-notice"') :]
    assert re.search(r"Stage:</span>\s*New → Deal won", notice)
    assert snapshot() == before
    assert 'name="version" value="2"' in response.text
    assert 'value="Mine"' in response.text  # the person's edit is kept on top
    assert re.search(r'<option value="WON" selected>', response.text)  # theirs shows


def test_saving_again_after_a_stale_refusal_applies_only_the_persons_edit(client, admin):
    deal = DealFactory(title="Shared", stage="NEW", assigned_by=admin)
    client.force_login(admin)
    url = reverse("crm:record-update", args=["deal", deal.pk])
    opened = client.get(url).context["form"].initial
    services.record_update(record=deal, values={"STAGE_ID": "WON"}, user=None, by_process=True)
    refused = client.post(url, {**opened, "TITLE": "Mine", "version": 1})
    again = {**refused.context["form"].data.dict(), "version": 2}

    assert client.post(url, again).status_code == 302
    deal.refresh_from_db()
    assert (deal.title, deal.stage) == ("Mine", "WON")


def test_deleting_asks_first_then_deletes_the_record_and_its_timeline(client, admin):
    deal = DealFactory(title="Doomed")
    TimelineEntry.objects.create(document_id=deal.document_id, kind=TimelineKind.COMMENT)
    client.force_login(admin)
    url = reverse("crm:record-delete", args=["deal", deal.pk])

    page = client.get(url)
    dialog = client.get(url, headers=HTMX)
    response = client.post(url, follow=True)

    assert "<h1" in page.text and "Delete “Doomed”?" in page.text
    assert dialog.text.lstrip().startswith('<dialog id="delete-dialog"')
    assert 'aria-labelledby="delete-heading"' in dialog.text
    assert not Deal.objects.exists()
    assert not TimelineEntry.objects.filter(document_id=deal.document_id).exists()
    assert "Deleted: Doomed" in response.text


def test_a_comment_sent_by_htmx_comes_back_as_the_timeline(client, admin):
    deal = DealFactory()
    client.force_login(admin)

    response = client.post(
        reverse("crm:comment-create", args=["deal", deal.pk]), {"text": " Hi "}, headers=HTMX
    )

    assert response.text.lstrip().startswith('<section id="timeline"')
    assert "Comment added." in response.text
    entry = TimelineEntry.objects.get(document_id=deal.document_id)
    assert (entry.text, entry.author) == ("Hi", admin)


def test_the_company_choice_is_narrowed_by_a_lookup_of_readable_companies(client, manager):
    CompanyFactory(title="Northwind mine", assigned_by=manager)
    CompanyFactory(title="Northwind theirs")
    client.force_login(manager)

    response = client.get(
        reverse("crm:record-lookup", args=["deal", "COMPANY_ID"]), {"q": "northwind"}
    )

    assert response.text.lstrip().startswith('<select id="id_COMPANY_ID" name="COMPANY_ID"')
    assert "Northwind mine" in response.text and "theirs" not in response.text


# --- rights --------------------------------------------------------------------------------------

PAGES = {
    # name: (method, url name, needs a record, data, htmx)
    "list": ("get", "crm:record-list", False, {}, False),
    "list part": ("get", "crm:record-list", False, {}, True),
    "card": ("get", "crm:record-detail", True, {}, False),
    "timeline part": ("get", "crm:record-detail", True, {"before": "1"}, True),
    "create form": ("get", "crm:record-create", False, {}, False),
    "create": ("post", "crm:record-create", False, {"TITLE": "x", "NAME": "x"}, True),
    "edit form": ("get", "crm:record-update", True, {}, False),
    "edit": ("post", "crm:record-update", True, {"TITLE": "x", "version": "1"}, True),
    "delete question": ("get", "crm:record-delete", True, {}, True),
    "delete": ("post", "crm:record-delete", True, {}, False),
    "comment": ("post", "crm:comment-create", True, {"text": "x"}, True),
}
# The action each page needs (the card, its parts and comments need reading).
NEEDS = {
    "list": Action.READ,
    "list part": Action.READ,
    "card": Action.READ,
    "timeline part": Action.READ,
    "create form": Action.ADD,
    "create": Action.ADD,
    "edit form": Action.UPDATE,
    "edit": Action.UPDATE,
    "delete question": Action.DELETE,
    "delete": Action.DELETE,
    "comment": Action.READ,
}


def request_page(client, name: str, entity_type: str, record=None):
    method, url_name, with_record, data, htmx = PAGES[name]
    args = [entity_type.lower(), record.pk] if with_record else [entity_type.lower()]
    return getattr(client, method)(reverse(url_name, args=args), data, headers=HTMX if htmx else {})


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("entity_type", ["DEAL", "CONTACT"])
def test_a_type_the_user_may_not_act_on_gives_403_and_changes_nothing(client, name, entity_type):
    """The user may do everything but the one action the page needs, on this type."""
    granted = {
        (et, action): Level.ALL
        for et in ENTITY_TYPES
        for action in Action
        if (et, action) != (entity_type, NEEDS[name])
    }
    user = user_with(granted)
    record = FACTORIES[entity_type](assigned_by=user)
    client.force_login(user)
    before = snapshot()

    response = request_page(client, name, entity_type, record)

    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("name", [name for name, page in PAGES.items() if page[2]])
def test_a_record_the_user_may_not_read_gives_404_and_changes_nothing(client, manager, name):
    theirs = DealFactory(title="Theirs")
    client.force_login(manager)
    before = snapshot()

    response = request_page(client, name, "DEAL", theirs)

    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("name", ["edit form", "edit", "delete question", "delete"])
def test_a_readable_record_the_user_may_not_change_gives_403(client, auditor, name):
    deal = DealFactory()
    client.force_login(auditor)
    before = snapshot()

    response = request_page(client, name, "DEAL", deal)

    assert response.status_code == 403
    assert snapshot() == before


def test_a_reader_may_comment_but_not_edit(client, auditor):
    deal = DealFactory()
    client.force_login(auditor)

    page = client.get(deal.get_absolute_url()).text
    response = request_page(client, "comment", "DEAL", deal)

    assert "Edit</a>" not in page and "Delete</a>" not in page
    assert 'id="comment-form"' in page
    assert response.status_code == 200
    assert TimelineEntry.objects.filter(kind=TimelineKind.COMMENT).count() == 1


def test_an_own_manager_may_not_create_a_record_for_someone_else(client, manager):
    other = UserFactory()
    client.force_login(manager)
    form = client.get(reverse("crm:record-create", args=["deal"])).context["form"]

    response = client.post(
        reverse("crm:record-create", args=["deal"]), {"TITLE": "Gift", "ASSIGNED_BY_ID": other.pk}
    )

    picker = form.fields["ASSIGNED_BY_ID"].picker  # offers themselves alone, searches no one
    assert [(person.value, person.name) for person in picker.fixed] == [
        (f"user_{manager.pk}", "Anna Petrova")
    ]
    assert not picker.search
    assert response.status_code == 403
    assert not Deal.objects.exists()


def test_a_lookup_of_a_type_the_user_may_not_read_gives_403(client):
    user = user_with({("DEAL", action): Level.ALL for action in Action})
    client.force_login(user)

    response = client.get(reverse("crm:record-lookup", args=["deal", "COMPANY_ID"]))

    assert response.status_code == 403


def test_pages_need_a_login(client):
    deal = DealFactory()

    for url in [list_url("DEAL"), deal.get_absolute_url()]:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_other_methods_are_not_allowed(client, admin, method):
    deal = DealFactory()
    client.force_login(admin)

    response = getattr(client, method)(reverse("crm:record-update", args=["deal", deal.pk]))

    assert response.status_code == 405
    assert Deal.objects.filter(pk=deal.pk).exists()

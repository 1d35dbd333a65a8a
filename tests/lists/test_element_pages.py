"""A list's elements on the pages: the table (only what one may read; search, filters, sort,
pages), the form (typed inputs per property type; bad input refused next to its input with
nothing stored; a stale edit refused), the card (values as people read them, HTML text shown
as text) with its processes, deleting, and file downloads only to who may read the element."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from lists.models import Element, ElementFile, PropertyType
from tests.html import by_id, by_role, html_parse, labelled, submitted, text
from tests.lists.conftest import make_element, make_field, make_list

pytestmark = pytest.mark.django_db


@pytest.fixture
def trips(lists_admin):
    """Everyone may add; reading every trip is the admin's alone."""
    list_ = make_list(lists_admin, "trips", name="Trips", access={"add": ["AU"]})
    make_field(
        lists_admin,
        list_,
        "TRANSPORT",
        PropertyType.LIST,
        name="Transport",
        filterable=True,
        options=[{"value": "Train", "xml_id": "TRAIN"}, {"value": "Plane", "xml_id": "PLANE"}],
    )
    make_field(lists_admin, list_, "DAYS", PropertyType.NUMBER, name="Days", filterable=True)
    make_field(lists_admin, list_, "START", PropertyType.DATE, name="Start")
    make_field(lists_admin, list_, "DEPUTY", PropertyType.EMPLOYEE, name="Deputy")
    make_field(lists_admin, list_, "BUDGET", PropertyType.MONEY, name="Budget")
    make_field(lists_admin, list_, "NOTES", PropertyType.HTML, name="Notes")
    return list_


def detail_url(element):
    return reverse("lists:element-detail", args=[element.list_id, element.pk])


def test_an_employee_adds_an_element_with_typed_values_and_reads_them_on_its_card(
    client, trips, employee, colleague
):
    client.force_login(employee)
    url = reverse("lists:element-add", args=[trips.pk])
    response = client.get(url)
    page = html_parse(response.text)
    assert labelled(page, "Transport").name == "select"
    assert labelled(page, "Start").attrs["type"] == "date"
    assert labelled(page, "Notes").name == "textarea"
    data = submitted(response.text, "element-form")
    data |= {
        "NAME": ["Conference in Kazan"],
        "PROPERTY_TRANSPORT": ["PLANE"],
        "PROPERTY_DAYS": ["3"],
        "PROPERTY_START": ["2026-03-02"],
        "PROPERTY_DEPUTY": [f"user_{colleague.pk}"],
        "PROPERTY_BUDGET": ["1500,5"],
        "PROPERTY_BUDGET__currency": ["EUR"],
        "PROPERTY_NOTES": ["<b>Hotel</b>\r\nnear the venue"],
    }
    response = client.post(url, data)
    element = Element.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(element)
    assert element.created_by == employee
    card = client.get(detail_url(element)).text
    page = html_parse(card)
    fields = text(by_id(page, "element-fields"))
    assert "Plane" in fields and "PLANE" not in fields
    assert "Boris Orlov" in fields
    assert "1,500.50 EUR" in fields
    assert "&lt;b&gt;Hotel&lt;/b&gt;<br>near the venue" in card
    assert "<b>Hotel</b>" not in card


def test_the_card_loads_the_processes_of_the_element(client, trips, employee):
    element = make_element(trips, employee, "Mine")
    client.force_login(employee)
    page = html_parse(client.get(detail_url(element)).text)
    processes = by_id(page, "processes")
    loader = next(e for e in _all(processes) if "hx-get" in e.attrs)
    url = reverse("bizproc:document-processes", args=[str(element.pk)])
    assert loader.attrs["hx-get"] == url
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 200


def _all(root):
    for child in root.children:
        if not isinstance(child, str):
            yield child
            yield from _all(child)


def test_an_employee_sees_only_their_own_elements_unless_the_list_grants_reading(
    client, lists_admin, trips, employee, colleague
):
    mine = make_element(trips, employee, "My trip")
    theirs = make_element(trips, colleague, "Their trip")
    client.force_login(employee)
    page = html_parse(client.get(reverse("lists:element-list", args=[trips.pk])).text)
    assert by_role(page, "link", "My trip")
    assert not by_role(page, "link", "Their trip")
    assert client.get(detail_url(theirs)).status_code == 404
    edit = reverse("lists:element-edit", args=[trips.pk, theirs.pk])
    assert client.get(edit).status_code == 404
    assert client.post(edit, {"NAME": "Taken"}).status_code == 404
    delete = reverse("lists:element-delete", args=[trips.pk, theirs.pk])
    assert client.post(delete).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Their trip"
    assert client.get(detail_url(mine)).status_code == 200
    # The list grants reading: every element shows, but only one's own may be changed.
    trips.access = {"add": ["AU"], "read": ["AU"]}
    trips.save()
    page = html_parse(client.get(reverse("lists:element-list", args=[trips.pk])).text)
    assert by_role(page, "link", "Their trip")
    card = html_parse(client.get(detail_url(theirs)).text)
    assert not by_role(card, "link", "Edit")
    assert client.get(edit).status_code == 403
    assert client.post(delete).status_code == 403


def test_a_list_one_may_not_open_is_404_and_adding_without_the_right_is_403(
    client, lists_admin, employee
):
    closed = make_list(lists_admin, "closed", name="Closed")
    readable = make_list(lists_admin, "readable", name="Readable", access={"read": ["AU"]})
    client.force_login(employee)
    assert client.get(reverse("lists:element-list", args=[closed.pk])).status_code == 404
    assert client.get(reverse("lists:element-add", args=[closed.pk])).status_code == 404
    page = html_parse(client.get(reverse("lists:element-list", args=[readable.pk])).text)
    assert not by_role(page, "link", "Add element")
    add = reverse("lists:element-add", args=[readable.pk])
    assert client.get(add).status_code == 403
    assert client.post(add, {"NAME": "Sneaked in"}).status_code == 403
    assert not Element.objects.exists()


@pytest.mark.parametrize(
    ("changes", "code", "message"),
    [
        ({"NAME": [""]}, "NAME", "The field 'Name' is required."),
        ({"PROPERTY_DAYS": ["many"]}, "PROPERTY_DAYS", "is not a number"),
        ({"PROPERTY_START": ["31/02/2026"]}, "PROPERTY_START", "does not match the format"),
        ({"PROPERTY_TRANSPORT": ["BOAT"]}, "PROPERTY_TRANSPORT", "is incorrect"),
        ({"PROPERTY_BUDGET": ["lots"]}, "PROPERTY_BUDGET", "not an amount"),
    ],
)
def test_bad_element_input_is_refused_next_to_its_input_and_nothing_is_stored(
    client, trips, employee, changes, code, message
):
    client.force_login(employee)
    data = {"NAME": ["Trip"], "SORT": ["500"]} | changes
    response = client.post(reverse("lists:element-add", args=[trips.pk]), data)
    assert response.status_code == 422
    page = html_parse(response.text)
    assert "Nothing was saved" in text(by_id(page, "form-errors"))
    assert message in text(by_id(page, f"{code}-error"))
    assert not Element.objects.exists()


def test_an_edit_based_on_an_older_version_is_refused_and_keeps_the_input(client, trips, employee):
    element = make_element(trips, employee, "Trip", PROPERTY_DAYS=3)
    client.force_login(employee)
    url = reverse("lists:element-edit", args=[trips.pk, element.pk])
    data = submitted(client.get(url).text, "element-form")
    # Meanwhile a process changes the days.
    from lists import services

    services.element_update(element=element, values={"PROPERTY_DAYS": 5}, user=None)
    data["NAME"] = ["Trip to Kazan"]
    response = client.post(url, data)
    assert response.status_code == 409
    page = html_parse(response.text)
    notice = text(by_id(page, "stale-notice"))
    assert "Nothing was saved" in notice and "Days: 5" in notice
    assert labelled(page, "Name").attrs["value"] == "Trip to Kazan"
    element.refresh_from_db()
    assert (element.name, element.values[str(_days(trips))]) == ("Trip", 5)
    # Saving again, on the version shown, applies the form as it is now.
    response = client.post(url, submitted(response.text, "element-form"))
    assert response.status_code == 302
    element.refresh_from_db()
    assert element.name == "Trip to Kazan"


def _days(list_):
    return list_.properties.get(code="DAYS").pk


def test_the_table_searches_filters_and_sorts_on_properties(client, lists_admin, trips, employee):
    make_element(trips, employee, "Kazan", PROPERTY_TRANSPORT="TRAIN", PROPERTY_DAYS=3)
    make_element(trips, employee, "Paris", PROPERTY_TRANSPORT="PLANE", PROPERTY_DAYS=10)
    make_element(trips, employee, "Berlin", PROPERTY_TRANSPORT="PLANE", PROPERTY_DAYS=2)
    make_element(trips, employee, "Nowhere")
    client.force_login(lists_admin)
    url = reverse("lists:element-list", args=[trips.pk])

    def names(**query):
        page = html_parse(client.get(url, query).text)
        return [text(h) for h in by_role(page, "rowheader")]

    transport = trips.properties.get(code="TRANSPORT")
    plane = transport.options.get(xml_id="PLANE").pk
    assert names(q="par") == ["Paris"]
    assert names(PROPERTY_TRANSPORT=plane) == ["Berlin", "Paris"]
    assert names(PROPERTY_DAYS_from=3) == ["Paris", "Kazan"]
    assert names(PROPERTY_DAYS_from=3, PROPERTY_DAYS_to=5) == ["Kazan"]
    assert names(sort="PROPERTY_DAYS") == ["Berlin", "Kazan", "Paris", "Nowhere"]
    assert names(sort="-PROPERTY_DAYS") == ["Paris", "Kazan", "Berlin", "Nowhere"]
    assert names(sort="NAME") == ["Berlin", "Kazan", "Nowhere", "Paris"]
    assert names(created_by=f"user_{employee.pk}", sort="ID")[0] == "Kazan"
    # A bad filter value is ignored, the others still apply.
    assert names(q="a", PROPERTY_DAYS_from="lots", sort="NAME") == ["Kazan", "Paris"]


def test_the_table_shows_people_by_name_and_pages_through_many_elements(
    client, lists_admin, trips, employee
):
    for number in range(55):
        make_element(trips, employee, f"Trip {number:02}", PROPERTY_DEPUTY=f"user_{employee.pk}")
    client.force_login(lists_admin)
    url = reverse("lists:element-list", args=[trips.pk])
    page = html_parse(client.get(url).text)
    assert "Total: 55" in text(by_id(page, "element-list-summary"))
    assert len(by_role(page, "rowheader")) == 50
    assert "Anna Petrova" in text(page)
    assert f"user_{employee.pk}" not in text(by_id(page, "element-list"))
    second = html_parse(client.get(url, {"page": 2}, headers={"HX-Request": "true"}).text)
    assert [text(h) for h in by_role(second, "rowheader")] == [
        f"Trip {n:02}" for n in range(4, -1, -1)
    ]


def test_deleting_an_element_asks_first(client, trips, employee):
    element = make_element(trips, employee, "Trip")
    client.force_login(employee)
    url = reverse("lists:element-delete", args=[trips.pk, element.pk])
    assert "Delete “Trip”?" in text(html_parse(client.get(url).text))
    response = client.post(url)
    assert response["Location"] == reverse("lists:element-list", args=[trips.pk])
    assert not Element.objects.exists()


@pytest.fixture
def with_file(lists_admin, trips, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    make_field(lists_admin, trips, "TICKET", PropertyType.FILE, name="Ticket")
    return trips


def test_a_file_uploaded_with_the_form_is_downloaded_only_by_who_may_read_the_element(
    client, with_file, employee, colleague, lists_admin
):
    client.force_login(employee)
    upload = SimpleUploadedFile("ticket.pdf", b"%PDF ticket", content_type="application/pdf")
    response = client.post(
        reverse("lists:element-add", args=[with_file.pk]),
        {"NAME": "Trip", "SORT": "500", "PROPERTY_TICKET": upload},
    )
    assert response.status_code == 302
    stored = ElementFile.objects.get()
    element = Element.objects.get()
    assert stored.element == element and stored.name == "ticket.pdf"
    card = html_parse(client.get(detail_url(element)).text)
    link = by_role(card, "link", "ticket.pdf")[0]
    assert link.attrs["href"] == reverse("lists:file-download", args=[stored.pk])
    download = client.get(link.attrs["href"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF ticket"
    assert download["Content-Type"] == "application/octet-stream"
    client.force_login(colleague)
    assert client.get(link.attrs["href"]).status_code == 404
    client.force_login(lists_admin)
    assert client.get(link.attrs["href"]).status_code == 200


def test_a_file_not_held_by_any_element_is_only_its_uploaders(
    client, with_file, employee, colleague
):
    from lists import services

    upload = SimpleUploadedFile("draft.txt", b"draft")
    stored = services.element_file_create(upload=upload, user=employee)
    url = reverse("lists:file-download", args=[stored.pk])
    client.force_login(colleague)
    assert client.get(url).status_code == 404
    client.force_login(employee)
    assert client.get(url).status_code == 200


def test_a_file_of_someone_elses_element_cannot_be_attached_by_its_id(
    client, with_file, employee, colleague
):
    from lists import services

    upload = SimpleUploadedFile("theirs.txt", b"secret")
    theirs = services.element_file_create(upload=upload, user=colleague)
    client.force_login(employee)
    response = client.post(
        reverse("lists:element-add", args=[with_file.pk]),
        {"NAME": "Trip", "SORT": "500", "PROPERTY_TICKET": str(theirs.pk)},
    )
    assert response.status_code == 422
    assert "may not be attached" in text(by_id(html_parse(response.text), "PROPERTY_TICKET-error"))
    assert not Element.objects.exists()


def test_dates_and_moments_show_in_the_viewers_format(client, trips, employee):
    element = make_element(
        trips,
        employee,
        "Trip",
        PROPERTY_START=datetime.date(2026, 3, 2),
        ACTIVE_FROM="2026-03-02 10:30",
    )
    client.force_login(employee)
    page = html_parse(client.get(detail_url(element)).text)
    times = [e.attrs["datetime"] for e in _all(page) if e.name == "time"]
    assert "2026-03-02" in times


def test_a_link_offers_the_readable_elements_of_its_list_and_shows_them_by_name(
    client, lists_admin, trips, employee, colleague
):
    cities = make_list(lists_admin, "cities", name="Cities", access={"add": ["AU"]})
    kazan = make_element(cities, employee, "Kazan")
    secret = make_element(cities, colleague, "Secret city")
    make_field(
        lists_admin,
        trips,
        "CITY",
        PropertyType.ELEMENT,
        name="City",
        settings={"LINK_IBLOCK_ID": cities.pk},
    )
    client.force_login(employee)
    url = reverse("lists:element-add", args=[trips.pk])
    page = html_parse(client.get(url).text)
    offered = [text(option) for option in by_role(labelled(page, "City"), "option")]
    assert offered == ["Not selected", "Kazan"]
    data = {"NAME": "Trip", "SORT": "500", "PROPERTY_CITY": str(kazan.pk)}
    element = Element.objects.get(pk=_created(client.post(url, data)))
    card = html_parse(client.get(detail_url(element)).text)
    assert by_role(card, "link", "Kazan")[0].attrs["href"] == detail_url(kazan)
    # An element linked to one the reader may not read names it by its id only.
    theirs = make_element(trips, employee, "Other trip", PROPERTY_CITY=secret.pk)
    fields = text(by_id(html_parse(client.get(detail_url(theirs)).text), "element-fields"))
    assert f"#{secret.pk}" in fields and "Secret city" not in fields


def _created(response):
    assert response.status_code == 302, response.content
    return int(response["Location"].rstrip("/").rsplit("/", 1)[1])


def test_the_table_filters_on_text_and_on_people(client, lists_admin, trips, employee, colleague):
    make_field(lists_admin, trips, "CITY", PropertyType.STRING, name="City", filterable=True)
    make_field(lists_admin, trips, "BOSS", PropertyType.EMPLOYEE, name="Boss", filterable=True)
    make_element(
        trips, employee, "One", PROPERTY_CITY="Kazan", PROPERTY_BOSS=f"user_{colleague.pk}"
    )
    make_element(
        trips, employee, "Two", PROPERTY_CITY="Moscow", PROPERTY_BOSS=f"user_{employee.pk}"
    )
    client.force_login(lists_admin)
    url = reverse("lists:element-list", args=[trips.pk])

    def names(**query):
        return [text(h) for h in by_role(html_parse(client.get(url, query).text), "rowheader")]

    assert names(PROPERTY_CITY="kaz") == ["One"]
    assert names(PROPERTY_BOSS=f"user_{employee.pk}") == ["Two"]

"""The 403, 404 and 500 pages: in the site's layout and the user's language, with the reason a
refusal carries, without Django's internal 404 messages, and a 500 page that renders alone."""

import re

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import path, reverse
from django.utils import translation
from django.views.defaults import server_error

from bizproc import scenarios
from config.urls import urlpatterns as site_urlpatterns
from crm.documents import DOCUMENT_TYPES
from tests.bizproc.builders import node
from tests.crm.factories import DealFactory, UserFactory, user_with


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


# The site's own URLs and one view that fails, for the tests marked ``urls(__name__)``.
urlpatterns = [path("broken/", broken), *site_urlpatterns]

MAIN_NAV = '<nav aria-label="Main">'
START_LINK = '<a href="/">Go to the start page</a>'


def heading(html: str) -> list[str]:
    return re.findall(r"<h1[^>]*>(.*?)</h1>", html)


@pytest.fixture
def refused_scenario_start(client):
    """A deal reader posting a scenario start they lack the right for."""
    admin = UserFactory(is_crm_admin=True)
    deal = DealFactory(assigned_by=admin)
    scenario = scenarios.scenario_save(
        user=admin,
        document_type=DOCUMENT_TYPES["DEAL"],
        name="Welcome pack",
        parameters={},
        robots=[node("CrmTimelineCommentAdd", CommentText="hello")],
    )

    def post(language: str = "en"):
        client.force_login(user_with({("DEAL", "read"): "all"}, language=language))
        return client.post(
            reverse("bizproc:scenario-start", args=[scenario.pk]),
            {"documents": [deal.document_id]},
        )

    return post


@pytest.mark.django_db
def test_a_user_without_crm_rights_gets_403_inside_the_site_layout(client) -> None:
    client.force_login(UserFactory())
    response = client.get(reverse("crm:record-list", args=["deal"]))
    assert response.status_code == 403
    assert MAIN_NAV in response.text
    assert ">Log out</button>" in response.text
    assert heading(response.text) == ["You may not open this page"]
    assert START_LINK in response.text
    assert "<p></p>" not in response.text  # a refusal without a reason adds no empty paragraph
    assert "403 Forbidden" not in response.text


@pytest.mark.django_db
def test_a_refusal_with_a_reason_shows_the_reason(refused_scenario_start) -> None:
    response = refused_scenario_start()
    assert response.status_code == 403
    assert MAIN_NAV in response.text
    assert heading(response.text) == ["You may not open this page"]
    assert "<p>Insufficient permission to run smart scenario.</p>" in response.text


@pytest.mark.django_db
def test_a_russian_user_reads_the_refusal_and_the_layout_in_russian(
    refused_scenario_start,
) -> None:
    response = refused_scenario_start("ru")
    assert response.status_code == 403
    assert '<html lang="ru">' in response.text
    assert '<nav aria-label="Главное меню">' in response.text
    assert ">Сделки</a>" in response.text
    assert ">Выйти</button>" in response.text
    assert "<p>Недостаточно прав для запуска Умного сценария</p>" in response.text


@pytest.mark.django_db
def test_an_unknown_address_answers_404_inside_the_site_layout(client) -> None:
    client.force_login(user_with({("DEAL", "read"): "all"}))
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert MAIN_NAV in response.text
    assert ">Deals</a>" in response.text
    assert heading(response.text) == ["Page not found"]
    assert START_LINK in response.text


@pytest.mark.django_db
def test_a_missing_object_does_not_show_djangos_internal_message(client) -> None:
    client.force_login(user_with({("DEAL", "read"): "all"}))
    response = client.get(reverse("bizproc:scenario-detail", args=[999_999]))
    assert response.status_code == 404
    assert heading(response.text) == ["Page not found"]
    assert "matches the given query" not in response.text


@pytest.mark.django_db
def test_a_russian_user_gets_the_404_page_in_the_russian_layout(client) -> None:
    client.force_login(user_with({("DEAL", "read"): "all"}, language="ru"))
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert '<html lang="ru">' in response.text
    assert ">Сделки</a>" in response.text
    assert ">Перейти к содержимому</a>" in response.text


def test_the_500_page_renders_without_a_request_context() -> None:
    response = server_error(RequestFactory().get("/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert heading(html) == ["Something went wrong on our side."]
    assert "Please try again in a few minutes." in html
    assert '<link rel="stylesheet" href="/static/css/app.css">' in html
    assert START_LINK in html
    assert "{%" not in html and "{{" not in html


def test_the_500_page_is_in_the_active_language() -> None:
    with translation.override("ru"):
        html = server_error(RequestFactory().get("/")).content.decode()
    assert '<html lang="ru">' in html
    assert "Дизайнер бизнес-процессов" in html


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_failing_page_answers_with_the_500_page_in_the_users_language() -> None:
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(language="ru"))
    response = client.get("/broken/")
    assert response.status_code == 500
    assert '<html lang="ru">' in response.text
    assert "Дизайнер бизнес-процессов</a>" in response.text
    assert 'href="/static/css/app.css"' in response.text
    assert "boom" not in response.text


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/crm/deal/", "/rest/1/token/profile"])
def test_a_request_for_another_host_gets_400_not_a_crash(path) -> None:
    """A Host header the site does not serve is refused before anyone is logged in: the 400
    page draws its navigation without a user."""
    response = Client(raise_request_exception=False).get(path, HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "The request could not be read" in response.text

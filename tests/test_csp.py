"""Content-Security-Policy: every page carries it, and no page needs what it forbids.

A sample of the main pages, as a signed-in administrator and as a visitor: the header allows
scripts only from the site or with the request's nonce (never ``'unsafe-inline'`` nor
``'unsafe-eval'``), styles only from the site; the HTML has no inline script without that
nonce, no inline event handler, no ``hx-on`` (htmx would eval it) and no ``style`` attribute.
The browser tests (tests/e2e) check that the pages work under it.
"""

from html.parser import HTMLParser

import pytest
from django.test import Client

from bizproc.runtime import workflow_start
from tests.bizproc.builders import node, published
from tests.crm.factories import DealFactory, UserFactory
from tests.designer.conftest import make_scenario

pytestmark = pytest.mark.django_db


def policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


class _Offences(HTMLParser):
    """Collects what a strict policy would block: inline code without the nonce."""

    def __init__(self, nonce: str) -> None:
        super().__init__()
        self.nonce = nonce
        self.found: list[str] = []
        self._inline: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        for name, _value in attrs:
            if name.startswith(("on", "hx-on", "data-hx-on")) or name == "style":
                self.found.append(f"<{tag} {name}=…>")
        if tag in {"script", "style"} and "src" not in names:
            self._inline = tag if names.get("nonce") != self.nonce else None

    def handle_data(self, data: str) -> None:
        if self._inline and data.strip():
            self.found.append(f"inline <{self._inline}> without the nonce: {data.strip()[:40]}")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self._inline = None


def assert_strict(response) -> None:
    directives = policy(response)
    script_src = directives.get("script-src", [])
    assert "'self'" in script_src
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in script_src
    assert "'unsafe-inline'" not in directives.get("style-src", [])
    assert directives.get("object-src") == ["'none'"]
    nonces = [value[len("'nonce-") : -1] for value in script_src if value.startswith("'nonce-")]
    assert len(nonces) == 1
    parser = _Offences(nonces[0])
    parser.feed(response.content.decode())
    assert parser.found == []


@pytest.fixture
def boss():
    return UserFactory(is_crm_admin=True, is_staff=True, is_superuser=True)


def test_the_main_pages_carry_a_strict_policy(client: Client, boss) -> None:
    deal = DealFactory(assigned_by=boss)
    template = published(
        node("DelayActivity", "A_wait", TimeoutDuration="1", TimeoutDurationType="h"),
        user=boss,
        name="Waits",
    )
    instance = workflow_start(template=template, document_id=deal.document_id, user=boss)
    scenario = make_scenario(boss, name="Ping")
    client.force_login(boss)
    pages = [
        "/crm/deal/",
        f"/crm/deal/{deal.pk}/",
        "/crm/deal/add/",
        f"/bizproc/documents/{deal.document_id}/journal/",
        "/bizproc/processes/",
        f"/bizproc/processes/{instance.pk}/",
        "/bizproc/scenarios/",
        "/bizproc/tasks/",
        "/designer/",
        f"/designer/{template.pk}/",
        f"/designer/{template.pk}/versions/",
        "/designer/scenarios/",
        f"/designer/scenarios/{scenario.pk}/",
        "/accounts/profile/",
        "/admin/",
        "/admin/accounts/user/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict(response)


def test_the_login_and_error_pages_carry_it_too(client: Client, boss) -> None:
    assert_strict(Client().get("/accounts/login/"))
    client.force_login(boss)
    missing = client.get("/crm/deal/999999/")
    assert missing.status_code == 404
    assert_strict(missing)


def test_each_response_has_a_nonce_of_its_own(client: Client, boss) -> None:
    client.force_login(boss)
    first, second = (policy(client.get("/crm/deal/"))["script-src"] for _ in range(2))
    assert first != second

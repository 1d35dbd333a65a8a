"""The Processes tab, starting with parameters, the journal page, stop and delete — with rights."""

import re

import pytest
from django.urls import reverse

from bizproc.models import Instance, InstanceStatus, JournalEntry
from tests.bizproc.builders import field, node, published
from tests.crm.factories import DealFactory, UserFactory, user_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return UserFactory(is_crm_admin=True, full_name="Anna Admin")


@pytest.fixture
def deal(admin):
    return DealFactory(title="Pipeline deal", assigned_by=admin)


@pytest.fixture
def template(admin):
    return published(
        node(
            "LogActivity",
            Text="Hello {=Template:Who > printable}, {=Template:Count}",
            Title="Greet",
        ),
        node("DelayActivity", TimeoutDuration="1", TimeoutDurationType="h", Title="Wait"),
        user=admin,
        parameters={
            "Count": field("int", "How many", required=True),
            "Who": field("user", "Who"),
        },
        name="Greeting",
    )


def tab(client, deal):
    return client.get(reverse("bizproc:document-processes", args=[deal.document_id]))


def test_the_tab_offers_published_templates_and_lists_processes(
    client, admin, deal, template
) -> None:
    client.force_login(admin)
    page = tab(client, deal)
    assert page.status_code == 200
    assert "Greeting" in page.text
    assert "There are no active processes at the moment." in page.text

    start_url = reverse("bizproc:process-start", args=[deal.document_id, template.pk])
    response = client.post(start_url, {"Count": "3", "Who": f"user_{admin.pk}"})
    instance = Instance.objects.get()
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("bizproc:instance-detail", args=[instance.pk])
    assert instance.status == InstanceStatus.RUNNING

    page = tab(client, deal)
    assert "There are no active processes at the moment." not in page.text
    assert reverse("bizproc:instance-detail", args=[instance.pk]) in page.text


def test_each_process_on_the_tab_links_to_its_journal_and_to_stopping_and_deleting_it(
    client, admin, deal, template
) -> None:
    client.force_login(admin)
    start_url = reverse("bizproc:process-start", args=[deal.document_id, template.pk])
    client.post(start_url, {"Count": "3"})
    instance = Instance.objects.get()
    journal = reverse("bizproc:instance-detail", args=[instance.pk]) + "#journal"
    stop = reverse("bizproc:instance-stop", args=[instance.pk])
    delete = reverse("bizproc:instance-delete", args=[instance.pk])

    running = tab(client, deal).text
    client.post(stop)
    stopped = tab(client, deal).text
    client.force_login(user_with({("DEAL", "read"): "all"}))
    as_reader = tab(client, deal).text

    for link in (journal, stop, delete):
        assert f'href="{link}">' in running, link
    assert 'Stop<span class="visually-hidden">: Greeting</span>' in running
    assert f'href="{journal}">' in stopped and f'href="{delete}">' in stopped
    assert f'href="{stop}">' not in stopped  # a finished process cannot be stopped again
    assert f'href="{journal}">' in as_reader
    assert f'href="{stop}">' not in as_reader and f'href="{delete}">' not in as_reader


def test_the_tab_as_an_htmx_partial(client, admin, deal, template) -> None:
    client.force_login(admin)
    response = client.get(
        reverse("bizproc:document-processes", args=[deal.document_id]),
        headers={"HX-Request": "true"},
    )
    assert response.text.lstrip().startswith('<div id="processes-tab"')
    assert "<html" not in response.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"Count": "many"}, "The value of field &#x27;How many&#x27; is not an integer."),
        ({}, "This field is required."),
        ({"Count": "1", "Who": "user_999999"}, "Select a valid choice."),
    ],
)
def test_bad_parameters_show_messages_and_start_nothing(
    client, admin, deal, template, data, message
) -> None:
    client.force_login(admin)
    response = client.post(
        reverse("bizproc:process-start", args=[deal.document_id, template.pk]), data
    )
    assert response.status_code == 422
    assert message in response.text
    assert not Instance.objects.exists()


def test_the_journal_shows_simplified_and_all_records(client, admin, deal, template) -> None:
    client.force_login(admin)
    client.post(
        reverse("bizproc:process-start", args=[deal.document_id, template.pk]), {"Count": "2"}
    )
    instance = Instance.objects.get()
    url = reverse("bizproc:instance-detail", args=[instance.pk])

    simplified = client.get(url)
    assert "Hello , 2" in simplified.text
    assert "Start action" not in simplified.text

    everything = client.get(url, {"mode": "all"})
    assert "Start action" in everything.text
    assert "Hello , 2" in everything.text


def test_stop_and_delete_ask_first_and_then_act(client, admin, deal, template) -> None:
    client.force_login(admin)
    client.post(
        reverse("bizproc:process-start", args=[deal.document_id, template.pk]), {"Count": "2"}
    )
    instance = Instance.objects.get()

    confirm = client.get(reverse("bizproc:instance-stop", args=[instance.pk]))
    assert "Stop the process?" in confirm.text
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING

    client.post(reverse("bizproc:instance-stop", args=[instance.pk]))
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.TERMINATED

    again = client.post(reverse("bizproc:instance-stop", args=[instance.pk]))
    assert again.status_code == 409
    assert "The process has finished already." in again.text

    response = client.post(reverse("bizproc:instance-delete", args=[instance.pk]))
    assert response.headers["Location"] == deal.get_absolute_url()
    assert not Instance.objects.exists()
    assert not JournalEntry.objects.exists()


def test_rights_are_enforced_on_every_view(client, admin, deal, template) -> None:
    client.force_login(admin)
    client.post(
        reverse("bizproc:process-start", args=[deal.document_id, template.pk]), {"Count": "2"}
    )
    instance = Instance.objects.get()
    before = (Instance.objects.count(), JournalEntry.objects.count(), instance.status)

    reader = user_with({("DEAL", "read"): "all"})
    stranger = user_with({("DEAL", "read"): "own"})
    urls = {
        "tab": reverse("bizproc:document-processes", args=[deal.document_id]),
        "start": reverse("bizproc:process-start", args=[deal.document_id, template.pk]),
        "journal": reverse("bizproc:instance-detail", args=[instance.pk]),
        "stop": reverse("bizproc:instance-stop", args=[instance.pk]),
        "delete": reverse("bizproc:instance-delete", args=[instance.pk]),
    }
    client.force_login(reader)
    assert client.get(urls["tab"]).status_code == 200
    assert "Start new business process" not in client.get(urls["tab"]).text
    assert client.get(urls["journal"]).status_code == 200
    for name in ("start", "stop", "delete"):
        assert client.post(urls[name], {"Count": "1"}).status_code == 403, name

    client.force_login(stranger)
    for name, url in urls.items():
        assert client.get(url).status_code == 404, name
        assert client.post(url, {"Count": "1"}).status_code == 404, name

    client.logout()
    assert client.get(urls["journal"]).status_code == 302
    instance.refresh_from_db()
    assert (Instance.objects.count(), JournalEntry.objects.count(), instance.status) == before


def test_unknown_documents_and_processes_are_404(client, admin) -> None:
    client.force_login(admin)
    assert (
        client.get(reverse("bizproc:document-processes", args=["DEAL_424242"])).status_code == 404
    )
    assert client.get(reverse("bizproc:document-processes", args=["nonsense"])).status_code == 404
    assert client.get(reverse("bizproc:instance-detail", args=["nope"])).status_code == 404


def test_admin_terminates_processes_and_shows_a_documents_journal(
    client, admin, deal, template
) -> None:
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    client.post(
        reverse("bizproc:process-start", args=[deal.document_id, template.pk]), {"Count": "2"}
    )
    instance = Instance.objects.get()

    changelist = reverse("admin:bizproc_instance_changelist")
    client.post(changelist, {"action": "terminate", "_selected_action": [instance.pk]})
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.TERMINATED

    journal = client.get(
        reverse("admin:bizproc_journalentry_changelist"), {"document_id": deal.document_id}
    )
    assert journal.status_code == 200
    assert "Hello , 2" in journal.text
    other = client.get(reverse("admin:bizproc_journalentry_changelist"), {"document_id": "DEAL_0"})
    assert "Hello , 2" not in other.text


def test_in_russian_the_runs_table_tells_status_from_state_and_a_result_from_an_access_level(
    client, deal, template
) -> None:
    client.force_login(UserFactory(is_crm_admin=True, language="ru"))
    client.post(
        reverse("bizproc:process-start", args=[deal.document_id, template.pk]), {"Count": "2"}
    )

    page = client.get(
        reverse("bizproc:document-journal", args=[deal.document_id]), {"mode": "all"}
    ).text
    runs_table = page.split('id="record-processes"')[1].split("</table>")[0]
    headers = re.findall(r'<th scope="col">([^<]*)</th>', runs_table)
    assert headers[1:3] == ["Статус", "Текущий статус"]
    journal = page.split('id="journal"')[1]
    assert "<td>Нет</td>" in journal  # the result of a block still running
    assert "Нет доступа" not in journal


def test_the_start_page_names_the_record_and_leads_back_to_it(client, admin, deal, template):
    client.force_login(admin)
    page = client.get(reverse("bizproc:process-start", args=[deal.document_id, template.pk]))
    card = deal.get_absolute_url()
    assert "<title>Greeting · Pipeline deal" in page.text
    assert f'Deal: <a href="{card}">Pipeline deal</a>' in page.text
    assert f'<a href="{card}">Back to the item</a>' in page.text
    assert f'<a class="button" href="{card}">Cancel</a>' in page.text

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from bizproc.runtime import workflow_start
from tests.bizproc.builders import node, published
from tests.crm.factories import DealFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def user():
    return UserFactory(full_name="Vera Ivanova")


@pytest.fixture
def colleague():
    return UserFactory(full_name="Oleg Smirnov")


def notify(user, text: str, sender=None, link: str = "") -> Notification:
    return Notification.objects.create(user=user, sender=sender, text=text, link=link)


def profile(client, user, **params):
    client.force_login(user)
    return client.get(reverse("accounts:profile"), params)


def test_the_profile_lists_the_users_own_notifications_newest_first(
    client, user, colleague
) -> None:
    notify(user, "Deal lost", sender=colleague)
    notify(user, "Deal won <b>big</b>")
    notify(colleague, "Someone else's news")

    page = profile(client, user).text

    assert page.index("Deal won") < page.index("Deal lost")
    assert "Deal won &lt;b&gt;big&lt;/b&gt;" in page
    assert "From: Oleg Smirnov" in page
    assert "From: the system" in page
    assert page.count("Unread") == 2
    assert "Someone else&#x27;s news" not in page


def test_without_notifications_the_profile_says_so(client, user) -> None:
    page = profile(client, user).text

    assert "You have no notifications." in page
    assert "Mark all as read" not in page


@pytest.mark.parametrize("link", ["/crm/deal/7/", "https://example.com/report?id=7"])
def test_a_link_to_a_page_is_shown(client, user, link) -> None:
    notify(user, "Look", link=link)

    assert f'<a href="{link.replace("&", "&amp;")}">Open the linked page</a>' in (
        profile(client, user).text
    )


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "java\tscript:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "//evil.example/",
        "/\\evil.example/",
        "ftp://example.com/",
        "http://[::1",
    ],
)
def test_a_link_that_is_not_a_page_is_not_shown(client, user, link) -> None:
    notify(user, "Look")
    notify(user, "Click me", link=link)

    page = profile(client, user).text

    assert "Click me" in page
    assert "Open the linked page" not in page
    assert "alert(1)" not in page and "evil.example" not in page


def test_older_notifications_come_fifty_at_a_time(client, user) -> None:
    for number in range(1, 52):
        notify(user, f"Message №{number}.")

    page = profile(client, user).text
    assert "Message №51." in page and "Message №2." in page
    assert "Message №1." not in page
    assert "Show older" in page

    second = Notification.objects.get(text="Message №2.")
    older = client.get(reverse("accounts:profile"), {"before": second.pk}, headers=HTMX)
    assert "Message №1." in older.text
    assert "Message №2." not in older.text
    assert "Show older" not in older.text
    assert "<html" not in older.text

    whole_page = client.get(reverse("accounts:profile"), {"before": second.pk})
    assert "Message №1." in whole_page.text and "<html" in whole_page.text


def test_a_bad_page_cursor_shows_the_newest(client, user) -> None:
    notify(user, "Newest")

    for before in ["abc", "-1", "9" * 25, "²"]:
        assert "Newest" in profile(client, user, before=before).text


def test_mark_all_read_marks_only_the_callers_notifications(client, user, colleague) -> None:
    notify(user, "Mine")
    notify(colleague, "Theirs")
    client.force_login(user)

    response = client.post(reverse("accounts:notifications-read"), follow=True)

    assert response.redirect_chain == [(reverse("accounts:profile"), 302)]
    assert "All notifications are marked as read." in response.text
    assert "Mine" in response.text and "Unread" not in response.text
    assert "Unread" in profile(client, colleague).text


def test_mark_all_read_with_htmx_answers_the_section_and_drops_the_badge(client, user) -> None:
    notify(user, "Mine")
    client.force_login(user)

    response = client.post(reverse("accounts:notifications-read"), headers=HTMX)

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="notifications"')
    assert "All notifications are marked as read." in response.text
    assert "Unread" not in response.text and "Mine" in response.text
    assert '<span id="unread-notifications" hx-swap-oob="delete">' in response.text


def test_mark_all_read_needs_a_signed_in_post(client, user) -> None:
    notify(user, "Mine")

    anonymous = client.post(reverse("accounts:notifications-read"))
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith(reverse("accounts:login"))

    client.force_login(user)
    assert client.get(reverse("accounts:notifications-read")).status_code == 405
    assert "Unread" in profile(client, user).text

    checked = UserFactory()
    client.handler.enforce_csrf_checks = True
    client.force_login(checked)
    notify(checked, "Forged")
    assert client.post(reverse("accounts:notifications-read")).status_code == 403
    assert "Unread" in profile(client, checked).text


def test_the_navigation_shows_the_unread_count_until_all_are_read(client, user) -> None:
    for text in ["One", "Two", "Three"]:
        notify(user, text)
    Notification.objects.create(user=user, text="Old news", read_at=timezone.now())
    client.force_login(user)
    deals = reverse("crm:record-list", args=["deal"])

    page = client.get(deals).text
    assert '<span aria-hidden="true">3</span>' in page and "3 unread notifications" in page

    client.post(reverse("accounts:notifications-read"))
    page = client.get(deals).text
    assert "unread notification" not in page and 'id="unread-notifications"' not in page


def test_the_unread_count_follows_the_users_language(client, user) -> None:
    user.language = "ru"
    user.save()
    for text in ["One", "Two"]:
        notify(user, text)

    page = profile(client, user)

    assert page.status_code == 200
    assert '<span aria-hidden="true">2</span>' in page.text


def test_the_admin_lists_notifications_and_adds_none(client, user) -> None:
    notify(user, "Quarterly report is due")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    changelist = client.get(reverse("admin:accounts_notification_changelist"))
    assert changelist.status_code == 200
    assert "Quarterly report is due" in changelist.text and "Vera Ivanova" in changelist.text
    assert client.get(reverse("admin:accounts_notification_add")).status_code == 403


def test_a_notify_user_block_of_a_process_reaches_the_recipients_profile(
    client, user, colleague
) -> None:
    admin = UserFactory(is_crm_admin=True)
    deal = DealFactory(title="Big deal", assigned_by=colleague)
    template = published(
        node(
            "IMNotifyActivity",
            MessageUserFrom=f"user_{colleague.pk}",
            MessageUserTo=[f"user_{user.pk}"],
            MessageSite="Call the client of {=Document:TITLE}",
        ),
        user=admin,
    )
    workflow_start(template=template, document_id=deal.document_id, user=admin)

    page = profile(client, user).text

    assert "Call the client of Big deal" in page
    assert "From: Oleg Smirnov" in page
    card = reverse("crm:record-detail", args=["deal", deal.pk])
    assert f'<a href="{card}">Open the linked page</a>' in page
    assert "Call the client" not in profile(client, colleague).text

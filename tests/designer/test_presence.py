"""Presence in the editor: a socket per open editor page, for users who may design the
template's document type only, and an "Also editing" line that shows the other people who have
the template open (a person with two tabs once) as they come and go.

The sockets are driven through ``config.asgi.application`` like the live pages' (see
``tests/bizproc/test_live.py``), on whichever channel layer the settings name.
"""

import pytest
from asgiref.sync import async_to_sync

from tests.bizproc.test_live import closed_with, session_of, socket
from tests.crm.factories import user_with

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def line(message: str) -> str:
    """The "Also editing" line a message swaps in ("" when nobody else is there)."""
    assert message.startswith('<div id="editor-presence" hx-swap-oob="innerHTML">'), message
    return message.removeprefix('<div id="editor-presence" hx-swap-oob="innerHTML">')[
        : -len("</div>")
    ]


async def next_line(page, timeout: float = 5) -> str:
    return line(await page.receive_from(timeout))


async def settles_on(page, expected: str, timeout: float = 5) -> None:
    """Reads lines until ``expected`` arrives (earlier ones may show an intermediate state)."""
    while (got := await next_line(page, timeout)) != expected:
        pass
    assert got == expected


def also_editing(*names: str) -> str:
    people = ", ".join(f"<strong>{name}</strong>" for name in names)
    return f'<p class="presence">Also editing: {people}</p>'


def test_only_designers_of_the_type_get_the_socket(designer_user, seller, template) -> None:
    path = f"/ws/designer/templates/{template.pk}/"
    designer = session_of(designer_user)
    refused = [session_of(seller), session_of(user_with({("LEAD", "design_automation"): "all"}))]

    async def scenario() -> None:
        assert await closed_with(socket(path)) == 4401
        for session in refused:
            assert await closed_with(socket(path, session)) == 4403
        assert await closed_with(socket("/ws/designer/templates/999999/", designer)) == 4403
        page = socket(path, designer)
        assert (await page.connect())[0]
        assert await next_line(page) == ""  # nobody else yet
        await page.disconnect()

    async_to_sync(scenario)()


def test_others_appear_once_each_and_disappear_when_they_leave(
    designer_user, admin, template
) -> None:
    path = f"/ws/designer/templates/{template.pk}/"
    mark, irina = session_of(designer_user), session_of(admin)

    async def scenario() -> None:
        marks_page = socket(path, mark)
        assert (await marks_page.connect())[0]
        assert await next_line(marks_page) == ""

        irinas_page = socket(path, irina)
        assert (await irinas_page.connect())[0]
        await settles_on(irinas_page, also_editing("Mark Designer"))
        assert await next_line(marks_page) == also_editing("Irina Admin")

        irinas_tab = socket(path, irina)  # a second tab: she is listed once
        assert (await irinas_tab.connect())[0]
        await settles_on(irinas_tab, also_editing("Mark Designer"))
        assert await next_line(marks_page) == also_editing("Irina Admin")

        await irinas_tab.disconnect()
        assert await next_line(marks_page) == also_editing("Irina Admin")  # still one tab open
        await irinas_page.disconnect()
        assert await next_line(marks_page) == ""

        await marks_page.disconnect()

    async_to_sync(scenario)()


def test_names_are_text(designer_user, template) -> None:
    path = f"/ws/designer/templates/{template.pk}/"
    bold = user_with({("DEAL", "design_automation"): "all"}, full_name="<b>Bold</b>")
    sessions = session_of(designer_user), session_of(bold)

    async def scenario() -> None:
        page = socket(path, sessions[0])
        assert (await page.connect())[0]
        await next_line(page)
        other = socket(path, sessions[1])
        assert (await other.connect())[0]
        assert await next_line(page) == also_editing("&lt;b&gt;Bold&lt;/b&gt;")
        await other.disconnect()
        await page.disconnect()

    async_to_sync(scenario)()

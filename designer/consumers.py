"""Presence in the template editor: who else has the template open.

Every editor page of a template opens a socket that joins the template's group. Nobody keeps a
list in a shared store: each socket announces itself to the group when it connects (and every
socket already there answers it directly with who it is) and says goodbye when it leaves, so
each socket knows the others on any channel layer — the in-memory one of the embedded default,
or Redis across server processes. After each change a socket sends its page the list of the
*other* users (a user with two tabs open counts once) as an htmx out-of-band swap.

Close codes as for the live pages (``bizproc.consumers``): 4401 when nobody is logged in, 4403
without the "design automation" right on the template's document type (or no such template).
"""

from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from bizproc.consumers import CLOSE_ANONYMOUS, CLOSE_FORBIDDEN, in_thread, user_locale
from designer.access import editable_template


def presence_group(template_pk: int) -> str:
    return f"designer.template.{template_pk}"


def presence_html(names: list[str]) -> str:
    """The editor's "Also editing" line (its live region keeps its place: only its content
    is swapped)."""
    if not names:
        return '<div id="editor-presence" hx-swap-oob="innerHTML"></div>'
    people = format_html_join(", ", "<strong>{}</strong>", ((name,) for name in names))
    return format_html(
        '<div id="editor-presence" hx-swap-oob="innerHTML"><p class="presence">{}</p></div>',
        format_html(_("Also editing: {people}"), people=people),
    )


class TemplatePresenceConsumer(AsyncWebsocketConsumer):
    """One editor page of one template; ``others`` maps the other sockets' channels to their
    users (id, name)."""

    async def connect(self) -> None:
        await self.accept()
        if not self.scope["user"].is_authenticated:
            await self.close(code=CLOSE_ANONYMOUS)
            return
        self.template_pk = self.scope["url_route"]["kwargs"]["pk"]
        try:
            self.user = await in_thread(self._authorize)(self.scope["user"].pk)
        except (Http404, PermissionDenied):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.group = presence_group(self.template_pk)
        self.others: dict[str, tuple[int, str]] = {}
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.channel_layer.group_send(self.group, self._about_me("presence.join"))
        await self.push()

    def _authorize(self, user_pk: int) -> Any:
        user = get_user_model().objects.filter(pk=user_pk, is_active=True).first()
        if user is None:
            raise PermissionDenied
        editable_template(user, self.template_pk)
        return user

    def _about_me(self, type_: str) -> dict[str, Any]:
        return {
            "type": type_,
            "channel": self.channel_name,
            "user_id": self.user.pk,
            "name": self.user.get_full_name(),
        }

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await self.channel_layer.group_send(self.group, self._about_me("presence.leave"))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """The page only listens."""

    async def presence_join(self, event: dict[str, Any]) -> None:
        if event["channel"] == self.channel_name:
            return
        await self.channel_layer.send(event["channel"], self._about_me("presence.here"))
        await self.meet(event)

    async def presence_here(self, event: dict[str, Any]) -> None:
        await self.meet(event)

    async def meet(self, event: dict[str, Any]) -> None:
        """Notes the sender; the page hears only of news. A socket can hear of another twice:
        on Redis pub/sub a server process hands a group's message to the sockets in the group
        when it arrives, so a socket that joined just after another's join hears both that
        join and the answer to its own."""
        about = (event["user_id"], event["name"])
        if self.others.get(event["channel"]) != about:
            self.others[event["channel"]] = about
            await self.push()

    async def presence_leave(self, event: dict[str, Any]) -> None:
        if self.others.pop(event["channel"], None) is not None:
            await self.push()

    async def push(self) -> None:
        users = {user_id: name for user_id, name in self.others.values()}
        users.pop(self.user.pk, None)
        with user_locale(self.user):
            html = presence_html(sorted(users.values(), key=str.casefold))
        await self.send(text_data=html)

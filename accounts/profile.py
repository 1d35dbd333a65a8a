"""Sections other apps add to the profile page (the REST app: its webhooks), so that accounts
imports none of them: each appends its section to ``profile_sections`` from its
``AppConfig.ready()``."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import URLPattern


@dataclass(frozen=True)
class ProfileSection:
    """A card of the profile page, below the notifications, drawn by ``template`` from
    ``context(request)``. Its ``urlpatterns`` (the forms it posts to) are served under
    ``profile/<name>/`` in the ``accounts`` URL namespace."""

    name: str
    template: str
    context: Callable[[HttpRequest], dict[str, Any]]
    urlpatterns: Sequence[URLPattern] = ()


profile_sections: list[ProfileSection] = []

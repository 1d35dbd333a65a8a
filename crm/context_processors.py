from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from crm import permissions
from crm.documents import CAPTIONS


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The entity types in the top navigation: those the user may read (worked out when a page
    draws its navigation, not for each fragment an editor's request draws)."""
    # A request refused before authentication (a bad Host header) has no user.
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_entity_types": SimpleLazyObject(
            lambda: [
                {"value": et.value, "caption": CAPTIONS[et][1]}
                for et in permissions.entity_types_readable(user)
            ]
        )
    }

from typing import Any

from django.http import HttpRequest

from crm import permissions
from crm.documents import CAPTIONS


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The entity types in the top navigation: those the user may read."""
    if not request.user.is_authenticated:
        return {}
    return {
        "nav_entity_types": [
            {"value": et.value, "caption": CAPTIONS[et][1]}
            for et in permissions.entity_types_readable(request.user)
        ]
    }

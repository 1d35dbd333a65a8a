from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from bizproc.documents import Operation
from designer.access import types_where

ANONYMOUS = AnonymousUser()


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Whether the top navigation links to the designer: the user may design some type (worked
    out when a page draws its navigation)."""
    # A request refused before authentication (a bad Host header) has no user.
    user = getattr(request, "user", ANONYMOUS)
    return {
        "may_design": SimpleLazyObject(
            lambda: user.is_authenticated and bool(types_where(user, Operation.DESIGN))
        )
    }

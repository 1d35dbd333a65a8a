from typing import Any

from django.http import HttpRequest

from bizproc.documents import Operation
from designer.access import types_where


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Whether the top navigation links to the designer: the user may design some type."""
    user = request.user
    return {"may_design": user.is_authenticated and bool(types_where(user, Operation.DESIGN))}

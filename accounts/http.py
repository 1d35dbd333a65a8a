"""The request a view behind ``login_required`` receives, typed so."""

from accounts.models import User
from bizproc.http import HtmxHttpRequest


class AuthenticatedHttpRequest(HtmxHttpRequest):
    """``login_required`` let it through: its user is signed in, never anonymous."""

    user: User

"""The request the views receive, typed with what the middleware adds to it."""

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request past django-htmx's middleware, which sets ``request.htmx``."""

    htmx: HtmxDetails

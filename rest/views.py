"""The endpoint: ``/rest/<user id>/<token>/<method>[.json]``, answered as Bitrix24 answers.

One function view authenticates the webhook, counts the request in its rate limit, reads the
parameters (query string, then a form or JSON body, PHP bracket keys) and runs the method from
the registry. No session and no CSRF token: the secret in the URL is the credential. Replies
and error descriptions are in English, as Bitrix24's are; dates are in the user's time zone.
"""

import json
import time
import zoneinfo
from typing import Any
from urllib.parse import parse_qsl

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone, translation
from django.views.decorators.csrf import csrf_exempt

from rest.api import RestError, error_body, method_run, time_block
from rest.parser import ParameterError, listify, parse_pairs
from rest.services import webhook_authenticate, webhook_throttle

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _reply(body: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def request_params(request: HttpRequest) -> dict[str, Any]:
    """The query string's parameters, overridden by the body's (a form or a JSON object)."""
    try:
        params = parse_pairs(parse_qsl(request.META.get("QUERY_STRING", ""), True))
        if request.content_type == "application/json":
            if request.body.strip():
                try:
                    data = json.loads(request.body)
                except (ValueError, RecursionError):
                    raise RestError(
                        "Malformed JSON in the request body.", "INVALID_REQUEST"
                    ) from None
                if not isinstance(data, dict):
                    raise RestError("The JSON body must be an object.", "INVALID_REQUEST")
                params |= listify(data)
        elif request.method != "GET" and request.content_type in _FORM_TYPES:
            pairs = [(key, value) for key, values in request.POST.lists() for value in values]
            pairs += [(key, file) for key, files in request.FILES.lists() for file in files]
            params |= parse_pairs(pairs)
    except (ParameterError, SuspiciousOperation, MultiPartParserError) as error:
        raise RestError(str(error), "INVALID_REQUEST") from None
    params.pop("auth", None)
    return params


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


@csrf_exempt
def endpoint(request: HttpRequest, user_id: str, token: str, method: str) -> JsonResponse:
    start = time.time()
    with translation.override("en"):
        webhook = (
            webhook_authenticate(user_id=int(user_id), token=token)
            if user_id.isdigit() and len(user_id) <= 18
            else None
        )
        if webhook is None:
            return _reply(error_body("NO_AUTH_FOUND", "Wrong authorization data"), 401)
        with timezone.override(_zone(webhook.user.time_zone)):
            if not webhook_throttle(webhook=webhook):
                return _reply(error_body("QUERY_LIMIT_EXCEEDED", "Too many requests"), 503)
            try:
                params = request_params(request)
            except RestError as error:
                return _reply(error_body(error.code, error.description), error.status)
            outcome = method_run(
                name=method.removesuffix(".json"), user=webhook.user, params=params
            )
            if not outcome.failed:
                processing = outcome.body["time"]["processing"]
                outcome.body["time"] = time_block(start, time.time(), processing)
            return _reply(outcome.body, outcome.status)

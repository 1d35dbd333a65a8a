"""``batch``: up to 50 commands in one request, later ones reading earlier results.

Each command is ``"method?query"`` with the query in PHP form; a value may reference what an
earlier command returned — ``$result[key][ID]``, ``$next[key]``, ``$total[key]``,
``$time[key]``, ``$error[key]`` — resolved as Bitrix24 resolves them: the path is followed as
far as it exists; a value that is just a reference takes the referenced value as it is,
otherwise the reference is replaced by its text. ``halt`` stops at the first failed command.
Commands are not one transaction (they are not in Bitrix24 either). A batch of more than 50
commands is refused as a whole, so that none of it runs; so is a batch whose commands, each
counted as a request, would overflow the user's rate limit.
"""

import re
from collections.abc import Mapping
from typing import Any

from rest.api import Call, RestError, method, method_run
from rest.parser import ParameterError, parse_query
from rest.services import rest_quota_take

MAX_COMMANDS = 50

_REFERENCE_RE = re.compile(r"\$(result|next|total|time|error)((?:\[[^\[\]]*\])+)")
_SEGMENT_RE = re.compile(r"\[([^\[\]]*)\]")
_FALSE = {"", "0", "false", "n", "no"}


def php_array(items: dict[str, Any]) -> dict[str, Any] | list[Any]:
    """What PHP's ``json_encode`` makes of an array: a list when its keys are 0…n-1."""
    if list(items) == [str(i) for i in range(len(items))]:
        return list(items.values())
    return items


def _follow(value: Any, path: str) -> Any:
    for segment in _SEGMENT_RE.findall(path):
        if isinstance(value, Mapping) and segment in value:
            value = value[segment]
        elif isinstance(value, list) and segment.isdigit() and int(segment) < len(value):
            value = value[int(segment)]
        else:
            break
    return value


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else ""
    if value is None or isinstance(value, list | Mapping):
        return ""
    return str(value)


def _resolved(value: Any, earlier: dict[str, dict[str, Any]]) -> Any:
    if isinstance(value, Mapping):
        return {key: _resolved(item, earlier) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolved(item, earlier) for item in value]
    if not isinstance(value, str) or "$" not in value:
        return value
    whole = _REFERENCE_RE.fullmatch(value)
    if whole:
        return _follow(earlier[whole[1]], whole[2])
    return _REFERENCE_RE.sub(lambda match: _as_text(_follow(earlier[match[1]], match[2])), value)


def _halts(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    return str(raw if raw is not None else "").strip().lower() not in _FALSE


@method("batch")
def batch(call: Call) -> dict[str, Any]:
    commands = call.param("cmd")
    if isinstance(commands, list):
        commands = {str(index): command for index, command in enumerate(commands)}
    if commands in (None, ""):
        commands = {}
    if not isinstance(commands, Mapping):
        raise RestError("Parameter 'cmd' must be array.")
    if len(commands) > MAX_COMMANDS:
        raise RestError("Max batch length exceeded", "ERROR_BATCH_LENGTH_EXCEEDED")
    # Each command counts as a request in the rate limit; the batch's own request counted one.
    if not rest_quota_take(user_id=call.user.pk, requests=len(commands) - 1):
        raise RestError("Too many requests", "QUERY_LIMIT_EXCEEDED", 503)
    halt = _halts(call.param("halt"))
    done: dict[str, dict[str, Any]] = {name: {} for name in ("result", "next", "total", "time")}
    done["error"] = {}
    for key, command in commands.items():
        if not isinstance(command, str):
            continue
        name, _mark, query = command.partition("?")
        name = name.strip().lower()
        if name == "batch":
            done["error"][key] = {
                "error": "ERROR_BATCH_METHOD_NOT_ALLOWED",
                "error_description": "Method is not allowed for batch usage",
            }
        else:
            try:
                params = _resolved(parse_query(query), done)
            except ParameterError as error:
                params = None
                done["error"][key] = {"error": "INVALID_REQUEST", "error_description": str(error)}
            if params is not None:
                outcome = method_run(name=name, user=call.user, params=params)
                body = outcome.body
                if outcome.failed:
                    done["error"][key] = body
                else:
                    for part in ("result", "next", "total", "time"):
                        if part in body:
                            done[part][key] = body[part]
        if halt and key in done["error"]:
            break
    return {
        "result": php_array(done["result"]),
        "result_error": php_array(done["error"]),
        "result_total": php_array(done["total"]),
        "result_next": php_array(done["next"]),
        "result_time": php_array(done["time"]),
    }

"""Bitrix business-process expressions: our own tokenizer, parser and interpreter.

* ``evaluate(text, scope)`` — a property value at run time (typed, or text with substitutions);
* ``parse(text)`` / ``references(text)`` — the tree, and the references for publish-time checks;
* ``humanize`` / ``parse_human`` — the robots' ``{{Field name}}`` form;
* ``Scope`` — where values come from; ``MappingScope`` — a dict-of-dicts scope;
* ``Environment`` — the clock, the working calendar and people, for the functions needing them.

No ``eval``, no templates over user text, no attribute access by user-supplied names, and a
computed value is never evaluated again. Input size, nesting, numbers and produced text are
bounded (``errors.MAX_*``, text measured before it is built) so that hostile input fails fast
with an ``ExpressionError``; ``evaluate``'s ``check`` lets the runner stop a long evaluation.
"""

from . import workdays  # noqa: F401  (registers the working-calendar functions)
from .environment import Environment
from .errors import ExpressionError
from .human import humanize, parse_human
from .interpreter import evaluate
from .nodes import Reference
from .parser import parse, references
from .scope import MappingScope, Scope, display_text, system_values
from .values import as_text

__all__ = [
    "Environment",
    "ExpressionError",
    "MappingScope",
    "Reference",
    "Scope",
    "as_text",
    "display_text",
    "evaluate",
    "humanize",
    "parse",
    "parse_human",
    "references",
    "system_values",
]

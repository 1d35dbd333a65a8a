"""Evaluating a parsed property value against a scope.

Values from the scope are used as they are and never parsed again: a field whose value is the
text ``{=Document:ID}`` stays that text. Nothing here looks anything up by a user-supplied name
except through ``Scope.lookup`` and the function table.
"""

from collections.abc import Callable
from functools import partial
from typing import Any

from . import errors
from .environment import Environment
from .errors import ExpressionError, Mismatch
from .functions import FUNCTIONS
from .nodes import (
    Call,
    Chain,
    Expr,
    Formula,
    Literal,
    Node,
    Percent,
    Reference,
    Template,
    Text,
    Unary,
)
from .parser import parse
from .scope import Scope
from .values import (
    CONVERSIONS,
    add,
    as_number,
    as_text,
    comparison,
    concat,
    divide,
    multiply,
    negate,
    percent,
    power,
    subtract,
)

_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": add,
    "-": subtract,
    "*": multiply,
    "/": divide,
    "^": power,
    "&": concat,
    **{symbol: comparison(symbol) for symbol in ("=", "<>", "!=", "<", ">", "<=", ">=")},
}


def evaluate(text: Any, scope: Scope, *, check: Callable[[], None] | None = None) -> Any:
    """A property value as the process sees it at run time.

    Non-strings are returned as they are. A lone reference, a ``=formula`` or a lone
    ``{{=formula}}`` gives a typed value; any other text gives text with references and inline
    formulas substituted (see ``values.as_text``). Raises ``ExpressionError``.

    ``check`` is called before each part of the evaluation and may raise to stop it: the
    runner's step deadline (``bizproc.budget``) stops a long evaluation between two parts.
    """
    if not isinstance(text, str):
        return text
    node = parse(text)
    try:
        return _Interpreter(scope, check or _unchecked).run(node)
    except RecursionError:  # MAX_DEPTH keeps this away unless the caller's stack is deep
        raise errors.too_deep() from None


def _unchecked() -> None:
    pass


class _Interpreter:
    def __init__(self, scope: Scope, check: Callable[[], None]) -> None:
        self.scope = scope
        self.check = check
        self._env: Environment | None = None

    def run(self, node: Node) -> Any:
        match node:
            case Template(parts=parts):
                return self._substitute(parts)
            case Formula(expr=expr):
                return self.value(expr)
            case Reference():
                return self._reference(node)

    def _substitute(self, parts: tuple[Text | Reference | Formula, ...]) -> str:
        pieces: list[str] = []
        length = 0
        for part in parts:
            self.check()
            try:
                match part:
                    case Text(value=text):
                        piece = text
                    case Formula(expr=expr):
                        piece = as_text(self.value(expr))
                    case Reference():
                        piece = as_text(self._reference(part))
            except ExpressionError as error:
                raise error.at(part.position) from None
            length += len(piece)
            if length > errors.MAX_TEXT:
                raise errors.text_too_long(part.position)
            pieces.append(piece)
        return "".join(pieces)

    def value(self, expr: Expr) -> Any:
        self.check()
        match expr:
            case Literal(value=value):
                return value
            case Reference():
                return self._reference(expr)
            case Chain(first=first, rest=rest):
                result = self.value(first)
                for operator, operand in rest:
                    result = self._apply(
                        operator.symbol, operator.position, _BINARY[operator.symbol],
                        result, self.value(operand),
                    )  # fmt: skip
                return result
            case Unary(sign=sign, operand=operand, position=position):
                operation = negate if sign == "-" else as_number
                return self._apply(sign, position, operation, self.value(operand))
            case Percent(operand=operand, position=position):
                return self._apply("%", position, percent, self.value(operand))
            case Call():
                return self._call(expr)

    @staticmethod
    def _apply(symbol: str, position: int, operation: Callable[..., Any], *args: Any) -> Any:
        try:
            return operation(*args)
        except Mismatch:
            raise errors.incorrect_operands(symbol, position) from None
        except ExpressionError as error:
            raise error.at(position) from None

    def _call(self, call: Call) -> Any:
        function = FUNCTIONS[call.name]
        args: list[Any] = [
            partial(self.value, arg) if function.lazy else self.value(arg) for arg in call.args
        ]
        if function.uses_env:
            args.insert(0, self._environment())
        try:
            return function.impl(*args)
        except (Mismatch, ValueError, OverflowError):
            raise errors.incorrect_arguments(call.name, call.position) from None
        except ExpressionError as error:
            raise error.at(call.position) from None

    def _environment(self) -> Environment:
        if self._env is None:
            self._env = self.scope.environment()
        return self._env

    def _reference(self, reference: Reference) -> Any:
        try:
            value = self.scope.lookup(reference.obj, reference.field)
        except LookupError:
            raise errors.unknown_reference(
                reference.obj, reference.field, reference.position
            ) from None
        for modifier in reference.modifiers:
            try:
                if modifier in ("printable", "friendly"):
                    value = self.scope.printable(reference.obj, reference.field, value)
                else:
                    value = CONVERSIONS[modifier](value)
            except (Mismatch, ValueError, OverflowError):
                raise errors.incorrect_modifier_value(modifier, reference.position) from None
            except ExpressionError as error:
                raise error.at(reference.position) from None
        return value

"""Parsing a property value into a tree, without evaluating anything.

A value is one of: a whole formula ``=expr`` (leading whitespace allowed); exactly one
reference ``{=Obj:Field}`` or inline formula ``{{=expr}}`` (surrounding whitespace allowed),
whose result keeps its type; or text with references and inline formulas in it, whose result
is text. Any ``{=`` in text starts a reference and any ``{{=`` a formula: a malformed one is an
error, not text left as it is (Bitrix silently leaves it).

Formula grammar (EBNF), lowest precedence first. Binary operators are left-associative and
unary signs bind tighter than ``^``, both as in Bitrix's ``CBPCalc`` (so ``2^3^2`` = 64 and
``-2^2`` = 4, as in Excel):

    formula    = comparison ;
    comparison = concat { ( "=" | "<>" | "!=" | "<" | ">" | "<=" | ">=" ) concat } ;
    concat     = sum { "&" sum } ;
    sum        = product { ( "+" | "-" ) product } ;
    product    = power { ( "*" | "/" ) power } ;
    power      = signed { "^" signed } ;
    signed     = ( "+" | "-" ) signed | percent ;
    percent    = primary { "%" } ;                        (* 50% = 0.5 *)
    primary    = number | string | reference | "true" | "false" | "(" formula ")"
               | name "(" [ formula { ( "," | ";" ) formula } ] ")" ;
    number     = digits [ "." [ digits ] ] | "." digits ;
    string     = '"' { char - '"' } '"' | "'" { char - "'" } "'" ;   (* no escapes *)
    reference  = "{=" name ":" name [ ">" name { "," name } ] "}" ;
    name       = ( letter | "_" ) { letter | digit | "_" } ;   (* ASCII, not starting "__" *)

Whitespace may separate any two tokens. Names of functions, objects, fields and modifiers are
case-insensitive. Strings have no escapes (as in Bitrix): put a double quote inside single
quotes and vice versa.
"""

import functools
import math
import re
from typing import NamedTuple

from . import errors
from .functions import FUNCTIONS
from .nodes import (
    Call,
    Chain,
    Expr,
    Formula,
    Literal,
    Node,
    Operator,
    Percent,
    Reference,
    Template,
    Text,
    Unary,
)
from .values import CONVERSIONS

MODIFIERS = frozenset(CONVERSIONS) | {"printable", "friendly"}
_PRINTABLE_SUFFIX = "_printable"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPACES = re.compile(r"\s*")
_TOKEN = re.compile(
    r"""(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)
      | (?P<string>"[^"]*"|'[^']*')
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op><=|>=|<>|!=|[-+*/^%&=<>(),;])""",
    re.VERBOSE,
)
_LEVELS = (
    frozenset({"=", "<>", "!=", "<", ">", "<=", ">="}),
    frozenset({"&"}),
    frozenset({"+", "-"}),
    frozenset({"*", "/"}),
    frozenset({"^"}),
)


def _skip(source: str, position: int) -> int:
    spaces = _SPACES.match(source, position)  # ``\s*`` matches everywhere, if only nothing
    return spaces.end() if spaces else position


def scan_reference(source: str, start: int) -> tuple[Reference, int]:
    """The reference whose ``{=`` is at ``start``, and the offset just after its ``}``."""
    close = source.find("}", start)
    raw = source[start : close + 1] if close >= 0 else source[start:]
    raw = raw if len(raw) <= 60 else raw[:60] + "…"

    def name_at(position: int) -> tuple[str, int]:
        match = _NAME.match(source, position)
        # Dunder names are refused so that no scope can be led into Python internals.
        if match is None or match[0].startswith("__"):
            raise errors.incorrect_name(raw, position)
        return match[0], _skip(source, match.end())

    obj, position = name_at(_skip(source, start + 2))
    if not source.startswith(":", position):
        raise errors.incorrect_name(raw, position)
    field, position = name_at(_skip(source, position + 1))
    modifiers: list[str] = []
    if source.startswith(">", position):
        position = _skip(source, position + 1)
        while True:
            name, after = name_at(position)
            if name.lower() not in MODIFIERS:
                raise errors.unknown_modifier(name, position)
            modifiers.append(name.lower())
            if not source.startswith(",", after):
                position = after
                break
            position = _skip(source, after + 1)
    if not source.startswith("}", position):
        raise errors.incorrect_name(raw, position)
    if field.lower().endswith(_PRINTABLE_SUFFIX) and len(field) > len(_PRINTABLE_SUFFIX):
        field = field[: -len(_PRINTABLE_SUFFIX)]
        if "printable" not in modifiers:
            modifiers.append("printable")
    return Reference(obj, field, tuple(modifiers), start), position + 1


class _Token(NamedTuple):
    kind: str  # number, string, name, op, ref, close ("}}" ending an inline formula), end
    text: str
    position: int
    end: int
    reference: Reference | None = None


def _number(text: str, position: int) -> int | float:
    value: int | float
    if "." in text:
        value = float(text)
    elif len(text) > 310:
        raise errors.number_too_large(position)
    else:
        value = int(text)
    if not math.isfinite(value) or value > errors.MAX_NUMBER:
        raise errors.number_too_large(position)
    return value


class _FormulaParser:
    """Recursive descent over the grammar above, counting nesting against ``MAX_DEPTH``."""

    def __init__(self, source: str, start: int, *, inline: bool) -> None:
        self.source = source
        self.inline = inline
        self.depth = 0
        self.token = self._lex(start)

    def parse(self) -> tuple[Expr, int]:
        if self.token.kind in ("end", "close"):
            raise errors.empty(self.token.position)
        expr = self._chain(0)
        token = self.token
        if self._is(")"):
            raise errors.unmatched_closing(token.position)
        if token.kind == ("close" if self.inline else "end"):
            return expr, token.end
        if token.kind == "end":
            raise errors.unexpected_end(token.position)
        raise errors.syntax_error(self.source, token.position)

    def _lex(self, position: int) -> _Token:
        source = self.source
        position = _skip(source, position)
        if position >= len(source):
            return _Token("end", "", position, position)
        if source.startswith("{=", position):
            reference, end = scan_reference(source, position)
            return _Token("ref", source[position:end], position, end, reference)
        if self.inline and source.startswith("}}", position):
            return _Token("close", "}}", position, position + 2)
        match = _TOKEN.match(source, position)
        if match is None:
            raise errors.syntax_error(source, position)
        return _Token(match.lastgroup or "", match[0], position, match.end())

    def _advance(self) -> None:
        self.token = self._lex(self.token.end)

    def _is(self, *ops: str) -> bool:
        return self.token.kind == "op" and self.token.text in ops

    def _enter(self, position: int) -> None:
        self.depth += 1
        if self.depth > errors.MAX_DEPTH:
            raise errors.too_deep(position)

    def _chain(self, level: int) -> Expr:
        if level == len(_LEVELS):
            return self._signed()
        first = self._chain(level + 1)
        rest = []
        while self.token.kind == "op" and self.token.text in _LEVELS[level]:
            operator = Operator(self.token.text, self.token.position)
            self._advance()
            rest.append((operator, self._chain(level + 1)))
        return Chain(first, tuple(rest)) if rest else first

    def _signed(self) -> Expr:
        if self._is("+", "-"):
            sign = self.token
            self._enter(sign.position)
            self._advance()
            operand = self._signed()
            self.depth -= 1
            return Unary(sign.text, operand, sign.position)
        node = self._primary()
        percents = 0
        while self._is("%"):
            self._enter(self.token.position)
            percents += 1
            node = Percent(node, self.token.position)
            self._advance()
        self.depth -= percents
        return node

    def _primary(self) -> Expr:
        token = self.token
        if token.kind == "number":
            self._advance()
            return Literal(_number(token.text, token.position), token.position)
        if token.kind == "string":
            self._advance()
            return Literal(token.text[1:-1], token.position)
        if token.kind == "ref" and token.reference is not None:
            self._advance()
            return token.reference
        if token.kind == "name":
            return self._name(token)
        if self._is("("):
            self._enter(token.position)
            self._advance()
            expr = self._chain(0)
            self._close(token.position)
            self.depth -= 1
            return expr
        if token.kind in ("end", "close"):
            raise errors.unexpected_end(token.position)
        raise errors.syntax_error(self.source, token.position)

    def _close(self, opening: int) -> None:
        if self._is(")"):
            self._advance()
        elif self.token.kind in ("end", "close"):
            raise errors.unmatched_opening(opening)
        else:
            raise errors.syntax_error(self.source, self.token.position)

    def _name(self, token: _Token) -> Expr:
        name = token.text.lower()
        paren = _skip(self.source, token.end)
        if not self.source.startswith("(", paren):
            if name in ("true", "false"):
                self._advance()
                return Literal(name == "true", token.position)
            raise errors.syntax_error(self.source, token.position)
        function = FUNCTIONS.get(name)
        if function is None:
            raise errors.unknown_function(name, token.position)
        self._enter(paren)
        self.token = self._lex(paren + 1)
        args: list[Expr] = []
        if not self._is(")"):
            args.append(self._chain(0))
            while self._is(",", ";"):
                self._advance()
                args.append(self._chain(0))
        self._close(paren)
        self.depth -= 1
        if not function.min_args <= len(args) <= function.max_args:
            raise errors.incorrect_arguments(name, token.position)
        return Call(name, tuple(args), token.position)


def _template_parts(text: str) -> list[Text | Reference | Formula]:
    parts: list[Text | Reference | Formula] = []
    cursor = search = 0
    while (brace := text.find("{", search)) >= 0:
        node: Reference | Formula
        if text.startswith("{{=", brace):
            expr, end = _FormulaParser(text, brace + 3, inline=True).parse()
            node = Formula(expr, brace)
        elif text.startswith("{=", brace):
            node, end = scan_reference(text, brace)
        else:
            search = brace + 1
            continue
        if brace > cursor:
            parts.append(Text(text[cursor:brace], cursor))
        parts.append(node)
        cursor = search = end
    if cursor < len(text):
        parts.append(Text(text[cursor:], cursor))
    return parts


@functools.lru_cache(maxsize=1024)
def parse(text: str) -> Node:
    """The tree of a property value; raises ``ExpressionError`` for a malformed one.

    Trees are immutable, so parses are cached: a process evaluates the same few property
    values over and over.
    """
    if len(text) > errors.MAX_SOURCE:
        raise errors.source_too_long(errors.MAX_SOURCE)
    body = text.lstrip()
    try:
        if body.startswith("="):
            start = len(text) - len(body)
            expr, _ = _FormulaParser(text, start + 1, inline=False).parse()
            return Formula(expr, start)
        parts = _template_parts(text)
    except RecursionError:  # MAX_DEPTH keeps this away unless the caller's stack is deep
        raise errors.too_deep() from None
    significant = [part for part in parts if not (isinstance(part, Text) and part.value.isspace())]
    if len(significant) == 1 and not isinstance(significant[0], Text):
        return significant[0]
    return Template(tuple(parts))


def references(text: str) -> list[Reference]:
    """Every reference in ``text`` (in formulas too), in source order, for publish-time checks;
    whether the objects and fields exist is for the caller to decide."""
    found: list[Reference] = []
    stack: list[Node | Expr | Text] = [parse(text)]
    while stack:
        match stack.pop():
            case Reference() as reference:
                found.append(reference)
            case Template(parts=parts):
                stack.extend(reversed(parts))
            case Formula(expr=expr) | Unary(operand=expr) | Percent(operand=expr):
                stack.append(expr)
            case Call(args=args):
                stack.extend(reversed(args))
            case Chain(first=first, rest=rest):
                stack.extend(reversed([first, *(operand for _, operand in rest)]))
    return found

"""The syntax tree of a property value: plain text, references and formulas.

Every node keeps the 0-based offset of its first character in the source text, so that
evaluation errors can point at the exact place.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Reference:
    """``{=Obj:Field > modifier, …}``; ``Field_printable`` is stored as ``Field`` + printable.

    ``obj`` and ``field`` keep the spelling of the source (names are case-insensitive; resolving
    them is the scope's job); ``modifiers`` are lower-case, in the order they apply.
    """

    obj: str
    field: str
    modifiers: tuple[str, ...]
    position: int


@dataclass(frozen=True, slots=True)
class Literal:
    value: str | int | float | bool
    position: int


@dataclass(frozen=True, slots=True)
class Call:
    name: str  # lower-case
    args: tuple["Expr", ...]
    position: int


@dataclass(frozen=True, slots=True)
class Unary:
    sign: str  # "+" or "-"
    operand: "Expr"
    position: int


@dataclass(frozen=True, slots=True)
class Percent:
    """Postfix ``x%`` = x / 100, as in Bitrix."""

    operand: "Expr"
    position: int


@dataclass(frozen=True, slots=True)
class Operator:
    symbol: str
    position: int


@dataclass(frozen=True, slots=True)
class Chain:
    """A left-associative run of binary operators of one precedence level: ``a + b - c``.

    Kept flat rather than as nested pairs so that a long sum or concatenation is evaluated in
    a loop, not by recursion as deep as the sum is long.
    """

    first: "Expr"
    rest: tuple[tuple[Operator, "Expr"], ...]


type Expr = Reference | Literal | Call | Unary | Percent | Chain


@dataclass(frozen=True, slots=True)
class Text:
    value: str
    position: int


@dataclass(frozen=True, slots=True)
class Formula:
    """``=expr`` (the whole value) or ``{{=expr}}`` (inline), at its ``=`` or its ``{``."""

    expr: Expr
    position: int


@dataclass(frozen=True, slots=True)
class Template:
    """Text with references and inline formulas substituted into it; evaluates to a string."""

    parts: tuple[Text | Reference | Formula, ...]


type Node = Reference | Formula | Template
"""What ``parse`` returns: a lone reference or formula (typed result) or a template (text)."""

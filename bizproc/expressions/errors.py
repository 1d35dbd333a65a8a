"""The one exception the expression language raises, its messages, and its resource limits.

Messages are Bitrix's own English wording where Bitrix has one (so that people who know
Bitrix24 recognise them), translated through gettext when the error is raised.
"""

from django.utils.translation import gettext as _

MAX_SOURCE = 10_000
"""Longest expression text accepted, in characters."""
MAX_DEPTH = 50
"""Deepest nesting of brackets, calls and signs accepted."""
MAX_TEXT = 1_000_000
"""Longest string (or list) an evaluation may produce."""
MAX_NUMBER = 2.0**1023
"""Largest magnitude a number may reach; keeps `9^9^9^9` from eating memory."""


class ExpressionError(Exception):
    """An expression that cannot be parsed or evaluated.

    ``message`` is in the language that was active when the error was raised; ``position`` is a
    0-based character offset into the source text, or None when the error concerns the text as
    a whole. Helpers that do not know where they are raise it without a position and the
    interpreter fills it in (see ``at``).
    """

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message, position)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        if self.position is None:
            return self.message
        return _("%(message)s at position %(position)d") % {
            "message": self.message,
            "position": self.position,
        }

    def at(self, position: int) -> "ExpressionError":
        """This error, placed at ``position`` unless it already knows a more precise one."""
        if self.position is None:
            self.position = position
        return self


def incorrect_name(text: str, position: int) -> ExpressionError:
    return ExpressionError(_('Incorrect variable name "%(str)s"') % {"str": text}, position)


def empty(position: int) -> ExpressionError:
    return ExpressionError(_("Empty"), position)


def syntax_error(source: str, position: int) -> ExpressionError:
    """Quotes what follows the error, as Bitrix does, but at most 20 characters of it."""
    rest = source[position : position + 21]
    if len(rest) > 20:
        rest = rest[:20] + "…"
    return ExpressionError(_('Syntax error "%(str)s"') % {"str": rest}, position)


def unexpected_end(position: int) -> ExpressionError:
    return ExpressionError(_("Unexpected end of expression"), position)


def unknown_function(name: str, position: int) -> ExpressionError:
    return ExpressionError(_('Unknown function "%(str)s"') % {"str": name}, position)


def unmatched_closing(position: int) -> ExpressionError:
    return ExpressionError(_('Unmatched closing bracket ")"'), position)


def unmatched_opening(position: int) -> ExpressionError:
    return ExpressionError(_('Unmatched opening bracket "("'), position)


def division_by_zero(position: int | None = None) -> ExpressionError:
    return ExpressionError(_("Division by zero"), position)


def incorrect_arguments(name: str, position: int) -> ExpressionError:
    return ExpressionError(_('Incorrect arguments of function "%(str)s"') % {"str": name}, position)


def incorrect_operands(symbol: str, position: int) -> ExpressionError:
    return ExpressionError(
        _('Incorrect operands of operator "%(str)s"') % {"str": symbol}, position
    )


def unknown_reference(obj: str, field: str, position: int) -> ExpressionError:
    return ExpressionError(_('Unknown reference "%(str)s"') % {"str": f"{obj}:{field}"}, position)


def unknown_modifier(name: str, position: int) -> ExpressionError:
    return ExpressionError(_('Unknown modifier "%(str)s"') % {"str": name}, position)


def incorrect_modifier_value(name: str, position: int) -> ExpressionError:
    return ExpressionError(_('Incorrect value for modifier "%(str)s"') % {"str": name}, position)


def source_too_long(position: int) -> ExpressionError:
    return ExpressionError(
        _("The expression is too long: at most %(max)d characters") % {"max": MAX_SOURCE},
        position,
    )


def too_deep(position: int | None = None) -> ExpressionError:
    return ExpressionError(
        _("The expression is nested too deeply: at most %(max)d levels") % {"max": MAX_DEPTH},
        position,
    )


def number_too_large(position: int | None = None) -> ExpressionError:
    return ExpressionError(_("The number is too large"), position)


def text_too_long(position: int | None = None) -> ExpressionError:
    return ExpressionError(
        _("The text is too long: at most %(max)d characters") % {"max": MAX_TEXT}, position
    )


class Mismatch(Exception):
    """A value of the wrong kind for an operator, function or modifier.

    Raised where the culprit's name and position are unknown; the interpreter turns it into
    "Incorrect operands/arguments/value…" for the operator, function or modifier at hand.
    """

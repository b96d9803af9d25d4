"""Money as integer cents. Amounts arrive as decimal strings ("45.00"), integers of whole units
(45) or JSON numbers with at most two decimals (50.1, as the original design's clients send)."""

from __future__ import annotations

import math
import re
from decimal import Decimal

from common.wire import Limits

from .errors import CommandError, ErrorCode

MAX_AMOUNT_CENTS = Limits.MAX_AMOUNT_CENTS
_MAX_WHOLE, _MAX_FRACTION = divmod(MAX_AMOUNT_CENTS, 100)
# The shape only (the range is checked on the value, for a clearer message): no sign, no
# exponent, no leading zeros, at most two decimals, no more digits than the largest amount has.
_AMOUNT = re.compile(rf"(0|[1-9][0-9]{{0,{len(str(_MAX_WHOLE)) - 1}}})(\.[0-9]{{1,2}})?")


def parse_amount(value: object, field: str = "amount") -> int:
    """Cents from a decimal string, an integer of whole units or a JSON number with two decimals.

    A float is read by its shortest decimal representation (``repr``: 50.1 is "50.1", not
    50.099999999999994315658113919198513031005859375), which is exact for anything a person
    types; one that needs more than two decimals is refused, never rounded.
    """
    if isinstance(value, bool):
        raise _bad(field, "must be an amount like '45.00' or 45.5, not true or false")
    if isinstance(value, int):
        cents = value * 100
    elif isinstance(value, float):
        cents = _float_cents(value, field)
    elif isinstance(value, str):
        text = value.strip()
        if not _AMOUNT.fullmatch(text):
            raise _bad(field, f"{value[:20]!r} is not an amount like '45.00'")
        cents = int(Decimal(text) * 100)
    else:
        raise _bad(field, "must be an amount like '45.00' (a decimal string) or 45.5 (a number)")
    if cents < 0 or cents > MAX_AMOUNT_CENTS:
        raise _bad(field, f"must be between 0.00 and {format_cents(MAX_AMOUNT_CENTS)}")
    return cents


def _float_cents(value: float, field: str) -> int:
    if not math.isfinite(value):
        raise _bad(field, f"{value!r} is not an amount: send a finite number like 45.5")
    # Out of range before anything else: 1e300 would otherwise be read digit by digit.
    if not 0 <= value <= MAX_AMOUNT_CENTS / 100:
        raise _bad(field, f"must be between 0.00 and {format_cents(MAX_AMOUNT_CENTS)}")
    exact = Decimal(repr(value))
    exponent = exact.as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -2:
        raise _bad(field, f"{value!r} has more than two decimals")
    return int(exact * 100)


def amount_pattern() -> str:
    """A regular expression for exactly the strings `parse_amount` accepts (for the wire
    contract): the shape above, bounded to 0 … MAX_AMOUNT_CENTS, with surrounding whitespace."""
    below = _integers_up_to(_MAX_WHOLE - 1) if _MAX_WHOLE else None
    at_max = str(_MAX_WHOLE) + rf"(\.{_fraction_up_to(_MAX_FRACTION)})?"
    amounts = f"({below})(\\.[0-9]{{1,2}})?|{at_max}" if below else at_max
    return rf"^\s*({amounts})\s*$"


def _integers_up_to(limit: int) -> str:
    """0 … limit without leading zeros, as alternatives: shorter numbers, then for each digit
    of `limit` the numbers that share its prefix and are smaller at that digit."""
    digits = str(limit)
    alternatives = ["0"]
    if len(digits) > 1:
        alternatives.append(f"[1-9][0-9]{{0,{len(digits) - 2}}}")
    for i, digit in enumerate(digits):
        lowest = 1 if i == 0 else 0
        if int(digit) > lowest:
            rest = len(digits) - i - 1
            tail = "" if rest == 0 else "[0-9]" if rest == 1 else f"[0-9]{{{rest}}}"
            alternatives.append(f"{digits[:i]}[{lowest}-{int(digit) - 1}]{tail}")
    if limit > 0:
        alternatives.append(digits)
    return "|".join(alternatives)


def _fraction_up_to(cents: int) -> str:
    """One or two decimals worth at most `cents` (".5" is 50)."""
    tens, units = divmod(cents, 10)
    lower = f"[0-{tens - 1}][0-9]?|" if tens else ""
    return f"({lower}{tens}[0-{units}]?)"


def format_cents(cents: int) -> str:
    """'45.00' for 4500; the wire format of every amount."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole}.{frac:02d}"


def change_due(amount_due_cents: int, amount_paid_cents: int) -> int:
    if amount_paid_cents < amount_due_cents:
        raise CommandError(
            ErrorCode.INSUFFICIENT_PAYMENT,
            f"{format_cents(amount_paid_cents)} paid is less than the {format_cents(amount_due_cents)} due",
        )
    return amount_paid_cents - amount_due_cents


def line_total(unit_price_cents: int, quantity: int) -> int:
    return unit_price_cents * quantity


def _bad(field: str, message: str) -> CommandError:
    return CommandError(ErrorCode.INVALID_PAYLOAD, f"{field}: {message}")

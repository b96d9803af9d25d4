"""Money as integer cents. Amounts arrive as decimal strings ("45.00") or whole units (45)."""

from __future__ import annotations

import re
from decimal import Decimal

from .errors import CommandError, ErrorCode

MAX_AMOUNT_CENTS = 100_000_000  # 1,000,000.00: far above any spa bill, low enough to catch a typo
_AMOUNT = re.compile(r"^(0|[1-9][0-9]{0,6})(\.[0-9]{1,2})?$")


def parse_amount(value: object, field: str = "amount") -> int:
    """Cents from a decimal string or an integer of whole units; floats are refused, never rounded."""
    if isinstance(value, bool):
        raise _bad(field, "must be a decimal string like '45.00'")
    if isinstance(value, int):
        cents = value * 100
    elif isinstance(value, str):
        text = value.strip()
        if not _AMOUNT.match(text):
            raise _bad(field, f"{value[:20]!r} is not an amount like '45.00'")
        cents = int(Decimal(text) * 100)
    else:
        raise _bad(field, "must be a decimal string like '45.00' (floats are not accepted for money)")
    if cents < 0 or cents > MAX_AMOUNT_CENTS:
        raise _bad(field, f"must be between 0.00 and {format_cents(MAX_AMOUNT_CENTS)}")
    return cents


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

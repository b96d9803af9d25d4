"""The till's arithmetic, in integer cents: discounts, taxes, split tenders with change from cash
only, tips, refunds, the drawer's expected cash. Pure functions, table-tested in
tests/unit/test_till.py; every rounding is written down here and nowhere else.

Rates are basis points (1900 = 19 %). Prices include tax by default (`prices_include_tax`): a
gross amount is split into net and tax per rate, the tax rounded half up once per rate (not per
line), so a receipt's per-rate lines add up to its total exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from .errors import CommandError, ErrorCode
from .money import format_cents

BASIS = 10_000  # basis points in a whole


class DiscountKind(StrEnum):
    PERCENT = "percent"  # value in basis points of the amount (1000 = 10 %)
    AMOUNT = "amount"  # value in cents


@dataclass(frozen=True)
class Discount:
    kind: DiscountKind
    value: int
    reason: str

    def cents_off(self, amount_cents: int) -> int:
        """What this discount takes off `amount_cents`: a percentage rounded half up, an amount
        as given; never more than the amount, never negative."""
        if self.value < 0:
            raise CommandError(ErrorCode.INVALID_PAYLOAD, "a discount is not negative")
        if self.kind is DiscountKind.PERCENT:
            if self.value > BASIS:
                raise CommandError(ErrorCode.INVALID_PAYLOAD, "a discount is at most 100 %")
            return _round_half_up(amount_cents * self.value, BASIS)
        if self.value > amount_cents:
            raise CommandError(
                ErrorCode.INVALID_PAYLOAD,
                f"a discount of {format_cents(self.value)} is more than the {format_cents(amount_cents)} it is on",
            )
        return self.value


@dataclass(frozen=True)
class Line:
    """One line of a bill as the till sees it: gross after its own discount, and its tax rate."""

    item_id: int
    gross_cents: int  # unit price × quantity − the line's discount (tax included when prices do)
    rate_bp: int


@dataclass(frozen=True)
class TaxLine:
    rate_bp: int
    net_cents: int
    tax_cents: int
    gross_cents: int


@dataclass(frozen=True)
class Bill:
    lines_cents: int  # Σ line gross
    order_discount_cents: int
    total_cents: int  # what is due (tax included)
    taxes: tuple[TaxLine, ...]  # per rate, ascending; Σ gross == total


def bill(lines: Sequence[Line], order_discount: Discount | None, prices_include_tax: bool = True) -> Bill:
    """The bill: the order's discount spread over the lines in proportion (largest remainder, so
    it adds up to the cent), then net, tax and gross per rate."""
    subtotal = sum(line.gross_cents for line in lines)
    off = order_discount.cents_off(subtotal) if order_discount is not None else 0
    shares = allocate(off, [line.gross_cents for line in lines])
    by_rate: dict[int, int] = {}
    for line, share in zip(lines, shares, strict=True):
        by_rate[line.rate_bp] = by_rate.get(line.rate_bp, 0) + line.gross_cents - share
    taxes = tuple(tax_line(rate, amount, prices_include_tax) for rate, amount in sorted(by_rate.items()))
    total = sum(t.gross_cents for t in taxes)
    return Bill(subtotal, off, total, taxes)


def tax_line(rate_bp: int, amount_cents: int, prices_include_tax: bool) -> TaxLine:
    if prices_include_tax:
        net = _round_half_up(amount_cents * BASIS, BASIS + rate_bp)
        return TaxLine(rate_bp, net, amount_cents - net, amount_cents)
    tax = _round_half_up(amount_cents * rate_bp, BASIS)
    return TaxLine(rate_bp, amount_cents, tax, amount_cents + tax)


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """`total` cents split in proportion to `weights`, each share whole, the shares adding up to
    `total` exactly (the largest remainders get the odd cents; ties to the earlier weight)."""
    whole = sum(weights)
    if total == 0 or whole == 0:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in remainders[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _round_half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


# ---- tenders -------------------------------------------------------------------------------------


class Tender(StrEnum):
    CASH = "cash"
    CARD = "card"


@dataclass(frozen=True)
class Settlement:
    due_cents: int  # the bill
    tip_cents: int
    cash_tendered_cents: int
    card_cents: int
    change_cents: int  # given back, from the cash only

    @property
    def cash_taken_cents(self) -> int:
        """What goes into the drawer."""
        return self.cash_tendered_cents - self.change_cents

    @property
    def paid_cents(self) -> int:
        return self.cash_tendered_cents + self.card_cents

    @property
    def method(self) -> str:
        if self.cash_tendered_cents and self.card_cents:
            return "split"
        return Tender.CARD.value if self.card_cents else Tender.CASH.value


def settle(due_cents: int, tip_cents: int, tenders: Mapping[Tender, int]) -> Settlement:
    """A payment of the bill and the tip in cash, by card or both. Change comes only from cash:
    a card pays at most what is left after the cash; the cash may be more, and the rest is given
    back. INSUFFICIENT_PAYMENT when short; INVALID_PAYLOAD for a card paying more than is owed."""
    if tip_cents < 0:
        raise CommandError(ErrorCode.INVALID_PAYLOAD, "a tip is not negative")
    cash, card = tenders.get(Tender.CASH, 0), tenders.get(Tender.CARD, 0)
    owed = due_cents + tip_cents
    if cash + card < owed:
        raise CommandError(
            ErrorCode.INSUFFICIENT_PAYMENT,
            f"{format_cents(cash + card)} paid is less than the {format_cents(owed)} due",
        )
    if card > owed:
        raise CommandError(
            ErrorCode.INVALID_PAYLOAD, f"the card pays {format_cents(card)}, more than the {format_cents(owed)} due"
        )
    # The card is at most what is owed, so the change (what is tendered beyond it) is all cash.
    return Settlement(due_cents, tip_cents, cash, card, cash + card - owed)


def needs_confirmation(owed_cents: int, cash_tendered_cents: int, multiple: int, largest_note_cents: int) -> bool:
    """Whether the cash tendered is so far above what is owed that the cashier must confirm it
    (€2,000 typed for an €18 bill): more than `multiple` times it and more than one of the
    largest note over it. An €18 bill paid with a €200 note needs no confirmation."""
    return cash_tendered_cents > max(owed_cents * multiple, owed_cents + largest_note_cents)


# ---- refunds ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sold:
    """An item as it was paid for: its quantity, what the customer paid for it after every
    discount, and how many were refunded already."""

    item_id: int
    quantity: int
    paid_cents: int
    refunded_quantity: int


def refund_amount(sold: Sold, quantity: int) -> int:
    """What refunding `quantity` of an item gives back: its share of what was paid for it; the
    last one refunded takes whatever cents are left, so a whole refund returns exactly the paid."""
    left = sold.quantity - sold.refunded_quantity
    if not 1 <= quantity <= left:
        raise CommandError(
            ErrorCode.INVALID_STATE, f"item {sold.item_id}: {left} left to refund, not {quantity}"
        )
    per_item = allocate(sold.paid_cents, [1] * sold.quantity)
    return sum(per_item[sold.refunded_quantity : sold.refunded_quantity + quantity])


# ---- the drawer -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DrawerTotals:
    float_cents: int
    cash_sales_cents: int  # cash taken (tendered − change), tips included
    card_sales_cents: int
    cash_refunds_cents: int
    card_refunds_cents: int
    cash_in_cents: int
    cash_out_cents: int
    tips_cents: int

    @property
    def expected_cash_cents(self) -> int:
        return (
            self.float_cents
            + self.cash_sales_cents
            + self.cash_in_cents
            - self.cash_out_cents
            - self.cash_refunds_cents
        )

    @property
    def expected_card_cents(self) -> int:
        return self.card_sales_cents - self.card_refunds_cents


def counted(denominations: Mapping[int, int]) -> int:
    """Cash counted by denomination ({note or coin in cents: how many}): the total."""
    total = 0
    for value, count in denominations.items():
        if value <= 0 or count < 0:
            raise CommandError(ErrorCode.INVALID_PAYLOAD, "denominations: positive values, counts of 0 or more")
        total += value * count
    return total


def over_short(expected_cents: int, counted_cents: int) -> int:
    """Positive: more in the drawer than expected (over); negative: short."""
    return counted_cents - expected_cents


def totals(rows: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Σ amount per key of (key, amount) rows."""
    out: dict[str, int] = {}
    for key, amount in rows:
        out[key] = out.get(key, 0) + amount
    return out

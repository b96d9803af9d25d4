"""The till's arithmetic, exact to the cent: discounts, taxes, split tenders, refunds, the drawer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.errors import CommandError, ErrorCode
from server.domain.till import (
    Discount,
    DiscountKind,
    DrawerTotals,
    Line,
    Sold,
    Tender,
    allocate,
    bill,
    counted,
    needs_confirmation,
    refund_amount,
    settle,
    tax_line,
)

PCT, AMT = DiscountKind.PERCENT, DiscountKind.AMOUNT


@pytest.mark.parametrize(
    ("discount", "amount", "off"),
    [
        (Discount(PCT, 1000, "loyal"), 4500, 450),
        (Discount(PCT, 1250, "x"), 1999, 250),  # 249.875 rounds half up
        (Discount(PCT, 333, "x"), 150, 5),  # 4.995 → 5
        (Discount(PCT, 10000, "free"), 4500, 4500),
        (Discount(AMT, 500, "voucher"), 4500, 500),
        (Discount(AMT, 4500, "voucher"), 4500, 4500),
    ],
)
def test_a_discount_takes_off_exactly(discount: Discount, amount: int, off: int) -> None:
    assert discount.cents_off(amount) == off


@pytest.mark.parametrize(
    "discount", [Discount(PCT, 10001, "x"), Discount(AMT, 4501, "x"), Discount(AMT, -1, "x")]
)
def test_a_discount_never_takes_more_than_the_amount(discount: Discount) -> None:
    with pytest.raises(CommandError) as err:
        discount.cents_off(4500)
    assert err.value.code is ErrorCode.INVALID_PAYLOAD


@pytest.mark.parametrize(
    ("rate", "amount", "inclusive", "net", "tax", "gross"),
    [
        (1900, 11900, True, 10000, 1900, 11900),
        (1900, 4500, True, 3782, 718, 4500),  # 3781.51 → 3782
        (700, 2500, True, 2336, 164, 2500),  # 2336.45 → 2336
        (0, 1800, True, 1800, 0, 1800),
        (1900, 10000, False, 10000, 1900, 11900),
        (2000, 4505, False, 4505, 901, 5406),
    ],
)
def test_tax_per_rate(rate: int, amount: int, inclusive: bool, net: int, tax: int, gross: int) -> None:
    line = tax_line(rate, amount, inclusive)
    assert (line.net_cents, line.tax_cents, line.gross_cents) == (net, tax, gross)
    assert line.net_cents + line.tax_cents == line.gross_cents


def test_a_bill_with_two_rates_and_an_order_discount_adds_up() -> None:
    lines = [Line(1, 4500, 1900), Line(2, 2500, 700), Line(3, 1800, 1900)]
    b = bill(lines, Discount(PCT, 1000, "loyal"))
    assert (b.lines_cents, b.order_discount_cents, b.total_cents) == (8800, 880, 7920)
    assert [t.rate_bp for t in b.taxes] == [700, 1900]
    assert sum(t.gross_cents for t in b.taxes) == b.total_cents
    assert all(t.net_cents + t.tax_cents == t.gross_cents for t in b.taxes)


@given(
    st.lists(st.tuples(st.integers(0, 50_000), st.sampled_from([0, 700, 1900, 2000])), min_size=1, max_size=12),
    st.integers(0, 10_000),
    st.booleans(),
)
def test_every_bill_adds_up_to_the_cent(lines: list[tuple[int, int]], pct: int, inclusive: bool) -> None:
    b = bill([Line(i, g, r) for i, (g, r) in enumerate(lines)], Discount(PCT, pct, "x"), inclusive)
    subtotal = sum(g for g, _ in lines)
    assert b.lines_cents == subtotal and 0 <= b.order_discount_cents <= subtotal
    assert sum(t.gross_cents for t in b.taxes) == b.total_cents
    if inclusive:
        assert b.total_cents == subtotal - b.order_discount_cents


@given(st.integers(0, 10**7), st.lists(st.integers(0, 10**5), min_size=1, max_size=20))
def test_allocate_is_exact_and_proportional(total: int, weights: list[int]) -> None:
    shares = allocate(total, weights)
    if sum(weights) == 0:
        assert shares == [0] * len(weights)
        return
    assert sum(shares) == total
    for share, weight in zip(shares, weights, strict=True):
        assert abs(share - total * weight / sum(weights)) < 1


@pytest.mark.parametrize(
    ("due", "tip", "tenders", "change", "method", "drawer"),
    [
        (1800, 0, {Tender.CASH: 2000}, 200, "cash", 1800),
        (1800, 200, {Tender.CASH: 2000}, 0, "cash", 2000),  # the tip stays in the drawer
        (1800, 0, {Tender.CARD: 1800}, 0, "card", 0),
        (5000, 500, {Tender.CASH: 2000, Tender.CARD: 3500}, 0, "split", 2000),
        (5000, 0, {Tender.CASH: 5000, Tender.CARD: 1000}, 1000, "split", 4000),  # change from the cash
    ],
)
def test_split_tender_gives_change_only_from_cash(
    due: int, tip: int, tenders: dict[Tender, int], change: int, method: str, drawer: int
) -> None:
    s = settle(due, tip, tenders)
    assert (s.change_cents, s.method, s.cash_taken_cents) == (change, method, drawer)
    assert s.paid_cents - s.change_cents == due + tip


def test_short_or_an_overpaying_card_is_refused() -> None:
    with pytest.raises(CommandError) as err:
        settle(1800, 0, {Tender.CASH: 1000, Tender.CARD: 500})
    assert err.value.code is ErrorCode.INSUFFICIENT_PAYMENT
    with pytest.raises(CommandError) as err:
        settle(1800, 0, {Tender.CARD: 2000})  # no change from a card
    assert err.value.code is ErrorCode.INVALID_PAYLOAD


@pytest.mark.parametrize(
    ("owed", "cash", "confirm"),
    [
        (1800, 200_000, True),  # €2,000 for €18: the case
        (1800, 20_000, False),  # a €200 note for €18
        (1800, 5000, False),
        (50_000, 250_000, False),  # five times a €500 bill is not more than 5×
        (50_000, 250_001, True),
    ],
)
def test_a_tender_far_above_the_bill_needs_confirmation(owed: int, cash: int, confirm: bool) -> None:
    assert needs_confirmation(owed, cash, multiple=5, largest_note_cents=20_000) is confirm


def test_refunds_per_item_return_exactly_what_was_paid() -> None:
    sold = Sold(item_id=7, quantity=3, paid_cents=1000, refunded_quantity=0)  # 333.33 each
    first = refund_amount(sold, 1)
    rest = refund_amount(Sold(7, 3, 1000, 1), 2)
    assert first + rest == 1000 and {first, rest} == {334, 666}
    with pytest.raises(CommandError) as err:
        refund_amount(Sold(7, 3, 1000, 3), 1)  # all refunded already
    assert err.value.code is ErrorCode.INVALID_STATE


def test_the_drawer_expects_float_plus_cash_in_minus_out() -> None:
    t = DrawerTotals(
        float_cents=10_000,
        cash_sales_cents=25_000,
        card_sales_cents=40_000,
        cash_refunds_cents=1_500,
        card_refunds_cents=2_000,
        cash_in_cents=5_000,
        cash_out_cents=3_000,
        tips_cents=700,
    )
    assert t.expected_cash_cents == 10_000 + 25_000 + 5_000 - 3_000 - 1_500
    assert t.expected_card_cents == 38_000
    assert counted({5000: 3, 2000: 5, 100: 12, 50: 4}) == 15000 + 10000 + 1200 + 200

"""A transaction's bill from its rows: items, their discounts and tax rates, the order's discount
(the arithmetic is the domain's, `server/domain/till.py`). Used wherever an item or a discount
changes — always under the transaction's row lock — and by refunds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..db import queue_repo as repo
from ..db.models import Payment, Refund, RefundItem, TransactionItem
from ..domain import till


@dataclass(frozen=True)
class Billed:
    bill: till.Bill
    gross_cents: int  # Σ unit price × quantity, before any discount
    discount_cents: int  # every discount: the lines' and the order's

    @property
    def discount_share_bp(self) -> int:
        """The discounts as a share of the gross, in basis points (rounded down)."""
        return self.discount_cents * till.BASIS // self.gross_cents if self.gross_cents else 0


def recompute(s: Session, txn: Any, prices_include_tax: bool) -> Billed:
    """Work the bill out again and write it onto the rows: each line's discount on its own
    amount, the order's over what remains; the transaction's total (what is due, tax included)."""
    items = repo.items_of(s, txn.id)
    lines = []
    gross_total = line_off_total = 0
    for item in items:
        gross = item.unit_price_cents * item.quantity
        off = (
            discount_of(item.discount_kind, item.discount_value, item.discount_reason).cents_off(gross)
            if item.discount_kind
            else 0
        )
        if off != item.discount_cents:
            s.execute(update(TransactionItem).where(TransactionItem.id == item.id).values(discount_cents=off))
        gross_total += gross
        line_off_total += off
        lines.append(till.Line(item.id, gross - off, item.tax_rate_bp))
    order = discount_of(txn.discount_kind, txn.discount_value, txn.discount_reason) if txn.discount_kind else None
    result = till.bill(lines, order, prices_include_tax)
    txn.total_cents = result.total_cents
    txn.discount_cents = result.order_discount_cents
    return Billed(result, gross_total, line_off_total + result.order_discount_cents)


def taxes_of(s: Session, txn: Any, prices_include_tax: bool) -> till.Bill:
    """The bill as the rows hold it now (nothing written): for a receipt."""
    items = repo.items_of(s, txn.id)
    lines = [till.Line(i.id, i.unit_price_cents * i.quantity - i.discount_cents, i.tax_rate_bp) for i in items]
    order = till.Discount(till.DiscountKind.AMOUNT, txn.discount_cents, "") if txn.discount_cents else None
    return till.bill(lines, order, prices_include_tax)


def discount_of(kind: str | None, value: int, reason: str | None) -> till.Discount:
    return till.Discount(till.DiscountKind(kind or "amount"), value, reason or "")


def sold_items(s: Session, transaction_id: int, payment: Payment) -> list[till.Sold]:
    """Each item as it was paid for: after its own discount and its share of the order's, with
    what was refunded of it already."""
    items = repo.items_of(s, transaction_id)
    net = [i.unit_price_cents * i.quantity - i.discount_cents for i in items]
    order_off = max(0, sum(net) - payment.amount_due_cents)
    shares = till.allocate(order_off, net)
    refunded = dict(
        s.execute(
            select(RefundItem.item_id, func.sum(RefundItem.quantity))
            .join(Refund, Refund.id == RefundItem.refund_id)
            .where(Refund.transaction_id == transaction_id)
            .group_by(RefundItem.item_id)
        ).all()
    )
    return [
        till.Sold(i.id, i.quantity, n - share, int(refunded.get(i.id, 0) or 0))
        for i, n, share in zip(items, net, shares, strict=True)
    ]

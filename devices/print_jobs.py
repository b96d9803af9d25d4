"""Receipts and print jobs: plain values handed from the appliance to a receipt printer.

Money is integer cents everywhere. A receipt that does not add up is refused when it is built,
so nothing half-right reaches the paper.

A job is sent in parts: the drawer pulse (a cash payment) and the receipt, each on its own. A part
whose first byte may have left is never sent again by the driver: its outcome is either confirmed
by the printer (``PRINTED``) or ``UNKNOWN``, and only a person can tell (the till asks "Did the
receipt print?" and offers a copy). A part not sent yet waits (``WAITING``) for the printer.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from common.wire import DeviceState, PaymentMethod

PAYMENT_METHODS = tuple(m.value for m in PaymentMethod)
PAID_WITH = (*PAYMENT_METHODS, "split")  # split: cash and card in one payment
# The kinds the server prints (contract.DOCUMENT); a kind added later still prints: its title says
# what it is, and the lines are already worded and formatted by the server.
DOCUMENT_KINDS = ("void", "refund", "till_open", "cash_in", "cash_out", "x_report", "z_report", "ticket")
MAX_NUMBER = 40  # a receipt number, "T02-2026-000123" today
MAX_URL = 300  # a ticket's phone page: fits a QR code of version 10 at level M with room to spare


def _require_cents(field: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"receipt.{field} = {value!r}: must be an integer number of cents")
    if value < 0:
        raise ValueError(f"receipt.{field} = {value!r}: must not be negative")


def _require_text(field: str, value: object, *, allow_empty: bool = False, what: str = "receipt") -> None:
    if not isinstance(value, str):
        raise ValueError(f"{what}.{field} = {value!r}: must be a string")
    if not allow_empty and not value.strip():
        raise ValueError(f"{what}.{field} = {value!r}: must not be empty")


def _require_token(field: str, value: object, what: str = "receipt") -> None:
    """A code or number printed as it is (and in a QR code): printable ASCII, no spaces."""
    _require_text(field, value, what=what)
    assert isinstance(value, str)
    if len(value) > MAX_NUMBER or not all(" " < ch < "\x7f" for ch in value):
        raise ValueError(f"{what}.{field} = {value!r}: must be printable ASCII without spaces, at most {MAX_NUMBER}")


def _require_rate(field: str, value: object) -> None:
    """A tax rate in basis points (1900 = 19.00 %)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100_00:
        raise ValueError(f"receipt.{field} = {value!r}: must be basis points from 0 to 10000")


@dataclass(frozen=True)
class ReceiptLine:
    name: str
    quantity: int
    unit_price_cents: int
    discount_cents: int = 0  # off this line's quantity × unit price
    discount_reason: str = ""
    tax_rate_bp: int | None = None  # None: the server sent none (before issue 12)

    def __post_init__(self) -> None:
        _require_text("items.name", self.name)
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int) or self.quantity < 1:
            raise ValueError(f"receipt.items.quantity = {self.quantity!r}: must be a whole number >= 1")
        _require_cents("items.unit_price_cents", self.unit_price_cents)
        _require_cents("items.discount_cents", self.discount_cents)
        if self.discount_cents > self.gross_cents:
            raise ValueError(
                f"receipt.items.discount_cents = {self.discount_cents}: more than the line's {self.gross_cents}"
            )
        _require_text("items.discount_reason", self.discount_reason, allow_empty=True)
        if self.tax_rate_bp is not None:
            _require_rate("items.tax_rate_bp", self.tax_rate_bp)

    @property
    def gross_cents(self) -> int:
        """Quantity × unit price, before the line's discount."""
        return self.quantity * self.unit_price_cents

    @property
    def total_cents(self) -> int:
        """What the line comes to after its own discount (the order's discount is apart)."""
        return self.gross_cents - self.discount_cents


@dataclass(frozen=True)
class TaxLine:
    """Net, tax and gross for one rate; the gross of all rates is the receipt's total."""

    rate_bp: int
    net_cents: int
    tax_cents: int
    gross_cents: int

    def __post_init__(self) -> None:
        _require_rate("taxes.rate_bp", self.rate_bp)
        for field in ("net_cents", "tax_cents", "gross_cents"):
            _require_cents(f"taxes.{field}", getattr(self, field))
        if self.net_cents + self.tax_cents != self.gross_cents:
            raise ValueError(
                f"receipt.taxes.gross_cents = {self.gross_cents}: must be net + tax = "
                f"{self.net_cents + self.tax_cents} (rate {self.rate_bp} bp)"
            )


@dataclass(frozen=True)
class Tender:
    method: Literal["cash", "card"]
    amount_cents: int

    def __post_init__(self) -> None:
        if self.method not in PAYMENT_METHODS:
            raise ValueError(f"receipt.tenders.method = {self.method!r}: must be one of {', '.join(PAYMENT_METHODS)}")
        _require_cents("tenders.amount_cents", self.amount_cents)


@dataclass(frozen=True)
class Receipt:
    spa_name: str
    spa_address: str  # may hold several lines
    code: str  # the transaction code, also printed as QR code or barcode
    created_at: datetime
    cashier: str
    items: tuple[ReceiptLine, ...]
    total_cents: int  # what the bill comes to, tax included, every discount taken off; no tip
    paid_cents: int  # everything tendered: cash and card
    change_cents: int  # given back, from the cash only
    method: Literal["cash", "card", "split"]
    currency: str = "€"  # a formatting setting: "€", "$", "CHF", ...
    copy: bool = False  # a reprint: marked as a copy on the paper
    # A copy says when it was printed, by the till's clock; None: that clock is not synchronised
    # yet (a Pi has no real-time clock), and the copy says so instead of a time.
    printed_at: datetime | None = None
    receipt_number: str | None = None  # gap-free per till and year; None: not paid at a till
    order_discount_cents: int = 0  # off what the lines come to after their own discounts
    order_discount_reason: str = ""
    taxes: tuple[TaxLine, ...] = ()  # per rate; empty: the server sent none
    prices_include_tax: bool = True
    tip_cents: int = 0  # for the therapist, paid with the bill, not part of the total
    tenders: tuple[Tender, ...] = ()  # empty: all of ``paid_cents`` in ``method``

    def __post_init__(self) -> None:
        _require_text("spa_name", self.spa_name)
        _require_text("spa_address", self.spa_address, allow_empty=True)
        _require_token("code", self.code)
        if not isinstance(self.created_at, datetime):
            raise ValueError(f"receipt.created_at = {self.created_at!r}: must be a datetime")
        _require_text("cashier", self.cashier)
        if not isinstance(self.items, tuple) or not self.items:
            raise ValueError("receipt.items: must be a non-empty tuple of ReceiptLine")
        for item in self.items:
            if not isinstance(item, ReceiptLine):
                raise ValueError(f"receipt.items: {item!r} is not a ReceiptLine")
        for field in ("total_cents", "paid_cents", "change_cents", "order_discount_cents", "tip_cents"):
            _require_cents(field, getattr(self, field))
        if self.method not in PAID_WITH:
            raise ValueError(f"receipt.method = {self.method!r}: must be one of {', '.join(PAID_WITH)}")
        _require_text("currency", self.currency)
        if not isinstance(self.copy, bool):
            raise ValueError(f"receipt.copy = {self.copy!r}: must be True or False")
        if self.printed_at is not None and not isinstance(self.printed_at, datetime):
            raise ValueError(f"receipt.printed_at = {self.printed_at!r}: must be a datetime or None")
        if self.receipt_number is not None:
            _require_token("receipt_number", self.receipt_number)
        _require_text("order_discount_reason", self.order_discount_reason, allow_empty=True)
        if not isinstance(self.prices_include_tax, bool):
            raise ValueError(f"receipt.prices_include_tax = {self.prices_include_tax!r}: must be True or False")
        self._check_bill()
        self._check_payment()

    def _check_bill(self) -> None:
        """Lines − their discounts − the order's discount = the total (prices with tax), or = the
        net of all rates (prices without tax, the tax added on top); the rates' gross = the total."""
        lines = self.lines_cents
        if self.order_discount_cents > lines:
            raise ValueError(
                f"receipt.order_discount_cents = {self.order_discount_cents}: more than the lines' {lines}"
            )
        after = lines - self.order_discount_cents
        if not isinstance(self.taxes, tuple) or not all(isinstance(t, TaxLine) for t in self.taxes):
            raise ValueError(f"receipt.taxes = {self.taxes!r}: must be a tuple of TaxLine")
        rates = [t.rate_bp for t in self.taxes]
        if len(set(rates)) != len(rates):
            raise ValueError(f"receipt.taxes: rate given twice in {rates}")
        for item in self.items:
            if self.taxes and item.tax_rate_bp is not None and item.tax_rate_bp not in rates:
                raise ValueError(f"receipt.items.tax_rate_bp = {item.tax_rate_bp}: no line in receipt.taxes for it")
        if self.taxes:
            gross = sum(t.gross_cents for t in self.taxes)
            if gross != self.total_cents:
                raise ValueError(f"receipt.taxes: the gross adds up to {gross}, not the total {self.total_cents}")
            if not self.prices_include_tax:
                net = sum(t.net_cents for t in self.taxes)
                if net != after:
                    raise ValueError(f"receipt.taxes: the net adds up to {net}, not lines - discounts = {after}")
                return
        if after != self.total_cents:
            raise ValueError(
                f"receipt.total_cents = {self.total_cents}: the items add up to {after} (every discount off)"
            )

    def _check_payment(self) -> None:
        """The tenders make up what was paid; it covers the total and the tip; change comes from
        the cash only: cash − (total + tip − card), never negative."""
        if not isinstance(self.tenders, tuple) or not all(isinstance(t, Tender) for t in self.tenders):
            raise ValueError(f"receipt.tenders = {self.tenders!r}: must be a tuple of Tender")
        methods = [t.method for t in self.tenders]
        if len(set(methods)) != len(methods):
            raise ValueError(f"receipt.tenders: one tender per method, not {methods}")
        if self.tenders:
            tendered = sum(t.amount_cents for t in self.tenders)
            if tendered != self.paid_cents:
                raise ValueError(f"receipt.paid_cents = {self.paid_cents}: the tenders add up to {tendered}")
            expected = set(PAYMENT_METHODS) if self.method == "split" else {self.method}
            if set(methods) != expected:
                raise ValueError(f"receipt.tenders: {', '.join(methods)} for a {self.method} payment")
        elif self.method == "split":
            raise ValueError("receipt.tenders: a split payment names its cash and card tenders")
        owed = self.total_cents + self.tip_cents
        if self.paid_cents < owed:
            raise ValueError(
                f"receipt.paid_cents = {self.paid_cents}: less than the total {self.total_cents} + tip {self.tip_cents}"
            )
        card = self.tendered("card")
        if card > owed:
            raise ValueError(f"receipt.tenders: the card pays {card}, more than total + tip = {owed}")
        change = self.tendered("cash") - (owed - card)
        if self.change_cents != change:
            raise ValueError(
                f"receipt.change_cents = {self.change_cents}: must be cash - (total + tip - card) = {change}"
            )

    @property
    def lines_cents(self) -> int:
        """What the lines come to after their own discounts, before the order's."""
        return sum(item.total_cents for item in self.items)

    def tendered(self, method: str) -> int:
        if self.tenders:
            return sum(t.amount_cents for t in self.tenders if t.method == method)
        return self.paid_cents if self.method == method else 0


@dataclass(frozen=True)
class DocumentLine:
    label: str
    # Money in it already formatted by the server, with its currency; a time (a session's opening)
    # as a datetime in the spa's zone, printed in the layout's date format.
    value: str | datetime

    def __post_init__(self) -> None:
        _require_text("lines.label", self.label, allow_empty=True, what="document")
        if not isinstance(self.value, datetime):
            _require_text("lines.value", self.value, allow_empty=True, what="document")


@dataclass(frozen=True)
class Document:
    """A till's slip (void, refund, cash in/out, opening) or report (X, Z): labelled lines. Or a
    kiosk's ticket (kind ``ticket``): its ``code`` printed big, its phone page ``url`` as a QR code."""

    kind: str
    title: str
    spa_name: str
    spa_address: str
    at: datetime
    till: str
    lines: tuple[DocumentLine, ...]
    number: str | None = None  # a refund's receipt number
    code: str | None = None  # a ticket's code
    url: str | None = None  # a ticket's phone page, absolute

    def __post_init__(self) -> None:
        _require_text("kind", self.kind, what="document")
        _require_text("title", self.title, what="document")
        _require_text("spa_name", self.spa_name, what="document")
        _require_text("spa_address", self.spa_address, allow_empty=True, what="document")
        if not isinstance(self.at, datetime):
            raise ValueError(f"document.at = {self.at!r}: must be a datetime")
        _require_text("till", self.till, what="document")
        if not isinstance(self.lines, tuple) or not all(isinstance(line, DocumentLine) for line in self.lines):
            raise ValueError(f"document.lines = {self.lines!r}: must be a tuple of DocumentLine")
        if self.number is not None:
            _require_token("number", self.number, what="document")
        if self.code is not None:
            _require_token("code", self.code, what="document")
        if self.url is not None:
            _require_url(self.url)


def _require_url(url: object) -> None:
    """An address for a QR code: http(s), printable ASCII (it is printed under the code too)."""
    _require_text("url", url, what="document")
    assert isinstance(url, str)
    if len(url) > MAX_URL or not url.startswith(("http://", "https://")) or not all(" " < ch < "\x7f" for ch in url):
        raise ValueError(f"document.url = {url!r}: must be an http(s) address of printable ASCII, at most {MAX_URL}")


def _require_job_id(job_id: object) -> None:
    if not isinstance(job_id, str) or not job_id.strip():
        raise ValueError(f"job_id = {job_id!r}: must be a non-empty string")


@dataclass(frozen=True)
class ReceiptJob:
    job_id: str
    receipt: Receipt
    open_drawer: bool = False

    def __post_init__(self) -> None:
        _require_job_id(self.job_id)
        if not isinstance(self.receipt, Receipt):
            raise ValueError(f"receipt = {self.receipt!r}: must be a Receipt")


@dataclass(frozen=True)
class DrawerJob:
    """Kick the cash drawer (a pulse on the printer's drawer port), print nothing."""

    job_id: str

    def __post_init__(self) -> None:
        _require_job_id(self.job_id)


@dataclass(frozen=True)
class DocumentJob:
    """A slip or report, printed and journalled as a receipt is (its paper is the ``RECEIPT`` part)."""

    job_id: str
    document: Document
    open_drawer: bool = False

    def __post_init__(self) -> None:
        _require_job_id(self.job_id)
        if not isinstance(self.document, Document):
            raise ValueError(f"document = {self.document!r}: must be a Document")


PrintJob = ReceiptJob | DocumentJob | DrawerJob


class JobPart(enum.StrEnum):
    """What one send carries. The drawer goes first, so it opens while the receipt prints."""

    DRAWER = "drawer"
    RECEIPT = "receipt"  # the paper: a receipt's, or a document's


def job_parts(job: PrintJob) -> tuple[JobPart, ...]:
    if isinstance(job, DrawerJob):
        return (JobPart.DRAWER,)
    return (JobPart.DRAWER, JobPart.RECEIPT) if job.open_drawer else (JobPart.RECEIPT,)


class Outcome(enum.StrEnum):
    PRINTED = "printed"  # the printer confirmed it after the job (the drawer pulse, if any, was sent)
    WAITING = "waiting"  # nothing of the job's receipt was sent yet: the driver tries again when the printer is back
    UNKNOWN = "unknown"  # the receipt was sent, and the printer failed before confirming it: never sent again


class SendJournal(Protocol):
    """Where a driver records, before the first byte of a part leaves, that it is being sent.

    ``sending`` returns only once that record is durable (the appliance's store commits it), so a
    restart can never send the part again; it raises to stop the send (nothing is sent then)."""

    def sending(self, job_id: str, part: JobPart) -> None: ...


class NoJournal:
    """Remembers nothing beyond the driver's own memory (tests, ``python -m devices.virtual``)."""

    def sending(self, job_id: str, part: JobPart) -> None:
        pass


@dataclass(frozen=True)
class JobResult:
    job_id: str
    outcome: Outcome
    state: DeviceState  # the printer's state when the result was known
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.PRINTED

    @property
    def final(self) -> bool:
        """Nothing more will happen to this job on its own."""
        return self.outcome is not Outcome.WAITING

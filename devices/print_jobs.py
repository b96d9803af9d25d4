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


def _require_cents(field: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"receipt.{field} = {value!r}: must be an integer number of cents")
    if value < 0:
        raise ValueError(f"receipt.{field} = {value!r}: must not be negative")


def _require_text(field: str, value: object, *, allow_empty: bool = False) -> None:
    if not isinstance(value, str):
        raise ValueError(f"receipt.{field} = {value!r}: must be a string")
    if not allow_empty and not value.strip():
        raise ValueError(f"receipt.{field} = {value!r}: must not be empty")


@dataclass(frozen=True)
class ReceiptLine:
    name: str
    quantity: int
    unit_price_cents: int

    def __post_init__(self) -> None:
        _require_text("items.name", self.name)
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int) or self.quantity < 1:
            raise ValueError(f"receipt.items.quantity = {self.quantity!r}: must be a whole number >= 1")
        _require_cents("items.unit_price_cents", self.unit_price_cents)

    @property
    def total_cents(self) -> int:
        return self.quantity * self.unit_price_cents


@dataclass(frozen=True)
class Receipt:
    spa_name: str
    spa_address: str  # may hold several lines
    code: str  # the transaction code, also printed as QR code or barcode
    created_at: datetime
    cashier: str
    items: tuple[ReceiptLine, ...]
    total_cents: int
    paid_cents: int
    change_cents: int
    method: Literal["cash", "card"]
    currency: str = "€"  # a formatting setting: "€", "$", "CHF", ...
    copy: bool = False  # a reprint: marked as a copy on the paper
    # A copy says when it was printed, by the till's clock; None: that clock is not synchronised
    # yet (a Pi has no real-time clock), and the copy says so instead of a time.
    printed_at: datetime | None = None

    def __post_init__(self) -> None:
        _require_text("spa_name", self.spa_name)
        _require_text("spa_address", self.spa_address, allow_empty=True)
        _require_text("code", self.code)
        if not all(" " < ch < "\x7f" for ch in self.code):
            raise ValueError(f"receipt.code = {self.code!r}: must be printable ASCII without spaces")
        if not isinstance(self.created_at, datetime):
            raise ValueError(f"receipt.created_at = {self.created_at!r}: must be a datetime")
        _require_text("cashier", self.cashier)
        if not isinstance(self.items, tuple) or not self.items:
            raise ValueError("receipt.items: must be a non-empty tuple of ReceiptLine")
        for item in self.items:
            if not isinstance(item, ReceiptLine):
                raise ValueError(f"receipt.items: {item!r} is not a ReceiptLine")
        for field in ("total_cents", "paid_cents", "change_cents"):
            _require_cents(field, getattr(self, field))
        if self.method not in PAYMENT_METHODS:
            raise ValueError(f"receipt.method = {self.method!r}: must be one of {', '.join(PAYMENT_METHODS)}")
        _require_text("currency", self.currency)
        if not isinstance(self.copy, bool):
            raise ValueError(f"receipt.copy = {self.copy!r}: must be True or False")
        if self.printed_at is not None and not isinstance(self.printed_at, datetime):
            raise ValueError(f"receipt.printed_at = {self.printed_at!r}: must be a datetime or None")
        items_total = sum(item.total_cents for item in self.items)
        if items_total != self.total_cents:
            raise ValueError(f"receipt.total_cents = {self.total_cents}: the items add up to {items_total}")
        if self.paid_cents < self.total_cents:
            raise ValueError(f"receipt.paid_cents = {self.paid_cents}: less than the total {self.total_cents}")
        if self.change_cents != self.paid_cents - self.total_cents:
            raise ValueError(
                f"receipt.change_cents = {self.change_cents}: must be paid - total = "
                f"{self.paid_cents - self.total_cents}"
            )


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


PrintJob = ReceiptJob | DrawerJob


class JobPart(enum.StrEnum):
    """What one send carries. The drawer goes first, so it opens while the receipt prints."""

    DRAWER = "drawer"
    RECEIPT = "receipt"


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

"""The commands the service runs, as plain frozen values: what a caller asks for, already
validated. The wire's parsers (``server/protocol/schema.py``) build them; the service and its
tests use them without knowing the wire."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from common.wire import PaymentMethod


@dataclass(frozen=True)
class ItemRequest:
    service_id: int
    quantity: int


@dataclass(frozen=True)
class ConfirmSelection:
    customer_name: str
    items: tuple[ItemRequest, ...]
    idempotency_key: str | None = None


@dataclass(frozen=True)
class TherapistClaim:
    therapist_token: str | None
    room: str | None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class TxnAction:
    """start, finish, release, cancel: a command on one transaction."""

    transaction_id: int
    acting_token: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class AddService:
    transaction_id: int
    service_id: int
    quantity: int
    therapist_token: str | None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class CashierClaim:
    cashier_token: str | None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Pay:
    """One payment: `amount_paid_cents` in `method` (the original design's payload), or several
    `tenders` (method, cents) at once; a tip for the therapist on top; `confirm` once the cashier
    has checked a tender far above the bill."""

    transaction_id: int
    amount_paid_cents: int
    method: PaymentMethod
    cashier_token: str | None
    idempotency_key: str | None = None
    tenders: tuple[tuple[str, int], ...] = ()
    tip_cents: int = 0
    confirm: bool = False


@dataclass(frozen=True)
class ManagerPin:
    """A manager's approval typed at the till: their staff id and PIN."""

    staff_id: int
    pin: str = field(repr=False)


@dataclass(frozen=True)
class SetDiscount:
    """A discount on one item (`item_id`) or on the whole order; value 0 takes it off."""

    transaction_id: int
    kind: str  # DiscountKind's value
    value: int  # basis points for a percentage, cents for an amount
    reason: str
    item_id: int | None = None
    manager: ManagerPin | None = None
    cashier_token: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Void:
    transaction_id: int
    reason: str
    manager: ManagerPin | None
    cashier_token: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class RefundRequest:
    """Money back after a payment: every item still unrefunded when `items` is empty."""

    transaction_id: int
    reason: str
    manager: ManagerPin | None
    items: tuple[tuple[int, int], ...] = ()  # (item_id, quantity)
    method: str | None = None  # where the money goes back to (the payment's, if it had one method)
    cashier_token: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class TillOpen:
    float_cents: int
    cashier_token: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class CashMove:
    kind: str  # "in" or "out"
    amount_cents: int
    reason: str
    cashier_token: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class TillClose:
    counted: tuple[tuple[int, int], ...]  # (denomination in cents, how many)
    counted_card_cents: int | None = None  # the card terminal's total, when the cashier has it
    cashier_token: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Lookup:
    code: str
    cashier_token: str | None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class TxnRef:
    transaction_id: int


@dataclass(frozen=True)
class Empty:
    pass


@dataclass(frozen=True)
class Heartbeat:
    devices: dict[str, dict[str, Any]]
    software: str | None
    prints: bool = False  # the appliance has a printer for the jobs sent to it


@dataclass(frozen=True)
class PrintStatus:
    transaction_id: int | None
    job_id: str
    ok: bool
    state: str
    detail: str
    unknown: bool = False  # sent, not confirmed: never printed again unless asked (a copy)


@dataclass(frozen=True)
class DeskSignIn:
    staff_token: str


@dataclass(frozen=True)
class Cancel:
    """Cancel a customer: the front desk (any waiting, claimed or no-show customer), a therapist
    (their own claim), a kiosk (its own waiting customer, showing the ticket's public id)."""

    transaction_id: int
    reason: str  # CancelReason's value
    note: str | None = None
    ticket: str | None = None  # the ticket's public id, from the kiosk
    idempotency_key: str | None = None


@dataclass(frozen=True)
class DeskAction:
    """A front-desk correction on one transaction (no-show, recall, undo …); `therapist_token`
    names the therapist when a therapist makes it on their own customer from a shared screen."""

    transaction_id: int
    therapist_token: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Transfer:
    transaction_id: int
    therapist_id: int
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Assign:
    """A waiting customer picked out of order: for `therapist_id` (the desk) or the caller."""

    transaction_id: int
    therapist_id: int | None = None
    therapist_token: str | None = None
    room: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class RemoveItem:
    transaction_id: int
    item_id: int
    therapist_token: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Prioritise:
    transaction_id: int
    priority: bool
    reason: str | None = None  # PriorityReason's value
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Shift:
    """On or off shift: a therapist themselves, or the desk for `staff_id`."""

    staff_id: int | None = None
    therapist_token: str | None = None


@dataclass(frozen=True)
class ChooseRoom:
    """A therapist signing in to a room (none: leaving it)."""

    room: str | None
    therapist_token: str | None = None

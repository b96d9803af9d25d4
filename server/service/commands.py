"""The commands the service runs, as plain frozen values: what a caller asks for, already
validated. The wire's parsers (``server/protocol/schema.py``) build them; the service and its
tests use them without knowing the wire."""

from __future__ import annotations

from dataclasses import dataclass
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
    transaction_id: int
    amount_paid_cents: int
    method: PaymentMethod
    cashier_token: str | None
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


@dataclass(frozen=True)
class PrintStatus:
    transaction_id: int
    job_id: str
    ok: bool
    state: str
    detail: str
    unknown: bool = False  # sent, not confirmed: never printed again unless asked (a copy)


@dataclass(frozen=True)
class DeskSignIn:
    staff_token: str

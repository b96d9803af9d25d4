"""The wire contract in one place: error codes with their retry class, limits, payment methods,
device states and the moves a staff view may offer.

The server parses and answers by these values, the appliance classifies acknowledgements by
them, and the screens receive them in their page config (``server/web/pages.py``), so a limit
or a code is written once. Pure data: no imports beyond the standard library.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    INVALID_PAYLOAD = "invalid_payload"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    QUEUE_EMPTY = "queue_empty"
    INVALID_STATE = "invalid_state"
    INSUFFICIENT_PAYMENT = "insufficient_payment"
    UNKNOWN_SERVICE = "unknown_service"
    CONFLICT = "conflict"
    BUSY = "busy"
    INTERNAL_ERROR = "internal_error"
    IDEMPOTENCY_MISMATCH = "idempotency_mismatch"
    UNKNOWN_EVENT = "unknown_event"
    QUEUE_CLOSED = "queue_closed"
    QUEUE_FULL = "queue_full"
    CONFIRMATION_NEEDED = "confirmation_needed"
    TILL_CLOSED = "till_closed"
    MANAGER_NEEDED = "manager_needed"


class Retry(StrEnum):
    FINAL = "final"  # asking again with the same payload gets the same answer: drop it
    RETRY = "retry"  # the server could not do it now: send it again (same idempotency key) later


RETRY_CLASS: dict[ErrorCode, Retry] = {
    ErrorCode.INVALID_PAYLOAD: Retry.FINAL,
    ErrorCode.FORBIDDEN: Retry.FINAL,
    ErrorCode.NOT_FOUND: Retry.FINAL,
    # Nobody is waiting now; a press of "next" is a request for now, not for later.
    ErrorCode.QUEUE_EMPTY: Retry.FINAL,
    ErrorCode.INVALID_STATE: Retry.FINAL,
    ErrorCode.INSUFFICIENT_PAYMENT: Retry.FINAL,
    ErrorCode.UNKNOWN_SERVICE: Retry.FINAL,
    # Concurrent changes to one row outlasted the server's own retries; the same command lands later.
    ErrorCode.CONFLICT: Retry.RETRY,
    ErrorCode.BUSY: Retry.RETRY,
    ErrorCode.INTERNAL_ERROR: Retry.RETRY,
    # The key names another command: sending it again with the same key is refused again.
    ErrorCode.IDEMPOTENCY_MISMATCH: Retry.FINAL,
    ErrorCode.UNKNOWN_EVENT: Retry.FINAL,
    # The kiosk takes no new customer now (outside the hours, too near closing, the wait too
    # long): an order is for now, so it is dropped, and the kiosk shows why.
    ErrorCode.QUEUE_CLOSED: Retry.FINAL,
    ErrorCode.QUEUE_FULL: Retry.FINAL,
    # The till's checks: the same payment again is refused again until the cashier confirms the
    # amount, opens the till, or a manager approves.
    ErrorCode.CONFIRMATION_NEEDED: Retry.FINAL,
    ErrorCode.TILL_CLOSED: Retry.FINAL,
    ErrorCode.MANAGER_NEEDED: Retry.FINAL,
}

ERROR_MEANINGS: dict[ErrorCode, str] = {
    ErrorCode.INVALID_PAYLOAD: "wrong types, sizes, ranges, unknown or missing fields, more than one argument",
    ErrorCode.FORBIDDEN: "no valid token, or this caller may not do this",
    ErrorCode.NOT_FOUND: "no such transaction, code today, or print job",
    ErrorCode.QUEUE_EMPTY: "nobody is waiting (for a therapist, or to pay)",
    ErrorCode.INVALID_STATE: "the transaction is not in a state that allows this (the message says which)",
    ErrorCode.INSUFFICIENT_PAYMENT: "less paid than due",
    ErrorCode.UNKNOWN_SERVICE: "a service that does not exist or is not offered any more",
    ErrorCode.CONFLICT: "an optimistic-concurrency clash that survived the server's retries",
    ErrorCode.BUSY: "the database is not answering, too many wrong PINs, connection limit",
    ErrorCode.INTERNAL_ERROR: "a bug; logged with a traceback; nothing was changed",
    ErrorCode.IDEMPOTENCY_MISMATCH: "the idempotency_key was already used by this caller for a different payload",
    ErrorCode.UNKNOWN_EVENT: "no such event (or an event name that is not a short string)",
    ErrorCode.QUEUE_CLOSED: "the kiosk takes no new customer now: outside the opening hours or past the last entry",
    ErrorCode.QUEUE_FULL: "the kiosk takes no new customer now: the wait would be longer than the spa allows",
    ErrorCode.CONFIRMATION_NEEDED: "cash tendered far above the bill: send it again with confirm: true once checked",
    ErrorCode.TILL_CLOSED: "this till has no open cash session: it takes no cash until it is opened",
    ErrorCode.MANAGER_NEEDED: "a manager's PIN is needed (a void, a refund, a big discount), or the one sent is wrong",
}


def retry_class(code: str) -> Retry:
    """How a client treats a refusal: a code it does not know is retried (better late than dropped)."""
    try:
        return RETRY_CLASS[ErrorCode(code)]
    except ValueError:
        return Retry.RETRY


class PaymentMethod(StrEnum):
    CASH = "cash"
    CARD = "card"


class CancelReason(StrEnum):
    """Why a customer was taken out of the queue (kept with the transaction, and in reports)."""

    LEFT = "left"  # gave up waiting and went
    DUPLICATE = "duplicate"  # ordered twice
    CUSTOMER = "customer"  # cancelled at the kiosk by the customer, with the ticket
    OTHER = "other"


class PriorityReason(StrEnum):
    APPOINTMENT = "appointment"  # an arrived appointment
    VIP = "vip"
    OTHER = "other"


class DeviceState(StrEnum):
    """What an appliance's device is doing, as heartbeats report it."""

    CLOSED = "closed"
    OK = "ok"
    MISSING = "missing"  # not plugged in / node or port absent
    OFFLINE = "offline"  # present but not answering or reporting offline (cover open, unreachable)
    PAPER_LOW = "paper_low"  # still prints
    PAPER_OUT = "paper_out"
    ERROR = "error"  # present but unusable (permission denied, grabbed by another process, ...)


class Limits:
    """Sizes and patterns every side checks the same way."""

    MAX_ID = 2**31 - 1
    MAX_ITEMS = 20  # services in one order
    MAX_QUANTITY = 20  # of one service in one order or one addition
    MAX_NAME = 60  # a customer's name
    MAX_TOKEN = 200
    MAX_CODE = 32  # a ticket code as a scanner may type it
    MIN_PIN = 4  # digits of a staff PIN for signing in on a screen
    MAX_PIN = 8
    MAX_DEVICES = 16  # devices in one heartbeat
    MAX_DEVICE_STATE = 24
    MAX_DEVICE_DETAIL = 200
    MAX_SOFTWARE = 40
    MAX_AMOUNT_CENTS = 100_000_000  # 1,000,000.00: more than any spa bill, less than any overflow
    IDEMPOTENCY_KEY = r"^[A-Za-z0-9_.:\-]{1,64}$"
    JOB_ID = IDEMPOTENCY_KEY
    DEVICE_NAME = r"^[A-Za-z0-9_.\-]{1,40}$"
    ROOM = r"^[\w .#\-]{1,32}$"
    TICKET_CODE = r"^[A-Za-z]{1,3}-?\d{1,3}$"
    # A ticket's public id (the phone page /t/<id>): 16 characters of base64url, 96 random bits.
    PUBLIC_ID = r"^[A-Za-z0-9_-]{16}$"
    MAX_NOTE = 200  # a cancellation's note


IDEMPOTENCY_KEY_RE = re.compile(Limits.IDEMPOTENCY_KEY)
DEVICE_NAME_RE = re.compile(Limits.DEVICE_NAME)
ROOM_RE = re.compile(Limits.ROOM)
PUBLIC_ID_RE = re.compile(Limits.PUBLIC_ID)


def page_contract() -> dict[str, Any]:
    """What the screens read from their page config instead of copying it."""
    return {
        "errors": {code.value: RETRY_CLASS[code].value for code in ErrorCode},
        "limits": {
            "max_items": Limits.MAX_ITEMS,
            "max_quantity": Limits.MAX_QUANTITY,
            "max_name": Limits.MAX_NAME,
            "max_amount_cents": Limits.MAX_AMOUNT_CENTS,
            "max_code": Limits.MAX_CODE,
            "min_pin": Limits.MIN_PIN,
            "max_pin": Limits.MAX_PIN,
            "max_note": Limits.MAX_NOTE,
        },
        "payment_methods": [m.value for m in PaymentMethod],
        "device_states": [s.value for s in DeviceState],
        "cancel_reasons": [r.value for r in CancelReason],
        "priority_reasons": [r.value for r in PriorityReason],
    }

"""Wire payload → validated command. Pure functions: no I/O, no Flask.

Every rule a hostile or broken client could break is checked here, so a handler only ever
sees well-formed values: right types, bounded sizes, no unknown fields.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from ..domain.codes import normalize_code
from ..domain.errors import CommandError, ErrorCode
from ..domain.money import parse_amount

MAX_ID = 2**31 - 1
MAX_ITEMS = 20
MAX_QUANTITY = 20
MAX_NAME = 60
MAX_TOKEN = 200
_KEY = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
_ROOM = re.compile(r"^[\w .#\-]{1,32}$")
METHODS = ("cash", "card")


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
    method: str
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


def invalid(message: str) -> CommandError:
    return CommandError(ErrorCode.INVALID_PAYLOAD, message)


def _fields(payload: object, required: set[str], optional: set[str]) -> dict[str, Any]:
    if payload is None and not required:
        return {}
    if not isinstance(payload, dict):
        raise invalid("payload must be an object")
    unknown = set(payload) - required - optional
    if unknown:
        raise invalid(f"unknown field {sorted(map(str, unknown))[0]!r}")
    missing = required - set(payload)
    if missing:
        raise invalid(f"missing field {sorted(missing)[0]!r}")
    return payload


def _int(value: object, field: str, lo: int = 1, hi: int = MAX_ID) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"{field} must be an integer")
    if not lo <= value <= hi:
        raise invalid(f"{field} must be between {lo} and {hi}")
    return value


def _text(value: object, field: str, max_len: int) -> str:
    if not isinstance(value, str):
        raise invalid(f"{field} must be a string")
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise invalid(f"{field} must not be empty")
    if len(text) > max_len:
        raise invalid(f"{field} must be at most {max_len} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text):
        raise invalid(f"{field} contains control or unassigned characters")
    return text


def _token(payload: dict[str, Any], field: str) -> str | None:
    value = payload.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_TOKEN:
        raise invalid(f"{field} must be a token string")
    return value


def _key(payload: dict[str, Any]) -> str | None:
    value = payload.get("idempotency_key")
    if value is None:
        return None
    if not isinstance(value, str) or not _KEY.match(value):
        raise invalid("idempotency_key must be 1-64 characters of letters, digits, '_', '.', ':' or '-'")
    return value


def parse_confirm_selection(payload: object) -> ConfirmSelection:
    p = _fields(payload, {"customer_name", "items"}, {"idempotency_key"})
    name = _text(p["customer_name"], "customer_name", MAX_NAME)
    items = p["items"]
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        raise invalid(f"items must be a list of 1 to {MAX_ITEMS} services")
    quantities: dict[int, int] = {}
    for i, item in enumerate(items):
        f = _fields(item, {"service_id"}, {"quantity"})
        service_id = _int(f["service_id"], f"items[{i}].service_id")
        quantity = _int(f.get("quantity", 1), f"items[{i}].quantity", 1, MAX_QUANTITY)
        quantities[service_id] = quantities.get(service_id, 0) + quantity
        if quantities[service_id] > MAX_QUANTITY:
            raise invalid(f"at most {MAX_QUANTITY} of one service")
    merged = tuple(ItemRequest(s, q) for s, q in quantities.items())
    return ConfirmSelection(name, merged, _key(p))


def parse_therapist_claim(payload: object) -> TherapistClaim:
    p = _fields(payload, set(), {"therapist_token", "room", "idempotency_key"})
    room = p.get("room")
    if room is not None and (not isinstance(room, str) or not _ROOM.match(room)):
        raise invalid("room must be 1-32 letters, digits, spaces, '.', '#' or '-'")
    return TherapistClaim(_token(p, "therapist_token"), room, _key(p))


def parse_txn_action(payload: object, token_field: str | None) -> TxnAction:
    optional = {"idempotency_key"} | ({token_field} if token_field else set())
    p = _fields(payload, {"transaction_id"}, optional)
    token = _token(p, token_field) if token_field else None
    return TxnAction(_int(p["transaction_id"], "transaction_id"), token, _key(p))


def parse_add_service(payload: object) -> AddService:
    p = _fields(payload, {"transaction_id", "service_id"}, {"quantity", "therapist_token", "idempotency_key"})
    return AddService(
        _int(p["transaction_id"], "transaction_id"),
        _int(p["service_id"], "service_id"),
        _int(p.get("quantity", 1), "quantity", 1, MAX_QUANTITY),
        _token(p, "therapist_token"),
        _key(p),
    )


def parse_cashier_claim(payload: object) -> CashierClaim:
    p = _fields(payload, set(), {"cashier_token", "idempotency_key"})
    return CashierClaim(_token(p, "cashier_token"), _key(p))


def parse_pay(payload: object) -> Pay:
    p = _fields(payload, {"transaction_id", "amount_paid"}, {"method", "cashier_token", "idempotency_key"})
    method = p.get("method", "cash")
    if method not in METHODS:
        raise invalid("method must be 'cash' or 'card'")
    return Pay(
        _int(p["transaction_id"], "transaction_id"),
        parse_amount(p["amount_paid"], "amount_paid"),
        method,
        _token(p, "cashier_token"),
        _key(p),
    )


def parse_lookup(payload: object) -> Lookup:
    p = _fields(payload, {"code"}, {"cashier_token", "idempotency_key"})
    raw = p["code"]
    if not isinstance(raw, str) or len(raw) > 32:
        raise invalid("code must be a ticket code like 'A-042'")
    code = normalize_code(raw)
    if code is None:
        raise invalid(f"{raw[:32]!r} is not a ticket code like 'A-042'")
    return Lookup(code, _token(p, "cashier_token"), _key(p))


def parse_txn_ref(payload: object) -> TxnRef:
    p = _fields(payload, {"transaction_id"}, set())
    return TxnRef(_int(p["transaction_id"], "transaction_id"))


def parse_empty(payload: object) -> Empty:
    # Older clients send {} or nothing at all; both mean "no arguments".
    _fields(payload if payload != {} else None, set(), set())
    return Empty()


_DEVICE_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")
_DEVICE_FIELDS = {"state": 24, "detail": 200}


def parse_heartbeat(payload: object) -> Heartbeat:
    p = _fields(payload, {"devices"}, {"software"})
    devices = p["devices"]
    if not isinstance(devices, dict) or len(devices) > 16:
        raise invalid("devices must be an object of at most 16 devices")
    parsed: dict[str, dict[str, Any]] = {}
    for name, health in devices.items():
        if not isinstance(name, str) or not _DEVICE_NAME.match(name):
            raise invalid("device names are 1-40 letters, digits, '_', '.' or '-'")
        f = _fields(health, {"state"}, {"detail", "last_event_at"})
        entry: dict[str, Any] = {}
        for field, max_len in _DEVICE_FIELDS.items():
            if field in f and f[field] != "":
                entry[field] = _text(f[field], f"devices.{name}.{field}", max_len)
        last = f.get("last_event_at")
        if last is not None:
            if isinstance(last, bool) or not isinstance(last, (int, float)) or not 0 <= last < 2**33:
                raise invalid(f"devices.{name}.last_event_at must be a unix time")
            entry["last_event_at"] = last
        parsed[name] = entry
    software = p.get("software")
    return Heartbeat(parsed, _text(software, "software", 40) if software is not None else None)


@dataclass(frozen=True)
class DeskSignIn:
    staff_token: str


def parse_desk_sign_in(payload: object) -> DeskSignIn:
    # Signing in twice is harmless, so a key is accepted (every command may carry one) and not stored.
    p = _fields(payload, {"staff_token"}, {"idempotency_key"})
    _key(p)
    token = _token(p, "staff_token")
    if token is None:
        raise invalid("staff_token must be a token string")
    return DeskSignIn(token)


def parse_print_status(payload: object) -> PrintStatus:
    p = _fields(payload, {"transaction_id", "job_id", "ok"}, {"state", "detail"})
    if not isinstance(p["ok"], bool):
        raise invalid("ok must be true or false")
    job_id = p["job_id"]
    if not isinstance(job_id, str) or not _KEY.match(job_id):
        raise invalid("job_id must be 1-64 characters of letters, digits, '_', '.', ':' or '-'")
    state = _text(p.get("state", "ok"), "state", 24)
    detail = p.get("detail", "")
    detail = _text(detail, "detail", 200) if detail else ""
    return PrintStatus(_int(p["transaction_id"], "transaction_id"), job_id, p["ok"], state, detail)

"""The server's side of the wire, as pure functions: what an acknowledgement means for the outbox,
a ``print_receipt`` payload → a print job (money as exact integer cents), the heartbeat payload.

Error codes, their retry class and the limits are the wire contract's (``common/wire.py``), which
the server answers by: nothing here is a copy that could drift from it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from common.wire import Limits, Retry, retry_class
from devices.print_jobs import Receipt, ReceiptJob, ReceiptLine

JOB_ID = re.compile(Limits.JOB_ID)


class AckKind(Enum):
    DONE = "done"
    REFUSED = "refused"
    RETRY = "retry"


@dataclass(frozen=True)
class AckOutcome:
    kind: AckKind
    code: str = ""
    message: str = ""


def classify_ack(ack: object) -> AckOutcome:
    """``{"ok": true, ...}`` is done; a refusal whose code the contract calls final is refused for
    good; anything else (``conflict``, ``busy``, a code this appliance does not know yet, a reply
    that is no acknowledgement) is tried again: better late than dropped."""
    if not isinstance(ack, Mapping) or not isinstance(ack.get("ok"), bool):
        return AckOutcome(AckKind.RETRY, "bad_ack", f"unexpected acknowledgement {str(ack)[:80]!r}")
    if ack["ok"]:
        return AckOutcome(AckKind.DONE)
    error = ack.get("error")
    if not isinstance(error, Mapping):
        error = {}
    code, message = str(error.get("code", "")), str(error.get("message", ""))
    if code and retry_class(code) is Retry.FINAL:
        return AckOutcome(AckKind.REFUSED, code, message)
    return AckOutcome(AckKind.RETRY, code or "unknown", message)


# --- receipts ---------------------------------------------------------------------------------------


def cents(value: object, field: str) -> int:
    """A decimal string ("45.00") as integer cents, exactly; never through float."""
    if not isinstance(value, str):
        raise ValueError(f'receipt.{field} = {value!r}: must be a decimal string like "45.00"')
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"receipt.{field} = {value!r}: not a decimal amount") from None
    scaled = amount * 100
    if not amount.is_finite() or scaled != scaled.to_integral_value() or amount < 0:
        raise ValueError(f"receipt.{field} = {value!r}: must be a non-negative amount with at most 2 decimals")
    return int(scaled)


def _text(body: Mapping[str, Any], field: str, *, allow_empty: bool = False) -> str:
    value = body.get(field, "" if allow_empty else None)
    if not isinstance(value, str):
        raise ValueError(f"receipt.{field} = {value!r}: must be a string")
    return value


def spa_zone(value: object) -> tzinfo | None:
    """The spa's zone from a receipt (``SPA_TIMEZONE`` on the server); None when the server sent
    none (before issue 13) or one this Pi does not know: then the Pi's own zone is used."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _paid_at(value: object, zone: tzinfo | None) -> datetime:
    """The server's payment time in the spa's zone. The server sends UTC (``…Z``); a time without a
    zone is taken as UTC too, never as the Pi's local time."""
    if not isinstance(value, str):
        raise ValueError(f"receipt.paid_at = {value!r}: must be an ISO time")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"receipt.paid_at = {value!r}: not an ISO time") from None
    return in_zone(moment if moment.tzinfo else moment.replace(tzinfo=UTC), zone)


def in_zone(moment: datetime, zone: tzinfo | None) -> datetime:
    return moment.astimezone(zone) if zone is not None else moment.astimezone()


def _items(value: object) -> tuple[ReceiptLine, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError("receipt.items: must be a non-empty list")
    lines = []
    for i, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise ValueError(f"receipt.items[{i}]: must be an object")
        quantity: Any = item.get("quantity")  # ReceiptLine checks it
        lines.append(ReceiptLine(_text(item, "name"), quantity, cents(item.get("unit_price"), "unit_price")))
    return tuple(lines)


@dataclass(frozen=True)
class PrintRequest:
    job_id: str
    transaction_id: int


def print_request(payload: object) -> PrintRequest:
    """The ids of a ``print_receipt``, checked before anything else so that a result can be reported."""
    if not isinstance(payload, Mapping):
        raise ValueError("print_receipt: payload must be an object")
    job_id, txn = payload.get("job_id"), payload.get("transaction_id")
    if not isinstance(job_id, str) or not JOB_ID.match(job_id):
        raise ValueError(f"print_receipt.job_id = {job_id!r}: must be 1-64 letters, digits, '_', '.', ':' or '-'")
    if isinstance(txn, bool) or not isinstance(txn, int) or txn < 1:
        raise ValueError(f"print_receipt.transaction_id = {txn!r}: must be a positive integer")
    return PrintRequest(job_id, txn)


def receipt_job(payload: Mapping[str, Any], *, drawer: bool, now: datetime | None = None) -> ReceiptJob:
    """The print job for a ``print_receipt`` payload. Raises ``ValueError`` naming the bad field
    (a receipt whose totals do not add up among them). ``drawer``: open this till's cash drawer if
    the payload asks (a cash payment). ``now``: the till's clock for a copy's "Printed" line, None
    while the clock is not synchronised."""
    request = print_request(payload)
    body = payload.get("receipt")
    if not isinstance(body, Mapping):
        raise ValueError("print_receipt.receipt: must be an object")
    open_drawer = payload.get("open_drawer", False)
    if not isinstance(open_drawer, bool):
        raise ValueError(f"print_receipt.open_drawer = {open_drawer!r}: must be true or false")
    zone = spa_zone(body.get("timezone"))
    receipt = Receipt(
        spa_name=_text(body, "spa_name"),
        spa_address=_text(body, "spa_address", allow_empty=True),
        code=_text(body, "code"),
        created_at=_paid_at(body.get("paid_at"), zone),
        cashier=_text(body, "cashier"),
        items=_items(body.get("items")),
        total_cents=cents(body.get("total"), "total"),
        paid_cents=cents(body.get("paid"), "paid"),
        change_cents=cents(body.get("change"), "change"),
        method=body.get("method"),  # type: ignore[arg-type]  # Receipt checks it
        currency=_text(body, "currency"),
        copy=body.get("copy", False) is True,
        printed_at=in_zone(now, zone) if now is not None else None,
    )
    return ReceiptJob(request.job_id, receipt, open_drawer=open_drawer and drawer)


def receipt_status_payload(job_id: str, transaction_id: int, result: Mapping[str, Any]) -> dict[str, Any]:
    """A print result as the server's ``receipt_status`` takes it. ``unknown``: the receipt was sent
    and the printer failed before confirming it; it is not printed again unless someone asks."""
    data: dict[str, Any] = {
        "transaction_id": transaction_id,
        "job_id": job_id,
        "ok": bool(result.get("ok")),
        "state": wire_text(str(result.get("state") or "error"), Limits.MAX_DEVICE_STATE) or "error",
    }
    if detail := wire_text(str(result.get("detail") or ""), Limits.MAX_DEVICE_DETAIL):
        data["detail"] = detail
    if result.get("outcome") == "unknown" and not data["ok"]:
        data["unknown"] = True
    return data


# --- heartbeats ---------------------------------------------------------------------------------------


def wire_text(text: str, limit: int) -> str:
    """Text the server accepts in a heartbeat or receipt status: no control characters, bounded."""
    clean = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") else ch for ch in text)
    clean = " ".join(clean.split())
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


@dataclass(frozen=True)
class DeviceReport:
    state: str  # a DeviceState value, or the supervisor's "stalled" / "restarting"
    detail: str = ""
    last_event_at: float | None = None


def heartbeat_payload(devices: Mapping[str, DeviceReport], software: str) -> dict[str, Any]:
    return {
        "devices": {
            name: {
                "state": wire_text(report.state, Limits.MAX_DEVICE_STATE) or "unknown",
                "detail": wire_text(report.detail, Limits.MAX_DEVICE_DETAIL),
                "last_event_at": report.last_event_at,
            }
            for name, report in devices.items()
        },
        "software": software,
    }

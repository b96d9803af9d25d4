"""The server's side of the wire, as pure functions: what an acknowledgement means for the outbox,
a ``print_receipt`` or ``print_document`` payload → a print job (money as exact integer cents), the
heartbeat payload.

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
from devices.print_jobs import (
    Document,
    DocumentJob,
    DocumentLine,
    Receipt,
    ReceiptJob,
    ReceiptLine,
    TaxLine,
    Tender,
)

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


def _text(body: Mapping[str, Any], field: str, *, allow_empty: bool = False, what: str = "receipt") -> str:
    value = body.get(field, "" if allow_empty else None)
    if not isinstance(value, str):
        raise ValueError(f"{what}.{field} = {value!r}: must be a string")
    return value


def rate_bp(value: object, field: str) -> int:
    """A tax rate in percent ("19.00") as basis points, exactly."""
    if not isinstance(value, str):
        raise ValueError(f'receipt.{field} = {value!r}: must be a rate in percent like "19.00"')
    bp = cents(value, field)  # the same exactness: two decimals, not negative
    if bp > 100_00:
        raise ValueError(f"receipt.{field} = {value!r}: more than 100 %")
    return bp


def spa_zone(value: object) -> tzinfo | None:
    """The spa's zone from a receipt (``SPA_TIMEZONE`` on the server); None when the server sent
    none (before issue 13) or one this Pi does not know: then the Pi's own zone is used."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _paid_at(value: object, zone: tzinfo | None, field: str = "receipt.paid_at") -> datetime:
    """The server's time in the spa's zone. The server sends UTC (``…Z``); a time without a zone
    is taken as UTC too, never as the Pi's local time."""
    if not isinstance(value, str):
        raise ValueError(f"{field} = {value!r}: must be an ISO time")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{field} = {value!r}: not an ISO time") from None
    return in_zone(moment if moment.tzinfo else moment.replace(tzinfo=UTC), zone)


def in_zone(moment: datetime, zone: tzinfo | None) -> datetime:
    return moment.astimezone(zone) if zone is not None else moment.astimezone()


def _list(value: object, field: str, *, what: str = "receipt", non_empty: bool = False) -> list[Mapping[str, Any]]:
    """A list of objects, or [] for a field the server did not send (one from before issue 12)."""
    if value is None and not non_empty:
        return []
    if not isinstance(value, list) or (non_empty and not value):
        raise ValueError(f"{what}.{field}: must be a {'non-empty ' if non_empty else ''}list")
    for i, entry in enumerate(value):
        if not isinstance(entry, Mapping):
            raise ValueError(f"{what}.{field}[{i}]: must be an object")
    return value


def _optional_text(body: Mapping[str, Any], field: str, what: str = "receipt") -> str:
    """A text the server may leave out or send as null: "" then."""
    return _text(body, field, what=what) if body.get(field) is not None else ""


def _optional_cents(body: Mapping[str, Any], field: str, prefix: str = "") -> int:
    """An amount the server added later: 0 when absent."""
    return cents(body[field], prefix + field) if body.get(field) is not None else 0


def _items(value: object) -> tuple[ReceiptLine, ...]:
    lines = []
    for item in _list(value, "items", non_empty=True):
        quantity: Any = item.get("quantity")  # ReceiptLine checks it
        rate = item.get("tax_rate")
        lines.append(
            ReceiptLine(
                _text(item, "name"),
                quantity,
                cents(item.get("unit_price"), "items.unit_price"),
                discount_cents=_optional_cents(item, "discount", "items."),
                discount_reason=_optional_text(item, "discount_reason", "receipt.items"),
                tax_rate_bp=rate_bp(rate, "items.tax_rate") if rate is not None else None,
            )
        )
    return tuple(lines)


def _taxes(value: object) -> tuple[TaxLine, ...]:
    return tuple(
        TaxLine(
            rate_bp(t.get("rate"), "taxes.rate"),
            cents(t.get("net"), "taxes.net"),
            cents(t.get("tax"), "taxes.tax"),
            cents(t.get("gross"), "taxes.gross"),
        )
        for t in _list(value, "taxes")
    )


def _tenders(value: object) -> tuple[Tender, ...]:
    return tuple(
        Tender(t.get("method"), cents(t.get("amount"), "tenders.amount"))  # type: ignore[arg-type]  # Tender checks it
        for t in _list(value, "tenders")
    )


def _flag(body: Mapping[str, Any], field: str, default: bool, what: str = "receipt") -> bool:
    value = body.get(field, default)
    if not isinstance(value, bool):
        raise ValueError(f"{what}.{field} = {value!r}: must be true or false")
    return value


@dataclass(frozen=True)
class PrintRequest:
    event: str  # "print_receipt" or "print_document"
    job_id: str
    transaction_id: int | None  # None: a report or a cash movement, printed for no visit


def event_of(payload: object) -> str:
    """The event a job came as (the server's ``printing.event_of``): a document job is the one
    that carries a ``document``. Jobs fetched with ``print_jobs_pending`` come without their event."""
    return "print_document" if isinstance(payload, Mapping) and "document" in payload else "print_receipt"


def print_request(payload: object) -> PrintRequest:
    """The ids of a ``print_receipt`` or ``print_document``, checked before anything else so that a
    result can be reported. A receipt is always for a visit; a document may be for none."""
    event = event_of(payload)
    if not isinstance(payload, Mapping):
        raise ValueError(f"{event}: payload must be an object")
    job_id, txn = payload.get("job_id"), payload.get("transaction_id")
    if not isinstance(job_id, str) or not JOB_ID.match(job_id):
        raise ValueError(f"{event}.job_id = {job_id!r}: must be 1-64 letters, digits, '_', '.', ':' or '-'")
    if txn is None and event == "print_document":
        return PrintRequest(event, job_id, None)
    if isinstance(txn, bool) or not isinstance(txn, int) or txn < 1:
        raise ValueError(f"{event}.transaction_id = {txn!r}: must be a positive integer")
    return PrintRequest(event, job_id, txn)


def _open_drawer(payload: Mapping[str, Any], event: str) -> bool:
    return _flag(payload, "open_drawer", False, what=event)


def receipt_job(payload: Mapping[str, Any], *, drawer: bool, now: datetime | None = None) -> ReceiptJob:
    """The print job for a ``print_receipt`` payload. Raises ``ValueError`` naming the bad field
    (a receipt whose figures do not add up among them: see ``devices.print_jobs.Receipt``).
    ``drawer``: open this till's cash drawer if the payload asks (a cash payment). ``now``: the
    till's clock for a copy's "Printed" line, None while the clock is not synchronised.

    Fields the server added later (issue 12: the number, discounts, taxes, the tip, tenders) are
    optional here, so a receipt from an older server still prints."""
    request = print_request(payload)
    body = payload.get("receipt")
    if not isinstance(body, Mapping):
        raise ValueError("print_receipt.receipt: must be an object")
    open_drawer = _open_drawer(payload, "print_receipt")
    zone = spa_zone(body.get("timezone"))
    number = body.get("receipt_number")
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
        receipt_number=_text(body, "receipt_number") if number is not None else None,
        order_discount_cents=_optional_cents(body, "order_discount"),
        order_discount_reason=_optional_text(body, "order_discount_reason"),
        taxes=_taxes(body.get("taxes")),
        prices_include_tax=_flag(body, "prices_include_tax", True),
        tip_cents=_optional_cents(body, "tip"),
        tenders=_tenders(body.get("tenders")),
    )
    return ReceiptJob(request.job_id, receipt, open_drawer=open_drawer and drawer)


# A time as the server writes one (server/service/views.py `iso`): UTC to the millisecond with a Z.
SERVER_INSTANT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z$")


def _line_value(value: str, zone: tzinfo | None) -> str | datetime:
    """A document line's value: a time the server sent in UTC (a report's "Opened") becomes the
    spa's local time, as every other time on the paper; anything else prints as it came."""
    if SERVER_INSTANT.match(value):
        return _paid_at(value, zone, "document.lines.value")
    return value


def ticket_url(url: str, server_url: str) -> str:
    """A ticket's phone page: as sent when absolute; a path (the server has no SPA_PUBLIC_URL) after
    the address this appliance reaches the server at, as a kiosk's page puts its own in front."""
    if url.startswith("/") and not url.startswith("//") and server_url:
        return server_url.rstrip("/") + url
    return url


def document_job(payload: Mapping[str, Any], *, drawer: bool, server_url: str = "") -> DocumentJob:
    """The print job for a ``print_document`` payload (a void or refund slip, a till's opening,
    cash in or out, an X or Z report, a kiosk's ticket). ``drawer`` as for ``receipt_job``: the
    server asks for the drawer only where cash moves (a cash refund, cash in or out, the opening
    float). ``server_url``: for a ticket's address sent as a path (``ticket_url``)."""
    request = print_request(payload)
    body = payload.get("document")
    if not isinstance(body, Mapping):
        raise ValueError("print_document.document: must be an object")
    open_drawer = _open_drawer(payload, "print_document")
    what = "document"
    number, code, url = body.get("number"), body.get("code"), body.get("url")
    zone = spa_zone(body.get("timezone"))
    lines = tuple(
        DocumentLine(
            _text(line, "label", allow_empty=True, what="document.lines"),
            _line_value(_text(line, "value", allow_empty=True, what="document.lines"), zone),
        )
        for line in _list(body.get("lines"), "lines", what=what)
    )
    document = Document(
        kind=_text(body, "kind", what=what),
        title=_text(body, "title", what=what),
        spa_name=_text(body, "spa_name", what=what),
        spa_address=_text(body, "spa_address", allow_empty=True, what=what),
        at=_paid_at(body.get("at"), zone, "document.at"),
        till=_text(body, "till", what=what),
        lines=lines,
        number=_text(body, "number", what=what) if number is not None else None,
        code=_text(body, "code", what=what) if code is not None else None,
        url=ticket_url(_text(body, "url", what=what), server_url) if url is not None else None,
    )
    return DocumentJob(request.job_id, document, open_drawer=open_drawer and drawer)


def print_job(
    payload: Mapping[str, Any], *, drawer: bool, now: datetime | None = None, server_url: str = ""
) -> ReceiptJob | DocumentJob:
    """A ``print_receipt`` or ``print_document`` payload → its job (``receipt_job``, ``document_job``)."""
    if event_of(payload) == "print_document":
        return document_job(payload, drawer=drawer, server_url=server_url)
    return receipt_job(payload, drawer=drawer, now=now)


def receipt_status_payload(job_id: str, transaction_id: int | None, result: Mapping[str, Any]) -> dict[str, Any]:
    """A print result as the server's ``receipt_status`` takes it, for a receipt or a document
    (``transaction_id`` None for a report). ``unknown``: the paper was sent and the printer failed
    before confirming it; it is not printed again unless someone asks."""
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


def heartbeat_payload(devices: Mapping[str, DeviceReport], software: str, *, prints: bool = False) -> dict[str, Any]:
    return {
        "prints": prints,
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

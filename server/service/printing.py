"""Receipts as print jobs for a till's appliance: created with the payment, kept until printed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db import queue_repo as repo
from ..db.engine import Database
from ..db.models import Device, Payment, PaymentTender, PrintJob
from ..domain.actors import Principal
from ..domain.errors import CommandError, ErrorCode
from ..domain.money import format_cents
from . import billing
from .commands import PrintStatus
from .views import iso

# A job in these states is never sent to the till again: printed, or sent with an unknown outcome
# (paper ran out halfway, the printer hung up …), which the till's cashier settles with a copy.
FINAL_STATES = ("printed", "unknown")

# A kiosk's ticket is worth its paper only while the customer still stands at the kiosk: one not
# printed within this time (the appliance was offline, its printer out of paper) is not sent again.
# Its row stays 'pending', read by nothing: one row per order, as a receipt has one per payment.
TICKET_TTL = timedelta(minutes=5)
TICKET_PREFIX = "tkt-"


@dataclass(frozen=True)
class ReceiptHeader:
    spa_name: str
    spa_address: str
    currency: str
    prices_include_tax: bool = True
    timezone: str = "UTC"


def header_of(policy: Any, zone: Any) -> ReceiptHeader:
    """The header as the settings say now (the office may change the name or the address)."""
    return ReceiptHeader(
        policy.spa_name, policy.spa_address, policy.currency, policy.till.prices_include_tax, str(zone)
    )


def receipt(header: ReceiptHeader, txn: Any, payment: Any, cashier: str, session: Session) -> dict[str, Any]:
    """Everything a printer needs, as plain values: money as decimal strings. `total`, `paid`,
    `change` and `method` as the first receipts had them; the rest (the number, discounts,
    taxes per rate, tenders, the tip) added since."""
    items = repo.items_of(session, txn.id)
    bill = billing.taxes_of(session, txn, header.prices_include_tax)
    tenders = session.scalars(
        select(PaymentTender).where(PaymentTender.payment_id == payment.id).order_by(PaymentTender.id)
    )
    body: dict[str, Any] = {
        "spa_name": header.spa_name,
        "spa_address": header.spa_address,
        "currency": header.currency,
        "timezone": header.timezone,
        "code": txn.code,
        "receipt_number": payment.receipt_number,
        "paid_at": iso(payment.created_at),
        "cashier": cashier,
        "items": [
            {
                "name": i.name,
                "quantity": i.quantity,
                "unit_price": format_cents(i.unit_price_cents),
                "discount": format_cents(i.discount_cents),
                "tax_rate": format_rate(i.tax_rate_bp),
                # Why the price was lowered is printed beside it (a customer asks at home).
                **({"discount_reason": i.discount_reason} if i.discount_cents and i.discount_reason else {}),
            }
            for i in items
        ],
        "order_discount": format_cents(bill.order_discount_cents),
        "prices_include_tax": header.prices_include_tax,
        "taxes": [
            {
                "rate": format_rate(t.rate_bp),
                "net": format_cents(t.net_cents),
                "tax": format_cents(t.tax_cents),
                "gross": format_cents(t.gross_cents),
            }
            for t in bill.taxes
        ],
        "total": format_cents(payment.amount_due_cents),
        "tip": format_cents(payment.tip_cents),
        "paid": format_cents(payment.amount_paid_cents),
        "change": format_cents(payment.change_cents),
        "method": payment.method,
        "tenders": [{"method": t.method, "amount": format_cents(t.amount_cents)} for t in tenders],
    }
    if bill.order_discount_cents and txn.discount_reason:
        body["order_discount_reason"] = txn.discount_reason
    return body


def format_rate(rate_bp: int) -> str:
    """'19.00' for 1900 basis points: a tax rate in percent, exact."""
    return format_cents(rate_bp)


def document(
    header: ReceiptHeader,
    kind: str,
    title: str,
    number: str | None,
    at: datetime,
    lines: list[tuple[str, str]],
    till: str,
) -> dict[str, Any]:
    """A slip or a report, ready to print: labelled lines, the money in them already formatted."""
    return {
        "kind": kind,
        "title": title,
        "number": number,
        "spa_name": header.spa_name,
        "spa_address": header.spa_address,
        "timezone": header.timezone,
        "at": iso(at),
        "till": till,
        "lines": [{"label": label, "value": value} for label, value in lines],
    }


def kiosk_prints(session: Session, device_id: int) -> bool:
    """Whether this kiosk's appliance said in its latest heartbeat that it has a printer. A kiosk
    that is only a browser, or whose box has none, gets no ticket jobs (they would never print)."""
    health = session.scalar(select(Device.health_json).where(Device.id == device_id))
    return health is not None and json.loads(health).get("prints") is True


def ticket(
    header: ReceiptHeader,
    code: str,
    wait_min: int | None,
    call_at_local: datetime | None,
    url: str,
    at: datetime,
    kiosk: str,
) -> dict[str, Any]:
    """The paper ticket a kiosk prints for a new order: the code (big), when the customer is
    likely called (the spa's wall clock, and minutes from now), and the phone page's address for
    the QR code. ``url`` may be a path (/t/<id>) when SPA_PUBLIC_URL is unset: the appliance puts
    the address it reaches the server at in front, as a kiosk's page does with its own."""
    if wait_min is None or call_at_local is None:
        called = "ask at the desk"  # nobody on shift offers these services now
    else:
        called = f"{call_at_local:%H:%M} (~{wait_min} min)"
    body = document(header, "ticket", "YOUR TICKET", None, at, [("Called about", called)], kiosk)
    return body | {"code": code, "url": url}


def add_job(
    session: Session,
    kind: Literal["receipt", "document"],
    job_id: str,
    device_id: int,
    transaction_id: int | None,
    body: dict[str, Any],
    open_drawer: bool,
    now: datetime,
) -> dict[str, Any]:
    """A job pending for a till's printer, a receipt or another document (the table's check names
    both); what the till is sent carries its body under its kind."""
    job = {"job_id": job_id, "transaction_id": transaction_id, "open_drawer": open_drawer, kind: body}
    session.add(
        PrintJob(
            job_id=job_id,
            device_id=device_id,
            kind=kind,
            transaction_id=transaction_id,
            payload=json.dumps(job, sort_keys=True),
            state="pending",
            created_at=now,
            updated_at=now,
        )
    )
    return job


def reprint(
    db: Database, header: ReceiptHeader, actor: Principal, transaction_id: int, now: datetime
) -> tuple[int, dict[str, Any]]:
    """A copy of a paid transaction's receipt, at the caller's till (or where it was paid).

    Reprints of one receipt are serialised on its transaction's row (FOR UPDATE on MariaDB;
    SQLite's writer lock, BEGIN IMMEDIATE) and coalesce: while a copy for that till has not
    printed yet, asking again answers that copy's job, so a burst of presses prints one copy and
    no two reprints compute the same copy number (the job_id is the primary key)."""

    def work(s: Session) -> tuple[int, dict[str, Any]]:
        txn = repo.lock_transaction(s, transaction_id)
        payment = s.scalars(select(Payment).where(Payment.transaction_id == transaction_id)).first()
        if txn is None or payment is None:
            raise CommandError(ErrorCode.NOT_FOUND, f"no paid transaction {transaction_id}")
        device_id = actor.device_id if actor.is_device else payment.device_id
        if device_id is None:
            raise CommandError(ErrorCode.INVALID_STATE, "no till to print at: reprint from a cashier terminal")
        copy_prefix = f"rcpt-{payment.id}-r"
        unprinted = s.scalars(
            select(PrintJob)
            .where(
                PrintJob.transaction_id == transaction_id,
                PrintJob.device_id == device_id,
                PrintJob.state.not_in(FINAL_STATES),
                PrintJob.job_id.startswith(copy_prefix, autoescape=True),
            )
            .order_by(PrintJob.created_at.desc())
        ).first()
        if unprinted is not None:
            return device_id, json.loads(unprinted.payload)
        copies = s.scalar(select(func.count()).where(PrintJob.transaction_id == transaction_id)) or 0
        names = repo.staff_names(s, {payment.cashier_id} if payment.cashier_id else set())
        cashier = names.get(payment.cashier_id or 0) or txn.cashier_desk or ""
        body = receipt(header, txn, payment, cashier, s) | {"copy": True}
        return device_id, add_job(s, "receipt", f"{copy_prefix}{copies}", device_id, txn.id, body, False, now)

    return db.run_write(work)


def event_of(job: dict[str, Any]) -> str:
    """The event a job goes out as: a receipt as the original design's, a slip or report apart."""
    return "print_document" if "document" in job else "print_receipt"


def pending_jobs(db: Database, device_id: int, now: datetime | None = None) -> list[dict[str, Any]]:
    """What this till (or kiosk) still has to print, oldest first (sent again after every
    reconnect). A job whose outcome is unknown is not: it was sent once, and only the cashier asks
    for a copy. Nor is a kiosk's ticket older than ``TICKET_TTL``: its customer has gone."""
    stale_before = (now or datetime.now(UTC).replace(tzinfo=None)) - TICKET_TTL
    with db.read() as s:
        rows = s.scalars(
            select(PrintJob)
            .where(
                PrintJob.device_id == device_id,
                PrintJob.state.not_in(FINAL_STATES),
                ~(PrintJob.job_id.startswith(TICKET_PREFIX, autoescape=True) & (PrintJob.created_at < stale_before)),
            )
            .order_by(PrintJob.created_at, PrintJob.job_id)
        ).all()
        return [json.loads(r.payload) for r in rows]


def record_status(db: Database, device: Principal, status: PrintStatus, now: datetime) -> dict[str, Any]:
    with db.write() as s:
        job = s.get(PrintJob, status.job_id)
        if job is None or job.device_id != device.id or job.transaction_id != status.transaction_id:
            raise CommandError(ErrorCode.NOT_FOUND, f"no print job {status.job_id} for this till")
        if job.state not in FINAL_STATES:  # a late 'failed' must not undo a 'printed' or an 'unknown'
            job.state = "printed" if status.ok else "unknown" if status.unknown else "failed"
            job.detail = status.detail or None
            job.updated_at = now
        return {
            "transaction_id": job.transaction_id,
            "job_id": job.job_id,
            "ok": job.state == "printed",
            "state": status.state,
            "detail": status.detail,
            "device": device.name,
            "unknown": job.state == "unknown",
        }

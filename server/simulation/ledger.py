"""What a simulated day left behind, as plain values: the database's rows (transactions, the audit
log, payments) and what the clients saw (claim acknowledgements, Z reports, printed paper). The
invariant checks (`checks.py`) read only this, so a test can hand them a day with a fault in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class TxnRow:
    id: int
    code: str
    status: str
    created_at: datetime  # its place in the therapists' queue (a recall keeps it)
    services: frozenset[int]  # ordered at the kiosk: what decides who may claim it
    # Its place in the queue to pay: when its service finished (the moment the finish began,
    # which is not always the order the finishes committed in).
    pay_queue_key: datetime | None = None


@dataclass(frozen=True)
class AuditRow:
    seq: int  # the audit log's id: the order the changes committed in
    transaction_id: int | None
    action: str
    from_status: str | None
    to_status: str | None
    staff_id: int | None
    device_id: int | None


@dataclass(frozen=True)
class TenderRow:
    method: str
    amount_cents: int  # tendered
    change_cents: int


@dataclass(frozen=True)
class PaymentRow:
    transaction_id: int
    device_id: int | None
    session_id: int | None
    receipt_number: str | None
    due_cents: int
    tip_cents: int
    tenders: tuple[TenderRow, ...]


@dataclass(frozen=True)
class ZReport:
    """A till's Z report as the till's `till_close` acknowledgement carried it, in cents."""

    device_id: int
    session_id: int
    float_cents: int
    sales: dict[str, int]
    expected: dict[str, int]
    counted_cash_cents: int
    over_short_cash_cents: int
    payments: int


@dataclass(frozen=True)
class TillTally:
    """What a till's driver took in by its own count of the acknowledgements (cents)."""

    device_id: int
    cash_cents: int  # cash tendered minus change given
    card_cents: int
    payments: int


@dataclass
class Ledger:
    transactions: dict[int, TxnRow]
    audit: list[AuditRow]
    payments: list[PaymentRow]
    skills: dict[int, frozenset[int] | None]  # per therapist (staff id); None: does everything
    z_reports: list[ZReport] = field(default_factory=list)
    tallies: list[TillTally] = field(default_factory=list)
    claim_acks: list[tuple[int, str]] = field(default_factory=list)  # (transaction, claimer) per ack
    printed: dict[int, list[str]] | None = None  # receipt numbers on each till's paper; None: no printers
    claimers: int = 1  # therapists claiming at once: how far commit order may stray from call order
    cashiers: int = 1
    # Audit rows by which a change may come before a claim in id order yet have committed after
    # the claim read the queue: 0 where writes are serialised (SQLite); on MariaDB ids are handed
    # out at INSERT, not at COMMIT, so a recall in flight beside a claim can take the lower id.
    reorder_window: int = 0

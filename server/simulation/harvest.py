"""The day's rows from the server's database, as the ledger the checks read: the transactions this
day's kiosks made, their audit log, their payments with tenders, and the therapists' skills."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..db.engine import Database
from ..db.models import AuditEntry, Payment, PaymentTender, Staff, StaffSkill, Transaction, TransactionItem
from .driver import Played
from .ledger import AuditRow, Ledger, PaymentRow, TenderRow, TxnRow


def ledger_of(db: Database, played: Played, *, claimers: int, cashiers: int, reorder_window: int = 0) -> Ledger:
    ids = sorted(played.created)
    with db.read() as s:
        txns = {t.id: t for t in s.scalars(select(Transaction).where(Transaction.id.in_(ids)))} if ids else {}
        services: dict[int, set[int]] = defaultdict(set)
        for item in s.scalars(select(TransactionItem).where(TransactionItem.transaction_id.in_(ids))):
            txn = txns[item.transaction_id]
            if item.created_at == txn.created_at:  # ordered at the kiosk, not added in the room
                services[item.transaction_id].add(item.service_id)
        audit = _audit(s, ids)
        tenders: dict[int, list[TenderRow]] = defaultdict(list)
        payments = list(s.scalars(select(Payment).where(Payment.transaction_id.in_(ids)).order_by(Payment.id)))
        pids = [p.id for p in payments]
        for t in s.scalars(select(PaymentTender).where(PaymentTender.payment_id.in_(pids)).order_by(PaymentTender.id)):
            tenders[t.payment_id].append(TenderRow(t.method, t.amount_cents, t.change_cents))
        skills: dict[int, set[int]] = defaultdict(set)
        for row in s.scalars(select(StaffSkill)):
            skills[row.staff_id].add(row.service_id)
        therapists = list(s.scalars(select(Staff.id).where(Staff.role == "therapist")))
    return Ledger(
        transactions={
            t.id: TxnRow(t.id, t.code, t.status, t.created_at, frozenset(services[t.id]), t.service_finished_at)
            for t in txns.values()
        },
        audit=audit,
        payments=[
            PaymentRow(
                p.transaction_id,
                p.device_id,
                p.session_id,
                p.receipt_number,
                p.amount_due_cents,
                p.tip_cents,
                tuple(tenders[p.id]) or (TenderRow(p.method, p.amount_paid_cents, p.change_cents),),
            )
            for p in payments
        ],
        skills={sid: frozenset(skills[sid]) for sid in therapists},
        z_reports=list(played.z_reports),
        tallies=list(played.tallies),
        claim_acks=list(played.claim_acks),
        claimers=claimers,
        cashiers=cashiers,
        reorder_window=reorder_window,
    )


def _audit(s: Session, ids: list[int]) -> list[AuditRow]:
    """The day's audit rows in commit order, each with the therapist who acted: a room box's claim
    is recorded with the device alone, so its signed-in therapist (from the desk sign-ins before
    it) is filled in — the FIFO check needs their skills."""
    signed_in: dict[int, int | None] = {}
    rows = []
    query = select(AuditEntry).where(
        or_(AuditEntry.transaction_id.in_(ids), AuditEntry.action.in_(("desk_signed_in", "desk_signed_out")))
    )
    for a in s.scalars(query.order_by(AuditEntry.id)):
        if a.action == "desk_signed_in" and a.device_id is not None:
            signed_in[a.device_id] = a.staff_id
        elif a.action == "desk_signed_out" and a.device_id is not None:
            signed_in[a.device_id] = None
        elif a.transaction_id is not None:
            staff = a.staff_id if a.staff_id is not None else signed_in.get(a.device_id or 0)
            rows.append(AuditRow(a.id, a.transaction_id, a.action, a.from_status, a.to_status, staff, a.device_id))
    return rows

"""Queries on the queue. Locking lives here: the claim's FOR UPDATE SKIP LOCKED, the row locks
that serialise changes to one transaction, the daily code counter and the queue version."""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.orm import Session

from ..domain.status import TxnStatus
from .models import AuditEntry, DailyCounter, QueueState, Service, Staff, Transaction, TransactionItem


def _is_mysql(session: Session) -> bool:
    return session.get_bind().dialect.name in ("mysql", "mariadb")


def claim_oldest(session: Session, status: TxnStatus) -> Transaction | None:
    """Lock and return the oldest transaction in `status`, skipping rows other claimers hold.

    MariaDB: SELECT … ORDER BY queue_key, id LIMIT 1 FOR UPDATE SKIP LOCKED over
    ix_transactions_queue. SQLite: the writer already holds the database lock (BEGIN IMMEDIATE),
    so the plain oldest row is ours alone.
    """
    query = (
        select(Transaction)
        .where(Transaction.status == status.value)
        .order_by(Transaction.queue_key, Transaction.id)
        .limit(1)
    )
    if _is_mysql(session):
        query = query.with_for_update(skip_locked=True)
    return session.scalars(query).first()


def lock_transaction(session: Session, transaction_id: int) -> Transaction | None:
    """The transaction, locked until commit, so concurrent changes to it queue up behind us."""
    query = select(Transaction).where(Transaction.id == transaction_id)
    if _is_mysql(session):
        query = query.with_for_update()
    return session.scalars(query).first()


def lock_by_code(session: Session, business_day: date, code: str) -> Transaction | None:
    query = select(Transaction).where(Transaction.business_day == business_day, Transaction.code == code)
    if _is_mysql(session):
        query = query.with_for_update()
    return session.scalars(query).first()


def next_ticket_number(session: Session, business_day: date) -> int:
    """Raise and return the day's counter; its row lock orders concurrent kiosks."""
    table = DailyCounter.__table__
    if _is_mysql(session):
        stmt = mysql.insert(table).values(business_day=business_day, last_number=1)
        stmt = stmt.on_duplicate_key_update(last_number=table.c.last_number + 1)
    else:
        stmt = sqlite.insert(table).values(business_day=business_day, last_number=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.business_day], set_={"last_number": table.c.last_number + 1}
        )
    session.execute(stmt)
    return int(session.scalar(select(DailyCounter.last_number).where(DailyCounter.business_day == business_day)))


def bump_version(session: Session) -> int:
    """Raise the queue version by one. Called last before commit: the row lock is held only
    while committing, and versions are handed out in commit order, without gaps."""
    session.execute(update(QueueState).where(QueueState.id == 1).values(version=QueueState.version + 1))
    return int(session.scalar(select(QueueState.version).where(QueueState.id == 1)))


def current_version(session: Session) -> int:
    return int(session.scalar(select(QueueState.version).where(QueueState.id == 1)))


def items_of(session: Session, transaction_id: int) -> list[TransactionItem]:
    return list(
        session.scalars(
            select(TransactionItem).where(TransactionItem.transaction_id == transaction_id).order_by(TransactionItem.id)
        )
    )


def items_of_many(session: Session, ids: list[int]) -> dict[int, list[TransactionItem]]:
    found: dict[int, list[TransactionItem]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = session.scalars(
        select(TransactionItem).where(TransactionItem.transaction_id.in_(ids)).order_by(TransactionItem.id)
    )
    for item in rows:
        found[item.transaction_id].append(item)
    return found


def active_services(session: Session, ids: list[int]) -> dict[int, Service]:
    rows = session.scalars(select(Service).where(Service.id.in_(ids), Service.active.is_(True)))
    return {s.id: s for s in rows}


def staff_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(ids)))
    return {staff_id: name for staff_id, name in rows}


def in_statuses(session: Session, statuses: list[TxnStatus]) -> list[Transaction]:
    return list(
        session.scalars(
            select(Transaction)
            .where(Transaction.status.in_([s.value for s in statuses]))
            .order_by(Transaction.queue_key, Transaction.id)
        )
    )


def waiting_ahead(session: Session, status: TxnStatus, queue_key: datetime, txn_id: int) -> list[int]:
    """Minutes of each transaction ahead of (queue_key, txn_id) in `status`, in queue order."""
    rows = session.execute(
        select(Transaction.total_minutes)
        .where(
            Transaction.status == status.value,
            (Transaction.queue_key < queue_key) | ((Transaction.queue_key == queue_key) & (Transaction.id < txn_id)),
        )
        .order_by(Transaction.queue_key, Transaction.id)
    )
    return [int(m) for (m,) in rows]


def active_therapist_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).where(Staff.role == "therapist", Staff.active.is_(True))) or 0)


def add_audit(
    session: Session,
    *,
    action: str,
    actor: str,
    created_at: datetime,
    transaction_id: int | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    staff_id: int | None = None,
    device_id: int | None = None,
    detail: dict[str, object] | None = None,
) -> None:
    session.add(
        AuditEntry(
            transaction_id=transaction_id,
            action=action,
            from_status=from_status,
            to_status=to_status,
            actor=actor,
            staff_id=staff_id,
            device_id=device_id,
            detail=json.dumps(detail, sort_keys=True) if detail else None,
            created_at=created_at,
        )
    )


def ping(session: Session) -> None:
    session.execute(text("SELECT 1"))

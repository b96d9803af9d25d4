"""Queries for who is connected across server processes, for claims held past their holder,
and for pruning what is kept only for a while."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, delete, func, select, update
from sqlalchemy.orm import Session

from ..domain.status import CLAIMED
from .models import Connection, IdempotencyKey, Transaction


def add_connection(s: Session, sid: str, principal: str, process: str, now: datetime) -> None:
    s.add(Connection(sid=sid, principal=principal, process=process, connected_at=now, last_seen_at=now))


def close_connection(s: Session, sid: str, now: datetime) -> None:
    s.execute(update(Connection).where(Connection.sid == sid).values(disconnected_at=now, last_seen_at=now))


def mark_seen(s: Session, process: str, now: datetime) -> None:
    s.execute(
        update(Connection)
        .where(Connection.process == process, Connection.disconnected_at.is_(None))
        .values(last_seen_at=now)
    )


def close_all_of(s: Session, process: str, now: datetime) -> None:
    s.execute(
        update(Connection)
        .where(Connection.process == process, Connection.disconnected_at.is_(None))
        .values(disconnected_at=now)
    )


def claims_older_than(s: Session, cutoff: datetime) -> list[tuple[int, str, datetime]]:
    """(id, holder, claimed_at) of every held claim made before `cutoff`."""
    rows = s.execute(
        select(Transaction.id, Transaction.holder, Transaction.claimed_at).where(
            Transaction.status.in_([c.value for c in CLAIMED]),
            Transaction.holder.is_not(None),
            Transaction.claimed_at < cutoff,
        )
    ).all()
    return [(int(i), str(h), c) for i, h, c in rows]


def last_seen(s: Session, principals: set[str], stale_before: datetime) -> dict[str, tuple[datetime, bool]]:
    """Per principal with any connection: when last seen, and whether a live connection remains."""
    rows = s.execute(
        select(
            Connection.principal,
            func.max(Connection.last_seen_at),
            func.sum(
                case((and_(Connection.disconnected_at.is_(None), Connection.last_seen_at > stale_before), 1), else_=0)
            ),
        )
        .where(Connection.principal.in_(principals))
        .group_by(Connection.principal)
    ).all()
    return {principal: (seen, bool(live)) for principal, seen, live in rows}


def prune(s: Session, closed_before: datetime, keys_before: datetime) -> None:
    s.execute(delete(Connection).where(Connection.disconnected_at < closed_before))
    s.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < keys_before))

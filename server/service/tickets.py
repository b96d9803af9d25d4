"""A customer's ticket, as their phone shows it (/t/<public_id>): public fields only — the code,
a first name, where they are in the queue, the wait, the room they are called to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..db import queue_repo as repo
from ..db.engine import Database
from ..domain.status import TxnStatus
from ..domain.waits import first_name
from . import estimating
from .queue import call_at
from .views import iso


def ticket_view(db: Database, public_id: str, now: datetime) -> dict[str, Any] | None:
    """The ticket of this public id, or None when there is none."""
    with db.read() as s:
        txn = repo.by_public_id(s, public_id)
        if txn is None:
            return None
        view: dict[str, Any] = {
            "code": txn.code,
            "first_name": first_name(txn.customer_name),
            "status": txn.status,
            "room": txn.room,
            "cashier_desk": txn.cashier_desk,
            "position": None,
            "estimated_wait_min": None,
            "estimated_call_at": None,
            "created_at": iso(txn.created_at),
            "server_time": iso(now),
        }
        if txn.status == TxnStatus.PENDING_THERAPIST.value:
            quoted = estimating.quote_queue(s, now)
            quote = quoted[txn.id]
            view.update(
                position=quote.position,
                estimated_wait_min=quote.estimated_wait_min,
                estimated_call_at=call_at(now, quote.estimated_wait_min),
            )
        return view

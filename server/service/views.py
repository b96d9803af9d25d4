"""What the wire carries about a transaction: a staff view (full) and a public view (code, first name)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..db.models import Transaction, TransactionItem
from ..domain.money import format_cents
from ..domain.moves import allowed_moves
from ..domain.status import REACHED_AT, TxnStatus
from ..domain.waits import first_name, queue_place

TIMESTAMPS = tuple(REACHED_AT.values())  # the moment each status was reached, in status order


def iso(moment: datetime | None) -> str | None:
    """UTC, with a Z, to the millisecond: what JavaScript's Date parses."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def item_view(item: TransactionItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "service_id": item.service_id,
        "name": item.name,
        "quantity": item.quantity,
        "unit_price": format_cents(item.unit_price_cents),
        "line_total": format_cents(item.unit_price_cents * item.quantity),
        "duration_min": item.duration_min,
        "added_by": item.added_by,
        "discount": format_cents(item.discount_cents),
        "discount_reason": item.discount_reason,
        "tax_rate": format_cents(item.tax_rate_bp),
    }


def public_view(txn: Transaction) -> dict[str, Any]:
    """For the lobby and the kiosk: nothing beyond the code and a first name."""
    return {
        "id": txn.id,
        "code": txn.code,
        "first_name": first_name(txn.customer_name),
        "status": txn.status,
        "room": txn.room,
        "cashier_desk": txn.cashier_desk,
        "total_minutes": txn.total_minutes,
        "queue_since": iso(txn.queue_key),
        "service_started_at": iso(txn.service_started_at),
        "row_version": txn.row_version,
    }


def staff_view(txn: Transaction, items: list[TransactionItem], names: dict[int, str]) -> dict[str, Any]:
    view = public_view(txn)
    view.update(
        {
            "customer_name": txn.customer_name,
            "business_day": txn.business_day.isoformat(),
            "therapist": _person(txn.therapist_id, names),
            "cashier": _person(txn.cashier_id, names),
            "items": [item_view(i) for i in items],
            "total": format_cents(txn.total_cents),
            "timestamps": {name: iso(getattr(txn, name)) for name in TIMESTAMPS},
            # The screens offer these and sort by this, rather than re-encoding the rules.
            "allowed": [m.value for m in allowed_moves(TxnStatus(txn.status))],
            "queue_place": queue_place(txn.queue_key, txn.id),
            "priority": bool(txn.priority),
            "priority_reason": txn.priority_reason,
            "cancel_reason": txn.cancel_reason,
            "order_discount": format_cents(txn.discount_cents),
            "order_discount_reason": txn.discount_reason,
        }
    )
    return view


def _person(staff_id: int | None, names: dict[int, str]) -> dict[str, Any] | None:
    if staff_id is None:
        return None
    return {"id": staff_id, "name": names.get(staff_id, "")}

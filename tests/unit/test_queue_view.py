from __future__ import annotations

from datetime import datetime, timedelta

from server.domain.queue_view import Entry, QueueMirror
from server.domain.status import TxnStatus as S

NOW = datetime(2026, 11, 29, 12, 0, 0)


def at(minute: int) -> str:
    return (NOW + timedelta(minutes=minute)).isoformat() + "Z"


def test_waiting_order_positions_and_waits() -> None:
    mirror = QueueMirror()
    mirror.reset(
        [
            Entry(3, S.PENDING_THERAPIST, at(-5), 30),
            Entry(1, S.PENDING_THERAPIST, at(-20), 60),
            Entry(2, S.IN_SERVICE, at(-40), 60, NOW - timedelta(minutes=45)),
            Entry(9, S.PAID, at(-90), 60),
        ],
        therapists=2,
    )
    assert len(mirror) == 3  # paid is not live
    est = mirror.estimates(NOW)
    assert [(e.id, e.position, e.estimated_wait_min) for e in est] == [(1, 1, 0), (3, 2, 15)]


def test_apply_moves_and_removes() -> None:
    mirror = QueueMirror()
    mirror.reset([Entry(1, S.PENDING_THERAPIST, at(0), 30), Entry(2, S.PENDING_THERAPIST, at(1), 30)], 1)
    mirror.apply(Entry(1, S.THERAPIST_CONFIRMED, at(0), 30))
    assert [(e.id, e.position, e.estimated_wait_min) for e in mirror.estimates(NOW)] == [(2, 1, 30)]
    mirror.apply(Entry(1, S.CANCELLED, at(0), 30))
    assert [(e.id, e.estimated_wait_min) for e in mirror.estimates(NOW)] == [(2, 0)]
    # Released back: the original place (earlier queue_since) puts it first again.
    mirror.apply(Entry(1, S.PENDING_THERAPIST, at(0), 30))
    assert [e.id for e in mirror.estimates(NOW)] == [1, 2]

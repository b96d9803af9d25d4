"""Estimated waits: first come, first served over the therapists on duty."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from datetime import datetime


def estimate_waits(waiting_minutes: Sequence[int], busy_remaining_minutes: Sequence[int], therapists: int) -> list[int]:
    """Minutes until each waiting customer (in queue order) is likely taken.

    Each therapist is free after the remaining minutes of what they are doing now (0 when idle);
    the queue is handed out in order, each customer going to the therapist free first.
    """
    therapists = max(1, therapists, len(busy_remaining_minutes))
    k = len(waiting_minutes)
    idle = min(k, therapists - len(busy_remaining_minutes))
    # k customers only ever reach the k therapists free soonest: keep those, however many are busy.
    free_at = heapq.nsmallest(k, [max(0, m) for m in busy_remaining_minutes] + [0] * idle)
    waits: list[int] = []
    for minutes in waiting_minutes:
        start = heapq.heappop(free_at)
        waits.append(start)
        heapq.heappush(free_at, start + max(0, minutes))
    return waits


def minutes_left(total_minutes: int, service_started_at: datetime | None, now: datetime) -> int:
    """What a busy therapist still needs: the whole service if not started, else what is left."""
    if service_started_at is None:
        return total_minutes
    elapsed = int((now - service_started_at).total_seconds() // 60)
    return max(0, total_minutes - elapsed)


def busy_minutes(with_therapist: Iterable[tuple[int, datetime | None]], now: datetime) -> list[int]:
    """`minutes_left` for each (total_minutes, service_started_at) with a therapist."""
    return [minutes_left(total, started, now) for total, started in with_therapist]


def queue_place(queue_key: datetime, txn_id: int) -> str:
    """An opaque key that sorts a queue first come, first served (ties by id), as strings do."""
    return f"{queue_key.isoformat(timespec='microseconds')}#{txn_id:010d}"


def first_name(customer_name: str) -> str:
    """What public screens show: the first word of the name, nothing more."""
    parts = customer_name.strip().split()
    return parts[0] if parts else ""

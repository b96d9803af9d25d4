"""Estimated waits: first come, first served over the therapists on duty."""

from __future__ import annotations

import heapq
from collections.abc import Sequence


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


def first_name(customer_name: str) -> str:
    """What public screens show: the first word of the name, nothing more."""
    parts = customer_name.strip().split()
    return parts[0] if parts else ""

"""A mirror of the live queue kept from broadcast changes: positions and estimated waits
without asking the database after every change."""

from __future__ import annotations

from bisect import bisect_left, insort
from dataclasses import dataclass
from datetime import datetime

from .status import TERMINAL, WITH_THERAPIST, TxnStatus
from .waits import busy_minutes, estimate_waits


@dataclass(frozen=True)
class Entry:
    id: int
    status: TxnStatus
    queue_since: str  # ISO-8601 UTC from the wire; sorts like the moment it names
    total_minutes: int
    service_started_at: datetime | None = None


@dataclass(frozen=True)
class Estimate:
    id: int
    position: int
    estimated_wait_min: int


class QueueMirror:
    """Waiting customers kept in queue order as changes arrive (a bisect insert, not a re-sort),
    so that the estimates for the head of the queue cost the same with 10 or 2,000 waiting."""

    def __init__(self) -> None:
        self._entries: dict[int, Entry] = {}
        self._waiting: list[tuple[str, int]] = []  # (queue_since, id), sorted
        self._busy: dict[int, Entry] = {}
        self.therapists = 1

    def reset(self, entries: list[Entry], therapists: int) -> None:
        self._entries, self._waiting, self._busy = {}, [], {}
        self.therapists = max(1, therapists)
        for entry in entries:
            self.apply(entry)

    def apply(self, entry: Entry) -> None:
        old = self._entries.pop(entry.id, None)
        if old is not None:
            if old.status is TxnStatus.PENDING_THERAPIST:
                key = (old.queue_since, old.id)
                i = bisect_left(self._waiting, key)
                if i < len(self._waiting) and self._waiting[i] == key:
                    del self._waiting[i]
            self._busy.pop(old.id, None)
        if entry.status in TERMINAL:
            return
        self._entries[entry.id] = entry
        if entry.status is TxnStatus.PENDING_THERAPIST:
            insort(self._waiting, (entry.queue_since, entry.id))
        elif entry.status in WITH_THERAPIST:
            self._busy[entry.id] = entry

    def waiting(self) -> list[Entry]:
        return [self._entries[i] for _, i in self._waiting]

    def estimates(self, now: datetime, limit: int | None = None) -> list[Estimate]:
        """Position and estimated wait of the first `limit` waiting customers (all when None)."""
        head = self._waiting if limit is None else self._waiting[:limit]
        # Claimed but not started counts in full: its service_started_at is None.
        busy = busy_minutes(((e.total_minutes, e.service_started_at) for e in self._busy.values()), now)
        minutes = estimate_waits([self._entries[i].total_minutes for _, i in head], busy, self.therapists)
        return [Estimate(i, n, m) for n, ((_, i), m) in enumerate(zip(head, minutes, strict=True), start=1)]

    def __len__(self) -> int:
        return len(self._entries)

"""A mirror of the live queue kept from broadcast changes: positions and estimated waits
without asking the database after every change."""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from .estimates import Busy, Quote, Therapist, Waiting, quotes
from .status import TERMINAL, WITH_THERAPIST, TxnStatus


@dataclass(frozen=True)
class Entry:
    id: int
    status: TxnStatus
    queue_since: str  # ISO-8601 UTC from the wire; sorts like the moment it names
    total_minutes: int
    service_started_at: datetime | None = None
    priority: bool = False
    services: tuple[tuple[int, int], ...] = ()  # (service_id, quantity)
    therapist_id: int | None = None

    @property
    def call_key(self) -> tuple[int, str, int]:
        return (0 if self.priority else 1, self.queue_since, self.id)


# Kept for the broadcaster's callers: one estimate per waiting customer.
Estimate = Quote


@dataclass
class Roster:
    """Who is on shift, what each can do, and how long services take (minutes, moving averages)."""

    on_shift: Sequence[Therapist] = ()
    averages: Mapping[int, float] = field(default_factory=dict)


class QueueMirror:
    """Waiting customers kept in call order as changes arrive (a bisect insert, not a re-sort),
    so that the estimates for the head of the queue cost the same with 10 or 2,000 waiting."""

    def __init__(self) -> None:
        self._entries: dict[int, Entry] = {}
        self._waiting: list[tuple[int, str, int]] = []  # call keys, sorted
        self._busy: dict[int, Entry] = {}
        self.roster = Roster()

    def reset(self, entries: list[Entry], roster: Roster) -> None:
        self._entries, self._waiting, self._busy = {}, [], {}
        self.roster = roster
        for entry in entries:
            self.apply(entry)

    def apply(self, entry: Entry) -> None:
        old = self._entries.pop(entry.id, None)
        if old is not None:
            if old.status is TxnStatus.PENDING_THERAPIST:
                key = old.call_key
                i = bisect_left(self._waiting, key)
                if i < len(self._waiting) and self._waiting[i] == key:
                    del self._waiting[i]
            self._busy.pop(old.id, None)
        if entry.status in TERMINAL:
            return
        self._entries[entry.id] = entry
        if entry.status is TxnStatus.PENDING_THERAPIST:
            insort(self._waiting, entry.call_key)
        elif entry.status in WITH_THERAPIST:
            self._busy[entry.id] = entry

    def waiting(self) -> list[Entry]:
        return [self._entries[i] for *_, i in self._waiting]

    def estimates(self, now: datetime, limit: int | None = None) -> list[Estimate]:
        """Position and estimated wait of the first `limit` waiting customers (all when None)."""
        head = self._waiting if limit is None else self._waiting[:limit]
        waiting = [
            Waiting(e.id, e.priority, f"{e.queue_since}#{e.id:010d}", e.services, e.total_minutes)
            for e in (self._entries[i] for *_, i in head)
        ]
        busy = [Busy(e.therapist_id, e.services, e.service_started_at, e.total_minutes) for e in self._busy.values()]
        return quotes(waiting, self.roster.on_shift, busy, self.roster.averages, now)

    def newcomer_wait(self, now: datetime) -> int | None:
        """The wait a customer joining the back of the queue now would be quoted (any service)."""
        waiting = [
            Waiting(e.id, e.priority, f"{e.queue_since}#{e.id:010d}", e.services, e.total_minutes)
            for e in (self._entries[i] for *_, i in self._waiting)
        ]
        waiting.append(Waiting(0, False, "~", ()))
        busy = [Busy(e.therapist_id, e.services, e.service_started_at, e.total_minutes) for e in self._busy.values()]
        return quotes(waiting, self.roster.on_shift, busy, self.roster.averages, now)[-1].estimated_wait_min

    def __len__(self) -> int:
        return len(self._entries)

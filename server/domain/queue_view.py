"""A mirror of the live queue kept from broadcast changes: positions and estimated waits
without asking the database after every change."""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from .estimates import Busy, Loads, Quote, Therapist, Waiting, expected_minutes, quotes_after, remaining_minutes
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
    and each therapist's claimed work kept as a running sum, so that the estimates for the head
    of the queue cost the same with 10 or 5,000 waiting and 2,000 claimed."""

    def __init__(self) -> None:
        self._entries: dict[int, Entry] = {}
        self._waiting: list[tuple[int, str, int]] = []  # call keys, sorted
        self._busy: dict[int, Entry] = {}
        # Claimed, not started, by a known therapist: the expected minutes do not change with
        # the clock, so they are summed once per therapist (and what each entry added, to take
        # the same amount away again).
        self._claimed: dict[int, tuple[float, int]] = {}  # therapist → (minutes, customers)
        self._claimed_by: dict[int, tuple[int, float]] = {}  # entry → (therapist, minutes)
        # In service (what is left shrinks with the clock) or claimed with nobody signed in:
        # worked out at each estimate, in the order they became busy. A handful at any time.
        self._dynamic: dict[int, Entry] = {}
        self._roster = Roster()

    @property
    def roster(self) -> Roster:
        return self._roster

    @roster.setter
    def roster(self, roster: Roster) -> None:
        """New averages change every claimed customer's expected minutes: summed again."""
        self._roster = roster
        self._claimed, self._claimed_by = {}, {}
        for entry in self._busy.values():
            if entry.id not in self._dynamic:
                self._claim(entry)

    def reset(self, entries: list[Entry], roster: Roster) -> None:
        self._entries, self._waiting, self._busy = {}, [], {}
        self._claimed, self._claimed_by, self._dynamic = {}, {}, {}
        self._roster = roster
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
            self._dynamic.pop(old.id, None)
            self._unclaim(old.id)
        if entry.status in TERMINAL:
            return
        self._entries[entry.id] = entry
        if entry.status is TxnStatus.PENDING_THERAPIST:
            insort(self._waiting, entry.call_key)
        elif entry.status in WITH_THERAPIST:
            self._busy[entry.id] = entry
            if entry.service_started_at is not None or entry.therapist_id is None:
                self._dynamic[entry.id] = entry
            else:
                self._claim(entry)

    def _claim(self, entry: Entry) -> None:
        assert entry.therapist_id is not None
        minutes = expected_minutes(entry.services, self._roster.averages) if entry.services else entry.total_minutes
        total, count = self._claimed.get(entry.therapist_id, (0.0, 0))
        self._claimed[entry.therapist_id] = (total + minutes, count + 1)
        self._claimed_by[entry.id] = (entry.therapist_id, minutes)

    def _unclaim(self, entry_id: int) -> None:
        found = self._claimed_by.pop(entry_id, None)
        if found is None:
            return
        therapist_id, minutes = found
        total, count = self._claimed[therapist_id]
        if count <= 1:
            del self._claimed[therapist_id]  # back to exactly nothing: no float left over
        else:
            self._claimed[therapist_id] = (total - minutes, count - 1)

    def _loads(self, now: datetime) -> Loads:
        loads = Loads({t: minutes for t, (minutes, _) in self._claimed.items()}, [])
        for e in self._dynamic.values():
            busy = Busy(e.therapist_id, e.services, e.service_started_at, e.total_minutes)
            loads.add(e.therapist_id, remaining_minutes(busy, self._roster.averages, now))
        return loads

    def position_of(self, transaction_id: int) -> int | None:
        """A waiting customer's place in the call order (1 = next); None when not waiting."""
        entry = self._entries.get(transaction_id)
        if entry is None or entry.status is not TxnStatus.PENDING_THERAPIST:
            return None
        return bisect_left(self._waiting, entry.call_key) + 1

    def waiting(self) -> list[Entry]:
        return [self._entries[i] for *_, i in self._waiting]

    def estimates(self, now: datetime, limit: int | None = None) -> list[Estimate]:
        """Position and estimated wait of the first `limit` waiting customers (all when None)."""
        head = self._waiting if limit is None else self._waiting[:limit]
        waiting = [
            Waiting(e.id, e.priority, f"{e.queue_since}#{e.id:010d}", e.services, e.total_minutes)
            for e in (self._entries[i] for *_, i in head)
        ]
        return quotes_after(waiting, self._roster.on_shift, self._loads(now), self._roster.averages)

    def newcomer_wait(self, now: datetime) -> int | None:
        """The wait a customer joining the back of the queue now would be quoted (any service)."""
        waiting = [
            Waiting(e.id, e.priority, f"{e.queue_since}#{e.id:010d}", e.services, e.total_minutes)
            for e in (self._entries[i] for *_, i in self._waiting)
        ]
        waiting.append(Waiting(0, False, "~", ()))
        quoted = quotes_after(waiting, self._roster.on_shift, self._loads(now), self._roster.averages)
        return quoted[-1].estimated_wait_min

    def __len__(self) -> int:
        return len(self._entries)

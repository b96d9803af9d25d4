"""A mirror of the live queue kept from broadcast changes: positions and estimated waits
without asking the database after every change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .status import TERMINAL, TxnStatus
from .waits import estimate_waits


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
    def __init__(self) -> None:
        self._entries: dict[int, Entry] = {}
        self.therapists = 1

    def reset(self, entries: list[Entry], therapists: int) -> None:
        self._entries = {e.id: e for e in entries if e.status not in TERMINAL}
        self.therapists = max(1, therapists)

    def apply(self, entry: Entry) -> None:
        if entry.status in TERMINAL:
            self._entries.pop(entry.id, None)
        else:
            self._entries[entry.id] = entry

    def waiting(self) -> list[Entry]:
        rows = [e for e in self._entries.values() if e.status is TxnStatus.PENDING_THERAPIST]
        return sorted(rows, key=lambda e: (e.queue_since, e.id))

    def estimates(self, now: datetime) -> list[Estimate]:
        waiting = self.waiting()
        busy = []
        for e in self._entries.values():
            if e.status is TxnStatus.THERAPIST_CONFIRMED:
                busy.append(e.total_minutes)
            elif e.status is TxnStatus.IN_SERVICE:
                started = e.service_started_at or now
                elapsed = int((now - started).total_seconds() // 60)
                busy.append(max(0, e.total_minutes - elapsed))
        minutes = estimate_waits([e.total_minutes for e in waiting], busy, self.therapists)
        return [Estimate(e.id, i, m) for i, (e, m) in enumerate(zip(waiting, minutes, strict=True), start=1)]

    def __len__(self) -> int:
        return len(self._entries)

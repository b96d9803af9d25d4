"""Estimated waits from the database: who is on shift and able, what each is doing, what waits,
how long services take (the domain's `estimates` does the arithmetic)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..db import queue_repo as repo
from ..db import roster_repo
from ..domain.estimates import Busy, Quote, Therapist, Waiting, can_serve, quotes
from ..domain.queue_view import Roster
from ..domain.status import WITH_THERAPIST, TxnStatus
from ..domain.waits import queue_place

NEWCOMER_ID = 0  # a customer not yet made: what the kiosk would quote them


def roster(s: Session) -> Roster:
    on_shift = roster_repo.therapists(s, on_shift_only=True)
    skills = roster_repo.skills(s, [t.id for t in on_shift])
    everything = roster_repo.active_service_ids(s)
    team = tuple(Therapist(t.id, None if skills[t.id] >= everything else skills[t.id]) for t in on_shift)
    return Roster(team, roster_repo.averages(s))


def quote_live(
    s: Session, live: Sequence[Any], now: datetime, *, newcomer: tuple[tuple[int, int], ...] | None = None
) -> tuple[dict[int, Quote], Roster, dict[int, tuple[tuple[int, int], ...]]]:
    """Quotes for the waiting among `live` (transactions), and for a newcomer with these services
    at the back of the queue when given (under NEWCOMER_ID); also the roster and each live
    transaction's services, which callers show."""
    team = roster(s)
    services = repo.item_services(s, [t.id for t in live])
    waiting = [
        Waiting(t.id, bool(t.priority), queue_place(t.queue_key, t.id), services[t.id], t.total_minutes)
        for t in live
        if t.status == TxnStatus.PENDING_THERAPIST.value
    ]
    if newcomer is not None:
        waiting.append(Waiting(NEWCOMER_ID, False, "~", newcomer))  # "~" sorts after every place
    busy = [Busy(t.therapist_id, services[t.id], t.service_started_at) for t in live if t.status in WITH_THERAPIST]
    found = {q.id: q for q in quotes(waiting, team.on_shift, busy, team.averages, now)}
    return found, team, services


def quote_queue(s: Session, now: datetime, *, newcomer: tuple[tuple[int, int], ...] | None = None) -> dict[int, Quote]:
    """`quote_live`'s quotes, reading only the waiting and those with a therapist, and only the
    columns a quote needs (a kiosk's confirm and a ticket page ask for no more)."""
    rows = repo.quote_rows(s, [TxnStatus.PENDING_THERAPIST, *sorted(WITH_THERAPIST)])
    return quote_live(s, rows, now, newcomer=newcomer)[0]


def unservable(services: tuple[tuple[int, int], ...], team: Roster) -> bool:
    """Nobody on shift can do every one of these services."""
    return not any(can_serve(t.skills, services) for t in team.on_shift)

"""Estimated waits from what waits ahead, who is on shift and able, and how long services really
take: pure functions, table-tested in tests/unit/test_estimates.py and measured against a
simulated day in tests/server/test_wait_accuracy.py (docs/PERFORMANCE.md, "Wait estimates").

The model replays the claim: customers are called priority first, then first come first served;
each goes to the therapist able to serve all their services who is free first. A therapist is
free after what they are doing now: the whole expected length of a claimed customer, or what is
left of one in service. Expected lengths come from a moving average per service of observed
durations (`observe`), starting from the catalog's minutes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

# How much one observed service moves its average: the last ~10 services carry most weight.
ALPHA = 0.2
# An observation this far from what was expected is clipped: a finish pressed an hour late (or
# a second after the start) says little about how long the service takes.
CLIP_LOW, CLIP_HIGH = 0.5, 2.0


@dataclass(frozen=True)
class Waiting:
    id: int
    priority: bool
    place: str  # the FIFO sort key (`waits.queue_place`)
    services: tuple[tuple[int, int], ...]  # (service_id, quantity)
    minutes: float = 0.0  # the catalog's total: what is expected when the services are not known

    def expected(self, averages: Mapping[int, float]) -> float:
        return expected_minutes(self.services, averages) if self.services else self.minutes

    @property
    def call_order(self) -> tuple[int, str]:
        return (0 if self.priority else 1, self.place)


@dataclass(frozen=True)
class Busy:
    """A customer a therapist has now: claimed (not started) or in service."""

    therapist_id: int | None  # None: claimed at a room box with nobody signed in
    services: tuple[tuple[int, int], ...]
    started_at: datetime | None
    minutes: float = 0.0  # as Waiting.minutes


@dataclass(frozen=True)
class Therapist:
    id: int
    skills: frozenset[int] | None  # None: every service


@dataclass(frozen=True)
class Quote:
    id: int
    position: int
    estimated_wait_min: int | None  # None: nobody on shift can serve this customer


def can_serve(skills: frozenset[int] | None, services: Iterable[tuple[int, int]]) -> bool:
    return skills is None or all(service_id in skills for service_id, _ in services)


def expected_minutes(services: Iterable[tuple[int, int]], averages: Mapping[int, float]) -> float:
    """How long these services take, by the moving averages (a service not in them: 30 min)."""
    return sum(averages.get(service_id, 30.0) * quantity for service_id, quantity in services)


def remaining_minutes(busy: Busy, averages: Mapping[int, float], now: datetime) -> float:
    expected = expected_minutes(busy.services, averages) if busy.services else busy.minutes
    if busy.started_at is None:
        return expected
    return max(0.0, expected - (now - busy.started_at).total_seconds() / 60)


@dataclass
class Loads:
    """Minutes of work ahead of each therapist, from the customers they have now; claims made at
    a room box with nobody signed in, each on its own (`unattributed`), in the order made."""

    by_therapist: dict[int, float]
    unattributed: list[float]

    @classmethod
    def of(cls, busy: Iterable[Busy], averages: Mapping[int, float], now: datetime) -> Loads:
        loads = cls({}, [])
        for b in busy:
            loads.add(b.therapist_id, remaining_minutes(b, averages, now))
        return loads

    def add(self, therapist_id: int | None, minutes: float) -> None:
        if therapist_id is None:
            self.unattributed.append(minutes)
        else:
            self.by_therapist[therapist_id] = self.by_therapist.get(therapist_id, 0.0) + minutes


def quotes(
    waiting: Sequence[Waiting],
    on_shift: Sequence[Therapist],
    busy: Sequence[Busy],
    averages: Mapping[int, float],
    now: datetime,
    limit: int | None = None,
) -> list[Quote]:
    """Position and estimated wait (minutes, rounded up) of each waiting customer, in call order;
    the first `limit` only when given (the rest cost nothing)."""
    return quotes_after(waiting, on_shift, Loads.of(busy, averages, now), averages, limit)


def quotes_after(
    waiting: Sequence[Waiting],
    on_shift: Sequence[Therapist],
    loads: Loads,
    averages: Mapping[int, float],
    limit: int | None = None,
) -> list[Quote]:
    """`quotes` from the therapists' loads worked out already: a caller that keeps them up to
    date as customers come and go (`queue_view.QueueMirror`) pays nothing per busy customer."""
    free_in = {t.id: loads.by_therapist.get(t.id, 0.0) for t in on_shift}
    skills: dict[int, frozenset[int] | None] = {t.id: t.skills for t in on_shift}
    # A room box's claim with nobody signed in is someone's: an on-shift therapist with nothing
    # else to do, else somebody not on the roster (who can do anything, as far as we know).
    idle = [i for i in free_in if free_in[i] == 0]
    for n, left in enumerate(loads.unattributed, start=1):
        if idle:
            free_in[idle.pop(0)] += left
        else:
            free_in[-n] = left
            skills[-n] = None
    ordered = sorted(waiting, key=lambda w: w.call_order)
    if limit is not None:
        ordered = ordered[:limit]
    out: list[Quote] = []
    for position, customer in enumerate(ordered, start=1):
        able = [i for i in free_in if can_serve(skills[i], customer.services)]
        if not able:
            out.append(Quote(customer.id, position, None))
            continue
        first = min(able, key=lambda i: (free_in[i], i))
        out.append(Quote(customer.id, position, _whole_minutes(free_in[first])))
        free_in[first] += customer.expected(averages)
    return out


def _whole_minutes(minutes: float) -> int:
    """Rounded up: a customer told 3 minutes and called at 3:20 felt misled; at 2:40, pleased.
    Sums kept up to date by adding and taking away carry float noise (30.000000001): not a
    minute more."""
    minutes = round(minutes, 6)
    whole = int(minutes)
    return whole if whole == minutes else whole + 1


def observe(average: float | None, catalog_minutes: float, observed_minutes: float, samples: int = 0) -> float:
    """The moving average after one more observed service (`samples` observed before it),
    clipped against what was expected. The first few count as a plain mean with the catalog's
    minutes as one sample (the first observation moves the estimate halfway), then each counts
    ALPHA: quick to learn a new service, steady once it is known."""
    expected = average if average is not None else catalog_minutes
    clipped = min(max(observed_minutes, expected * CLIP_LOW), expected * CLIP_HIGH)
    weight = max(ALPHA, 1 / (samples + 2))
    return expected + weight * (clipped - expected)


# Samples after which a service's own average is trusted alone; before, it leans on how much all
# services run over their catalog minutes (a new service is probably no different).
OWN_SAMPLES = 3


def expected_by_service(rows: Sequence[tuple[int, int, float | None, int]]) -> dict[int, float]:
    """Expected minutes per service from (id, catalog minutes, moving average, samples): a
    well-observed service by its own average; one seen little by its catalog minutes times how
    much the observed services run over theirs, blended with what it has shown."""
    seen = [(avg / minutes, samples) for _, minutes, avg, samples in rows if avg is not None and samples > 0]
    total = sum(n for _, n in seen)
    overrun = sum(r * n for r, n in seen) / total if total else 1.0
    expected: dict[int, float] = {}
    for service_id, minutes, avg, samples in rows:
        prior = minutes * overrun
        if avg is None or samples <= 0:
            expected[service_id] = prior
        elif samples >= OWN_SAMPLES:
            expected[service_id] = avg
        else:
            expected[service_id] = (samples * avg + (OWN_SAMPLES - samples) * prior) / OWN_SAMPLES
    return expected


def shares(observed_minutes: float, expected: Sequence[float]) -> list[float]:
    """One observed duration of several services, split by what each was expected to take."""
    total = sum(expected)
    if total <= 0:
        return [observed_minutes / len(expected)] * len(expected) if expected else []
    return [observed_minutes * e / total for e in expected]

"""A spa day as a seeded model, and nothing else: who comes when, what they choose, how long each
service runs, who does not come when called, who gives up waiting, how each pays. No I/O, no
clock: every time is in seconds of the model's day; the driver scales them to the wall clock.

One seed gives one day, on any machine: the draws come from one `random.Random(seed)` in a fixed
order, so a failing day can be played again."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import StrEnum

# The demo catalog's services by id (server/service/admin.py DEMO_SERVICES, in that order) and how
# often a customer picks each: massages are what most come for.
SERVICE_WEIGHTS: dict[int, int] = {1: 30, 2: 15, 3: 15, 4: 8, 5: 12, 6: 12, 7: 8}
FIRST_NAMES = (
    "Maria", "Jonas", "Lea", "Paul", "Sofia", "Elias", "Emma", "Noah", "Mia", "Finn",
    "Hannah", "Luis", "Clara", "Felix", "Ida", "Theo", "Lina", "Max", "Nora", "Oskar",
)  # fmt: skip
# Cash in the drawer is counted in these (cents), largest first.
DENOMINATIONS = (20_000, 10_000, 5_000, 2_000, 1_000, 500, 200, 100, 50, 20, 10, 5, 2, 1)


class Tender(StrEnum):
    CASH = "cash"
    CARD = "card"
    SPLIT = "split"  # part by card, the rest in cash


@dataclass(frozen=True)
class Params:
    """What a day looks like; the defaults are a busy day at a small spa."""

    customers: int = 40
    seed: int = 1
    open_s: float = 10 * 3600  # arrivals spread over the opening hours
    no_show_p: float = 0.1  # called and not there
    recall_p: float = 0.5  # of the no-shows: come back and are recalled
    cancel_p: float = 0.1  # give up waiting (the desk cancels them if still waiting)
    priority_p: float = 0.05  # appointments: called before walk-ins
    add_service_p: float = 0.15  # the therapist adds a service during the visit
    second_service_p: float = 0.2  # order two services at the kiosk
    card_p: float = 0.5
    split_p: float = 0.15
    tip_p: float = 0.3
    duration_spread: float = 0.2  # a service runs its catalog minutes × U(1 − spread, 1 + spread)


@dataclass(frozen=True)
class Payment:
    tender: Tender
    tip_cents: int
    card_share: float  # of a split: the part of what is owed that goes on the card
    round_up_to_cents: int  # cash handed over is what is owed rounded up to this (a note, a coin)

    def tenders(self, owed_cents: int) -> list[tuple[str, int]]:
        """(method, amount) for a bill of ``owed_cents`` (tip included): card covers at most what is
        owed, cash is handed over in round amounts and change comes back."""
        if self.tender is Tender.CARD:
            return [("card", owed_cents)]
        if self.tender is Tender.CASH:
            return [("cash", _round_up(owed_cents, self.round_up_to_cents))]
        card = max(1, min(owed_cents - 1, int(owed_cents * self.card_share)))
        return [("card", card), ("cash", _round_up(owed_cents - card, self.round_up_to_cents))]


@dataclass(frozen=True)
class Visit:
    """One customer's day, as the model decides it before the day starts."""

    number: int
    name: str
    arrival_s: float
    services: tuple[int, ...]  # service ids ordered at the kiosk
    durations_s: dict[int, float] = field(hash=False)  # per service id, as it will run today
    no_show: bool = False  # not there the first time they are called
    recalled: bool = False  # … but come back: the desk recalls them after `recall_after_s`
    recall_after_s: float = 0.0
    gives_up_after_s: float | None = None  # leaves if still waiting this long after arriving
    priority: bool = False
    added_service: int | None = None  # a therapist adds this during the visit
    payment: Payment = Payment(Tender.CASH, 0, 0.0, 500)

    def service_s(self) -> float:
        """How long the visit takes in the room, the added service included."""
        extra = self.durations_s.get(self.added_service, 0.0) if self.added_service else 0.0
        return sum(self.durations_s[s] for s in self.services) + extra


def plan_day(params: Params, minutes_of: dict[int, int]) -> list[Visit]:
    """The day's visits in arrival order. ``minutes_of``: the catalog's minutes per service id."""
    rng = random.Random(params.seed)
    weighted = [sid for sid, w in SERVICE_WEIGHTS.items() if sid in minutes_of for _ in range(w)] or sorted(minutes_of)
    # Poisson arrivals: exponential gaps at the rate that spreads the customers over the day.
    mean_gap = params.open_s / max(params.customers, 1)
    t = 0.0
    visits = []
    for n in range(params.customers):
        t += rng.expovariate(1 / mean_gap)
        services = [rng.choice(weighted)]
        if rng.random() < params.second_service_p:
            other = rng.choice(weighted)
            if other not in services:
                services.append(other)
        added = rng.choice(weighted) if rng.random() < params.add_service_p else None
        spread = params.duration_spread
        durations = {
            sid: minutes_of[sid] * 60 * rng.uniform(1 - spread, 1 + spread)
            for sid in {*services, *([added] if added else [])}
        }
        no_show = rng.random() < params.no_show_p
        recalled = no_show and rng.random() < params.recall_p
        gives_up = rng.uniform(10, 60) * 60 if rng.random() < params.cancel_p else None
        visits.append(
            Visit(
                number=n + 1,
                name=f"{rng.choice(FIRST_NAMES)} Sim{n + 1}",
                arrival_s=t,
                services=tuple(services),
                durations_s=durations,
                no_show=no_show,
                recalled=recalled,
                recall_after_s=rng.uniform(2, 10) * 60,
                gives_up_after_s=gives_up,
                priority=rng.random() < params.priority_p,
                added_service=added,
                payment=_payment(rng, params),
            )
        )
    return visits


def _payment(rng: random.Random, params: Params) -> Payment:
    draw = rng.random()
    tender = (
        Tender.CARD if draw < params.card_p else Tender.SPLIT if draw < params.card_p + params.split_p else Tender.CASH
    )
    tip = rng.choice((100, 200, 300, 500)) if rng.random() < params.tip_p else 0
    return Payment(tender, tip, rng.uniform(0.3, 0.7), rng.choice((100, 500, 1000, 5000)))


def _round_up(cents: int, step: int) -> int:
    return -(-cents // step) * step


def count_cash(cents: int) -> dict[int, int]:
    """The drawer's cash as a cashier counts it: by denomination, largest first."""
    counted: dict[int, int] = {}
    for value in DENOMINATIONS:
        n, cents = divmod(cents, value)
        if n:
            counted[value] = n
    return counted

"""Plays a planned day (model.py) through the real protocol: one thread per kiosk, room and till,
and one for the front desk, each with its own connection, on a clock that runs the model's
times `speed` times faster than the wall clock. The server keeps its own (real) time.

Every thread is named (`sim.kiosk.1`, `sim.room.2`, …), started and joined by `play`, and waits
on the day's condition or its stop event rather than sleeping."""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ..domain.money import format_cents, parse_amount
from .ledger import TillTally, ZReport
from .link import Link, SimulationError, code_of
from .model import Visit, count_cash

logger = logging.getLogger(__name__)

IDLE_POLL_S = 0.05  # a room or till with nobody to call looks again this often (or when woken)
DAY_TIMEOUT_S = 600.0  # a day that does not end by then is a failure, not a hang


class Clock:
    """The model's seconds since the day began, `speed` times the wall clock's."""

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self.t0 = time.monotonic()

    def now(self) -> float:
        return (time.monotonic() - self.t0) * self.speed

    def wall_s(self, model_s: float) -> float:
        return max(0.0, model_s / self.speed)

    def until(self, model_s: float) -> float:
        """Wall seconds left until the model's moment ``model_s``."""
        return max(0.0, (model_s - self.now()) / self.speed)


@dataclass(frozen=True)
class Room:
    device_token: str
    therapist_token: str
    name: str  # the room the customers are sent to


@dataclass(frozen=True)
class Till:
    device_id: int
    token: str
    name: str


@dataclass(frozen=True)
class Cast:
    """Who plays: tokens of the kiosks, rooms (each a room box with a therapist signed in), tills
    and the front desk."""

    kiosks: list[str]
    rooms: list[Room]
    tills: list[Till]
    desk: str


@dataclass
class Played:
    """What the clients saw, for the checks and the summary."""

    created: dict[int, Visit] = field(default_factory=dict)  # transaction id → the visit
    turned_away: int = 0
    waits_s: list[float] = field(default_factory=list)  # model seconds, arrival to first call
    busy_s: float = 0.0  # model seconds the rooms spent in service
    claim_acks: list[tuple[int, str]] = field(default_factory=list)
    tallies: list[TillTally] = field(default_factory=list)
    z_reports: list[ZReport] = field(default_factory=list)
    x_reports: list[dict[str, Any]] = field(default_factory=list)
    day_s: float = 0.0
    wall_s: float = 0.0
    events: int = 0
    retried: Counter[str] = field(default_factory=Counter)  # commands sent again, by the refusal's code
    errors: list[str] = field(default_factory=list)


class Day:
    """The day's shared state: which customers are still out there, and a condition to wake the
    rooms and tills when someone joins their queue."""

    def __init__(self, visits: list[Visit], clock: Clock, midday: Callable[[Day], None] | None = None) -> None:
        self.visits = visits
        self.clock = clock
        self.played = Played()
        self.cond = threading.Condition()
        self.stop = threading.Event()
        self.open_visits = len(visits)  # not yet paid, cancelled, a final no-show or turned away
        self.holder: dict[int, str] = {}  # transaction → the room holding it, as the acks say
        self.called: set[int] = set()  # transactions called at least once
        self._desk: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = 0
        self.payments = 0  # taken by the tills so far
        self._arrived = 0
        self._midday = midday
        self.midday_thread: threading.Thread | None = None

    def arrived(self) -> None:
        """A customer's order was answered; at half the day's customers, ``midday`` (a fault the
        tests inject) starts on its own thread while the day goes on."""
        with self.cond:
            self._arrived += 1
            start = self._midday is not None and self._arrived == max(1, len(self.visits) // 2)
        if start and self._midday is not None:
            self.midday_thread = threading.Thread(
                target=_guard(self, "midday", self._midday), args=(self,), name="sim.midday"
            )
            self.midday_thread.start()

    def paid(self) -> None:
        with self.cond:
            self.payments += 1

    def changed(self) -> None:
        with self.cond:
            self.cond.notify_all()

    def idle(self) -> None:
        with self.cond:
            self.cond.wait(IDLE_POLL_S)

    def settle(self, _tid: int | None = None) -> None:
        with self.cond:
            self.open_visits -= 1
            self.cond.notify_all()

    @property
    def over(self) -> bool:
        return self.open_visits <= 0 or self.stop.is_set()

    def fail(self, where: str, exc: BaseException) -> None:
        logger.error("%s failed: %s", where, exc)
        with self.cond:
            self.played.errors.append(f"{where}: {exc}")
            self.stop.set()
            self.cond.notify_all()

    def claimed(self, tid: int, room: str) -> None:
        with self.cond:
            other = self.holder.get(tid)
            if other is not None:
                self.played.errors.append(f"#{tid} acknowledged to {room} while {other} held it")
            self.holder[tid] = room
            self.played.claim_acks.append((tid, room))

    def visit_of(self, tid: int, timeout_s: float = 10.0) -> Visit | None:
        """The visit behind a transaction; a room may call a customer before the kiosk that
        ordered it has read its acknowledgement, so this waits for the kiosk a moment."""
        with self.cond:
            self.cond.wait_for(lambda: tid in self.played.created or self.stop.is_set(), timeout_s)
            return self.played.created.get(tid)

    def released(self, tid: int) -> None:
        with self.cond:
            self.holder.pop(tid, None)

    def at(self, model_s: float, action: Callable[[], None]) -> None:
        """The front desk does ``action`` at the model's moment ``model_s``."""
        with self.cond:
            self._seq += 1
            heapq.heappush(self._desk, (model_s, self._seq, action))
            self.cond.notify_all()

    def next_desk_action(self) -> Callable[[], None] | None:
        with self.cond:
            if self._desk and self._desk[0][0] <= self.clock.now():
                return heapq.heappop(self._desk)[2]
            wait = self.clock.until(self._desk[0][0]) if self._desk else IDLE_POLL_S
            self.cond.wait(min(wait, IDLE_POLL_S))
            return None


def play(
    url: str, cast: Cast, visits: list[Visit], speed: float, midday: Callable[[Day], None] | None = None
) -> Played:
    clock = Clock(speed)
    day = Day(visits, clock, midday)
    links: list[Link] = []

    def link(token: str, name: str) -> Link:
        made = Link(url, token, name).connect()
        links.append(made)
        return made

    try:
        desk = link(cast.desk, "desk")
        kiosks = [link(t, f"kiosk{i + 1}") for i, t in enumerate(cast.kiosks)]
        kiosk_desks = [link(t, f"kiosk{i + 1}-cancel") for i, t in enumerate(cast.kiosks)]
        rooms = [(link(r.device_token, f"room{i + 1}"), r) for i, r in enumerate(cast.rooms)]
        tills = [(link(t.token, f"till{i + 1}"), t) for i, t in enumerate(cast.tills)]
        for box, room in rooms:
            box.must("desk_sign_in", {"staff_token": room.therapist_token})
        floats = {t.device_id: _open_till(box) for box, t in tills}
        clock.t0 = time.monotonic()  # the day starts once everyone is in place
        threads = [
            *(
                threading.Thread(
                    target=_guard(day, f"kiosk{i + 1}", _kiosk),
                    args=(day, k, kd, visits[i :: len(kiosks)], desk),
                    name=f"sim.kiosk.{i + 1}",
                )
                for i, (k, kd) in enumerate(zip(kiosks, kiosk_desks, strict=True))
            ),
            *(
                threading.Thread(target=_guard(day, r.name, _room), args=(day, box, r, desk), name=f"sim.room.{i + 1}")
                for i, (box, r) in enumerate(rooms)
            ),
            *(
                threading.Thread(target=_guard(day, t.name, _till), args=(day, box, t), name=f"sim.till.{i + 1}")
                for i, (box, t) in enumerate(tills)
            ),
            threading.Thread(target=_guard(day, "desk", _desk), args=(day,), name="sim.desk"),
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + DAY_TIMEOUT_S
        with day.cond:
            while not day.over and time.monotonic() < deadline:
                day.cond.wait(0.2)
        if not day.over:
            day.played.errors.append(f"the day did not end within {DAY_TIMEOUT_S:.0f} s: {day.open_visits} open")
        day.stop.set()
        day.changed()
        for thread in threads:
            thread.join(60)
        day.played.day_s = clock.now()
        if day.midday_thread is not None:
            day.midday_thread.join(DAY_TIMEOUT_S)  # the fault is over before the tills close
        if not day.played.errors:
            for box, till in tills:
                _close_till(day, box, till, floats[till.device_id])
        day.played.wall_s = time.monotonic() - clock.t0
        day.played.events = sum(lk.calls for lk in links)
        for lk in links:
            day.played.retried.update(lk.retried)
        return day.played
    finally:
        for lk in links:
            try:
                lk.close()
            except Exception:  # noqa: BLE001 - closing what may already be gone
                logger.debug("closing %s", lk.name, exc_info=True)


def _guard(day: Day, where: str, body: Callable[..., None]) -> Callable[..., None]:
    def run(*args: Any) -> None:
        try:
            body(*args)
        except Exception as exc:  # noqa: BLE001 - a failed actor ends the day with its reason
            day.fail(where, exc)

    return run


# ---- the actors ------------------------------------------------------------------------------------


def _kiosk(day: Day, kiosk: Link, kiosk_cancel: Link, visits: list[Visit], desk: Link) -> None:
    for visit in visits:
        if day.stop.wait(day.clock.until(visit.arrival_s)):
            return
        items = [{"service_id": s} for s in visit.services]
        ack = kiosk.call("customer_confirm_selection", {"customer_name": visit.name, "items": items}, keyed=True)
        if not ack.get("ok"):
            if code_of(ack) in ("queue_full", "queue_closed"):
                with day.cond:
                    day.played.turned_away += 1
                day.settle()
                day.arrived()
                continue
            raise SimulationError(f"order refused: {ack.get('error')}")
        tid = int(ack["transaction_id"])
        with day.cond:
            day.played.created[tid] = visit
        day.arrived()
        if visit.priority:
            day.at(day.clock.now(), partial(_prioritise, desk, tid))
        if visit.gives_up_after_s is not None:
            day.at(
                visit.arrival_s + visit.gives_up_after_s,
                partial(_give_up, day, kiosk_cancel, tid, str(ack["public_id"])),
            )
        day.changed()


def _prioritise(desk: Link, tid: int) -> None:
    ack = desk.call(
        "front_desk_priority", {"transaction_id": tid, "priority": True, "reason": "appointment"}, keyed=True
    )
    if not ack.get("ok") and code_of(ack) != "invalid_state":  # called already: too late for it
        raise SimulationError(f"priority refused: {ack.get('error')}")


def _give_up(day: Day, kiosk: Link, tid: int, ticket: str) -> None:
    """The customer leaves; their ticket cancels the visit only while they still wait."""
    ack = kiosk.call("cancel_transaction", {"transaction_id": tid, "ticket": ticket}, keyed=True)
    if ack.get("ok"):
        day.settle(tid)
    elif code_of(ack) not in ("invalid_state", "forbidden"):  # called meanwhile: they stay
        raise SimulationError(f"cancel refused: {ack.get('error')}")


def _room(day: Day, box: Link, room: Room, desk: Link) -> None:
    while not day.over:
        ack = box.call("therapist_confirm_next", {"room": room.name}, keyed=True)
        if not ack.get("ok"):
            if code_of(ack) != "queue_empty":
                raise SimulationError(f"claim refused: {ack.get('error')}")
            day.idle()
            continue
        tid = int(ack["transaction"]["id"])
        day.claimed(tid, room.name)
        visit = day.visit_of(tid)
        with day.cond:
            first_call = tid not in day.called
            day.called.add(tid)
        if visit is None:
            raise SimulationError(f"{room.name} claimed #{tid}, which no kiosk of this day ordered")
        if first_call:
            with day.cond:
                day.played.waits_s.append(max(0.0, day.clock.now() - visit.arrival_s))
        if visit.no_show and first_call:
            box.must("front_desk_no_show", {"transaction_id": tid}, keyed=True)
            day.released(tid)
            if visit.recalled:
                day.at(day.clock.now() + visit.recall_after_s, partial(_recall, day, desk, tid))
            else:
                day.settle(tid)
            continue
        _serve(day, box, tid, visit)


def _serve(day: Day, box: Link, tid: int, visit: Visit) -> None:
    box.must("therapist_start_service", {"transaction_id": tid}, keyed=True)
    began = day.clock.now()
    planned = sum(visit.durations_s[s] for s in visit.services)
    if visit.added_service is not None:
        day.stop.wait(day.clock.wall_s(planned / 2))
        box.must("therapist_add_service", {"transaction_id": tid, "service_id": visit.added_service}, keyed=True)
    day.stop.wait(day.clock.until(began + visit.service_s()))
    box.must("therapist_finish_service", {"transaction_id": tid}, keyed=True)
    with day.cond:
        day.played.busy_s += day.clock.now() - began
    day.released(tid)
    day.changed()


def _recall(day: Day, desk: Link, tid: int) -> None:
    desk.must("front_desk_recall", {"transaction_id": tid}, keyed=True)
    day.changed()


def _desk(day: Day) -> None:
    while not day.over:
        action = day.next_desk_action()
        if action is not None:
            action()


def _till(day: Day, box: Link, till: Till) -> None:
    cash = card = payments = 0
    try:
        while not day.over:
            ack = box.call("cashier_claim_next", {}, keyed=True)
            if not ack.get("ok"):
                if code_of(ack) != "queue_empty":
                    raise SimulationError(f"till claim refused: {ack.get('error')}")
                day.idle()
                continue
            txn = ack["transaction"]
            tid = int(txn["id"])
            visit = day.visit_of(tid)
            if visit is None:
                raise SimulationError(f"{till.name} claimed #{tid}, which no kiosk of this day ordered")
            owed = parse_amount(txn["total"]) + visit.payment.tip_cents
            tenders = visit.payment.tenders(owed)
            paid = _pay(box, tid, tenders, visit.payment.tip_cents)
            change = parse_amount(paid["change"])
            for method, amount in tenders:
                if method == "cash":
                    cash += amount - change
                else:
                    card += amount
            payments += 1
            day.paid()
            day.settle(tid)
    finally:
        with day.cond:
            day.played.tallies.append(TillTally(till.device_id, cash, card, payments))


def _pay(box: Link, tid: int, tenders: list[tuple[str, int]], tip: int) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "transaction_id": tid,
        "tenders": [{"method": m, "amount": format_cents(a)} for m, a in tenders],
        "tip": format_cents(tip),
    }
    ack = box.call("cashier_pay", payload, keyed=True)
    if not ack.get("ok") and code_of(ack) == "confirmation_needed":
        ack = box.call("cashier_pay", {**payload, "confirm": True}, keyed=True)  # the cashier checked the note
    if not ack.get("ok"):
        raise SimulationError(f"payment of #{tid} refused: {ack.get('error')}")
    return ack


def _open_till(box: Link) -> int:
    """The till's float in cents, opening its drawer with €100 when it is closed."""
    status = box.must("till_status")
    if not status["open"]:
        status = box.must("till_open", {"float": "100.00"}, keyed=True)
    return parse_amount(status["session"]["float"])


def _close_till(day: Day, box: Link, till: Till, float_cents: int) -> None:
    """The X report, then the drawer counted (the float and the cash this till took, by its own
    tally) and closed: the Z report."""
    x = box.must("till_report_x")["report"]
    tally = next(t for t in day.played.tallies if t.device_id == till.device_id)
    counted = count_cash(float_cents + tally.cash_cents)
    z = box.must(
        "till_close",
        {"counted": {str(v): n for v, n in counted.items()}, "counted_card": format_cents(tally.card_cents)},
        keyed=True,
    )["report"]
    day.played.x_reports.append(x)
    day.played.z_reports.append(
        ZReport(
            device_id=till.device_id,
            session_id=int(z["session"]),
            float_cents=parse_amount(z["float"]),
            sales={m: parse_amount(v) for m, v in z["sales"].items()},
            expected={m: parse_amount(v) for m, v in z["expected"].items()},
            counted_cash_cents=parse_amount(z["counted"]["cash"]),
            over_short_cash_cents=parse_amount(z["over_short"]["cash"].lstrip("-"))
            * (-1 if z["over_short"]["cash"].startswith("-") else 1),
            payments=int(z["payments"]),
        )
    )

"""Broadcasts, off the request path: one thread emits every committed change, in version order.

A command's handler only puts its Change on a bounded queue; the emitting (which can take
~70 ms for 500 screens) happens here. Versions are emitted in order: a missing one is waited
for briefly, then the mirror is re-read from the database (another process made that change,
or it was dropped) and emission carries on. Screens that see a gap ask for a snapshot.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from ..domain.estimates import Therapist, can_serve
from ..domain.queue_view import Entry, QueueMirror, Roster
from ..domain.status import TxnStatus
from ..service.changes import Change
from ..service.outbound import CASHIER_ROOM, MONITOR_ROOM, THERAPIST_ROOM, TXN_ROOM_PREFIX, txn_room

logger = logging.getLogger(__name__)

ESTIMATES_IN_BROADCAST = 50  # the lobby TV shows a few dozen codes at most
# Customers further back learn of their new place at most this often: one pass over the whole
# queue per interval instead of one per change.
POSITION_PUSH_INTERVAL_S = 0.5
# Who is on shift, their skills and the services' average durations are read again (three small
# queries) when older than this as a change is emitted: a shift changed through another process,
# the office or the command line counts within it.
ROSTER_REFRESH_S = 0.5
ROSTER_EVENT = "roster_updated"
INTAKE_REFRESH_S = 2.0


class Emitter(Protocol):
    def emit(self, event: str, data: Any, *, to: str) -> None: ...

    def has_members(self, room: str) -> bool | None:
        """True/False when this process can tell, None when it cannot (message queue)."""
        ...

    def rooms_with_members(self, prefix: str) -> frozenset[str] | None:
        """The rooms named `prefix…` that somebody is in; None when this process cannot tell."""
        ...


def parse_iso(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)


def entry_of(view: dict[str, Any]) -> Entry:
    """A mirror entry from a staff view (priority, services, therapist known) or a public one."""
    therapist = view.get("therapist")
    return Entry(
        id=view["id"],
        status=TxnStatus(view["status"]),
        queue_since=view["queue_since"],
        total_minutes=view["total_minutes"],
        service_started_at=parse_iso(view.get("service_started_at")),
        priority=bool(view.get("priority", False)),
        services=tuple((i["service_id"], i["quantity"]) for i in view.get("items", ())),
        therapist_id=therapist["id"] if therapist else None,
    )


class Broadcaster:
    name = "broadcast.emitter"

    def __init__(
        self,
        emitter: Emitter,
        load_snapshot: Callable[[], dict[str, Any]],
        *,
        load_roster: Callable[[], Roster] | None = None,
        intake: Callable[[datetime, int | None], dict[str, Any]] | None = None,
        queue_size: int = 10_000,
        reorder_wait_s: float = 0.25,
        position_push_limit: int = 50,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC).replace(tzinfo=None),
    ) -> None:
        self._emitter = emitter
        self._load_snapshot = load_snapshot
        self._load_roster = load_roster
        self._intake = intake
        self._roster_loaded_at = 0.0
        self._roster_view: dict[str, Any] | None = None
        self._intake_cache: tuple[float, dict[str, Any]] | None = None
        self._queue: queue.Queue[Change] = queue.Queue(maxsize=queue_size)
        self._reorder_wait_s = reorder_wait_s
        self._position_push_limit = position_push_limit
        self._clock = clock
        self._mirror = QueueMirror()
        self._last_version: int | None = None
        self._held: dict[int, tuple[float, Change]] = {}
        self._sent_positions: dict[int, tuple[int, int]] = {}
        self._needs_resync = True
        self._positions_dirty = False
        self._last_push = 0.0
        self.dropped = 0
        self.emitted = 0
        self.resyncs = 0

    # ---- producers' side ----------------------------------------------------------------------

    def post(self, change: Change) -> None:
        """Called by command handlers after commit; never blocks."""
        try:
            self._queue.put_nowait(change)
        except queue.Full:
            # Screens recover through the version gap; the mirror through a resync.
            self.dropped += 1
            self._needs_resync = True
            logger.warning("broadcast queue full; dropped version %d", change.version)

    def backlog(self) -> int:
        return self._queue.qsize()

    def roster_changed(self, view: dict[str, Any]) -> None:
        """Someone went on or off shift, or to another room (never blocks): the staff screens are
        told, and estimates count the new roster."""
        self._roster_view = view
        self._roster_loaded_at = 0.0

    # ---- the emitting thread ----------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """The emitting thread's loop (its owner is `server.workers.Workers`)."""
        while not stop.is_set():
            try:
                self._step()
            except Exception:  # noqa: BLE001 - one bad change must not end broadcasting
                logger.exception("broadcast step failed; re-reading the queue")
                self._needs_resync = True
                stop.wait(0.5)

    def _step(self) -> None:
        if self._needs_resync:
            self._resync()
        if self._roster_view is not None:
            view, self._roster_view = self._roster_view, None
            self._emitter.emit(ROSTER_EVENT, view, to=THERAPIST_ROOM)
            self._emitter.emit(ROSTER_EVENT, view, to=CASHIER_ROOM)
        self._refresh_roster()
        timeout = self._reorder_wait_s / 2 if self._held else 0.5
        if self._positions_dirty:
            timeout = min(timeout, POSITION_PUSH_INTERVAL_S / 2)
        try:
            change = self._queue.get(timeout=timeout)
        except queue.Empty:
            change = None
        arrived = time.monotonic()
        while change is not None:
            self._held.setdefault(change.version, (arrived, change))
            try:
                change = self._queue.get_nowait()
            except queue.Empty:
                change = None
        self._emit_ready()
        if self._positions_dirty and time.monotonic() - self._last_push >= POSITION_PUSH_INTERVAL_S:
            self._push_positions()

    def _emit_ready(self) -> None:
        """Emit every change whose turn has come, in version order. The changes ready together
        (a busy moment, or a burst of claims) are applied to the mirror first and share one pass
        of the estimates: each is worked out as of the latest state, once per batch, not once
        per change."""
        batch: list[Change] = []
        while self._held:
            assert self._last_version is not None
            lowest = min(self._held)
            if lowest <= self._last_version + 1:
                _, change = self._held.pop(lowest)
                batch.append(change)
                self._last_version = max(self._last_version, change.version)
                continue
            waited = time.monotonic() - self._held[lowest][0]
            if waited < self._reorder_wait_s:
                break
            # The missing versions are not coming through this process: emit what came before
            # the gap, re-read, then carry on.
            self._emit_batch(batch)
            batch = []
            self._resync()
            self._last_version = max(self._last_version or 0, lowest - 1)
        self._emit_batch(batch)

    def _emit_batch(self, batch: list[Change]) -> None:
        if not batch:
            return
        self._refresh_roster()
        entries = [entry_of(change.staff_view) for change in batch]
        for entry in entries:
            self._mirror.apply(entry)
        shared = _SharedEstimates(self._mirror, self._clock())
        for change, entry in zip(batch, entries, strict=True):
            self._emit_change(change, entry, shared)
        self._positions_dirty = True

    def _refresh_roster(self) -> None:
        # With nobody on shift every estimate is "unknown": worth asking again before each change
        # (the day's first therapist may have signed on through another process a moment ago).
        stale = time.monotonic() - self._roster_loaded_at >= ROSTER_REFRESH_S or not self._mirror.roster.on_shift
        if self._load_roster is not None and stale:
            self._mirror.roster = self._load_roster()
            self._roster_loaded_at = time.monotonic()
            self._positions_dirty = True

    def _emit_change(self, change: Change, entry: Entry, shared: _SharedEstimates) -> None:
        transaction = change.staff_view
        if entry.status is TxnStatus.PENDING_THERAPIST:
            able = any(can_serve(t.skills, entry.services) for t in self._mirror.roster.on_shift)
            transaction = {**transaction, "unservable": not able}
        staff = {"version": change.version, "reason": change.reason, "transaction": transaction}
        self._emitter.emit("therapist_queue_updated", staff, to=THERAPIST_ROOM)
        self._emitter.emit("cashier_queue_updated", staff, to=CASHIER_ROOM)
        # The estimates only for somebody to show them to: the lobby, or the customer's own kiosk
        # or phone. (The emitter drops a message to an empty room, but would not save the work.)
        room = txn_room(change.transaction_id)
        if self._emitter.has_members(MONITOR_ROOM) is not False:
            public: dict[str, Any] = {
                "version": change.version,
                "reason": change.reason,
                "transaction": change.public_view,
                "estimates": shared.estimates(),
            }
            if self._intake is not None:
                public["intake"] = self._intake_now(shared.now)
            self._emitter.emit("monitor_updated", public, to=MONITOR_ROOM)
        position = shared.position(change.transaction_id) if self._emitter.has_members(room) is not False else None
        update = customer_update(change.version, change.public_view, position)
        self._emitter.emit("customer_txn_update", update, to=room)
        if position is not None:
            self._sent_positions[change.transaction_id] = (position["position"], position["estimated_wait_min"])
        else:
            self._sent_positions.pop(change.transaction_id, None)
        self.emitted += 1
        logger.debug("emitted version %d (%s)", change.version, change.reason)

    def _intake_now(self, now: datetime) -> dict[str, Any]:
        """Whether the kiosk takes newcomers: the newcomer's quote walks the whole queue, so it is
        worked out at most every INTAKE_REFRESH_S, not for every change."""
        assert self._intake is not None
        cached = self._intake_cache
        if cached is None or time.monotonic() - cached[0] >= INTAKE_REFRESH_S:
            cached = self._intake_cache = (time.monotonic(), self._intake(now, self._mirror.newcomer_wait(now)))
        return cached[1]

    def _push_positions(self) -> None:
        """Customers further back moved up: tell the kiosks that show them. Only as deep into
        the queue as somebody watches (with 5,000 waiting, the first few dozen, not all)."""
        self._positions_dirty = False
        self._last_push = time.monotonic()
        depth = self._watched_depth()
        estimates = self._mirror.estimates(self._clock(), depth) if depth else []
        waiting = {e.id for e in estimates}
        for stale in [i for i in self._sent_positions if i not in waiting]:
            del self._sent_positions[stale]
        for e in estimates:
            place = (e.position, e.estimated_wait_min)
            if self._sent_positions.get(e.id) == place:
                continue
            room = txn_room(e.id)
            members = self._emitter.has_members(room)
            if members is False or (members is None and e.position > self._position_push_limit):
                continue
            self._sent_positions[e.id] = place
            self._emitter.emit(
                "customer_txn_update",
                {
                    "version": self._last_version,
                    "transaction_id": e.id,
                    "status": TxnStatus.PENDING_THERAPIST.value,
                    "position": e.position,
                    "estimated_wait_min": e.estimated_wait_min,
                    "estimated_call_at": call_at(self._clock(), e.estimated_wait_min),
                },
                to=room,
            )

    def _watched_depth(self) -> int:
        """The furthest place in the queue of a customer whose room has a member; the push limit
        when members are not known here (other processes' clients, through a message queue)."""
        watched = self._emitter.rooms_with_members(TXN_ROOM_PREFIX)
        if watched is None:
            return self._position_push_limit
        ids = (room[len(TXN_ROOM_PREFIX) :] for room in watched)
        places = (self._mirror.position_of(int(i)) for i in ids if i.isdigit())
        return max((p for p in places if p is not None), default=0)

    def _resync(self) -> None:
        snapshot = self._load_snapshot()
        views = snapshot["waiting"] + snapshot["with_therapist"] + snapshot["awaiting_payment"] + snapshot["paying"]
        if self._load_roster is not None:
            roster = self._load_roster()
            self._roster_loaded_at = time.monotonic()
        else:  # a snapshot only: that many therapists, each able to do everything
            roster = Roster(tuple(Therapist(-i, None) for i in range(1, snapshot["therapists_on_duty"] + 1)))
        self._mirror.reset([entry_of(v) for v in views], roster)
        version = int(snapshot["version"])
        # Changes already reflected in the snapshot are still emitted (screens need them), but
        # nothing older than the snapshot is waited for.
        self._last_version = version if self._last_version is None else max(self._last_version, version)
        self._needs_resync = False
        self.resyncs += 1


class _SharedEstimates:
    """The estimates of one batch of changes, worked out the first time a message needs them."""

    def __init__(self, mirror: QueueMirror, now: datetime) -> None:
        self._mirror = mirror
        self.now = now
        self._estimates: list[dict[str, Any]] | None = None
        self._by_id: dict[int, dict[str, Any]] = {}

    def estimates(self) -> list[dict[str, Any]]:
        if self._estimates is None:
            # Many customers share a wait (a therapist's next free minute): each time written once.
            times: dict[int | None, str | None] = {}
            self._estimates = [
                {
                    "id": e.id,
                    "position": e.position,
                    "estimated_wait_min": e.estimated_wait_min,
                    "estimated_call_at": times[e.estimated_wait_min]
                    if e.estimated_wait_min in times
                    else times.setdefault(e.estimated_wait_min, call_at(self.now, e.estimated_wait_min)),
                }
                for e in self._mirror.estimates(self.now, ESTIMATES_IN_BROADCAST)
            ]
            self._by_id = {e["id"]: e for e in self._estimates}
        return self._estimates

    def position(self, transaction_id: int) -> dict[str, Any] | None:
        """The customer's place and wait when among the first ESTIMATES_IN_BROADCAST, else None."""
        self.estimates()
        return self._by_id.get(transaction_id)


def call_at(now: datetime, wait_min: int | None) -> str | None:
    """When a customer quoted `wait_min` is likely called: UTC, ISO with a Z (views.iso's form)."""
    if wait_min is None:
        return None
    moment = now.replace(tzinfo=UTC) + timedelta(minutes=wait_min)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def customer_update(version: int, view: dict[str, Any], position: dict[str, Any] | None) -> dict[str, Any]:
    """What the kiosk that made a transaction shows: code, status, place in the queue, wait."""
    return {
        "version": version,
        "transaction_id": view["id"],
        "code": view["code"],
        "first_name": view["first_name"],
        "status": view["status"],
        "room": view["room"],
        "cashier_desk": view["cashier_desk"],
        "position": position["position"] if position else None,
        "estimated_wait_min": position["estimated_wait_min"] if position else None,
        "estimated_call_at": position.get("estimated_call_at") if position else None,
    }

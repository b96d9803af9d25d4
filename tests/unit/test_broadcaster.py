"""The broadcaster's ordering and recovery, with a recording emitter in place of Socket.IO."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from server.protocol.broadcaster import Broadcaster
from server.service.changes import Change
from server.workers import Workers
from tests.support import wait_until

NOW = datetime(2026, 11, 29, 12, 0, 0)


class Recorder:
    def __init__(self, members: set[str] | None = None) -> None:
        self.sent: list[tuple[str, Any, str]] = []
        self.members = members
        self.lock = threading.Lock()

    def emit(self, event: str, data: Any, to: str) -> None:
        with self.lock:
            self.sent.append((event, data, to))

    def has_members(self, room: str) -> bool | None:
        return None if self.members is None else room in self.members

    def rooms_with_members(self, prefix: str) -> frozenset[str] | None:
        return None if self.members is None else frozenset(r for r in self.members if r.startswith(prefix))

    def versions(self, event: str) -> list[int]:
        with self.lock:
            return [d["version"] for e, d, _ in self.sent if e == event]


def view(txn_id: int, status: str = "pending_therapist", minute: int = 0) -> dict[str, Any]:
    return {
        "id": txn_id,
        "code": f"A-{txn_id:03d}",
        "first_name": "X",
        "status": status,
        "room": None,
        "cashier_desk": None,
        "total_minutes": 30,
        "queue_since": f"2026-11-29T11:{minute:02d}:00.000Z",
        "service_started_at": None,
        "row_version": 1,
    }


def change(version: int, txn_id: int, status: str = "pending_therapist") -> Change:
    v = view(txn_id, status, minute=txn_id)
    return Change(version, "created", txn_id, v, v)


def snapshot(version: int, waiting: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "version": version,
        "therapists_on_duty": 1,
        "waiting": waiting or [],
        "with_therapist": [],
        "awaiting_payment": [],
        "paying": [],
    }


RUNNING: dict[Broadcaster, Workers] = {}


def make(recorder: Recorder, snapshots: list[dict[str, Any]], **kw: Any) -> Broadcaster:
    calls = iter(snapshots)
    last = {"s": snapshots[-1]}

    def load() -> dict[str, Any]:
        last["s"] = next(calls, last["s"])
        return last["s"]

    b = Broadcaster(recorder, load, clock=lambda: NOW, **kw)
    RUNNING[b] = workers = Workers()
    workers.start(b)
    return b


def stop(b: Broadcaster) -> None:
    RUNNING.pop(b).stop()


def test_out_of_order_changes_are_emitted_in_version_order() -> None:
    rec = Recorder()
    b = make(rec, [snapshot(10)], reorder_wait_s=1.0)
    try:
        wait_until(lambda: b.resyncs == 1)
        for version in (13, 11, 12):
            b.post(change(version, version))
        wait_until(lambda: len(rec.versions("monitor_updated")) == 3)
        assert rec.versions("monitor_updated") == [11, 12, 13]
        assert rec.versions("therapist_queue_updated") == [11, 12, 13]
        assert rec.versions("cashier_queue_updated") == [11, 12, 13]
        assert b.resyncs == 1
    finally:
        stop(b)


def test_a_missing_version_is_waited_for_then_resynced() -> None:
    rec = Recorder()
    b = make(rec, [snapshot(10), snapshot(12, [view(11, minute=11), view(12, minute=12)])], reorder_wait_s=0.1)
    try:
        wait_until(lambda: b.resyncs == 1)
        b.post(change(13, 13))  # 11 and 12 happened in another process
        wait_until(lambda: rec.versions("monitor_updated") == [13])
        assert b.resyncs == 2
        # The mirror came from the second snapshot: 13 is third in the queue.
        update = next(d for e, d, _ in rec.sent if e == "monitor_updated")
        assert [x["id"] for x in update["estimates"]] == [11, 12, 13]
        assert [x["position"] for x in update["estimates"]] == [1, 2, 3]
    finally:
        stop(b)


def test_customer_updates_reach_their_room_and_positions_move_up() -> None:
    rec = Recorder(members={"monitor", "txn_2", "txn_3"})
    b = make(rec, [snapshot(0)], reorder_wait_s=0.5)
    try:
        wait_until(lambda: b.resyncs == 1)
        for v, t in ((1, 1), (2, 2), (3, 3)):
            b.post(change(v, t))
        wait_until(lambda: len(rec.versions("monitor_updated")) == 3)
        b.post(change(4, 1, "therapist_confirmed"))  # 1 is claimed: 2 and 3 move up
        wait_until(lambda: len(rec.versions("monitor_updated")) == 4)

        def positions(room: str) -> list[int | None]:
            with rec.lock:
                return [d["position"] for e, d, to in rec.sent if e == "customer_txn_update" and to == room]

        wait_until(lambda: positions("txn_3")[-1:] == [2])
        assert positions("txn_3")[0] == 3
        assert positions("txn_2")[-1] == 1
        assert positions("txn_1")[-1] is None  # claimed: no longer waiting
    finally:
        stop(b)


def spy_on_estimates(b: Broadcaster) -> list[int | None]:
    """The `limit` of every pass the mirror makes over the queue to quote waits."""
    depths: list[int | None] = []
    estimates = b._mirror.estimates

    def spy(now: Any, limit: int | None = None) -> Any:
        depths.append(limit)
        return estimates(now, limit)

    b._mirror.estimates = spy  # type: ignore[method-assign]
    return depths


def started_with_twenty_waiting(rec: Recorder, reorder_wait_s: float) -> tuple[Broadcaster, list[int | None]]:
    """A broadcaster whose mirror holds 20 waiting customers, and its passes over them from now on."""
    b = make(rec, [snapshot(0, [view(t, minute=t) for t in range(1, 21)])], reorder_wait_s=reorder_wait_s)
    wait_until(lambda: b.resyncs == 1)
    return b, spy_on_estimates(b)


def test_position_pushes_go_only_as_deep_as_somebody_watches() -> None:
    """Issue 14: with thousands waiting, the push every half second worked out every place in
    the queue. Now it goes as deep as the furthest watched customer (here the 3rd of 3,000)."""
    waiting = [view(t) | {"queue_since": f"2026-11-29T10:{t // 60:02d}:{t % 60:02d}.000Z"} for t in range(1, 3001)]
    rec = Recorder(members={"txn_3"})
    b = make(rec, [snapshot(3000, waiting)], reorder_wait_s=0.1)
    try:
        wait_until(lambda: b.resyncs == 1)
        depths = spy_on_estimates(b)
        b.post(change(3001, 1, "therapist_confirmed"))  # 1 is claimed: everyone moves up

        def pushed() -> list[int | None]:
            with rec.lock:
                return [d["position"] for e, d, to in rec.sent if e == "customer_txn_update" and to == "txn_3"]

        wait_until(lambda: pushed()[-1:] == [2])
        assert {to for e, _, to in rec.sent if e == "customer_txn_update"} <= {"txn_1", "txn_3"}
        # The broadcast's own estimates (the lobby's first 50) and pushes two deep: never all 3,000.
        assert depths and all(d is not None and d <= 50 for d in depths), depths
        assert 2 in depths
    finally:
        stop(b)


def test_changes_ready_together_share_one_pass_of_the_estimates() -> None:
    """Issue 14: every change worked out the lobby's 50 estimates again, so a burst of claims
    cost one pass over the queue each. Changes ready together now share one, as of the latest
    state, and every change still gets its own message with those estimates."""
    rec = Recorder(members={"monitor", "therapist_queue"})
    b, depths = started_with_twenty_waiting(rec, reorder_wait_s=2.0)
    try:
        # Versions 2..6 wait for 1 (held back), then all six become ready at once.
        for v in range(2, 7):
            b.post(change(v, v, "therapist_confirmed"))
        b.post(change(1, 1, "therapist_confirmed"))
        wait_until(lambda: len(rec.versions("monitor_updated")) == 6)
        assert rec.versions("monitor_updated") == [1, 2, 3, 4, 5, 6]
        assert rec.versions("therapist_queue_updated") == [1, 2, 3, 4, 5, 6]
        assert depths == [50], depths  # and no position push: nobody's kiosk is watching
        first = next(d for e, d, _ in rec.sent if e == "monitor_updated")
        # Six claimed: the estimates of every message start at the 7th, now first.
        assert [x["id"] for x in first["estimates"]][:2] == [7, 8]
        assert first["estimates"][0]["position"] == 1
    finally:
        stop(b)


def test_nobody_watching_costs_no_estimates() -> None:
    """With no lobby and no customer's kiosk or phone listening (a run of claims with only
    staff screens connected), no change works out the estimates at all."""
    rec = Recorder(members={"therapist_queue"})
    b, depths = started_with_twenty_waiting(rec, reorder_wait_s=0.5)
    try:
        for v in range(1, 6):
            b.post(change(v, v, "therapist_confirmed"))
            wait_until(lambda v=v: rec.versions("therapist_queue_updated")[-1:] == [v])  # type: ignore[misc]
        assert rec.versions("therapist_queue_updated") == [1, 2, 3, 4, 5]
        assert depths == [], depths
        rec.members = {"therapist_queue", "monitor"}  # the lobby comes on
        b.post(change(6, 6, "therapist_confirmed"))
        wait_until(lambda: rec.versions("monitor_updated")[-1:] == [6])
        assert 50 in depths
    finally:
        stop(b)


def test_full_queue_drops_and_counts() -> None:
    rec = Recorder()
    b = Broadcaster(rec, lambda: snapshot(0), queue_size=2, clock=lambda: NOW)  # not started: nothing drains
    for v in (1, 2, 3):
        b.post(change(v, v))
    assert b.dropped == 1
    assert b.backlog() == 2

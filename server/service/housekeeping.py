"""The server's own upkeep, on one thread: who is connected (across every server process), the
release of claims whose holder vanished, appliances going silent, and pruning.

Each process records its Socket.IO connections in the database and marks them seen every
`heartbeat_s`; a crashed process's rows go stale after three beats. A therapist or cashier
holding a claim with no live connection for `grace_s` gets the claim released back to its
original place in the queue (audited and broadcast like any change).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from ..db import presence_repo as repo
from ..db.engine import Database
from . import appliances
from .outbound import MONITOR_ROOM, Outbound
from .queue import QueueService, utcnow

logger = logging.getLogger(__name__)

STALE_AFTER_BEATS = 3
KEEP_CLOSED_CONNECTIONS = timedelta(days=1)
PRUNE_EVERY = timedelta(hours=1)


def process_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Housekeeping:
    name = "housekeeping"

    def __init__(
        self,
        db: Database,
        service: QueueService,
        *,
        grace_s: float,
        heartbeat_s: float,
        idempotency_retention_s: float,
        clock: Callable[[], datetime] = utcnow,
        appliance_silent_after_s: float = 45.0,
        outbound: Outbound | None = None,
    ) -> None:
        self.db = db
        self.service = service
        self.outbound = outbound
        self.appliance_silent_after_s = appliance_silent_after_s
        self.grace = timedelta(seconds=grace_s)
        self.heartbeat = timedelta(seconds=heartbeat_s)
        self.retention = timedelta(seconds=idempotency_retention_s)
        self.clock = clock
        self.process = process_name()
        self._appliance_states: dict[str, str] = {}
        # Every couple of seconds (two small indexed queries): a release happens within ~1/4 of the
        # grace period after it is due, and the monitor hears of a silent appliance promptly.
        self.tick_s = max(0.1, min(2.0, heartbeat_s, grace_s / 4))
        self.released = 0

    # ---- connection events (request threads) ------------------------------------------------

    def connected(self, sid: str, principal: str) -> None:
        with self.db.write() as s:
            repo.add_connection(s, sid, principal, self.process, self.clock())

    def disconnected(self, sid: str) -> None:
        with self.db.write() as s:
            repo.close_connection(s, sid, self.clock())

    # ---- the thread ---------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        last_beat = datetime.min
        last_prune = datetime.min
        while not stop.wait(self.tick_s):
            try:
                now = self.clock()
                if now - last_beat >= self.heartbeat:
                    with self.db.write() as s:
                        repo.mark_seen(s, self.process, now)
                    last_beat = now
                self.reap(now)
                self.watch_appliances(now)
                if now - last_prune >= PRUNE_EVERY:
                    with self.db.write() as s:
                        repo.prune(s, now - KEEP_CLOSED_CONNECTIONS, now - self.retention)
                    last_prune = now
            except Exception:  # noqa: BLE001 - the database may be briefly away; try next tick
                logger.warning("housekeeping tick failed", exc_info=True)
        self.close_all()

    def reap(self, now: datetime | None = None) -> int:
        """Release every claim whose holder has been gone for the grace period; returns how many."""
        now = now or self.clock()
        cutoff = now - self.grace
        with self.db.read() as s:
            claims = repo.claims_older_than(s, cutoff)
            holders = {h for _, h, _ in claims}
            seen = repo.last_seen(s, holders, now - self.heartbeat * STALE_AFTER_BEATS) if holders else {}
        released = 0
        for txn_id, holder, claimed_at in claims:
            last, live = seen.get(holder, (None, False))
            if live or (last is not None and last > cutoff):
                continue
            if self.service.release_abandoned(txn_id, holder, claimed_at) is not None:
                released += 1
                logger.info("released claim on transaction %d: %s gone since %s", txn_id, holder, last)
        self.released += released
        return released

    def watch_appliances(self, now: datetime) -> None:
        """Tell the monitor when an appliance goes silent, comes back or reports a device problem."""
        if self.outbound is None:
            return
        status = appliances.appliance_status(self.db, now, self.appliance_silent_after_s)
        states = {a["name"]: a["state"] for a in status}
        if states != self._appliance_states:
            changed = [a["name"] for a in status if self._appliance_states.get(a["name"]) != a["state"]]
            self._appliance_states = states
            logger.info("appliances changed: %s", ", ".join(f"{n}={states[n]}" for n in changed))
            self.outbound.emit("appliances_updated", {"appliances": status}, to=MONITOR_ROOM)

    def close_all(self) -> None:
        """On the way out: this process's connections are closed (they would go stale anyway)."""
        try:
            with self.db.write() as s:
                repo.close_all_of(s, self.process, self.clock())
        except Exception:  # noqa: BLE001 - best effort; rows go stale by themselves
            logger.warning("could not mark this process's connections closed", exc_info=True)

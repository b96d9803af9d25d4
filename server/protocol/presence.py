"""Who is connected, across every server process, and the release of claims whose holder vanished.

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
from typing import Any

from sqlalchemy import and_, case, delete, func, select, update
from sqlalchemy.orm import Session

from ..db.engine import Database
from ..db.models import Connection, IdempotencyKey, Transaction
from ..domain.status import TxnStatus
from ..service import appliances
from ..service.queue import QueueService, utcnow

logger = logging.getLogger(__name__)

STALE_AFTER_BEATS = 3
KEEP_CLOSED_CONNECTIONS = timedelta(days=1)


def process_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Presence:
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
        on_appliances_changed: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> None:
        self.db = db
        self.appliance_silent_after_s = appliance_silent_after_s
        self.on_appliances_changed = on_appliances_changed
        self._appliance_states: dict[str, str] = {}
        self.service = service
        self.grace = timedelta(seconds=grace_s)
        self.heartbeat = timedelta(seconds=heartbeat_s)
        self.retention = timedelta(seconds=idempotency_retention_s)
        self.clock = clock
        self.process = process_name()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Every couple of seconds (two small indexed queries): a release happens within ~1/4 of the
        # grace period after it is due, and the monitor hears of a silent appliance promptly.
        self._tick_s = max(0.1, min(2.0, heartbeat_s, grace_s / 4))
        self.released = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="presence.reaper", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        try:
            self._mark_all_closed()
        except Exception:  # noqa: BLE001 - best effort on the way out; rows go stale anyway
            logger.warning("could not mark this process's connections closed", exc_info=True)

    # ---- connection events (request threads) ------------------------------------------------

    def connected(self, sid: str, principal: str) -> None:
        now = self.clock()
        with self.db.write() as s:
            s.add(Connection(sid=sid, principal=principal, process=self.process, connected_at=now, last_seen_at=now))

    def disconnected(self, sid: str) -> None:
        now = self.clock()
        with self.db.write() as s:
            s.execute(update(Connection).where(Connection.sid == sid).values(disconnected_at=now, last_seen_at=now))

    # ---- the reaper thread --------------------------------------------------------------------

    def _run(self) -> None:
        last_beat = datetime.min
        last_prune = datetime.min
        while not self._stop.wait(self._tick_s):
            try:
                now = self.clock()
                if now - last_beat >= self.heartbeat:
                    self._beat(now)
                    last_beat = now
                self.reap(now)
                self.watch_appliances(now)
                if now - last_prune >= timedelta(hours=1):
                    self._prune(now)
                    last_prune = now
            except Exception:  # noqa: BLE001 - the database may be briefly away; try next tick
                logger.warning("presence tick failed", exc_info=True)

    def _beat(self, now: datetime) -> None:
        with self.db.write() as s:
            s.execute(
                update(Connection)
                .where(Connection.process == self.process, Connection.disconnected_at.is_(None))
                .values(last_seen_at=now)
            )

    def reap(self, now: datetime | None = None) -> int:
        """Release every claim whose holder has been gone for the grace period; returns how many."""
        now = now or self.clock()
        cutoff = now - self.grace
        with self.db.read() as s:
            claims = s.execute(
                select(Transaction.id, Transaction.holder, Transaction.claimed_at).where(
                    Transaction.status.in_([TxnStatus.THERAPIST_CONFIRMED.value, TxnStatus.PAYING.value]),
                    Transaction.holder.is_not(None),
                    Transaction.claimed_at < cutoff,
                )
            ).all()
            holders = {h for _, h, _ in claims}
            gone_since = self._absent_since(s, holders, now) if holders else {}
        released = 0
        for txn_id, holder, claimed_at in claims:
            since = gone_since.get(holder, "present")
            if since == "present":
                continue
            if since is not None and since > cutoff:
                continue
            if self.service.release_abandoned(txn_id, holder, claimed_at) is not None:
                released += 1
                logger.info("released claim on transaction %d: %s gone since %s", txn_id, holder, since)
        self.released += released
        return released

    def watch_appliances(self, now: datetime) -> None:
        """Tell the monitor when an appliance goes silent, comes back or reports a device problem."""
        if self.on_appliances_changed is None:
            return
        status = appliances.appliance_status(self.db, now, self.appliance_silent_after_s)
        states = {a["name"]: a["state"] for a in status}
        if states != self._appliance_states:
            changed = [a["name"] for a in status if self._appliance_states.get(a["name"]) != a["state"]]
            self._appliance_states = states
            logger.info("appliances changed: %s", ", ".join(f"{n}={states[n]}" for n in changed))
            self.on_appliances_changed(status)

    def _absent_since(self, s: Session, holders: set[str], now: datetime) -> dict[str, datetime | None | str]:
        """'present' for holders with a live connection, else when they were last seen (None: never)."""
        stale = now - self.heartbeat * STALE_AFTER_BEATS
        rows = s.execute(
            select(
                Connection.principal,
                func.max(Connection.last_seen_at),
                func.sum(
                    case((and_(Connection.disconnected_at.is_(None), Connection.last_seen_at > stale), 1), else_=0)
                ),
            )
            .where(Connection.principal.in_(holders))
            .group_by(Connection.principal)
        ).all()
        result: dict[str, datetime | None | str] = {h: None for h in holders}
        for principal, last_seen, live in rows:
            result[principal] = "present" if live else last_seen
        return result

    def _prune(self, now: datetime) -> None:
        with self.db.write() as s:
            s.execute(delete(Connection).where(Connection.disconnected_at < now - KEEP_CLOSED_CONNECTIONS))
            s.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < now - self.retention))

    def _mark_all_closed(self) -> None:
        now = self.clock()
        with self.db.write() as s:
            s.execute(
                update(Connection)
                .where(Connection.process == self.process, Connection.disconnected_at.is_(None))
                .values(disconnected_at=now)
            )

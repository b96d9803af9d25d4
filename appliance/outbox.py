"""The durable outbox: every command a device caused, in order, until the server acknowledged it.

A device thread ``add``s a command (committed and fsynced before anything else happens with it).
The network thread sends the ``head``, and removes it with ``finish`` only once the server
acknowledged it (done, or refused for good) — in the same transaction that records what the
acknowledgement changed (the room's current claim). The idempotency key ``<epoch>-<seq>`` goes with
every send, so a command sent again after a lost acknowledgement, an outage or a restart has its
effect on the server exactly once.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .commands import Command, Resolve
from .store import connect, transaction


@dataclass(frozen=True)
class Entry:
    seq: int
    key: str  # the idempotency key
    event: str
    payload: dict[str, Any]
    resolve: Resolve | None
    resolved: bool
    keyed: bool
    device: str
    occurred_at: float
    queued_at: float
    attempts: int

    @property
    def needs_resolving(self) -> bool:
        return self.resolve is not None and not self.resolved


_COLUMNS = "seq, event, payload, resolve, resolved, keyed, device, occurred_at, queued_at, attempts"


class Outbox:
    """One thread's handle on the outbox (its own SQLite connection)."""

    def __init__(self, path: Path, epoch: str) -> None:
        self._conn = connect(path)
        self.epoch = epoch

    def close(self) -> None:
        self._conn.close()

    def _entry(self, row: tuple[Any, ...]) -> Entry:
        seq, event, payload, resolve, resolved, keyed, device, occurred_at, queued_at, attempts = row
        return Entry(
            seq,
            f"{self.epoch}-{seq}",
            event,
            json.loads(payload),
            Resolve(resolve) if resolve else None,
            bool(resolved),
            bool(keyed),
            device,
            occurred_at,
            queued_at,
            attempts,
        )

    def add(self, command: Command) -> Entry:
        """Make the command durable. Returns once it is on disk."""
        with transaction(self._conn) as c:
            cursor = c.execute(
                "INSERT INTO outbox (event, payload, resolve, keyed, device, occurred_at, queued_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    command.event,
                    json.dumps(dict(command.payload), sort_keys=True),
                    command.resolve.value if command.resolve else None,
                    int(command.keyed),
                    command.device,
                    command.occurred_at,
                    time.time(),
                ),
            )
            seq = cursor.lastrowid
            row = c.execute(f"SELECT {_COLUMNS} FROM outbox WHERE seq = ?", (seq,)).fetchone()
        return self._entry(row)

    def head(self) -> Entry | None:
        row = self._conn.execute(f"SELECT {_COLUMNS} FROM outbox ORDER BY seq LIMIT 1").fetchone()
        return self._entry(row) if row else None

    def entries(self) -> list[Entry]:
        rows = self._conn.execute(f"SELECT {_COLUMNS} FROM outbox ORDER BY seq").fetchall()
        return [self._entry(r) for r in rows]

    def freeze(self, entry: Entry, payload: dict[str, Any]) -> Entry:
        """Record the resolved payload before it is first sent: a resend (even after a restart)
        sends the same transaction id with the same key."""
        with transaction(self._conn) as c:
            c.execute(
                "UPDATE outbox SET payload = ?, resolved = 1 WHERE seq = ?",
                (json.dumps(payload, sort_keys=True), entry.seq),
            )
        return Entry(**{**entry.__dict__, "payload": payload, "resolved": True})

    def finish(self, entry: Entry, current_claim: int | None) -> None:
        """The server acknowledged the entry (or refused it for good): remove it, and record the
        room's current claim as it is after this command, atomically."""
        with transaction(self._conn) as c:
            c.execute("DELETE FROM outbox WHERE seq = ?", (entry.seq,))
            c.execute(
                "INSERT INTO meta VALUES ('current_claim', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                ("" if current_claim is None else str(current_claim),),
            )

    def retry_later(self, entry: Entry, error: str) -> None:
        with transaction(self._conn) as c:
            c.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ?", (error[:200], entry.seq)
            )

    def current_claim(self) -> int | None:
        row = self._conn.execute("SELECT value FROM meta WHERE name = 'current_claim'").fetchone()
        return int(row[0]) if row and row[0] else None

    def backlog(self) -> tuple[int, float | None]:
        """How many entries wait, and since when the oldest (unix time)."""
        count, oldest = self._conn.execute("SELECT count(*), min(queued_at) FROM outbox").fetchone()
        return int(count), oldest

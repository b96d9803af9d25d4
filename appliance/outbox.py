"""The durable outbox: every command a device caused, in order, until the server acknowledged it.

A device thread ``add``s its commands (on disk before anything else happens with them: a durable
write of the ``Store``, see ``store.py``). The network thread sends the ``head``, and removes it with
``finish`` only once the server acknowledged it (done, or refused for good) — in the same transaction
that records what the acknowledgement changed (the room's current claim). That removal is a lazy
write: lost to a power cut, the command is sent again with the same idempotency key ``<epoch>-<seq>``,
and the server replays its first result, so its effect happens exactly once.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .commands import Command, Resolve
from .store import Store, connect


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
    """One thread's handle on the outbox: reads on its own SQLite connection, writes through the store."""

    def __init__(self, path: Path, epoch: str, store: Store) -> None:
        self._conn = connect(path)
        self.epoch = epoch
        self._store = store

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
        [entry] = self.add_all([command])
        return entry

    def add_all(self, commands: Sequence[Command]) -> list[Entry]:
        """Make the commands durable, in order, in one commit. Returns once they are on disk."""
        rows = self._store.write(lambda c: [_insert(c, command) for command in commands])
        return [self._entry(row) for row in rows]

    def head(self) -> Entry | None:
        row = self._conn.execute(f"SELECT {_COLUMNS} FROM outbox ORDER BY seq LIMIT 1").fetchone()
        return self._entry(row) if row else None

    def entries(self) -> list[Entry]:
        rows = self._conn.execute(f"SELECT {_COLUMNS} FROM outbox ORDER BY seq").fetchall()
        return [self._entry(r) for r in rows]

    def freeze(self, entry: Entry, payload: dict[str, Any]) -> Entry:
        """Record the resolved payload before it is first sent: a resend (even after a restart)
        sends the same transaction id with the same key. Durable: a resend after a power cut must
        carry the payload the server may already have."""
        text = json.dumps(payload, sort_keys=True)
        self._store.write(
            lambda c: c.execute("UPDATE outbox SET payload = ?, resolved = 1 WHERE seq = ?", (text, entry.seq))
        )
        return Entry(**{**entry.__dict__, "payload": payload, "resolved": True})

    def finish(self, entry: Entry, current_claim: int | None) -> None:
        """The server acknowledged the entry (or refused it for good): remove it, and record the
        room's current claim as it is after this command, atomically. Lazy (see the module)."""
        claim = "" if current_claim is None else str(current_claim)

        def work(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM outbox WHERE seq = ?", (entry.seq,))
            c.execute(
                "INSERT INTO meta VALUES ('current_claim', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                (claim,),
            )

        self._store.write(work, durable=False)

    def retry_later(self, entry: Entry, error: str) -> None:
        self._store.write(
            lambda c: c.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ?", (error[:200], entry.seq)
            ),
            durable=False,
        )

    def current_claim(self) -> int | None:
        row = self._conn.execute("SELECT value FROM meta WHERE name = 'current_claim'").fetchone()
        return int(row[0]) if row and row[0] else None

    def backlog(self) -> tuple[int, float | None]:
        """How many entries wait, and since when the oldest (unix time)."""
        count, oldest = self._conn.execute("SELECT count(*), min(queued_at) FROM outbox").fetchone()
        return int(count), oldest


def _insert(c: sqlite3.Connection, command: Command) -> tuple[Any, ...]:
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
    row: tuple[Any, ...] = c.execute(f"SELECT {_COLUMNS} FROM outbox WHERE seq = ?", (cursor.lastrowid,)).fetchone()
    return row

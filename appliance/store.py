"""The appliance's durable state: one SQLite database in WAL mode in ``state_dir``.

Every thread reads through a connection of its own. Every write goes through the one ``Store``,
which groups them: a write that arrives while another group is being committed waits for that
commit and is committed with every other waiting write in the next transaction, each in a savepoint
of its own (one failing rolls back only itself). No write waits for more than the commit in flight
and its own; nothing is delayed on purpose.

The durability promise, per kind of write:

- **durable** (``durable=True``): on disk when ``write`` returns. The group's commit is fsynced
  (``synchronous=FULL``: in WAL mode the log is synced on commit). Used for what must survive a power
  cut the moment it happened: a command a device caused (a scan, a press), and the record that a
  print job's part is about to be sent.
- **lazy** (``durable=False``): visible to every reader when ``write`` returns, on disk with the next
  durable commit or checkpoint (``synchronous=NORMAL``), so lost only to a power cut in between and
  harmless to lose: removing an acknowledged command (it is sent again with the same idempotency key,
  and the server replays its first result), a print result (the job is then found half-sent at the
  next start and reported as unknown), a result reported, a job received (the server sends it again).

So a scan costs one fsync, where it cost two (its insert and its removal) plus one per retry, and a
print result none. ``batch=False`` is the old behaviour, every write its own fsynced commit: the
benchmark switches it off to measure the difference in the same run.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from .errors import StateError

T = TypeVar("T")

BUSY_TIMEOUT_S = 10.0  # a writer waits this long for a checkpoint or another process holding the lock

# Each statement is one step of the schema; ``user_version`` counts the steps applied, so a database
# made by an older version is brought up to date by the statements after its count.
SCHEMA = [
    """CREATE TABLE meta (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    # Commands caused by devices, oldest first, until the server acknowledged them.
    """CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: the idempotency key is <epoch>-<seq>
        event TEXT NOT NULL,
        payload TEXT NOT NULL,                  -- JSON; frozen with its transaction_id once resolved
        resolve TEXT,                           -- 'current_claim': transaction_id filled in when sent
        resolved INTEGER NOT NULL DEFAULT 0,
        keyed INTEGER NOT NULL DEFAULT 1,
        device TEXT NOT NULL,
        occurred_at REAL NOT NULL,              -- unix time of the device event
        queued_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
    )""",
    # Receipts from the server, kept until finished AND reported; finished ones are remembered so
    # that a job the server sends again is never printed twice.
    """CREATE TABLE print_jobs (
        job_id TEXT PRIMARY KEY,
        transaction_id INTEGER NOT NULL,
        payload TEXT NOT NULL,
        state TEXT NOT NULL,                    -- queued | sending | printed | unknown | rejected
        result TEXT,                            -- JSON result still to report; NULL once reported
        result_seq INTEGER NOT NULL DEFAULT 0,  -- bumped with each new result, so a late ack clears only its own
        received_at REAL NOT NULL,
        printed_at REAL,
        reported_at REAL
    )""",
    "CREATE INDEX print_jobs_state ON print_jobs (state, received_at)",
    # Issue 13: the drawer pulse is a part of its own, recorded before it is sent, never sent twice.
    "ALTER TABLE print_jobs ADD COLUMN drawer_sent_at REAL",
]


def connect(path: Path, *, shared: bool = False) -> sqlite3.Connection:
    """A connection in WAL mode. ``shared``: the ``Store``'s, used by one thread at a time."""
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=not shared)
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            raise StateError(f"{path}: cannot use WAL mode (got {mode!r})")
        conn.execute("PRAGMA synchronous=FULL")
        return conn
    except sqlite3.Error as exc:
        raise StateError(f"{path}: {exc}") from exc


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction on a connection of its own (setting up, tests)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@dataclass
class _Write(Generic[T]):
    work: Callable[[sqlite3.Connection], T]
    durable: bool
    done: bool = False
    result: Any = None
    error: BaseException | None = None


class Store:
    """The one writer of the database, shared by every thread (``write`` is thread-safe)."""

    def __init__(self, path: Path, *, batch: bool = True) -> None:
        self.path = path
        self.batch = batch
        self._conn = connect(path, shared=True)
        self._synchronous = "FULL"
        self._cond = threading.Condition()
        self._waiting: list[_Write[Any]] = []
        self._committing = False
        self.commits = 0  # transactions committed, and how many of them fsynced (for the benchmark)
        self.durable_commits = 0

    def close(self) -> None:
        with self._cond:
            while self._committing:
                self._cond.wait()
            self._conn.close()

    def write(self, work: Callable[[sqlite3.Connection], T], *, durable: bool = True) -> T:
        """Run ``work`` in a write transaction; returns its result once committed (``durable``: and
        on disk). Raises what ``work`` raised (its changes rolled back), or ``StateError``."""
        request = _Write(work, durable)
        with self._cond:
            self._waiting.append(request)
            while self._committing and not request.done:
                self._cond.wait()
            if not request.done:  # lead the next group: everything waiting now
                self._committing = True
                group = self._waiting if self.batch else [request]
                self._waiting = [] if self.batch else [w for w in self._waiting if w is not request]
        if not request.done:
            try:
                self._commit(group)
            finally:
                with self._cond:
                    for member in group:
                        member.done = True
                    self._committing = False
                    self._cond.notify_all()
        if request.error is not None:
            raise request.error
        return request.result  # type: ignore[no-any-return]

    def _commit(self, group: list[_Write[Any]]) -> None:
        durable = not self.batch or any(w.durable for w in group)
        conn = self._conn
        try:
            self._set_synchronous("FULL" if durable else "NORMAL")
            conn.execute("BEGIN IMMEDIATE")
            for w in group:
                conn.execute("SAVEPOINT write")
                try:
                    w.result = w.work(conn)
                except Exception as exc:  # noqa: BLE001 - handed back to its own caller
                    w.error = exc
                    conn.execute("ROLLBACK TO write")
                conn.execute("RELEASE write")
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            failure = StateError(f"{self.path}: {exc}")
            for w in group:
                w.error, w.result = w.error or failure, None
            return
        self.commits += 1
        self.durable_commits += durable

    def _set_synchronous(self, mode: str) -> None:
        if mode != self._synchronous:
            self._conn.execute(f"PRAGMA synchronous={mode}")
            self._synchronous = mode


def prepare(state_dir: Path, path: Path) -> str:
    """Create the state directory and the database if needed, or bring an older one up to date;
    returns this database's key epoch. Called once at start, before any thread opens a connection."""
    try:
        state_dir.mkdir(mode=0o750, parents=True, exist_ok=True)
    except OSError as exc:
        raise StateError(f"state_dir = {str(state_dir)!r}: cannot create it: {exc.strerror or exc}") from None
    if not os.access(state_dir, os.W_OK | os.X_OK):
        raise StateError(f"state_dir = {str(state_dir)!r}: not writable by this user")
    conn = connect(path)
    try:
        with transaction(conn):
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > len(SCHEMA):
                raise StateError(f"{path}: schema version {version}, this software knows {len(SCHEMA)}")
            for statement in SCHEMA[version:]:
                conn.execute(statement)
            if version == 0:
                # A fresh database (a new SD card) must not reuse keys the server saw from the old one.
                conn.execute("INSERT INTO meta VALUES ('epoch', ?)", (secrets.token_hex(4),))
            conn.execute(f"PRAGMA user_version = {len(SCHEMA)}")
        row = conn.execute("SELECT value FROM meta WHERE name = 'epoch'").fetchone()
        return str(row[0])
    except sqlite3.Error as exc:
        raise StateError(f"{path}: {exc}") from exc
    finally:
        conn.close()

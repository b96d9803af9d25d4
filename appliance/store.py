"""The appliance's durable state: one SQLite database in WAL mode in ``state_dir``.

Every commit is fsynced (``synchronous=FULL``: in WAL mode the log is synced on each commit), so
what a commit returned from survives a kill -9 and a power cut. Each thread opens its own
connection; SQLite's locking orders the writers (``BEGIN IMMEDIATE``, with a busy timeout).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from .errors import StateError

BUSY_TIMEOUT_S = 10.0  # writers wait for each other this long; each holds the lock for one small commit

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
    # Receipts from the server, kept until printed AND reported; printed ones are remembered so
    # that a job the server sends again is never printed twice.
    """CREATE TABLE print_jobs (
        job_id TEXT PRIMARY KEY,
        transaction_id INTEGER NOT NULL,
        payload TEXT NOT NULL,
        state TEXT NOT NULL,                    -- queued | printed | rejected
        result TEXT,                            -- JSON result still to report; NULL once reported
        result_seq INTEGER NOT NULL DEFAULT 0,  -- bumped with each new result, so a late ack clears only its own
        received_at REAL NOT NULL,
        printed_at REAL,
        reported_at REAL
    )""",
    "CREATE INDEX print_jobs_state ON print_jobs (state, received_at)",
]


def connect(path: Path) -> sqlite3.Connection:
    """A connection for the calling thread, with WAL and fsync on every commit."""
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            raise StateError(f"{path}: cannot use WAL mode (got {mode!r})")
        conn.execute("PRAGMA synchronous=FULL")
        return conn
    except sqlite3.Error as exc:
        raise StateError(f"{path}: {exc}") from exc


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction; the commit returns after the WAL is on disk."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def prepare(state_dir: Path, path: Path) -> str:
    """Create the state directory and the database if needed; returns this database's key epoch.

    Called once at start, before any thread opens its own connection.
    """
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
            if version == 0:
                for statement in SCHEMA:
                    conn.execute(statement)
                # A fresh database (a new SD card) must not reuse keys the server saw from the old one.
                conn.execute("INSERT INTO meta VALUES ('epoch', ?)", (secrets.token_hex(4),))
                conn.execute(f"PRAGMA user_version = {len(SCHEMA)}")
            elif version != len(SCHEMA):
                raise StateError(f"{path}: schema version {version}, this software knows {len(SCHEMA)}")
        row = conn.execute("SELECT value FROM meta WHERE name = 'epoch'").fetchone()
        return str(row[0])
    except sqlite3.Error as exc:
        raise StateError(f"{path}: {exc}") from exc
    finally:
        conn.close()

"""Receipts (and the till's slips and reports) sent by the server, kept durably until finished and
reported.

The network thread ``receive``s a job (before the printer hears of it) and reports results; the
printer thread prints the ``unprinted`` jobs, records each part with ``sending`` before the driver
sends it (a durable write: on disk before the first byte leaves) and ``record``s each result.

A job's states: ``queued`` (nothing of its receipt sent; its drawer pulse may have been, see
``drawer_sent_at``) → ``sending`` (the receipt may be leaving) → ``printed`` (the printer confirmed
it) or ``unknown`` (it did not: only a person can tell); or ``rejected`` (it cannot be printed).
A job found ``sending`` at start was being sent when the daemon stopped: it is ``unknown``, never
sent again. Finished jobs are remembered (``KEEP_PRINTED_S``): the server sends every job it has no
final result for again on each connect, and such a job is reported again, never printed again.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from devices.base import JobPart, JobResult, Outcome

from .errors import StateError
from .store import Store, connect

KEEP_PRINTED_S = 30 * 24 * 3600.0  # far longer than the server keeps re-sending a job it has no result for
STOPPED_WHILE_SENDING = "the appliance stopped while this receipt was being sent"
SENT_NOT_CONFIRMED = "the receipt was sent; whether it printed is unknown"
REJECTED = "rejected"  # a result's outcome for a job that cannot be printed at all


# The table's transaction_id is NOT NULL (made before documents): a job for no visit (an X report,
# cash in or out) is kept with 0, which no transaction has (ids start at 1), and reported as None.
NO_TRANSACTION = 0


@dataclass(frozen=True)
class Report:
    job_id: str
    transaction_id: int | None
    result: dict[str, Any]  # {"ok", "state", "detail", "outcome"}: the receipt_status to send
    result_seq: int


class Unprinted(NamedTuple):
    job_id: str
    payload: dict[str, Any]
    drawer_sent: bool  # its drawer pulse went out already: never again


class PrintJobs:
    """One thread's handle on the print job table: reads on its own connection, writes through the store."""

    def __init__(self, path: Path, store: Store) -> None:
        self._conn = connect(path)
        self._store = store

    def close(self) -> None:
        self._conn.close()

    def receive(self, job_id: str, transaction_id: int | None, payload: dict[str, Any], rejected: str | None) -> str:
        """Keep a job the server sent; returns its state here.

        A job already known is not queued again. If it was finished here, the server evidently
        missed the report, so the result is reported again. Lazy: the server sends a job it has no
        result for again, so a job lost to a power cut comes back.
        """
        now = time.time()
        text = json.dumps(payload, sort_keys=True)

        def work(c: sqlite3.Connection) -> str:
            row = c.execute("SELECT state FROM print_jobs WHERE job_id = ?", (job_id,)).fetchone()
            if row is None:
                state = "rejected" if rejected else "queued"
                result = _result(False, "error", rejected, REJECTED) if rejected else None
                c.execute(
                    "INSERT INTO print_jobs (job_id, transaction_id, payload, state, result, received_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (job_id, transaction_id or NO_TRANSACTION, text, state, result, now),
                )
                return state
            state = str(row[0])
            again = {
                "printed": _result(True, "ok", "", Outcome.PRINTED),
                "unknown": _result(False, "error", SENT_NOT_CONFIRMED, Outcome.UNKNOWN),
                "rejected": _result(False, "error", "the appliance cannot print this receipt", REJECTED),
            }.get(state)
            if again is not None:  # the last result reported stands; only if none is pending, this one
                c.execute(
                    "UPDATE print_jobs SET result = coalesce(result, ?), result_seq = result_seq + 1 WHERE job_id = ?",
                    (again, job_id),
                )
            return state

        return self._store.write(work, durable=False)

    def unprinted(self) -> list[Unprinted]:
        rows = self._conn.execute(
            "SELECT job_id, payload, drawer_sent_at FROM print_jobs WHERE state = 'queued' ORDER BY received_at, job_id"
        ).fetchall()
        return [
            Unprinted(job_id, json.loads(payload), drawer_sent is not None) for job_id, payload, drawer_sent in rows
        ]

    def sending(self, job_id: str, part: JobPart) -> None:
        """The driver is about to send ``part`` of the job: on disk before this returns (the
        ``SendJournal`` of ``devices.print_jobs``). Raises ``StateError`` for a job that is not
        queued here, so that nothing is sent for it."""
        if part is JobPart.DRAWER:
            sql = (
                "UPDATE print_jobs SET drawer_sent_at = ?"
                " WHERE job_id = ? AND state = 'queued' AND drawer_sent_at IS NULL"
            )
            args: tuple[Any, ...] = (time.time(), job_id)
        else:
            sql = "UPDATE print_jobs SET state = 'sending' WHERE job_id = ? AND state = 'queued'"
            args = (job_id,)
        changed = self._store.write(lambda c: c.execute(sql, args).rowcount)
        if changed != 1:
            raise StateError(f"print job {job_id}: its {part} is not waiting to be sent")

    def record(self, result: JobResult) -> None:
        """The printer's result for a job. A result after the job finished (a late report) never
        changes it. Lazy: see the module."""
        value = _result(result.ok, result.state.value, result.detail, result.outcome)
        args: tuple[Any, ...]
        if result.outcome is Outcome.WAITING:
            sql = "UPDATE print_jobs SET result = ?, result_seq = result_seq + 1 WHERE job_id = ? AND state = 'queued'"
            args = (value, result.job_id)
        else:
            state = "printed" if result.outcome is Outcome.PRINTED else "unknown"
            sql = (
                "UPDATE print_jobs SET state = ?, printed_at = ?, result = ?, result_seq = result_seq + 1"
                " WHERE job_id = ? AND state IN ('queued', 'sending')"
            )
            args = (state, time.time(), value, result.job_id)
        self._store.write(lambda c: c.execute(sql, args), durable=False)

    def recover(self) -> list[str]:
        """At the printer thread's start: a job left ``sending`` was being sent when the appliance
        (or the thread) stopped. Its receipt may be on the paper: unknown, reported, never sent again."""

        def work(c: sqlite3.Connection) -> list[str]:
            ids = [r[0] for r in c.execute("SELECT job_id FROM print_jobs WHERE state = 'sending'").fetchall()]
            c.execute(
                "UPDATE print_jobs SET state = 'unknown', result = ?, result_seq = result_seq + 1"
                " WHERE state = 'sending'",
                (_result(False, "error", STOPPED_WHILE_SENDING, Outcome.UNKNOWN),),
            )
            return ids

        return self._store.write(work)

    def reject(self, job_id: str, detail: str) -> None:
        """A stored job the printer refused (it cannot be printed at all)."""
        self._store.write(
            lambda c: c.execute(
                "UPDATE print_jobs SET state = 'rejected', result = ?, result_seq = result_seq + 1"
                " WHERE job_id = ? AND state = 'queued'",
                (_result(False, "error", detail, REJECTED), job_id),
            ),
            durable=False,
        )

    def unreported(self) -> list[Report]:
        rows = self._conn.execute(
            "SELECT job_id, transaction_id, result, result_seq FROM print_jobs WHERE result IS NOT NULL"
            " ORDER BY received_at, job_id"
        ).fetchall()
        return [Report(job_id, txn or None, json.loads(result), seq) for job_id, txn, result, seq in rows]

    def reported(self, report: Report) -> None:
        """The server has the result; a newer result recorded meanwhile stays to be reported."""
        now = time.time()
        self._store.write(
            lambda c: c.execute(
                "UPDATE print_jobs SET result = NULL, reported_at = ? WHERE job_id = ? AND result_seq = ?",
                (now, report.job_id, report.result_seq),
            ),
            durable=False,
        )

    def state(self, job_id: str) -> str | None:
        row = self._conn.execute("SELECT state FROM print_jobs WHERE job_id = ?", (job_id,)).fetchone()
        return str(row[0]) if row else None

    def prune(self, now: float | None = None) -> int:
        """Forget jobs finished and reported long ago."""
        before = (now or time.time()) - KEEP_PRINTED_S
        count: int = self._store.write(
            lambda c: (
                c.execute(
                    "DELETE FROM print_jobs WHERE state IN ('printed', 'unknown', 'rejected') AND result IS NULL"
                    " AND received_at < ?",
                    (before,),
                ).rowcount
            ),
            durable=False,
        )
        return count


def _result(ok: bool, state: str, detail: str | None, outcome: str) -> str:
    """A result to report: ``outcome`` is an ``Outcome`` value or ``REJECTED``."""
    return json.dumps({"ok": ok, "state": state, "detail": detail or "", "outcome": outcome}, sort_keys=True)

"""Receipts sent by the server, kept durably until printed and reported.

The network thread ``receive``s a job (before the printer hears of it) and reports results; the
printer thread prints the ``unprinted`` jobs and ``record``s each result at once. A printed job is
remembered (``KEEP_PRINTED_S``), so when the server sends it again — it re-sends every unreported
job on each connect — it is reported as printed instead of printed twice, even across a restart.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devices.base import JobResult

from .store import connect, transaction

KEEP_PRINTED_S = 30 * 24 * 3600.0  # far longer than the server keeps re-sending a job it has no result for


@dataclass(frozen=True)
class Report:
    job_id: str
    transaction_id: int
    result: dict[str, Any]  # {"ok", "state", "detail"}: the receipt_status to send
    result_seq: int


class PrintJobs:
    """One thread's handle on the print job table (its own SQLite connection)."""

    def __init__(self, path: Path) -> None:
        self._conn = connect(path)

    def close(self) -> None:
        self._conn.close()

    def receive(self, job_id: str, transaction_id: int, payload: dict[str, Any], rejected: str | None) -> str:
        """Keep a job the server sent; returns its state here (``queued``, ``printed``, ``rejected``).

        A job already known is not queued again. If it was printed or rejected here, the server
        evidently missed the report, so the result is reported again.
        """
        now = time.time()
        with transaction(self._conn) as c:
            row = c.execute("SELECT state FROM print_jobs WHERE job_id = ?", (job_id,)).fetchone()
            if row is None:
                state = "rejected" if rejected else "queued"
                result = _result(False, "error", rejected) if rejected else None
                c.execute(
                    "INSERT INTO print_jobs (job_id, transaction_id, payload, state, result, received_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (job_id, transaction_id, json.dumps(payload, sort_keys=True), state, result, now),
                )
                return state
            state = str(row[0])
            if state == "printed":
                c.execute(
                    "UPDATE print_jobs SET result = coalesce(result, ?), result_seq = result_seq + 1 WHERE job_id = ?",
                    (_result(True, "ok", ""), job_id),
                )
            elif state == "rejected":
                c.execute(
                    "UPDATE print_jobs SET result = coalesce(result, ?), result_seq = result_seq + 1 WHERE job_id = ?",
                    (_result(False, "error", "the appliance cannot print this receipt"), job_id),
                )
            return state

    def unprinted(self) -> list[tuple[str, dict[str, Any]]]:
        rows = self._conn.execute(
            "SELECT job_id, payload FROM print_jobs WHERE state = 'queued' ORDER BY received_at, job_id"
        ).fetchall()
        return [(job_id, json.loads(payload)) for job_id, payload in rows]

    def record(self, result: JobResult) -> None:
        """The printer's result for a job, made durable before anyone hears of it. A failure after
        the job printed (a late report) never undoes it."""
        value = _result(result.ok, result.state.value, result.detail)
        with transaction(self._conn) as c:
            if result.ok:
                c.execute(
                    "UPDATE print_jobs SET state = 'printed', printed_at = ?, result = ?, result_seq = result_seq + 1"
                    " WHERE job_id = ? AND state = 'queued'",
                    (time.time(), value, result.job_id),
                )
            else:
                c.execute(
                    "UPDATE print_jobs SET result = ?, result_seq = result_seq + 1"
                    " WHERE job_id = ? AND state = 'queued'",
                    (value, result.job_id),
                )

    def reject(self, job_id: str, detail: str) -> None:
        """A stored job the printer refused (it cannot be printed at all)."""
        with transaction(self._conn) as c:
            c.execute(
                "UPDATE print_jobs SET state = 'rejected', result = ?, result_seq = result_seq + 1"
                " WHERE job_id = ? AND state = 'queued'",
                (_result(False, "error", detail), job_id),
            )

    def unreported(self) -> list[Report]:
        rows = self._conn.execute(
            "SELECT job_id, transaction_id, result, result_seq FROM print_jobs WHERE result IS NOT NULL"
            " ORDER BY received_at, job_id"
        ).fetchall()
        return [Report(job_id, txn, json.loads(result), seq) for job_id, txn, result, seq in rows]

    def reported(self, report: Report) -> None:
        """The server has the result; a newer result recorded meanwhile stays to be reported."""
        with transaction(self._conn) as c:
            c.execute(
                "UPDATE print_jobs SET result = NULL, reported_at = ? WHERE job_id = ? AND result_seq = ?",
                (time.time(), report.job_id, report.result_seq),
            )

    def state(self, job_id: str) -> str | None:
        row = self._conn.execute("SELECT state FROM print_jobs WHERE job_id = ?", (job_id,)).fetchone()
        return str(row[0]) if row else None

    def prune(self, now: float | None = None) -> int:
        """Forget jobs printed (or refused) and reported long ago."""
        before = (now or time.time()) - KEEP_PRINTED_S
        with transaction(self._conn) as c:
            cursor = c.execute(
                "DELETE FROM print_jobs WHERE state != 'queued' AND result IS NULL AND received_at < ?", (before,)
            )
        return cursor.rowcount


def _result(ok: bool, state: str, detail: str | None) -> str:
    return json.dumps({"ok": ok, "state": state, "detail": detail or ""}, sort_keys=True)

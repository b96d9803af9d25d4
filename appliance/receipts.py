"""The till's receipts as the network thread handles them: a ``print_receipt`` (or a
``print_document``: a slip or report, handled the same way) from the server is checked and kept in
the store before the printer thread hears of it; results the printer thread recorded are reported
with ``receipt_status`` until the server has them; ``print_jobs_pending`` catches any job whose
event went missing."""

from __future__ import annotations

import logging
import queue
import time
from typing import Any

from .config import ApplianceConfig
from .errors import AckTimeout, LinkDown
from .link import ServerLink
from .messages import JobsArrived
from .printstore import PrintJobs, Report
from .protocol import AckKind, classify_ack, event_of, print_job, print_request, receipt_status_payload

logger = logging.getLogger(__name__)

PRUNE_EVERY_S = 24 * 3600.0


class Receipts:
    """Used by the network thread only (its own store connection)."""

    def __init__(self, jobs: PrintJobs, printer_inbox: queue.Queue[JobsArrived] | None, config: ApplianceConfig):
        assert config.printing is not None
        self._jobs = jobs
        self._printer_inbox = printer_inbox
        self._drawer = config.printing.drawer
        self._server_url = config.server_url  # checked as the printer thread will print it
        self._ack_timeout_s = config.daemon.ack_timeout_s
        self._fetch_every_s = config.heartbeat_s
        self.fetch_at: float | None = None  # when to ask for pending jobs next
        self._prune_at = 0.0

    def close(self) -> None:
        self._jobs.close()

    def receive(self, data: Any) -> None:
        """A ``print_receipt`` or ``print_document`` (or a job of ``print_jobs_pending``)."""
        try:
            request = print_request(data)
        except ValueError as exc:
            logger.warning("%s ignored: %s", event_of(data), exc)
            return
        rejected = None
        if self._printer_inbox is None:
            rejected = "this till has no receipt printer"
        else:
            try:
                print_job(data, drawer=self._drawer, server_url=self._server_url)
            except ValueError as exc:
                rejected = str(exc)
        if rejected:
            logger.warning("%s %s cannot be printed: %s", request.event, request.job_id, rejected)
        state = self._jobs.receive(request.job_id, request.transaction_id, data, rejected)
        logger.info("print job %s: %s", request.job_id, state, extra={"transaction_id": request.transaction_id})
        if state == "queued" and self._printer_inbox is not None:
            try:
                self._printer_inbox.put_nowait(JobsArrived())
            except queue.Full:
                pass  # the printer thread reads the store every loop

    def fetch(self, link: ServerLink) -> None:
        """Ask for the jobs the server still holds for this till (it also sends them on connect)."""
        if self.fetch_at is None or time.monotonic() < self.fetch_at:
            return
        self.fetch_at = time.monotonic() + self._fetch_every_s
        if time.monotonic() >= self._prune_at:
            self._prune_at = time.monotonic() + PRUNE_EVERY_S
            if forgotten := self._jobs.prune():
                logger.info("forgot %d receipts printed and reported long ago", forgotten)
        try:
            ack = link.call("print_jobs_pending", None, self._ack_timeout_s)
        except (LinkDown, AckTimeout) as exc:
            logger.info("print_jobs_pending: %s", exc)
            return
        if isinstance(ack, dict) and ack.get("ok") and isinstance(ack.get("jobs"), list):
            for job in ack["jobs"]:
                self.receive(job)

    def report(self, link: ServerLink) -> bool:
        """Report every result not yet reported; False when the server could not take one now."""
        return all(self._report(link, report) for report in self._jobs.unreported())

    def _report(self, link: ServerLink, report: Report) -> bool:
        data = receipt_status_payload(report.job_id, report.transaction_id, report.result)
        try:
            ack = link.call("receipt_status", data, self._ack_timeout_s)
        except (LinkDown, AckTimeout) as exc:
            logger.info("receipt_status %s: %s", report.job_id, exc)
            return False
        outcome = classify_ack(ack)
        if outcome.kind is AckKind.RETRY:
            return False
        if outcome.kind is AckKind.REFUSED:
            logger.warning("receipt_status %s refused: %s: %s", report.job_id, outcome.code, outcome.message)
        else:
            said = "printed" if data["ok"] else "outcome unknown" if data.get("unknown") else data["state"]
            logger.info("reported job %s: %s", report.job_id, said)
        self._jobs.reported(report)
        return True

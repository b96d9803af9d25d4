"""The receipt printer's thread (``printer.worker``): print the stored jobs (receipts, and the till's
slips and reports), record each part in the store before the driver sends it, record each result,
tell the network thread there is something to report.

The jobs come from the store, not from memory: after a restart of the thread or the daemon every
job whose receipt was not sent is submitted again (without its drawer pulse if that went out), a
job found half-sent is reported as unknown, and a finished one is never sent again. The driver
retries a job whose receipt was not sent (paper out, offline) by itself when the printer is back.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Mapping
from typing import Any

from devices.base import (
    DeviceError,
    DeviceHealth,
    DeviceMisconfigured,
    DeviceState,
    JobResult,
    ReceiptPrinterDevice,
)

from .clock import TillClock
from .config import CashierSettings, DeviceSpec
from .messages import HealthChanged, JobsArrived, NetMessage, PrintResultsRecorded
from .printstore import PrintJobs
from .protocol import print_job
from .supervisor import Pulse

logger = logging.getLogger(__name__)

WAIT_S = 0.2  # for a new job, then as long for the driver's work; the store is read every loop, so a
# dropped hint costs nothing


class PrinterWorker:
    replace_when_stalled = False  # a second connection could print a job twice

    def __init__(
        self,
        spec: DeviceSpec,
        cashier: CashierSettings,
        open_jobs: Callable[[], PrintJobs],
        inbox: queue.Queue[JobsArrived],
        net_inbox: queue.Queue[NetMessage],
        make_device: Callable[[str, Mapping[str, Any]], object] | None = None,
        clock: TillClock | None = None,
        server_url: str = "",
    ) -> None:
        self.device = spec.name
        self._server_url = server_url  # in front of a ticket's QR address sent as a path
        self._clock = clock or TillClock("")
        self._make_device = make_device or spec.factory  # a test passes its own
        self.thread_name = f"{spec.name}.worker"
        self._spec = spec
        self._cashier = cashier
        self._open_jobs = open_jobs
        self._inbox = inbox
        self._net_inbox = net_inbox
        self._published: DeviceHealth | None = None
        self._submitted: set[str] = set()

    def run(self, stop: threading.Event, pulse: Pulse) -> None:
        printer = self._make_device(self._spec.name, self._spec.settings)
        assert isinstance(printer, ReceiptPrinterDevice)
        jobs = self._open_jobs()
        try:
            if half_sent := jobs.recover():
                logger.warning(
                    "%s: %d receipts were being sent when the appliance stopped; reported as unknown: %s",
                    self.device,
                    len(half_sent),
                    ", ".join(half_sent),
                )
                self._tell(PrintResultsRecorded())
            if self._open(printer, stop, pulse):
                while not stop.is_set():
                    pulse.beat()
                    self._wait_for_jobs(WAIT_S)
                    self._submit(printer, jobs)
                    self._record(printer.work(WAIT_S, jobs), jobs)
                    self._publish(printer.health())
        finally:
            printer.close()
            jobs.close()

    def _open(self, printer: ReceiptPrinterDevice, stop: threading.Event, pulse: Pulse) -> bool:
        try:
            printer.open()
            return True
        except DeviceMisconfigured as exc:  # permanent: report it and wait to be stopped
            logger.error("%s: %s", self.device, exc)
            self._publish(DeviceHealth(DeviceState.ERROR, str(exc)))
            while not stop.wait(1.0):
                pulse.beat()
            return False

    def _wait_for_jobs(self, timeout_s: float) -> None:
        try:
            self._inbox.get(timeout=timeout_s)
            while True:
                self._inbox.get_nowait()
        except queue.Empty:
            pass

    def _submit(self, printer: ReceiptPrinterDevice, jobs: PrintJobs) -> None:
        for job_id, payload, drawer_sent in jobs.unprinted():
            if job_id in self._submitted:
                continue
            try:
                drawer = self._cashier.drawer and not drawer_sent
                job = print_job(payload, drawer=drawer, now=self._clock.now(), server_url=self._server_url)
                printer.submit(job)
            except ValueError as exc:
                logger.warning("%s: job %s cannot be printed: %s", self.device, job_id, exc)
                jobs.reject(job_id, str(exc))
                self._tell(PrintResultsRecorded())
                continue
            except DeviceError as exc:  # the driver's queue is full: the job stays in the store
                logger.warning("%s: %s", self.device, exc)
                return
            self._submitted.add(job_id)

    def _record(self, results: list[JobResult], jobs: PrintJobs) -> None:
        for result in results:
            jobs.record(result)  # in the store before anyone hears of it
            if result.final:
                self._submitted.discard(result.job_id)
        if results:
            self._tell(PrintResultsRecorded())

    def _tell(self, message: NetMessage) -> None:
        try:
            self._net_inbox.put_nowait(message)
        except queue.Full:
            pass  # the network thread looks for unreported results on its own too

    def _publish(self, health: DeviceHealth) -> None:
        if health == self._published:
            return
        try:
            self._net_inbox.put_nowait(HealthChanged(self.device, health))
        except queue.Full:
            return
        self._published = health

"""The receipt printer: a job queue in front of one python-escpos connection.

``submit`` (any thread) renders the job to bytes and queues it; a job id already queued or already
printed is ignored, so the same job never prints twice. ``work`` (the device thread, in a loop)
checks the printer's status, sends the queued jobs one by one and checks the status after each:
a job counts as printed only when the printer still reports itself ready afterwards. A job that
failed (offline, paper out, no status reply) stays queued and is tried again every
``retry_interval_s`` until the printer is back. Its failure is reported once per cause, not on
every retry.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from escpos.capabilities import CAPABILITIES

from devices.base import DeviceError, DeviceHealth, DeviceState, DeviceUnavailable
from devices.config import SettingsReader
from devices.health import HealthTracker
from devices.print_jobs import DrawerJob, JobResult, PrintJob, ReceiptJob
from devices.printer.connection import PrinterConnection
from devices.printer.layout import CodeSymbol, KickDrawer, LayoutSettings, PrintOp, layout_receipt
from devices.printer.network import NetworkConnection
from devices.printer.render import render
from devices.printer.serial import SerialConnection
from devices.printer.status import (
    OFFLINE_CAUSE,
    PAPER_SENSOR,
    PRINTER_STATUS,
    PrinterStatus,
    interpret,
    status_byte,
    status_request,
    unreachable,
)
from devices.printer.usb import PYUSB_MISSING, UsbConnection, pyusb_installed
from devices.serial_port import BAUDRATES

logger = logging.getLogger(__name__)

PRINTER_KINDS = ("printer_usb", "printer_serial", "printer_network")


@dataclass
class _Queued:
    job: PrintJob
    data: bytes
    reported: tuple[DeviceState, str] | None = None  # the failure last reported for this job


class ReceiptPrinter:
    def __init__(
        self,
        name: str,
        connection: PrinterConnection,
        *,
        layout: LayoutSettings | None = None,
        profile: str = "default",
        drawer_pin: int = 2,
        status_query: bool = True,
        status_timeout_s: float = 1.0,
        retry_interval_s: float = 2.0,
        probe_interval_s: float = 10.0,
        max_queued_jobs: int = 100,
        remember_jobs: int = 1000,
    ) -> None:
        self.name = name
        self.connection = connection
        self.layout = layout or LayoutSettings()
        self.profile = profile
        self.drawer_pin = drawer_pin
        self.status_query = status_query
        self.status_timeout_s = status_timeout_s
        self.retry_interval_s = retry_interval_s
        self.probe_interval_s = probe_interval_s
        self.max_queued_jobs = max_queued_jobs
        self.remember_jobs = remember_jobs
        self._health = HealthTracker(name, logger)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._queue: list[_Queued] = []
        self._printed: OrderedDict[str, None] = OrderedDict()
        self._opened = False
        self._retry_at = 0.0
        self._probe_at = 0.0

    # --- configuration -------------------------------------------------------------------------

    @classmethod
    def from_config(cls, name: str, settings: Mapping[str, Any]) -> ReceiptPrinter:
        reader = SettingsReader(name, settings)
        kind = reader.kind
        profile = reader.get_str("profile", "default", choices=sorted(CAPABILITIES["profiles"]))
        status_timeout_s = reader.get_float("status_timeout_s", 1.0, min=0.05, max=10.0)
        connection: PrinterConnection
        if kind == "printer_network":
            connection = NetworkConnection(
                reader.get_str("host"),
                reader.get_int("port", 9100, min=1, max=65535),
                timeout_s=reader.get_float("timeout_s", 5.0, min=0.1, max=60.0),
                status_timeout_s=status_timeout_s,
                profile=profile,
            )
        elif kind == "printer_serial":
            port = reader.get_str("port")
            if not port.startswith("/"):
                raise reader.error("port", "must be a device path such as /dev/ttyUSB0 or /dev/serial/by-id/…")
            connection = SerialConnection(
                port,
                reader.get_int("baudrate", 9600, choices=BAUDRATES),
                timeout_s=reader.get_float("timeout_s", 5.0, min=0.1, max=60.0),
                status_timeout_s=status_timeout_s,
                profile=profile,
            )
        elif kind == "printer_usb":
            if not pyusb_installed():
                raise reader.error("kind", PYUSB_MISSING)
            connection = UsbConnection(
                reader.get_usb_id("vendor_id"),
                reader.get_usb_id("product_id"),
                in_ep=_endpoint(reader, "in_ep", 0x82, inward=True),
                out_ep=_endpoint(reader, "out_ep", 0x01, inward=False),
                timeout_ms=reader.get_int("timeout_ms", 5000, min=100, max=60000),
                status_timeout_s=status_timeout_s,
                profile=profile,
            )
        else:
            raise reader.error("kind", f"must be one of {', '.join(PRINTER_KINDS)}")
        layout = LayoutSettings(
            width_chars=reader.get_int("width_chars", 42, min=24, max=64),
            code_symbol=CodeSymbol(reader.get_str("code_symbol", "qr", choices=[c.value for c in CodeSymbol])),
            decimal_separator=reader.get_str("decimal_separator", ".", choices=(".", ",")),
            thank_you=reader.get_str("thank_you", LayoutSettings.thank_you, allow_empty=True),
        )
        printer = cls(
            name,
            connection,
            layout=layout,
            profile=profile,
            drawer_pin=reader.get_int("drawer_pin", 2, choices=(2, 5)),
            status_query=reader.get_bool("status_query", True),
            status_timeout_s=status_timeout_s,
            retry_interval_s=reader.get_float("retry_interval_s", 2.0, min=0.01, max=300.0),
            probe_interval_s=reader.get_float("probe_interval_s", 10.0, min=0.1, max=3600.0),
            max_queued_jobs=reader.get_int("max_queued_jobs", 100, min=1, max=10000),
        )
        reader.finish()
        return printer

    # --- the device interface ------------------------------------------------------------------

    def open(self) -> None:
        """Start managing the printer and try to reach it once.

        Never raises ``DeviceUnavailable``: an unreachable printer shows in ``health()`` and
        ``work()`` keeps trying, with the jobs waiting in the queue. Raises ``DeviceMisconfigured``.
        """
        self._opened = True
        self._probe()

    def submit(self, job: PrintJob) -> None:
        """Queue a job. Raises ``ValueError`` for a job that cannot be printed (nothing is queued)."""
        if not isinstance(job, ReceiptJob | DrawerJob):
            raise ValueError(f"{job!r} is not a ReceiptJob or DrawerJob")
        data = render(self.operations(job), self.profile)
        with self._lock:
            if job.job_id in self._printed or any(q.job.job_id == job.job_id for q in self._queue):
                logger.info("%s: job %s already printed or queued; ignored", self.name, job.job_id)
                return
            if len(self._queue) >= self.max_queued_jobs:
                raise DeviceError(f"{self.name}: {len(self._queue)} jobs waiting already; job {job.job_id} refused")
            self._queue.append(_Queued(job, data))
            self._changed.notify_all()

    def operations(self, job: PrintJob) -> list[PrintOp]:
        ops: list[PrintOp] = []
        if isinstance(job, DrawerJob) or job.open_drawer:
            ops.append(KickDrawer(self.drawer_pin))  # first, so the drawer opens while the receipt prints
        if isinstance(job, ReceiptJob):
            ops += layout_receipt(job.receipt, self.layout)
        return ops

    def pending_job_ids(self) -> list[str]:
        with self._lock:
            return [q.job.job_id for q in self._queue]

    def work(self, timeout_s: float) -> list[JobResult]:
        if not self._opened:
            raise DeviceUnavailable(f"{self.name}: not open", DeviceState.CLOSED)
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while True:
                now = time.monotonic()
                wake_at = min(deadline, self._retry_at if self._queue else self._probe_at)
                if now >= wake_at:
                    break
                self._changed.wait(wake_at - now)
            has_jobs = bool(self._queue)
        now = time.monotonic()
        if not has_jobs:
            if now >= self._probe_at:
                self._probe()
            return []
        if now < self._retry_at:
            return []
        return self._print_queued(deadline)

    def health(self) -> DeviceHealth:
        return self._health.get()

    def close(self) -> None:
        self._opened = False
        self.connection.close()
        self._health.set(DeviceState.CLOSED)

    # --- printing ------------------------------------------------------------------------------

    def _print_queued(self, deadline: float) -> list[JobResult]:
        results: list[JobResult] = []
        status = self._status()
        with self._lock:
            queued = list(self._queue)
        for index, item in enumerate(queued):
            if status.printable:
                try:
                    self.connection.send(item.data)
                except OSError as exc:
                    status = self._lost(f"sending job {item.job.job_id} failed: {exc}")
                else:
                    status = self._status()
            if not status.printable:  # before, or after this job: it and the rest stay queued
                results += self._failed(queued[index:], status)
                break
            results.append(self._done(item, status))
            if time.monotonic() >= deadline:
                break
        return results

    def _done(self, item: _Queued, status: PrinterStatus) -> JobResult:
        job_id = item.job.job_id
        with self._lock:
            self._queue.remove(item)
            self._printed[job_id] = None
            while len(self._printed) > self.remember_jobs:
                self._printed.popitem(last=False)
        now = time.time()
        self._health.mark_event(now)
        logger.info("%s: job %s printed", self.name, job_id)
        return JobResult(job_id, True, status.state, status.detail)

    def _failed(self, items: list[_Queued], status: PrinterStatus) -> list[JobResult]:
        self._retry_at = time.monotonic() + self.retry_interval_s
        results = []
        for item in items:
            failure = (status.state, status.detail)
            if item.reported != failure:
                item.reported = failure
                logger.info("%s: job %s waits: %s", self.name, item.job.job_id, status.detail or status.state.value)
                results.append(JobResult(item.job.job_id, False, status.state, status.detail))
        return results

    # --- status --------------------------------------------------------------------------------

    def _probe(self) -> None:
        self._probe_at = time.monotonic() + self.probe_interval_s
        self._status()

    def _status(self) -> PrinterStatus:
        """Connect if needed, ask the printer, and record what it said in ``health()``."""
        status = self._ask()
        self._health.set(status.state, status.detail)
        return status

    def _ask(self) -> PrinterStatus:
        was_open = self.connection.is_open
        if not was_open:
            try:
                self.connection.open()
            except DeviceUnavailable as exc:
                return PrinterStatus(exc.state, str(exc))
        if not self.status_query:
            return PrinterStatus(DeviceState.OK, "status not queried (status_query = false)")
        try:
            return self._query_status()
        except OSError as exc:
            if not was_open:
                return self._lost(f"status request failed: {exc}")
            # a connection kept from earlier may have been closed by the printer meanwhile
            logger.debug("%s: connection broken (%s); reconnecting", self.name, exc)
            self.connection.close()
        try:
            self.connection.open()
            return self._query_status()
        except DeviceUnavailable as exc:
            return PrinterStatus(exc.state, str(exc))
        except OSError as exc:
            return self._lost(f"status request failed: {exc}")

    def _query_status(self) -> PrinterStatus:
        printer = status_byte(self.connection.query(status_request(PRINTER_STATUS)))
        paper = None if printer is None else status_byte(self.connection.query(status_request(PAPER_SENSOR)))
        if printer is None or paper is None:
            return self._lost(f"no valid status reply within {self.status_timeout_s:g} s")
        cause = None
        if printer & 0b0000_1000:
            cause = status_byte(self.connection.query(status_request(OFFLINE_CAUSE)))
        return interpret(printer, paper, cause)

    def _lost(self, detail: str) -> PrinterStatus:
        """The link is broken or the printer is mute: drop the connection, reconnect next time."""
        self.connection.close()
        status = unreachable(f"{self.connection.description}: {detail}")
        self._health.set(status.state, status.detail)
        return status


def _endpoint(reader: SettingsReader, key: str, default: int, *, inward: bool) -> int:
    value: int = reader.get_hex(key, default, digits=2)
    if bool(value & 0x80) != inward:
        raise reader.error(key, f"must be an {'IN (0x81-0x8f)' if inward else 'OUT (0x01-0x0f)'} endpoint address")
    return value

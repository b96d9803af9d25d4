"""The receipt printer: a job queue in front of one printer connection.

``submit`` (any thread) renders a job's parts to bytes and queues it; a job id already queued or
already finished is ignored. ``work`` (the device thread, in a loop) prints the queued jobs.

A receipt reaches the paper at most once, and the drawer opens at most once per job, through any
failure at any moment:

- A job is sent in parts, the drawer pulse first, then the receipt. A part is sent only while the
  printer reports itself ready, and the journal records that it is being sent before its first byte
  leaves (the appliance commits that to disk). A part that may have left is never sent again.
- After each part the printer must confirm it: with ``GS r``, answered only once everything before
  it has gone through the print head, where the printer supports it (found out once, while idle);
  otherwise with its real-time status right after. Confirmed: the receipt is ``PRINTED``. Not
  confirmed (paper out halfway, cover opened, silence, a hang-up, a broken link): ``UNKNOWN``, which
  only a person can settle (the till asks "Did the receipt print?" and offers a marked copy).
- A job whose receipt was not sent yet ``WAITING``: it is tried again every ``retry_interval_s``
  and reported once per cause. A drawer pulse already sent is not repeated when its receipt follows.

While idle, a light probe (DLE EOT 1 and 4) every ``probe_interval_s`` keeps ``health()`` fresh. A
network printer's connection is released after every exchange; a serial or USB one stays open, and
a silent printer is not reopened (a USB one is reset only after a real failure, ``usb.py``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from escpos.capabilities import CAPABILITIES

from devices.base import DeviceError, DeviceHealth, DeviceState, DeviceUnavailable
from devices.config import SettingsReader
from devices.health import HealthTracker
from devices.print_jobs import (
    DocumentJob,
    DrawerJob,
    JobPart,
    JobResult,
    NoJournal,
    Outcome,
    PrintJob,
    ReceiptJob,
    SendJournal,
    job_parts,
)
from devices.printer.connection import PrinterConnection, PrinterHungUp
from devices.printer.layout import CodeSymbol, KickDrawer, LayoutSettings, PrintOp, layout_document, layout_receipt
from devices.printer.network import NetworkConnection
from devices.printer.render import render
from devices.printer.serial import SerialConnection
from devices.printer.status import (
    OFFLINE_CAUSE,
    PAPER_SENSOR,
    PRINTER_STATUS,
    TRANSMIT_PAPER_STATUS,
    Cause,
    PrinterStatus,
    interpret,
    is_status_byte,
    is_transmit_status_reply,
    status_request,
    unreachable,
)
from devices.printer.usb import PYUSB_MISSING, UsbConnection, pyusb_installed
from devices.serial_port import BAUDRATES

logger = logging.getLogger(__name__)

PRINTER_KINDS = ("printer_usb", "printer_serial", "printer_network")
CONFIRM_POLL_S = 0.25  # while waiting for GS r, the real-time status is asked this often


@dataclass
class _Queued:
    job: PrintJob
    parts: dict[JobPart, bytes]  # the parts not sent yet, in order, rendered
    reported: tuple[DeviceState, str] | None = None  # the wait last reported for this job
    notes: list[str] = field(default_factory=list)  # e.g. a drawer pulse that was not confirmed

    @property
    def job_id(self) -> str:
        return self.job.job_id


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
        print_timeout_s: float = 10.0,
        retry_interval_s: float = 2.0,
        probe_interval_s: float = 1.0,
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
        self.print_timeout_s = print_timeout_s
        self.retry_interval_s = retry_interval_s
        self.probe_interval_s = probe_interval_s
        self.max_queued_jobs = max_queued_jobs
        self.remember_jobs = remember_jobs
        self._health = HealthTracker(name, logger, trouble_level=logging.WARNING)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._queue: list[_Queued] = []
        self._finished: dict[str, None] = {}  # job ids, oldest first
        self._opened = False
        self._retry_at = 0.0
        self._probe_at = 0.0
        # Does the printer answer GS r? None: not found out yet (asked once, while idle and ready).
        self.confirms_processing: bool | None = None if status_query else False
        self._processed: list[int] = []  # GS r replies read while waiting for a DLE EOT reply

    # --- configuration -------------------------------------------------------------------------

    @classmethod
    def from_config(cls, name: str, settings: Mapping[str, Any]) -> ReceiptPrinter:
        reader = SettingsReader(name, settings)
        kind = reader.kind
        profile = reader.get_str("profile", "default", choices=sorted(CAPABILITIES["profiles"]))
        connection: PrinterConnection
        if kind == "printer_network":
            connection = NetworkConnection(
                reader.get_str("host"),
                reader.get_int("port", 9100, min=1, max=65535),
                timeout_s=reader.get_float("timeout_s", 5.0, min=0.1, max=60.0),
            )
        elif kind == "printer_serial":
            port = reader.get_str("port")
            if not port.startswith("/"):
                raise reader.error("port", "must be a device path such as /dev/ttyUSB0 or /dev/serial/by-id/…")
            connection = SerialConnection(
                port,
                reader.get_int("baudrate", 9600, choices=BAUDRATES),
                timeout_s=reader.get_float("timeout_s", 5.0, min=0.1, max=60.0),
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
            status_timeout_s=reader.get_float("status_timeout_s", 1.0, min=0.05, max=10.0),
            print_timeout_s=reader.get_float("print_timeout_s", 10.0, min=1.0, max=60.0),
            retry_interval_s=reader.get_float("retry_interval_s", 2.0, min=0.01, max=300.0),
            probe_interval_s=reader.get_float("probe_interval_s", 1.0, min=0.1, max=3600.0),
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
        try:
            self._probe()
        finally:
            self._release()

    def submit(self, job: PrintJob) -> None:
        """Queue a job. Raises ``ValueError`` for a job that cannot be printed (nothing is queued)."""
        if not isinstance(job, ReceiptJob | DocumentJob | DrawerJob):
            raise ValueError(f"{job!r} is not a ReceiptJob, DocumentJob or DrawerJob")
        parts = {part: render(self.part_operations(job, part), self.profile) for part in job_parts(job)}
        with self._lock:
            if job.job_id in self._finished or any(q.job_id == job.job_id for q in self._queue):
                logger.info("%s: job %s already finished or queued; ignored", self.name, job.job_id)
                return
            if len(self._queue) >= self.max_queued_jobs:
                raise DeviceError(f"{self.name}: {len(self._queue)} jobs waiting already; job {job.job_id} refused")
            self._queue.append(_Queued(job, parts))
            self._changed.notify_all()

    def part_operations(self, job: PrintJob, part: JobPart) -> list[PrintOp]:
        if part is JobPart.DRAWER:
            return [KickDrawer(self.drawer_pin)]
        if isinstance(job, DocumentJob):
            return layout_document(job.document, self.layout)
        assert isinstance(job, ReceiptJob)
        return layout_receipt(job.receipt, self.layout)

    def operations(self, job: PrintJob) -> list[PrintOp]:
        """Every part's operations, in the order they are sent."""
        return [op for part in job_parts(job) for op in self.part_operations(job, part)]

    def pending_job_ids(self) -> list[str]:
        with self._lock:
            return [q.job_id for q in self._queue]

    def work(self, timeout_s: float, journal: SendJournal | None = None) -> list[JobResult]:
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
        try:
            now = time.monotonic()
            if not has_jobs:
                if now >= self._probe_at:
                    self._probe()
                return []
            if now < self._retry_at:
                return []
            return self._print_queued(deadline, journal or NoJournal())
        finally:
            self._release()

    def health(self) -> DeviceHealth:
        return self._health.get()

    def close(self) -> None:
        self._opened = False
        self.connection.close()
        self._health.set(DeviceState.CLOSED)

    # --- printing ------------------------------------------------------------------------------

    def _print_queued(self, deadline: float, journal: SendJournal) -> list[JobResult]:
        results: list[JobResult] = []
        status = self._status()
        with self._lock:
            queued = list(self._queue)
        sent = False
        for index, item in enumerate(queued):
            while item.parts:
                if not status.printable:  # nothing more is sent: this job and the rest wait
                    return results + self._waiting(queued[index:], status)
                if sent and time.monotonic() >= deadline:
                    return results  # the rest in the next call: the device thread beats in between
                part, data = next(iter(item.parts.items()))
                try:
                    journal.sending(item.job_id, part)
                except Exception as exc:  # noqa: BLE001 - not recorded: not sent; whatever broke, the job waits
                    logger.error(
                        "%s: job %s: cannot record the %s before sending it: %s", self.name, item.job_id, part, exc
                    )
                    self._retry_at = time.monotonic() + self.retry_interval_s
                    return results
                del item.parts[part]
                sent = True
                status = self._send(item, part, data)
                if part is JobPart.DRAWER and not status.printable:
                    item.notes.append(f"drawer pulse sent, not confirmed ({status.detail or status.state.value})")
            results.append(self._finish(item, status))
        return results

    def _send(self, item: _Queued, part: JobPart, data: bytes) -> PrinterStatus:
        logger.debug("%s: job %s: sending the %s (%d bytes)", self.name, item.job_id, part, len(data))
        try:
            self.connection.send(data)
        except TimeoutError as exc:
            return self._lost(f"sending job {item.job_id} timed out: {exc}", Cause.LINK_BROKEN)
        except OSError as exc:
            return self._lost(f"sending job {item.job_id} failed: {exc}", Cause.LINK_BROKEN, failed=True)
        return self._confirm()

    def _finish(self, item: _Queued, status: PrinterStatus) -> JobResult:
        """The last part went out: the job is done, one way or the other, and never sent again."""
        outcome = Outcome.PRINTED if status.printable else Outcome.UNKNOWN
        with self._lock:
            self._queue.remove(item)
            self._finished[item.job_id] = None
            while len(self._finished) > self.remember_jobs:
                del self._finished[next(iter(self._finished))]
        detail = "; ".join([*([status.detail] if status.detail else []), *item.notes])
        if outcome is Outcome.PRINTED:
            self._health.mark_event(time.time())
            logger.info("%s: job %s printed", self.name, item.job_id)
        else:
            logger.warning("%s: job %s: outcome unknown, not sent again: %s", self.name, item.job_id, detail)
        return JobResult(item.job_id, outcome, status.state, detail)

    def _waiting(self, items: list[_Queued], status: PrinterStatus) -> list[JobResult]:
        self._retry_at = time.monotonic() + self.retry_interval_s
        results = []
        for item in items:
            wait = (status.state, status.detail)
            if item.reported != wait:
                item.reported = wait
                detail = "; ".join([*([status.detail] if status.detail else []), *item.notes])
                logger.info("%s: job %s waits: %s", self.name, item.job_id, detail or status.state.value)
                results.append(JobResult(item.job_id, Outcome.WAITING, status.state, detail))
        return results

    def _confirm(self) -> PrinterStatus:
        """After a part was sent: did the printer take it? Printable means confirmed."""
        if not self.status_query:
            return PrinterStatus(DeviceState.OK, "status not queried (status_query = false)")
        if not self.confirms_processing:
            return self._status()
        try:
            self.connection.discard_input()
            self._processed.clear()
            self.connection.send(TRANSMIT_PAPER_STATUS)
            give_up = time.monotonic() + self.print_timeout_s
            while not self._processed:
                for byte in self.connection.read(max(0.0, min(CONFIRM_POLL_S, give_up - time.monotonic()))):
                    if is_transmit_status_reply(byte):
                        self._processed.append(byte)
                if self._processed:
                    break
                now = self._status(drain=False)  # still printing, or stopped?
                if not now.printable:
                    return now
                if self._processed:
                    break
                if time.monotonic() >= give_up:
                    return PrinterStatus(
                        DeviceState.OFFLINE,
                        f"the printer did not confirm the job within {self.print_timeout_s:g} s",
                        Cause.NOT_CONFIRMED,
                    )
        except PrinterHungUp as exc:
            return self._lost(f"hung up before confirming the job ({exc})", Cause.HUNG_UP)
        except OSError as exc:
            return self._lost(f"confirming the job failed: {exc}", Cause.LINK_BROKEN, failed=True)
        return self._status()  # processed: how the printer is now (paper may have run out just after)

    # --- status --------------------------------------------------------------------------------

    def _probe(self) -> None:
        self._probe_at = time.monotonic() + self.probe_interval_s
        status = self._status()
        if status.printable and self.confirms_processing is None:
            self._find_out_confirmation()

    def _find_out_confirmation(self) -> None:
        """Ask GS r once while idle and ready: an answer means jobs can be confirmed as processed."""
        try:
            self.connection.discard_input()
            self.connection.send(TRANSMIT_PAPER_STATUS)
            give_up = time.monotonic() + self.status_timeout_s
            while (left := give_up - time.monotonic()) > 0:
                chunk = self.connection.read(left)
                if not chunk:
                    break
                if any(is_transmit_status_reply(b) for b in chunk):
                    self.confirms_processing = True
                    logger.info("%s: answers GS r: a job counts as printed once the printer processed it", self.name)
                    return
        except OSError as exc:
            logger.debug("%s: asking GS r failed: %s", self.name, exc)
            self._lost(f"asking GS r failed: {exc}", Cause.LINK_BROKEN)
            return
        self.confirms_processing = False
        logger.info(
            "%s: does not answer GS r: a job counts as printed when the printer reports itself ready right after it",
            self.name,
        )

    def _status(self, *, drain: bool = True) -> PrinterStatus:
        """Connect if needed, ask the printer, and record what it said in ``health()``."""
        status = self._ask(drain)
        self._health.set(status.state, status.detail, status.cause)
        return status

    def _ask(self, drain: bool) -> PrinterStatus:
        if not self.connection.is_open:
            try:
                self.connection.open()
            except DeviceUnavailable as exc:
                return PrinterStatus(exc.state, str(exc), Cause.UNREACHABLE)
        if not self.status_query:
            return PrinterStatus(DeviceState.OK, "status not queried (status_query = false)")
        try:
            if drain:
                self.connection.discard_input()
            printer = self._query(PRINTER_STATUS)
            paper = None if printer is None else self._query(PAPER_SENSOR)
            if printer is None or paper is None:
                return self._silent()
            cause = self._query(OFFLINE_CAUSE) if printer & 0b0000_1000 else None
        except PrinterHungUp:
            return self._lost("hung up when asked for its status", Cause.HUNG_UP)
        except OSError as exc:
            return self._lost(f"status request failed: {exc}", Cause.LINK_BROKEN, failed=True)
        return interpret(printer, paper, cause)

    def _query(self, n: int) -> int | None:
        """Send DLE EOT n and read its reply; a GS r reply read meanwhile is kept for ``_confirm``."""
        self.connection.send(status_request(n))
        give_up = time.monotonic() + self.status_timeout_s
        while (left := give_up - time.monotonic()) > 0:
            chunk = self.connection.read(left)
            if not chunk:
                return None  # nothing within the time left
            reply = None
            for byte in chunk:
                if is_transmit_status_reply(byte):
                    self._processed.append(byte)
                elif is_status_byte(byte) and reply is None:
                    reply = byte
            if reply is not None:
                return reply
        return None

    def _silent(self) -> PrinterStatus:
        """No answer within the status timeout. The link stays (a USB or serial printer is not
        reopened, let alone reset, for being silent); a network one is released after the exchange."""
        detail = f"{self.connection.description}: no answer to a status request within {self.status_timeout_s:g} s"
        return PrinterStatus(DeviceState.OFFLINE, f"unreachable: {detail}", Cause.NO_ANSWER)

    def _lost(self, detail: str, cause: str, *, failed: bool = False) -> PrinterStatus:
        """The link is broken or was closed by the printer: drop it, reconnect next time."""
        self.connection.close(failed=failed)
        status = unreachable(f"{self.connection.description}: {detail}", cause)
        self._health.set(status.state, status.detail, status.cause)
        return status

    def _release(self) -> None:
        if self.connection.release_when_idle and self.connection.is_open:
            self.connection.close()


def _endpoint(reader: SettingsReader, key: str, default: int, *, inward: bool) -> int:
    value: int = reader.get_hex(key, default, digits=2)
    if bool(value & 0x80) != inward:
        raise reader.error(key, f"must be an {'IN (0x81-0x8f)' if inward else 'OUT (0x01-0x0f)'} endpoint address")
    return value

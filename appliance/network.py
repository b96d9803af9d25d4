"""The network thread (``net.socketio``): the only thread that talks to the server.

Each loop: take what the other threads queued (hints, health, server events), then, while
connected, send the outbox in order, report print results, pass on touch activity and send the
heartbeat when due. It makes no device call; what it learns for a device (a print job) goes into
the store and onto that device's queue.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from devices.base import DeviceHealth, DeviceState

from . import SOFTWARE
from .commands import claim_after, redacted, resolve_payload
from .config import ApplianceConfig
from .errors import AckTimeout, LinkDown
from .link import ServerLink
from .messages import (
    HealthChanged,
    JobsArrived,
    NetMessage,
    ServerEvent,
    Touched,
    WorkerNote,
)
from .outbox import Entry, Outbox
from .printstore import PrintJobs
from .protocol import AckKind, DeviceReport, classify_ack, heartbeat_payload
from .receipts import Receipts
from .supervisor import Pulse

logger = logging.getLogger(__name__)

LOOP_WAIT_S = 0.5  # at most this long between beats when nothing happens
SEND_BUDGET_S = 0.5  # outbox sending per loop before the thread beats and looks at its queue again
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 30.0
MIN_HEARTBEAT_GAP_S = 1.0  # a device changing state sends a heartbeat at once, but not more often
OUTBOX_BACKLOG_S = 60.0  # a command older than this makes the heartbeat's "outbox" entry say "backlog"
PRINT_EVENTS = ("print_receipt", "print_document")  # one pipeline: store, print once, report
SERVER_EVENTS = PRINT_EVENTS


class NetWorker:
    thread_name = "net.socketio"
    device: str | None = None
    replace_when_stalled = False  # it owns the connection; if it wedges, systemd restarts the daemon

    def __init__(
        self,
        config: ApplianceConfig,
        open_outbox: Callable[[], Outbox],
        open_jobs: Callable[[], PrintJobs] | None,
        inbox: queue.Queue[NetMessage],
        printer_inbox: queue.Queue[JobsArrived] | None,
    ) -> None:
        self._config = config
        self._open_outbox = open_outbox
        self._open_jobs = open_jobs  # a till, a kiosk with a printer: jobs to keep, print and report
        self._inbox = inbox
        self._printer_inbox = printer_inbox
        self._health: dict[str, DeviceHealth] = {d.name: DeviceHealth(DeviceState.CLOSED) for d in config.devices}
        self._notes: dict[str, WorkerNote] = {}
        self._was_connected = False
        self._retry_at = 0.0
        self._retry_s = RETRY_FIRST_S
        self._heartbeat_at = 0.0
        self._last_heartbeat = 0.0
        self._touched = False
        self._more = False  # the outbox has more to send right away

    # --- the loop ---------------------------------------------------------------------------------

    def run(self, stop: threading.Event, pulse: Pulse) -> None:
        outbox = self._open_outbox()
        receipts = self._receipts()
        link = ServerLink(self._config.server_url, self._config.token, self._inbox, SERVER_EVENTS)
        link.start()
        try:
            while not stop.is_set():
                pulse.beat()
                self._take_messages(receipts, self._wait_s(link.connected))
                if link.connected:
                    self._online(link, outbox, receipts, pulse)
                elif self._was_connected:
                    self._was_connected = False
                    self._touched = False  # stale by the time we are back
            self._flush(link, outbox, receipts, pulse)
        finally:
            link.close()
            outbox.close()
            if receipts is not None:
                receipts.close()

    def _receipts(self) -> Receipts | None:
        if self._open_jobs is None or self._config.printing is None:
            return None
        return Receipts(self._open_jobs(), self._printer_inbox, self._config)

    def _wait_s(self, connected: bool) -> float:
        """How long to wait for a message: until something is due, at most ``LOOP_WAIT_S``."""
        if not connected:
            return LOOP_WAIT_S
        if self._more:
            return 0.0
        now = time.monotonic()
        due = min(self._heartbeat_at, self._retry_at) if self._retry_at > now else self._heartbeat_at
        return max(0.0, min(LOOP_WAIT_S, due - now))

    def _online(self, link: ServerLink, outbox: Outbox, receipts: Receipts | None, pulse: Pulse) -> None:
        now = time.monotonic()
        if not self._was_connected:
            self._was_connected = True
            self._retry_at, self._retry_s = 0.0, RETRY_FIRST_S
            self._heartbeat_at = now
            if receipts is not None:
                receipts.fetch_at = now
        # Each step makes at most one call that can wait ack_timeout_s for a server that does not
        # answer; beating between them keeps a hung server from looking like a wedged thread.
        self._more = now >= self._retry_at and self._send_outbox(link, outbox, pulse, now + SEND_BUDGET_S)
        if receipts is not None and time.monotonic() >= self._retry_at:
            pulse.beat()
            receipts.fetch(link)
            pulse.beat()
            if not receipts.report(link):
                self._retry_at = time.monotonic() + self._retry_s
        if self._touched:
            self._touched = False
            link.send("device_activity")
        if time.monotonic() >= self._heartbeat_at:
            self._heartbeat(link, outbox)

    def _flush(self, link: ServerLink, outbox: Outbox, receipts: Receipts | None, pulse: Pulse) -> None:
        """Stopping: send what is in flight while the budget lasts; the rest stays for the next start."""
        deadline = time.monotonic() + self._config.daemon.stop_flush_s
        self._take_messages(receipts, 0.0)
        while link.connected and time.monotonic() < deadline and time.monotonic() >= self._retry_at:
            if not self._send_outbox(link, outbox, pulse, deadline, stopping=True):
                break
        if receipts is not None and link.connected and time.monotonic() < deadline:
            receipts.report(link)
        count, _ = outbox.backlog()
        logger.info("stopping; %d commands kept in the outbox for the next start", count)

    # --- what the other threads sent ------------------------------------------------------------------

    def _take_messages(self, receipts: Receipts | None, wait_s: float) -> None:
        try:
            message = self._inbox.get(timeout=wait_s) if wait_s > 0 else self._inbox.get_nowait()
            for _ in range(1000):
                self._take(message, receipts)
                message = self._inbox.get_nowait()
        except queue.Empty:
            pass

    def _take(self, message: NetMessage, receipts: Receipts | None) -> None:
        if isinstance(message, HealthChanged):
            before = self._health.get(message.device)
            self._health[message.device] = message.health
            if before is None or (before.state, before.detail) != (message.health.state, message.health.detail):
                self._heartbeat_soon()
        elif isinstance(message, WorkerNote):
            if message.state is None:
                self._notes.pop(message.device, None)
            else:
                self._notes[message.device] = message
            self._heartbeat_soon()
        elif isinstance(message, Touched):
            self._touched = True
        elif isinstance(message, ServerEvent) and message.event in PRINT_EVENTS:
            if receipts is not None:
                receipts.receive(message.data)
            else:
                logger.warning("%s ignored: this appliance has no receipt printer", message.event)
        # OutboxChanged, PrintResultsRecorded: waking up was all they were for

    def _heartbeat_soon(self) -> None:
        self._heartbeat_at = min(self._heartbeat_at, self._last_heartbeat + MIN_HEARTBEAT_GAP_S)

    # --- the outbox ---------------------------------------------------------------------------------

    def _send_outbox(
        self, link: ServerLink, outbox: Outbox, pulse: Pulse, deadline: float, *, stopping: bool = False
    ) -> bool:
        """Send from the head until empty, a failure, or the deadline. False: stop trying for now.
        While stopping, an acknowledgement is awaited only until the deadline."""
        while time.monotonic() < deadline:
            entry = outbox.head()
            if entry is None:
                return False
            if entry.needs_resolving and (entry := self._resolve(entry, outbox)) is None:
                continue
            timeout_s = self._config.daemon.ack_timeout_s
            if stopping:
                timeout_s = max(0.1, min(timeout_s, deadline - time.monotonic()))
            if not self._send(link, outbox, entry, timeout_s):
                return False
            pulse.beat()
        return True

    def _resolve(self, entry: Entry, outbox: Outbox) -> Entry | None:
        current = outbox.current_claim()
        payload = resolve_payload(entry.payload, entry.resolve, current)
        if payload is None:
            logger.warning("dropped %s: this room holds no claim to act on", entry.event, extra={"key": entry.key})
            outbox.finish(entry, current)
            return None
        return outbox.freeze(entry, payload)

    def _send(self, link: ServerLink, outbox: Outbox, entry: Entry, timeout_s: float) -> bool:
        data = {**entry.payload, "idempotency_key": entry.key} if entry.keyed else dict(entry.payload)
        try:
            ack = link.call(entry.event, data, timeout_s)
        except (LinkDown, AckTimeout) as exc:
            self._failed(outbox, entry, str(exc))
            return False
        outcome = classify_ack(ack)
        if outcome.kind is AckKind.RETRY:
            self._failed(outbox, entry, f"{outcome.code}: {outcome.message}")
            return False
        current = outbox.current_claim()
        acked_at = time.time()
        fields = {
            "key": entry.key,
            "device": entry.device,
            "payload": redacted(entry.payload),
            "occurred_at": entry.occurred_at,
            "acked_at": acked_at,
            "latency_ms": round((acked_at - entry.occurred_at) * 1000, 1),
        }
        if outcome.kind is AckKind.DONE:
            outbox.finish(entry, claim_after(entry.event, entry.payload, ack, current))
            logger.info("acked %s", entry.event, extra={**fields, "replayed": bool(ack.get("replayed"))})
        else:
            outbox.finish(entry, current)
            logger.warning("refused %s: %s: %s", entry.event, outcome.code, outcome.message, extra=fields)
        self._retry_s = RETRY_FIRST_S
        return True

    def _failed(self, outbox: Outbox, entry: Entry, error: str) -> None:
        outbox.retry_later(entry, error)
        logger.info(
            "%s not acknowledged (%s); again in %.1f s", entry.event, error, self._retry_s, extra={"key": entry.key}
        )
        self._retry_at = time.monotonic() + self._retry_s
        self._retry_s = min(self._retry_s * 2, RETRY_MAX_S)

    # --- health -------------------------------------------------------------------------------------

    def _heartbeat(self, link: ServerLink, outbox: Outbox) -> None:
        now = time.monotonic()
        self._last_heartbeat = now
        self._heartbeat_at = now + self._config.heartbeat_s
        # `prints`: a kiosk is sent its tickets only when it says it has a printer to print them on.
        payload = heartbeat_payload(self._reports(outbox), SOFTWARE, prints=self._printer_inbox is not None)
        link.send("appliance_heartbeat", payload, self._heartbeat_acked)

    def _reports(self, outbox: Outbox) -> dict[str, DeviceReport]:
        reports = {}
        for name, health in self._health.items():
            note = self._notes.get(name)
            reports[name] = DeviceReport(
                (note.state if note else None) or health.state.value,
                note.detail if note else health.detail,
                health.last_event_at,
            )
        count, oldest = outbox.backlog()
        late = oldest is not None and time.time() - oldest > OUTBOX_BACKLOG_S
        detail = f"{count} commands waiting" if count else ""
        reports["outbox"] = DeviceReport("backlog" if late else "ok", detail)
        return reports

    @staticmethod
    def _heartbeat_acked(ack: Any = None) -> None:
        outcome = classify_ack(ack)
        if outcome.kind is not AckKind.DONE:
            logger.warning("heartbeat not accepted: %s: %s", outcome.code, outcome.message)

"""An input device's thread (``scanner.reader``, ``buttons.reader``, ``touch.reader``): read events,
turn each into a command (``commands.command_for``), make it durable in the outbox, wake the
network thread. It never waits for the network: a queue that is full only drops the wake-up.

No scan is lost to a replug or a restart. A missing device is looked for every
``PRESENCE_POLL_S`` (a stat of its path) and opened the moment it is back, not after a backoff; the
backoff is for a device that is there and will not open. Its open descriptor is kept in systemd's
store (``fdstore.py``) and taken over after a restart. On stop, a scan being typed is read to its end.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from devices.base import (
    DeviceHealth,
    DeviceMisconfigured,
    DeviceState,
    DeviceUnavailable,
    InputDevice,
    InputEvent,
    ScanEvent,
)

from .commands import Activity, Command, command_for, redacted
from .config import ApplianceConfig, DeviceSpec
from .errors import StateError
from .fdstore import DeviceFds
from .messages import HealthChanged, NetMessage, OutboxChanged, Touched
from .outbox import Outbox
from .supervisor import Pulse

logger = logging.getLogger(__name__)

READ_TIMEOUT_S = 0.5  # how long one read() may block: bounds how late a stop or a beat can be
REOPEN_FIRST_S = 0.25
# A missing device is looked for this often: a stat of its path (or a listing of /dev/input),
# cheap, and a replugged scanner is open well before anyone can scan with it (it enumerates in
# about a second).
PRESENCE_POLL_S = 0.05
FINISH_SCAN_S = 0.5  # on stop, how long a scan being typed may take to end (a scan takes ~50 ms)


class InputReader:
    replace_when_stalled = True

    def __init__(
        self,
        spec: DeviceSpec,
        config: ApplianceConfig,
        open_outbox: Callable[[], Outbox],
        net_inbox: queue.Queue[NetMessage],
        make_device: Callable[[str, Mapping[str, Any]], object] | None = None,
        fds: DeviceFds | None = None,
    ) -> None:
        self.device = spec.name
        self._fds = fds
        self._make_device = make_device or spec.factory  # a test passes its own
        self.thread_name = f"{spec.name}.reader"
        self._spec = spec
        self._config = config
        self._open_outbox = open_outbox
        self._net_inbox = net_inbox
        self._published: DeviceHealth | None = None
        self._reopen_s = REOPEN_FIRST_S
        self._misconfigured: str | None = None
        self._stop = threading.Event()  # replaced by the supervisor's in run()
        self._pulse = Pulse()

    def run(self, stop: threading.Event, pulse: Pulse) -> None:
        self._stop, self._pulse = stop, pulse
        device = self._make_device(self._spec.name, self._spec.settings)
        assert isinstance(device, InputDevice)
        outbox = self._open_outbox()
        if self._fds is not None and (fd := self._fds.take(self.device)) is not None:
            device.adopt(fd)  # open since before the restart: what came meanwhile is waiting in it
        try:
            opened = False
            while not stop.is_set():
                pulse.beat()
                opened = self._read(device, outbox) if opened else self._open(device)
                self._publish(self._health(device))
            if opened:
                self._finish_scan(device, outbox)
        finally:
            device.close()  # the descriptor in systemd's store stays: the next start takes it over…
            if self._fds is not None and not stop.is_set():
                self._fds.forget(self.device)  # …unless this thread died: its successor opens afresh
            outbox.close()

    def _open(self, device: InputDevice) -> bool:
        missing = False
        try:
            device.open()
        except DeviceUnavailable as exc:  # the driver logs it once and reports it in health()
            logger.debug("%s: cannot open: %s", self.device, exc)
            missing = exc.state is DeviceState.MISSING
        except DeviceMisconfigured as exc:  # e.g. the node at the path is not a keyboard: maybe a
            if str(exc) != self._misconfigured:  # different device gets plugged in; keep looking
                logger.error("%s: %s", self.device, exc)
            self._misconfigured = str(exc)
        else:
            self._reopen_s, self._misconfigured = REOPEN_FIRST_S, None
            if self._fds is not None and (fd := device.fileno()) is not None:
                self._fds.keep(self.device, fd)
            return True
        if missing:
            self._wait_until_present(device)
            return False
        self._stop.wait(self._reopen_s)
        self._reopen_s = min(self._reopen_s * 2, self._config.daemon.reopen_max_s)
        return False

    def _wait_until_present(self, device: InputDevice) -> None:
        """Back to ``_open`` as soon as the device may be there again (at the latest after
        ``reopen_max_s``, in case its presence cannot be seen)."""
        give_up = time.monotonic() + self._config.daemon.reopen_max_s
        while not self._stop.wait(PRESENCE_POLL_S) and time.monotonic() < give_up:
            self._pulse.beat()
            if device.present():
                return

    def _finish_scan(self, device: InputDevice, outbox: Outbox) -> None:
        """Stopping in the middle of a scan would leave its end in the device for the next start,
        which would read it as a scan of its own: read it to its end first (briefly)."""
        in_progress = getattr(device, "in_progress", None)
        give_up = time.monotonic() + FINISH_SCAN_S
        while in_progress is not None and in_progress() and time.monotonic() < give_up:
            if not self._read(device, outbox, timeout_s=0.05):
                return

    def _health(self, device: InputDevice) -> DeviceHealth:
        if self._misconfigured is not None:
            return DeviceHealth(DeviceState.ERROR, self._misconfigured)
        return device.health()

    def _read(self, device: InputDevice, outbox: Outbox, timeout_s: float = READ_TIMEOUT_S) -> bool:
        try:
            events = device.read(timeout_s)
        except DeviceUnavailable:
            if self._fds is not None:
                self._fds.forget(self.device)  # gone: systemd drops it too (POLLHUP); say so anyway
            return False  # the driver logged it once and reports it in health(); looked for until back
        commands = [c for c in (self._take(event) for event in events) if c is not None]
        if commands:
            self._keep(commands, outbox)  # one commit for everything this read brought
            self._tell(OutboxChanged())
        return True

    def _take(self, event: InputEvent) -> Command | None:
        action = command_for(self._config.role, self._config.room, event)
        if isinstance(action, Activity):
            self._tell(Touched(action.device, action.at))
        elif isinstance(action, Command):
            return action
        elif isinstance(event, ScanEvent):
            logger.info(
                "%s: a scan of %d characters is neither a ticket code nor a staff badge; ignored",
                self.device,
                len(event.text),
            )
        else:
            logger.info("%s: %s ignored by a %s appliance", self.device, type(event).__name__, self._config.role.value)
        return None

    def _keep(self, commands: list[Command], outbox: Outbox) -> None:
        """Into the outbox, durably, before anything else happens with them. A failing disk is
        retried (beating: the thread is doing what it must; the error is in the log)."""
        wait_s, failure = 0.1, ""
        while True:
            try:
                entries = outbox.add_all(commands)
            except (sqlite3.Error, StateError) as exc:
                if str(exc) != failure:
                    failure = str(exc)
                    logger.error("%s: cannot write the outbox (%s); retrying", self.device, exc)
                self._pulse.beat()
                if self._stop.wait(wait_s):
                    for command in commands:
                        logger.error("%s: stopping; lost %s %s", self.device, command.event, redacted(command.payload))
                    return
                wait_s = min(wait_s * 2, 5.0)
                continue
            for entry in entries:
                logger.info(
                    "queued %s",
                    entry.event,
                    extra={"key": entry.key, "device": self.device, "payload": redacted(entry.payload)},
                )
            return

    def _tell(self, message: NetMessage) -> None:
        try:
            self._net_inbox.put_nowait(message)
        except queue.Full:
            pass  # a wake-up or a touch: the network thread looks at the outbox on its next loop anyway

    def _publish(self, health: DeviceHealth) -> None:
        if health == self._published:
            return
        try:
            self._net_inbox.put_nowait(HealthChanged(self.device, health))
        except queue.Full:
            return  # told on a later loop
        self._published = health

"""One evdev input device: find it, optionally grab it, wait for events with a bound, survive unplug.

Shared by the scanner, buttons and touchscreen drivers. An unplugged device makes ``read()`` fail
with ``OSError(ENODEV)`` and its descriptor stays readable forever; left in ``poll`` it would spin a
core at 100%. So on any read error the device is closed at once, taken out of the poll set, reported
MISSING (logged once) and ``DeviceUnavailable`` is raised for the caller to ``open()`` again later.
"""

from __future__ import annotations

import errno
import logging
import math
import select
from collections.abc import Callable

import evdev

from devices.base import DeviceState, DeviceUnavailable
from devices.evdev_input.bus import DeviceSelector, EvdevHandle, InputBus, find_device
from devices.health import HealthTracker

logger = logging.getLogger(__name__)
wire = logging.getLogger("wire.evdev")

_POLL_MASK = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP


class EvdevReader:
    def __init__(
        self,
        name: str,
        selector: DeviceSelector,
        bus: InputBus,
        health: HealthTracker,
        *,
        grab: bool,
        suitable: Callable[[EvdevHandle], str | None],
    ) -> None:
        self.name = name
        self.selector = selector
        self._bus = bus
        self._health = health
        self._grab = grab
        self._suitable = suitable
        self._handle: EvdevHandle | None = None
        self._poll: select.poll | None = None

    @property
    def handle(self) -> EvdevHandle | None:
        return self._handle

    def open(self) -> EvdevHandle:
        if self._handle is not None:
            return self._handle
        try:
            handle = find_device(self._bus, self.selector, self._suitable, self.name)
        except DeviceUnavailable as exc:
            self._health.set(exc.state, str(exc))
            raise
        if self._grab:
            try:
                handle.grab()
            except OSError as exc:
                handle.close()
                reason = "grabbed by another process" if exc.errno == errno.EBUSY else (exc.strerror or str(exc))
                error = DeviceUnavailable(f"{self.selector.describe()}: cannot grab: {reason}", DeviceState.ERROR)
                self._health.set(error.state, str(error))
                raise error from exc
        poll = select.poll()
        poll.register(handle.fileno(), _POLL_MASK)
        self._handle, self._poll = handle, poll
        self._health.set(DeviceState.OK, f"{handle.name} ({self.selector.describe()})")
        logger.debug("%s: opened %r at %s, grabbed=%s", self.name, handle.name, handle.path, self._grab)
        return handle

    def read(self, timeout_s: float) -> list[evdev.InputEvent]:
        """Events available within ``timeout_s`` (all that are queued once any is)."""
        if self._handle is None or self._poll is None:
            raise DeviceUnavailable(f"{self.name}: not open", DeviceState.CLOSED)
        if not self._poll.poll(max(0, math.ceil(timeout_s * 1000))):
            return []
        try:
            events = list(self._handle.read())
        except BlockingIOError:
            return []
        except OSError as exc:
            self._lost(exc)
            state = DeviceState.MISSING if exc.errno in (errno.ENODEV, errno.ENOENT, errno.EIO) else DeviceState.ERROR
            detail = f"{self.selector.describe()}: {'unplugged' if state is DeviceState.MISSING else exc}"
            self._health.set(state, detail)
            raise DeviceUnavailable(f"{self.name}: {detail}", state) from exc
        if wire.isEnabledFor(logging.DEBUG):
            for event in events:
                wire.debug("%s < type=%d code=%d value=%d", self.name, event.type, event.code, event.value)
        return events

    def _lost(self, exc: OSError) -> None:
        logger.debug("%s: read failed (%s); closing", self.name, exc)
        self._drop()

    def _drop(self) -> None:
        handle, self._handle = self._handle, None
        if self._poll is not None and handle is not None:
            try:
                self._poll.unregister(handle.fileno())
            except (KeyError, ValueError, OSError):
                pass
        self._poll = None
        if handle is not None:
            try:
                handle.close()  # closing the descriptor also releases the grab
            except OSError as exc:
                logger.debug("%s: close failed: %s", self.name, exc)

    def close(self) -> None:
        self._drop()

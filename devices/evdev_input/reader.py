"""One evdev input device: find it, optionally grab it, wait for events with a bound, survive unplug.

Shared by the scanner, buttons and touchscreen drivers. An unplugged device makes ``read()`` fail
with ``OSError(ENODEV)`` and its descriptor stays readable forever; left in ``poll`` it would spin a
core at 100%. So on any read error the device is closed at once, taken out of the poll set, reported
MISSING (logged once) and ``DeviceUnavailable`` is raised for the caller to ``open()`` again later.

``present()`` says cheaply whether a missing device may be back (its path exists, or a device node
came or went), so the caller can reopen it the moment it is replugged instead of after a backoff.
``adopt(fd)`` hands over a descriptor kept open across a restart of the daemon (systemd's file
descriptor store): events that arrived meanwhile are still queued in it, and its grab still holds.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import math
import os
import select
from collections.abc import Callable

import evdev

from devices.base import DeviceState, DeviceUnavailable
from devices.evdev_input.bus import DeviceSelector, EvdevHandle, InputBus, device_matches, find_device
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
        self._adopted: int | None = None  # a descriptor to take over at the next open
        self._seen_paths: tuple[str, ...] = ()

    @property
    def handle(self) -> EvdevHandle | None:
        return self._handle

    def adopt(self, fd: int) -> None:
        """Take this already open descriptor of the device at the next ``open()`` (if it still is
        the configured device; otherwise it is closed and the device opened afresh)."""
        if self._adopted is not None:
            os.close(self._adopted)
        self._adopted = fd

    def fileno(self) -> int | None:
        return self._handle.fileno() if self._handle is not None else None

    def present(self) -> bool:
        """May the device be there now? Cheap: a stat of its path, or the list of device nodes."""
        if self.selector.path is not None:
            return self._bus.exists(self.selector.path)
        paths = tuple(self._bus.list_paths())
        changed, self._seen_paths = paths != self._seen_paths, paths
        return changed

    def _take_adopted(self) -> EvdevHandle | None:
        fd, self._adopted = self._adopted, None
        if fd is None:
            return None
        try:
            handle = self._bus.adopt(fd)
        except OSError as exc:
            logger.debug("%s: cannot take over descriptor %d: %s", self.name, fd, exc)
            os.close(fd)
            return None
        if self._suitable(handle) is None and device_matches(self._bus, self.selector, handle):
            if self._grab:
                with contextlib.suppress(OSError):
                    handle.ungrab()  # the grab came along with the descriptor; take it again as ours
            logger.info("%s: taken over from before the restart (%s)", self.name, handle.path)
            return handle
        handle.close()
        return None

    def open(self) -> EvdevHandle:
        if self._handle is not None:
            return self._handle
        handle = self._take_adopted()
        if handle is None:
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
        if self._adopted is not None:
            os.close(self._adopted)
            self._adopted = None


class UsesEvdevReader:
    """What the evdev drivers (scanner, buttons, touchscreen) pass through to their reader."""

    _reader: EvdevReader

    def present(self) -> bool:
        return self._reader.present()

    def fileno(self) -> int | None:
        return self._reader.fileno()

    def adopt(self, fd: int) -> None:
        self._reader.adopt(fd)

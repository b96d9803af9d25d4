"""Barcode scanner on a serial port (RS-232, or USB CDC-ACM such as /dev/ttyACM0), through pyserial.

Each scan is a line ended by the configured terminator. A line may arrive in pieces across reads,
so the partial line is kept between reads; only a partial left idle longer than ``scan_timeout_ms``
is dropped (noise on connect, a lost terminator). An unplugged adapter makes pyserial raise
``SerialException`` ("device reports readiness to read but returned no data"); the port is then
closed, reported MISSING, and ``open()`` works again once the port is back.

pyserial's ``open()`` discards whatever the port already holds; here it does not: a scan made while
the port was closed — a replug, a restart of the daemon with the port kept open by systemd's file
descriptor store (``adopt``) — is read, not thrown away. What a replug cut in half is never glued to
the next scan: the half is in the old port, which is gone.
"""

from __future__ import annotations

import fcntl
import logging
import math
import os
import select
import time
from collections.abc import Mapping
from typing import Any

import serial

from devices.base import DeviceHealth, DeviceState, DeviceUnavailable, ScanEvent
from devices.config import SettingsReader
from devices.health import HealthTracker
from devices.scanner.framing import ETX, Framing, read_framing
from devices.serial_port import BAUDRATES, unavailable_for

logger = logging.getLogger(__name__)
wire = logging.getLogger("wire.serial")

SERIAL_TERMINATORS = ("\r", "\n", "\r\n")
DEFAULT_SCAN_TIMEOUT_MS = 500  # a whole code arrives in one burst (~1 ms per byte at 9600 baud)
_READ_CHUNK = 4096
ETX_BYTE = ETX.encode("ascii")


def _scan_end(buffer: bytearray, terminator: bytes) -> tuple[int, int] | None:
    """Where the first scan in ``buffer`` ends: (end of its text, end of what it takes). A scan ends
    at the terminator, or at an ETX (STX … ETX framing, often without a terminator after it)."""
    at_terminator, at_etx = buffer.find(terminator), buffer.find(ETX_BYTE)
    if at_etx >= 0 and (at_terminator < 0 or at_etx < at_terminator):
        return at_etx + 1, at_etx + 1  # the ETX stays in the text: framing.unframe takes it off
    if at_terminator >= 0:
        return at_terminator, at_terminator + len(terminator)
    return None


class _KeepingPort(serial.Serial):  # type: ignore[misc]  # pyserial has no type hints
    """pyserial's port, minus the flush of the input at ``open()`` (its private
    ``_reset_input_buffer``; the public ``reset_input_buffer()`` still flushes an open port)."""

    def _reset_input_buffer(self) -> None:
        if self.is_open:
            super()._reset_input_buffer()


class SerialScanner:
    def __init__(
        self,
        name: str,
        port: str,
        *,
        baudrate: int = 9600,
        terminator: str = "\r",
        scan_timeout_ms: int = DEFAULT_SCAN_TIMEOUT_MS,
        framing: Framing | None = None,
    ) -> None:
        self.name = name
        self.port = port
        self.baudrate = baudrate
        self._terminator = terminator.encode("ascii")
        self._scan_timeout_s = scan_timeout_ms / 1000
        self._framing = framing or Framing()
        self._health = HealthTracker(name, logger)
        self._serial: serial.Serial | None = None
        self._poll: select.poll | None = None
        self._buffer = bytearray()
        self._last_byte_at = 0.0
        self._adopted: int | None = None

    @classmethod
    def from_config(cls, name: str, settings: Mapping[str, Any]) -> SerialScanner:
        reader = SettingsReader(name, settings)
        port = reader.get_str("port")
        if not port.startswith("/"):
            raise reader.error("port", "must be a device path such as /dev/ttyACM0 or /dev/serial/by-id/…")
        baudrate = reader.get_int("baudrate", 9600, choices=BAUDRATES)
        terminator = reader.get_str("terminator", "\r", choices=SERIAL_TERMINATORS)
        timeout_ms = reader.get_int("scan_timeout_ms", DEFAULT_SCAN_TIMEOUT_MS, min=10, max=10000)
        framing = read_framing(reader)
        reader.finish()
        return cls(name, port, baudrate=baudrate, terminator=terminator, scan_timeout_ms=timeout_ms, framing=framing)

    def adopt(self, fd: int) -> None:
        """A descriptor of the port kept open across a restart: it held the port open (so the kernel
        kept what came meanwhile) and holds its lock, which ``open()`` releases to open it anew."""
        if self._adopted is not None:
            os.close(self._adopted)
        self._adopted = fd

    def fileno(self) -> int | None:
        return self._serial.fileno() if self._serial is not None else None

    def present(self) -> bool:
        return os.path.exists(self.port)

    def in_progress(self) -> bool:
        """Part of a scan has come, the rest has not yet."""
        return bool(self._buffer)

    def open(self) -> None:
        if self._serial is not None:
            return
        adopted, self._adopted = self._adopted, None
        if adopted is not None:
            self._release(adopted)
        try:
            # timeout=0: read() returns what is there; the wait is our poll with its own deadline.
            port = _KeepingPort(self.port, self.baudrate, timeout=0, exclusive=True)
        except (serial.SerialException, OSError) as exc:
            error = unavailable_for(self.port, exc)
            self._health.set(error.state, str(error))
            raise error from exc
        finally:
            if adopted is not None:
                os.close(adopted)  # the port is open again (or gone): the old descriptor has served
        poll = select.poll()
        poll.register(port.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
        self._serial, self._poll = port, poll
        self._buffer.clear()
        self._health.set(DeviceState.OK, f"{self.port} at {self.baudrate} baud")

    def _release(self, fd: int) -> None:
        """The lock pyserial took (flock, ``exclusive=True``) belongs to the old descriptor, which
        outlived the process that took it: release it, or the port would be "in use"."""
        try:
            if os.path.samestat(os.fstat(fd), os.stat(self.port)):
                fcntl.flock(fd, fcntl.LOCK_UN)
                logger.info("%s: taken over from before the restart (%s)", self.name, self.port)
        except OSError as exc:
            logger.debug("%s: descriptor %d from before the restart not used: %s", self.name, fd, exc)

    def read(self, timeout_s: float) -> list[ScanEvent]:
        if self._serial is None or self._poll is None:
            raise DeviceUnavailable(f"{self.name}: not open", DeviceState.CLOSED)
        deadline = time.monotonic() + timeout_s
        scans: list[ScanEvent] = []
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            if self._poll.poll(math.ceil(remaining * 1000)):
                self._take(self._read_chunk(), scans)
            self._expire_partial()
            if scans or remaining <= 0:
                break
        if scans:
            self._health.mark_event(scans[-1].at)
        return scans

    def _read_chunk(self) -> bytes:
        assert self._serial is not None
        try:
            data = bytes(self._serial.read(_READ_CHUNK))
        except (serial.SerialException, OSError) as exc:
            self._drop()
            detail = f"{self.port}: unplugged ({exc})"
            self._health.set(DeviceState.MISSING, detail)
            raise DeviceUnavailable(f"{self.name}: {detail}") from exc
        if data:
            wire.debug("%s < %r", self.name, data)
            self._last_byte_at = time.monotonic()
        return data

    def _take(self, data: bytes, scans: list[ScanEvent]) -> None:
        self._buffer += data
        while (end := _scan_end(self._buffer, self._terminator)) is not None:
            line = bytes(self._buffer[: end[0]])
            del self._buffer[: end[1]]
            text = self._framing.unframe(line.decode("utf-8", errors="replace")).strip("\r\n")
            if text:
                scans.append(ScanEvent(self.name, text, time.time()))
        if not self._buffer.strip(b"\r\n"):
            self._buffer.clear()  # the "\n" of a "\r\n" when the terminator is "\r": not a partial scan

    def _expire_partial(self) -> None:
        if self._buffer and time.monotonic() - self._last_byte_at > self._scan_timeout_s:
            logger.info("%s: dropped a partial scan of %d bytes (no terminator)", self.name, len(self._buffer))
            self._buffer.clear()

    def _drop(self) -> None:
        port, self._serial, self._poll = self._serial, None, None
        self._buffer.clear()
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError) as exc:
                logger.debug("%s: close failed: %s", self.name, exc)

    def health(self) -> DeviceHealth:
        return self._health.get()

    def close(self) -> None:
        self._drop()
        if self._adopted is not None:
            os.close(self._adopted)
            self._adopted = None
        self._health.set(DeviceState.CLOSED)

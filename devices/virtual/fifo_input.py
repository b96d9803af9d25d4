"""Evdev input devices behind a named pipe (FIFO), for running a whole appliance daemon as a
separate process in tests and demos where there is no ``/dev/uinput``.

The FIFO carries the kernel's ``struct input_event`` records, read by python-evdev's own reader
(``EventIO.read``), so the real button and touch drivers decode them exactly as they would from
``/dev/input/eventN``. Kinds ``buttons_fifo`` and ``touch_fifo`` take the same settings as
``buttons_evdev`` and ``touch_evdev`` with ``path`` naming the FIFO. The daemon opens the FIFO for
reading and writing, so it never sees end-of-file when a writer goes away (an event node does not
either); ``write_events`` writes whole records, at most ``PIPE_BUF`` bytes at a time, so a reader
never sees half an event.
"""

from __future__ import annotations

import errno
import os
import stat
import struct
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

import evdev
from evdev.eventio import EventIO

from devices.buttons.evdev_buttons import EvdevButtons
from devices.evdev_input.bus import EvdevHandle
from devices.touch.evdev_touch import EvdevTouch
from devices.virtual.evdev_devices import RawEvent, keyboard_capabilities, touchscreen_capabilities

_EVENT = struct.Struct("llHHi")  # struct input_event: timeval, type, code, value
_BATCH = 4096 // _EVENT.size  # records per write: a write of at most PIPE_BUF bytes is atomic
BUS_VIRTUAL = 0x06


def pack_events(events: Sequence[RawEvent], *, at: float | None = None, step_s: float = 0.002) -> bytes:
    """Records ``step_s`` apart, the first stamped ``at`` (default: so that the last is now)."""
    start = time.time() - (len(events) - 1) * step_s if at is None else at
    records = []
    for i, (event_type, code, value) in enumerate(events):
        stamp = start + i * step_s
        sec = int(stamp)
        records.append(_EVENT.pack(sec, int((stamp - sec) * 1_000_000), event_type, code, value))
    return b"".join(records)


def write_events(fd: int, data: bytes) -> None:
    """Write packed records to a FIFO in whole-record chunks of at most ``PIPE_BUF`` bytes."""
    chunk = _BATCH * _EVENT.size
    for i in range(0, len(data), chunk):
        os.write(fd, data[i : i + chunk])


class FifoInputHandle(EventIO):
    """An open FIFO with the surface of ``evdev.InputDevice`` that the drivers use (``fd``: one
    already open, taken over after a restart)."""

    def __init__(self, path: str, capabilities: Mapping[int, list[Any]], fd: int | None = None) -> None:
        if fd is None:
            fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.close(fd)
            raise OSError(errno.ENODEV, f"{path} is not a FIFO")
        self.fd = fd
        self.path = path
        self.name = f"fifo {path}"
        self.info = evdev.DeviceInfo(bustype=BUS_VIRTUAL, vendor=0, product=0, version=1)
        self._capabilities = dict(capabilities)

    def read(self) -> Iterator[evdev.InputEvent]:
        return super().read()

    def grab(self) -> None:  # one reader per FIFO: nothing to take from anyone
        pass

    def ungrab(self) -> None:
        pass

    def capabilities(self, verbose: Literal[False] = False, absinfo: bool = True) -> dict[int, list[Any]]:
        caps = {}
        for event_type, codes in self._capabilities.items():
            caps[event_type] = [c[0] if isinstance(c, tuple) and not absinfo else c for c in codes]
        return caps

    def leds(self, verbose: bool = False) -> list[int]:
        return []

    def set_led(self, led_num: int, value: int) -> None:  # a FIFO has no LEDs
        pass

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class FifoInputBus:
    """Devices found by path only: each path is a FIFO (``mkfifo``)."""

    def __init__(self, capabilities: Mapping[int, list[Any]]) -> None:
        self.capabilities = capabilities

    def list_paths(self) -> list[str]:
        return []

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def open(self, path: str) -> FifoInputHandle:
        return FifoInputHandle(path, self.capabilities)

    def adopt(self, fd: int) -> FifoInputHandle:
        os.set_blocking(fd, False)
        return FifoInputHandle(os.readlink(f"/proc/self/fd/{fd}"), self.capabilities, fd)

    def same_node(self, handle: EvdevHandle, path: str) -> bool:
        try:
            return os.path.samestat(os.fstat(handle.fileno()), os.stat(path))
        except OSError:
            return False


def fifo_buttons(name: str, settings: Mapping[str, Any]) -> EvdevButtons:
    return EvdevButtons.from_config(name, settings, bus=FifoInputBus(keyboard_capabilities()))


def fifo_touch(name: str, settings: Mapping[str, Any]) -> EvdevTouch:
    return EvdevTouch.from_config(name, settings, bus=FifoInputBus(touchscreen_capabilities()))

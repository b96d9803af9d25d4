"""Virtual evdev input devices for tests and the demo.

Where ``/dev/uinput`` exists, ``UInputNode`` makes a real kernel input device with ``evdev.UInput``
and the drivers find it through the real ``SystemInputBus``. Where it does not (these machines, CI),
``VirtualInputBus`` stands in for ``/dev/input``: each open handle is a pipe carrying the kernel's
``struct input_event`` records, read by python-evdev's own reader (``EventIO.read``), so the drivers
get real ``evdev.InputEvent`` objects. Grabbing routes events to the grabbing handle only, as
EVIOCGRAB does; unplugging makes reads fail with ``OSError(ENODEV)`` and leaves the descriptor
readable forever, as the kernel does.
"""

from __future__ import annotations

import errno
import os
import struct
import time
from collections.abc import Iterator, Sequence
from typing import Any, Literal

import evdev
from evdev import ecodes
from evdev.eventio import EventIO

from devices.scanner.keymap import Layout, encode, key_events

UINPUT_PATH = "/dev/uinput"
_EVENT = struct.Struct("llHHi")  # struct input_event: timeval, type, code, value
_BATCH = 4096 // _EVENT.size  # events per write, so a write stays atomic (PIPE_BUF)

RawEvent = tuple[int, int, int]  # type, code, value


def uinput_available() -> bool:
    return os.path.exists(UINPUT_PATH) and os.access(UINPUT_PATH, os.W_OK)


# --- capabilities of the usual devices ----------------------------------------------------------


def keyboard_capabilities() -> dict[int, list[Any]]:
    keys = [code for code in range(1, 249)]  # every key of a full keyboard, like a scanner declares
    return {ecodes.EV_KEY: keys, ecodes.EV_MSC: [ecodes.MSC_SCAN], ecodes.EV_LED: [ecodes.LED_NUML, ecodes.LED_CAPSL]}


def keypad_capabilities(keys: Sequence[int]) -> dict[int, list[Any]]:
    return {ecodes.EV_KEY: list(keys)}


def touchscreen_capabilities() -> dict[int, list[Any]]:
    axis = evdev.AbsInfo(value=0, min=0, max=4095, fuzz=0, flat=0, resolution=0)
    return {
        ecodes.EV_KEY: [ecodes.BTN_TOUCH],
        ecodes.EV_ABS: [
            (ecodes.ABS_X, axis),
            (ecodes.ABS_Y, axis),
            (ecodes.ABS_MT_SLOT, evdev.AbsInfo(0, 0, 9, 0, 0, 0)),
            (ecodes.ABS_MT_POSITION_X, axis),
            (ecodes.ABS_MT_POSITION_Y, axis),
            (ecodes.ABS_MT_TRACKING_ID, evdev.AbsInfo(0, 0, 65535, 0, 0, 0)),
        ],
    }


# --- event sequences ---------------------------------------------------------------------------


def with_syn(events: Sequence[tuple[int, int]], event_type: int = ecodes.EV_KEY) -> list[RawEvent]:
    """Each (code, value) as an event followed by SYN_REPORT, as a keyboard sends them."""
    out: list[RawEvent] = []
    for code, value in events:
        out += [(event_type, code, value), (ecodes.EV_SYN, ecodes.SYN_REPORT, 0)]
    return out


def typing(text: str, layout: Layout, terminator: int | None = ecodes.KEY_ENTER) -> list[RawEvent]:
    """What a keyboard-mode scanner set to ``layout`` sends for ``text`` and its terminator key."""
    pairs = key_events(encode(text, layout))
    if terminator is not None:
        pairs += [(terminator, 1), (terminator, 0)]
    return with_syn(pairs)


def touch(x: int, y: int, tracking_id: int = 1) -> list[RawEvent]:
    """One tap of a multitouch screen: finger down at (x, y), then up."""
    A, K, S = ecodes.EV_ABS, ecodes.EV_KEY, ecodes.EV_SYN
    return [
        (A, ecodes.ABS_MT_SLOT, 0), (A, ecodes.ABS_MT_TRACKING_ID, tracking_id),
        (A, ecodes.ABS_MT_POSITION_X, x), (A, ecodes.ABS_MT_POSITION_Y, y),
        (K, ecodes.BTN_TOUCH, 1), (A, ecodes.ABS_X, x), (A, ecodes.ABS_Y, y), (S, ecodes.SYN_REPORT, 0),
        (A, ecodes.ABS_MT_TRACKING_ID, -1), (K, ecodes.BTN_TOUCH, 0), (S, ecodes.SYN_REPORT, 0),
    ]  # fmt: skip


# --- the pipe-backed stand-in for /dev/input --------------------------------------------------


class PipeInputDevice(EventIO):
    """An open handle on a ``VirtualInputNode``, with the surface of ``evdev.InputDevice``."""

    def __init__(self, node: VirtualInputNode) -> None:
        self.node = node
        self.path = node.path
        self.name = node.name
        self.info = evdev.DeviceInfo(bustype=0x03, vendor=node.vendor_id, product=node.product_id, version=1)
        read_end, self._write_end = os.pipe()
        os.set_blocking(read_end, False)
        self.fd = read_end
        self._gone = False

    def read(self) -> Iterator[evdev.InputEvent]:
        if self._gone:
            raise OSError(errno.ENODEV, os.strerror(errno.ENODEV))
        return super().read()  # python-evdev parses the struct input_event records

    def grab(self) -> None:
        self.node._grab(self)

    def ungrab(self) -> None:
        self.node._ungrab(self)

    def capabilities(self, verbose: Literal[False] = False, absinfo: bool = True) -> dict[int, list[Any]]:
        caps = {}
        for event_type, codes in self.node.capabilities.items():
            if event_type == ecodes.EV_ABS and not absinfo:
                codes = [c[0] if isinstance(c, tuple) else c for c in codes]
            caps[event_type] = list(codes)
        return caps

    def leds(self, verbose: bool = False) -> list[int]:
        return list(self.node.leds_on)

    def set_led(self, led_num: int, value: int) -> None:
        """What EVIOCSLED-style EV_LED writes do: the device's LED state, seen by every reader."""
        if value and led_num not in self.node.leds_on:
            self.node.leds_on.append(led_num)
        elif not value and led_num in self.node.leds_on:
            self.node.leds_on.remove(led_num)

    def _deliver(self, data: bytes) -> None:
        if self._write_end >= 0:
            os.write(self._write_end, data)

    def _unplugged(self) -> None:
        self._gone = True
        if self._write_end >= 0:
            os.close(self._write_end)  # the read end now polls readable (POLLHUP) forever
            self._write_end = -1

    @property
    def closed(self) -> bool:
        return self.fd < 0

    def close(self) -> None:
        if self.fd < 0:
            return
        self.node._detach(self)
        self._unplugged()
        os.close(self.fd)
        self.fd = -1

    def __repr__(self) -> str:
        return f"PipeInputDevice({self.path!r})"


class VirtualInputNode:
    """One virtual device node on a ``VirtualInputBus``."""

    def __init__(
        self,
        bus: VirtualInputBus,
        path: str,
        name: str,
        vendor_id: int,
        product_id: int,
        capabilities: dict[int, list[Any]],
    ) -> None:
        self.bus = bus
        self.path = path
        self.name = name
        self.vendor_id = vendor_id
        self.product_id = product_id
        self.capabilities = capabilities
        self.leds_on: list[int] = []
        self.plugged_in = True
        self.grabbed_by: PipeInputDevice | None = None
        self.handles: list[PipeInputDevice] = []

    def _open(self) -> PipeInputDevice:
        if not self.plugged_in:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), self.path)
        handle = PipeInputDevice(self)
        self.handles.append(handle)
        return handle

    def _detach(self, handle: PipeInputDevice) -> None:
        if handle in self.handles:
            self.handles.remove(handle)
        if self.grabbed_by is handle:
            self.grabbed_by = None  # closing the descriptor releases the grab

    def _grab(self, handle: PipeInputDevice) -> None:
        if self.grabbed_by is not None and self.grabbed_by is not handle:
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY))
        self.grabbed_by = handle

    def _ungrab(self, handle: PipeInputDevice) -> None:
        if self.grabbed_by is not handle:
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        self.grabbed_by = None

    def send(self, events: Sequence[RawEvent], *, at: float | None = None, step_s: float = 0.002) -> None:
        """Emit events ``step_s`` apart, the first stamped ``at`` (default: so that the last is now)."""
        start = time.time() - (len(events) - 1) * step_s if at is None else at
        records = []
        for i, (event_type, code, value) in enumerate(events):
            stamp = start + i * step_s
            sec = int(stamp)
            records.append(_EVENT.pack(sec, int((stamp - sec) * 1_000_000), event_type, code, value))
        targets = [self.grabbed_by] if self.grabbed_by is not None else list(self.handles)
        for i in range(0, len(records), _BATCH):
            chunk = b"".join(records[i : i + _BATCH])
            for handle in targets:
                handle._deliver(chunk)

    def unplug(self) -> None:
        self.plugged_in = False
        for handle in self.handles:
            handle._unplugged()
        self.handles.clear()
        self.grabbed_by = None

    def replug(self) -> None:
        self.plugged_in = True


class VirtualInputBus:
    """Stands in for ``/dev/input`` (see ``devices.evdev_input.bus.InputBus``)."""

    def __init__(self) -> None:
        self.nodes: dict[str, VirtualInputNode] = {}

    def add(
        self, path: str, name: str, vendor_id: int, product_id: int, capabilities: dict[int, list[Any]]
    ) -> VirtualInputNode:
        node = VirtualInputNode(self, path, name, vendor_id, product_id, capabilities)
        self.nodes[path] = node
        return node

    def list_paths(self) -> list[str]:
        return sorted(path for path, node in self.nodes.items() if node.plugged_in)

    def exists(self, path: str) -> bool:
        node = self.nodes.get(path)
        return node is not None and node.plugged_in

    def open(self, path: str) -> PipeInputDevice:
        node = self.nodes.get(path)
        if node is None:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
        return node._open()

    def adopt(self, fd: int) -> PipeInputDevice:
        raise OSError(errno.EBADF, "a pipe-backed device lives in one process: nothing to take over")

    def same_node(self, handle: object, path: str) -> bool:
        return isinstance(handle, PipeInputDevice) and handle.path == path

    def close(self) -> None:
        for node in self.nodes.values():
            for handle in list(node.handles):
                handle.close()


# --- real kernel devices through /dev/uinput ------------------------------------------------------


class UInputNode:
    """A kernel input device made with ``evdev.UInput``; same ``send``/``unplug``/``replug`` as above."""

    def __init__(self, name: str, vendor_id: int, product_id: int, capabilities: dict[int, list[Any]]) -> None:
        self.name = name
        self.vendor_id = vendor_id
        self.product_id = product_id
        self.capabilities = capabilities
        self._uinput: evdev.UInput | None = None
        self.replug()

    @property
    def path(self) -> str:
        if self._uinput is None:
            raise OSError(errno.ENODEV, "unplugged")
        return str(self._uinput.device.path)

    @property
    def plugged_in(self) -> bool:
        return self._uinput is not None

    def send(self, events: Sequence[RawEvent], *, at: float | None = None, step_s: float = 0.002) -> None:
        """Emit events (the kernel stamps them; ``at`` cannot be honoured and must be None)."""
        if at is not None:
            raise ValueError("kernel devices are stamped by the kernel; use the pipe bus for set times")
        if self._uinput is None:
            raise OSError(errno.ENODEV, "unplugged")
        for event_type, code, value in events:
            self._uinput.write(event_type, code, value)

    def unplug(self) -> None:
        if self._uinput is not None:
            self._uinput.close()
            self._uinput = None

    def replug(self) -> None:
        if self._uinput is None:
            events: Any = self.capabilities  # python-evdev's hint omits the (code, AbsInfo) pairs it accepts
            self._uinput = evdev.UInput(events, name=self.name, vendor=self.vendor_id, product=self.product_id)

    def close(self) -> None:
        self.unplug()

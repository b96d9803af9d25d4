"""Where evdev input devices come from, and how one is chosen.

``SystemInputBus`` is the kernel's ``/dev/input`` through python-evdev. Tests and the demo pass
another bus with the same two methods (``devices.virtual.evdev_devices.VirtualInputBus``) whose
devices hand real ``evdev.InputEvent`` objects to the same driver code.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import evdev

from devices.base import DeviceMisconfigured, DeviceState, DeviceUnavailable
from devices.config import SettingsReader


class EvdevHandle(Protocol):
    """The part of ``evdev.InputDevice`` the drivers use."""

    path: Any
    name: str
    info: evdev.DeviceInfo

    def fileno(self) -> int: ...

    def read(self) -> Iterator[evdev.InputEvent]: ...

    def grab(self) -> None: ...

    def ungrab(self) -> None: ...

    def capabilities(self, verbose: Literal[False] = False, absinfo: bool = True) -> dict[int, list[Any]]: ...

    def leds(self, verbose: bool = False) -> Any: ...

    def set_led(self, led_num: int, value: int) -> None: ...

    def close(self) -> None: ...


class InputBus(Protocol):
    def list_paths(self) -> list[str]: ...

    def exists(self, path: str) -> bool: ...

    def open(self, path: str) -> EvdevHandle: ...

    def adopt(self, fd: int) -> EvdevHandle:
        """A handle on this already open descriptor (raises ``OSError`` if it is no input device)."""
        ...

    def same_node(self, handle: EvdevHandle, path: str) -> bool:
        """Is ``handle`` open on the device node at ``path``?"""
        ...


class SystemInputBus:
    """The real ``/dev/input`` (needs read access: group ``input``)."""

    def list_paths(self) -> list[str]:
        return sorted(evdev.list_devices())

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def open(self, path: str) -> EvdevHandle:
        return evdev.InputDevice(path)

    def adopt(self, fd: int) -> EvdevHandle:
        # python-evdev opens by path only. Opening /proc/self/fd/N gives a new description of the same
        # device (to read its name and capabilities); dup2 then puts the adopted description, with its
        # queued events and its grab, under that object's descriptor number.
        node = os.readlink(f"/proc/self/fd/{fd}")
        device = evdev.InputDevice(f"/proc/self/fd/{fd}")
        os.dup2(fd, device.fd)
        os.close(fd)
        device.path = node
        return device

    def same_node(self, handle: EvdevHandle, path: str) -> bool:
        try:
            return os.fstat(handle.fileno()).st_rdev == os.stat(path).st_rdev
        except OSError:
            return False


@dataclass(frozen=True)
class DeviceSelector:
    """One configured device: a ``/dev/input/by-id/…`` path, or a USB vendor and product id."""

    path: str | None = None
    vendor_id: int | None = None
    product_id: int | None = None

    def describe(self) -> str:
        if self.path is not None:
            return self.path
        return f"usb {self.vendor_id:04x}:{self.product_id:04x}"

    @classmethod
    def from_settings(cls, reader: SettingsReader) -> DeviceSelector:
        has_path = reader.has("path")
        has_ids = reader.has("vendor_id") or reader.has("product_id")
        if has_path and has_ids:
            raise DeviceMisconfigured(f"{reader.name}: set either path or vendor_id + product_id, not both")
        if has_path:
            path = reader.get_str("path")
            if not path.startswith("/"):
                raise reader.error("path", "must be an absolute path such as /dev/input/by-id/usb-…-event-kbd")
            return cls(path=path)
        if not has_ids:
            raise DeviceMisconfigured(
                f"{reader.name}.path: missing; set path (/dev/input/by-id/…) or vendor_id + product_id"
            )
        return cls(vendor_id=reader.get_usb_id("vendor_id"), product_id=reader.get_usb_id("product_id"))


def _unavailable_for(selector: DeviceSelector, exc: OSError) -> DeviceUnavailable:
    where = selector.describe()
    if exc.errno == errno.EACCES:
        return DeviceUnavailable(f"{where}: permission denied (is the user in group 'input'?)", DeviceState.ERROR)
    if exc.errno in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
        return DeviceUnavailable(f"{where}: not present")
    return DeviceUnavailable(f"{where}: {exc.strerror or exc}", DeviceState.ERROR)


def device_matches(bus: InputBus, selector: DeviceSelector, handle: EvdevHandle) -> bool:
    """Is this open handle the configured device (its path, or its vendor and product id)?"""
    if selector.path is not None:
        return bus.same_node(handle, selector.path)
    return (handle.info.vendor, handle.info.product) == (selector.vendor_id, selector.product_id)


def find_device(
    bus: InputBus,
    selector: DeviceSelector,
    suitable: Callable[[EvdevHandle], str | None],
    owner: str,
) -> EvdevHandle:
    """Open the configured device.

    ``suitable`` returns ``None`` for a device the driver can use, or why not. A device named by path
    that is not suitable is a configuration error; among several event nodes with the configured
    vendor and product id (a scanner often has a keyboard and a consumer-control node) the first
    suitable one is taken. No other device is ever opened for good, let alone grabbed.
    """
    if selector.path is not None:
        try:
            handle = bus.open(selector.path)
        except OSError as exc:
            raise _unavailable_for(selector, exc) from exc
        reason = suitable(handle)
        if reason is not None:
            handle.close()
            raise DeviceMisconfigured(f"{owner}.path = {selector.path!r}: {handle.name!r} {reason}")
        return handle
    for path in bus.list_paths():
        try:
            handle = bus.open(path)
        except OSError:
            continue  # vanished while we looked, or not ours to read
        if (handle.info.vendor, handle.info.product) == (selector.vendor_id, selector.product_id):
            if suitable(handle) is None:
                return handle
        handle.close()
    raise DeviceUnavailable(f"{selector.describe()}: not present")

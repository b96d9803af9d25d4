"""Shared pieces of the device tests: device ids, virtual input backends, a sample receipt, waits."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from devices.base import Receipt, ReceiptLine
from devices.evdev_input.bus import InputBus, SystemInputBus
from devices.virtual.evdev_devices import (
    UInputNode,
    VirtualInputBus,
    keyboard_capabilities,
    keypad_capabilities,
    touchscreen_capabilities,
)

SCANNER_IDS = (0x0C2E, 0x0B61)  # a Honeywell-like scanner
KEYBOARD_IDS = (0x046D, 0xC31C)  # a Logitech-like keyboard: must never be grabbed by the scanner driver
PEDAL_IDS = (0x3553, 0xB001)
TOUCH_IDS = (0x0EEF, 0x0005)


class PipeBackend:
    """No /dev/uinput: virtual nodes whose handles carry struct input_event through pipes."""

    name = "pipe"

    def __init__(self) -> None:
        self.bus: InputBus = VirtualInputBus()
        self.timestamps_settable = True

    def add(self, kind: str, name: str, ids: tuple[int, int], keys: list[int] | None = None) -> Any:
        assert isinstance(self.bus, VirtualInputBus)
        slug = name.replace(" ", "_")
        suffix = {"keyboard": "event-kbd", "keypad": "event-kbd", "touch": "event-touch"}[kind]
        return self.bus.add(f"/dev/input/by-id/usb-{slug}-{suffix}", name, *ids, _caps(kind, keys))

    def close(self) -> None:
        assert isinstance(self.bus, VirtualInputBus)
        self.bus.close()


class UInputBackend:
    """Real kernel input devices made through /dev/uinput, found through the real /dev/input."""

    name = "uinput"

    def __init__(self) -> None:
        self.bus: InputBus = SystemInputBus()
        self.timestamps_settable = False
        self._nodes: list[UInputNode] = []

    def add(self, kind: str, name: str, ids: tuple[int, int], keys: list[int] | None = None) -> Any:
        node = UInputNode(name, *ids, _caps(kind, keys))
        self._nodes.append(node)
        return node

    def close(self) -> None:
        for node in self._nodes:
            node.close()


def _caps(kind: str, keys: list[int] | None) -> dict[int, list[Any]]:
    if kind == "keyboard":
        return keyboard_capabilities()
    if kind == "keypad":
        assert keys
        return keypad_capabilities(keys)
    return touchscreen_capabilities()


def make_receipt(**overrides: Any) -> Receipt:
    values: dict[str, Any] = dict(
        spa_name="Lotus Spa",
        spa_address="Hauptstraße 1\n10115 Berlin",
        code="T-0042",
        created_at=datetime(2024, 5, 1, 14, 32),
        cashier="Anna",
        items=(ReceiptLine("Massage 60 min", 2, 4500), ReceiptLine("Sauna", 1, 1500)),
        total_cents=10500,
        paid_cents=11000,
        change_cents=500,
        method="cash",
        currency="€",
    )
    values.update(overrides)
    return Receipt(**values)


def read_until(device: Any, count: int, timeout_s: float = 5.0) -> list[Any]:
    """Read from an input device until ``count`` events arrived or the deadline passed."""
    deadline = time.monotonic() + timeout_s
    got: list[Any] = []
    while len(got) < count and time.monotonic() < deadline:
        got += device.read(deadline - time.monotonic())
    return got

"""Build a device from its settings (one TOML table per device), dispatching on ``kind``.

Nothing is opened here: the device opens in ``open()``, in the thread the supervisor gives it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from devices.base import DeviceMisconfigured, InputDevice, ReceiptPrinterDevice
from devices.buttons.evdev_buttons import EvdevButtons
from devices.printer.driver import ReceiptPrinter
from devices.scanner.evdev_scanner import EvdevScanner
from devices.scanner.serial_scanner import SerialScanner
from devices.touch.evdev_touch import EvdevTouch
from devices.virtual.fifo_input import fifo_buttons, fifo_touch

Device = InputDevice | ReceiptPrinterDevice

KINDS: dict[str, Callable[[str, Mapping[str, Any]], Device]] = {
    "scanner_evdev": EvdevScanner.from_config,
    "scanner_serial": SerialScanner.from_config,
    "buttons_evdev": EvdevButtons.from_config,
    "touch_evdev": EvdevTouch.from_config,
    "printer_usb": ReceiptPrinter.from_config,
    "printer_serial": ReceiptPrinter.from_config,
    "printer_network": ReceiptPrinter.from_config,
}
# Stand-ins reading kernel input_event records from a FIFO, for running a whole appliance daemon in
# tests and demos without /dev/uinput (devices/virtual/fifo_input.py). Not listed in error messages.
VIRTUAL_KINDS: dict[str, Callable[[str, Mapping[str, Any]], Device]] = {
    "buttons_fifo": fifo_buttons,
    "touch_fifo": fifo_touch,
}


def build_device(name: str, settings: Mapping[str, Any]) -> Device:
    """A configured, unopened device. Raises ``DeviceMisconfigured`` naming the offending key."""
    if not isinstance(settings, Mapping):
        raise DeviceMisconfigured(f"{name}: settings must be a table, got {type(settings).__name__}")
    kind = settings.get("kind")
    if kind is None:
        raise DeviceMisconfigured(f"{name}.kind: missing; must be one of {', '.join(KINDS)}")
    if isinstance(kind, str) and kind in VIRTUAL_KINDS:
        return VIRTUAL_KINDS[kind](name, settings)
    if not isinstance(kind, str) or kind not in KINDS:
        raise DeviceMisconfigured(f"{name}.kind = {kind!r}: must be one of {', '.join(KINDS)}")
    return KINDS[kind](name, settings)

"""Build a device from its settings (one TOML table per device), dispatching on ``kind``.

Nothing is opened here: the device opens in ``open()``, in the thread the supervisor gives it.
``KINDS`` holds the real drivers only; the virtual kinds of tests and the demo live in
``devices/virtual/kinds.py`` and reach a caller only when it asks for them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from devices.base import DeviceMisconfigured, InputDevice, ReceiptPrinterDevice
from devices.buttons.evdev_buttons import EvdevButtons
from devices.printer.driver import ReceiptPrinter
from devices.scanner.evdev_scanner import EvdevScanner
from devices.scanner.serial_scanner import SerialScanner
from devices.touch.evdev_touch import EvdevTouch

Device = InputDevice | ReceiptPrinterDevice
DeviceFactory = Callable[[str, Mapping[str, Any]], Device]

KINDS: Mapping[str, DeviceFactory] = MappingProxyType(
    {
        "scanner_evdev": EvdevScanner.from_config,
        "scanner_serial": SerialScanner.from_config,
        "buttons_evdev": EvdevButtons.from_config,
        "touch_evdev": EvdevTouch.from_config,
        "printer_usb": ReceiptPrinter.from_config,
        "printer_serial": ReceiptPrinter.from_config,
        "printer_network": ReceiptPrinter.from_config,
    }
)


def build_device(name: str, settings: Mapping[str, Any], kinds: Mapping[str, DeviceFactory] = KINDS) -> Device:
    """A configured, unopened device of one of ``kinds``. Raises ``DeviceMisconfigured`` naming
    the offending key."""
    if not isinstance(settings, Mapping):
        raise DeviceMisconfigured(f"{name}: settings must be a table, got {type(settings).__name__}")
    kind = settings.get("kind")
    if kind is None:
        raise DeviceMisconfigured(f"{name}.kind: missing; must be one of {', '.join(kinds)}")
    if not isinstance(kind, str) or kind not in kinds:
        raise DeviceMisconfigured(f"{name}.kind = {kind!r}: must be one of {', '.join(kinds)}")
    return kinds[kind](name, settings)

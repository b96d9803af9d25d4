"""build_device: every kind builds from its settings without opening anything; bad settings are
refused with a message naming the key and what was expected."""

from __future__ import annotations

import json
import re

import pytest

from devices.base import (
    DeviceHealth,
    DeviceMisconfigured,
    DeviceState,
    InputDevice,
    ReceiptPrinterDevice,
)
from devices.buttons.evdev_buttons import EvdevButtons
from devices.printer.driver import ReceiptPrinter
from devices.printer.usb import UsbConnection
from devices.registry import KINDS, build_device
from devices.scanner.evdev_scanner import EvdevScanner
from devices.scanner.serial_scanner import SerialScanner
from devices.touch.evdev_touch import EvdevTouch

VALID = {
    "scanner_evdev": {"path": "/dev/input/by-id/usb-Scanner-event-kbd", "layout": "de", "scan_timeout_ms": 80},
    "scanner_serial": {"port": "/dev/ttyACM7", "baudrate": 115200, "terminator": "\r\n"},
    "buttons_evdev": {"vendor_id": "0x3553", "product_id": "0xb001", "keymap": {"KEY_F1": "next", "BTN_0": "done"}},
    "touch_evdev": {"path": "/dev/input/by-id/usb-Touch-event-touch"},
    "printer_serial": {"port": "/dev/ttyUSB9", "baudrate": 38400, "width_chars": 32},
    "printer_network": {"host": "192.0.2.10", "code_symbol": "code128", "decimal_separator": ","},
}
CLASSES = {
    "scanner_evdev": EvdevScanner,
    "scanner_serial": SerialScanner,
    "buttons_evdev": EvdevButtons,
    "touch_evdev": EvdevTouch,
    "printer_serial": ReceiptPrinter,
    "printer_network": ReceiptPrinter,
}


@pytest.mark.parametrize("kind", sorted(VALID))
def test_every_kind_builds_closed_without_touching_hardware(kind: str) -> None:
    device = build_device("dev", {"kind": kind, **VALID[kind]})
    assert type(device) is CLASSES[kind]
    assert device.name == "dev"
    assert device.health() == DeviceHealth(DeviceState.CLOSED)
    protocol = ReceiptPrinterDevice if kind.startswith("printer") else InputDevice
    assert isinstance(device, protocol)
    device.close()  # idempotent on a device never opened
    device.close()


def test_kinds_are_exactly_the_documented_ones() -> None:
    assert set(KINDS) == {
        "scanner_evdev",
        "scanner_serial",
        "buttons_evdev",
        "touch_evdev",
        "printer_usb",
        "printer_serial",
        "printer_network",
    }


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "scanner.kind: missing; must be one of scanner_evdev"),
        ({"kind": "laser"}, "scanner.kind = 'laser': must be one of scanner_evdev"),
        (
            {"kind": "scanner_serial", "port": "/dev/ttyACM0", "baudrate": 0},
            "scanner.baudrate = 0: must be one of 9600, 19200, 38400, 57600, 115200",
        ),
        (
            {"kind": "scanner_serial", "port": "/dev/ttyACM0", "baud": 9600},
            "scanner.baud: unknown key for kind 'scanner_serial' (known keys: baudrate, port,",
        ),
        ({"kind": "scanner_serial"}, "scanner.port: missing; required for kind 'scanner_serial'"),
        ({"kind": "scanner_serial", "port": "ttyACM0"}, "scanner.port = 'ttyACM0': must be a device path"),
        (
            {"kind": "scanner_serial", "port": "/dev/ttyACM0", "terminator": "CR"},
            r"scanner.terminator = 'CR': must be one of '\r', '\n', '\r\n'",
        ),
        ({"kind": "scanner_evdev"}, "scanner.path: missing; set path (/dev/input/by-id/…) or vendor_id + product_id"),
        (
            {"kind": "scanner_evdev", "path": "/dev/input/event3", "vendor_id": "0x0c2e", "product_id": "0x0b61"},
            "scanner: set either path or vendor_id + product_id, not both",
        ),
        ({"kind": "scanner_evdev", "vendor_id": "0x0c2e"}, "scanner.product_id: missing"),
        (
            {"kind": "scanner_evdev", "vendor_id": 3118, "product_id": "0x0b61"},
            "vendor_id = 3118: must be a hex string",
        ),
        ({"kind": "scanner_evdev", "vendor_id": "0xzz", "product_id": "0x0b61"}, "vendor_id = '0xzz': must be a hex"),
        ({"kind": "scanner_evdev", "vendor_id": "0x10000", "product_id": "0x1"}, "must be between 0x0000 and 0xffff"),
        (
            {"kind": "scanner_evdev", "path": "/dev/input/x", "layout": "uk"},
            "scanner.layout = 'uk': must be one of 'us', 'de', 'fr'",
        ),
        ({"kind": "scanner_evdev", "path": "/dev/input/x", "terminator": "esc"}, "terminator = 'esc': must be one of"),
        (
            {"kind": "scanner_evdev", "path": "/dev/input/x", "scan_timeout_ms": 1},
            "scan_timeout_ms = 1: must be at least",
        ),
        ({"kind": "scanner_evdev", "path": "/dev/input/x", "scan_timeout_ms": True}, "must be a whole number"),
        ({"kind": "scanner_evdev", "path": "input/x"}, "scanner.path = 'input/x': must be an absolute path"),
        ({"kind": "buttons_evdev", "path": "/dev/input/x"}, "scanner.keymap: missing"),
        (
            {"kind": "buttons_evdev", "path": "/dev/input/x", "keymap": {"F1": "next"}},
            "scanner.keymap.F1: not an evdev",
        ),
        (
            {"kind": "buttons_evdev", "path": "/dev/input/x", "keymap": {"KEY_F1": ""}},
            "scanner.keymap.KEY_F1 = '': must be an action name",
        ),
        (
            {
                "kind": "buttons_evdev",
                "path": "/dev/input/x",
                "keymap": {"KEY_F1": "a"},
                "long_press_ms": 100,
                "debounce_ms": 200,
            },
            "scanner.long_press_ms = 100: must be longer than debounce_ms (200)",
        ),
        ({"kind": "touch_evdev", "path": "/dev/input/x", "grab": True}, "scanner.grab: unknown key"),
        ({"kind": "printer_network"}, "scanner.host: missing"),
        ({"kind": "printer_network", "host": "p", "port": 70000}, "scanner.port = 70000: must be at most 65535"),
        ({"kind": "printer_network", "host": "p", "timeout_s": 0}, "timeout_s = 0: must be between 0.1 and 60.0"),
        ({"kind": "printer_network", "host": "p", "status_timeout_s": "1"}, "status_timeout_s = '1': must be a number"),
        ({"kind": "printer_network", "host": "p", "profile": "TM-X"}, "profile = 'TM-X': must be one of"),
        ({"kind": "printer_network", "host": "p", "code_symbol": "pdf417"}, "code_symbol = 'pdf417': must be one of"),
        ({"kind": "printer_network", "host": "p", "drawer_pin": 3}, "drawer_pin = 3: must be one of 2, 5"),
        ({"kind": "printer_network", "host": "p", "width_chars": 100}, "width_chars = 100: must be at most 64"),
        (
            {"kind": "printer_network", "host": "p", "status_query": "yes"},
            "status_query = 'yes': must be true or false",
        ),
        (
            {"kind": "printer_serial", "port": "/dev/ttyUSB0", "baudrate": 0},
            "scanner.baudrate = 0: must be one of 9600",
        ),
    ],
)
def test_bad_settings_name_the_key(settings: dict, message: str) -> None:
    with pytest.raises(DeviceMisconfigured, match=re.escape(message)):
        build_device("scanner", settings)


def test_settings_must_be_a_table() -> None:
    with pytest.raises(DeviceMisconfigured, match="scanner: settings must be a table"):
        build_device("scanner", ["kind", "scanner_serial"])  # type: ignore[arg-type]


def test_usb_writes_always_have_a_timeout() -> None:
    # python-escpos's default timeout=0 blocks forever in pyusb; ours is never 0 (test_printer_usb.py)
    assert UsbConnection(0x04B8, 0x0202).timeout_ms == 5000
    with pytest.raises(ValueError, match="timeout_ms must be > 0"):
        UsbConnection(0x04B8, 0x0202, timeout_ms=0)


def test_health_to_dict_is_json_ready() -> None:
    health = DeviceHealth(DeviceState.PAPER_OUT, "paper out", 1714567890.5)
    assert json.loads(json.dumps(health.to_dict())) == {
        "state": "paper_out",
        "detail": "paper out",
        "last_event_at": 1714567890.5,
    }
    assert {s.value for s in DeviceState} == {"closed", "ok", "missing", "offline", "paper_low", "paper_out", "error"}

"""The keyboard-mode scanner driver on virtual evdev devices: selection, grab, decoding, hot-plug.

Tests taking ``input_backend`` run on the pipe-backed bus, and again on /dev/uinput where it exists.
"""

from __future__ import annotations

import logging
import time

import pytest
from evdev import ecodes

from devices.base import DeviceMisconfigured, DeviceState, DeviceUnavailable, InputDevice, ScanEvent
from devices.scanner.evdev_scanner import EvdevScanner
from devices.scanner.keymap import DE, US
from devices.virtual.evdev_devices import typing
from tests.devices.helpers import KEYBOARD_IDS, PEDAL_IDS, SCANNER_IDS, read_until


def scanner_by_ids(backend, **extra) -> EvdevScanner:
    settings = {
        "kind": "scanner_evdev",
        "vendor_id": f"0x{SCANNER_IDS[0]:04x}",
        "product_id": f"0x{SCANNER_IDS[1]:04x}",
    }
    return EvdevScanner.from_config("scanner", {**settings, **extra}, bus=backend.bus)


def drained(handle) -> list:
    """Whatever a second reader of the device (the kiosk's compositor) received."""
    try:
        return list(handle.read())
    except BlockingIOError:
        return []


def test_scans_arrive_as_scan_events(input_backend) -> None:
    node = input_backend.add("keyboard", "Scanner", SCANNER_IDS)
    scanner = scanner_by_ids(input_backend)
    assert isinstance(scanner, InputDevice)
    assert scanner.health().state is DeviceState.CLOSED
    scanner.open()
    try:
        node.send(typing("T-0042", US))
        node.send(typing("Hello, World!", US))
        scans = read_until(scanner, 2)
        assert [s.text for s in scans] == ["T-0042", "Hello, World!"]
        assert all(isinstance(s, ScanEvent) and s.device == "scanner" for s in scans)
        health = scanner.health()
        assert health.state is DeviceState.OK
        assert health.last_event_at == scans[-1].at
    finally:
        scanner.close()
    assert scanner.health().state is DeviceState.CLOSED


def test_scanner_is_grabbed_so_scans_do_not_reach_the_browser(input_backend) -> None:
    node = input_backend.add("keyboard", "Scanner", SCANNER_IDS)
    browser = input_backend.bus.open(node.path)  # another reader, like the compositor
    scanner = scanner_by_ids(input_backend)
    scanner.open()
    try:
        node.send(typing("SECRET-1", US))
        assert [s.text for s in read_until(scanner, 1)] == ["SECRET-1"]
        key_events = [e for e in drained(browser) if e.type == ecodes.EV_KEY]
        assert key_events == []
    finally:
        scanner.close()
        browser.close()


def test_other_keyboards_and_pedals_are_never_grabbed(input_backend) -> None:
    keyboard = input_backend.add("keyboard", "Office Keyboard", KEYBOARD_IDS)
    pedal = input_backend.add("keypad", "Foot Pedal", PEDAL_IDS, keys=[ecodes.KEY_F1])
    input_backend.add("keyboard", "Scanner", SCANNER_IDS)
    people = [input_backend.bus.open(keyboard.path), input_backend.bus.open(pedal.path)]
    scanner = scanner_by_ids(input_backend)
    scanner.open()
    try:
        keyboard.send(typing("hello", US))
        pedal.send([(ecodes.EV_KEY, ecodes.KEY_F1, 1), (ecodes.EV_SYN, 0, 0), (ecodes.EV_KEY, ecodes.KEY_F1, 0)])
        # the people's devices still deliver to their readers: nobody grabbed them
        for handle in people:
            deadline = time.monotonic() + 5
            got: list = []
            while not got and time.monotonic() < deadline:
                got = [e for e in drained(handle) if e.type == ecodes.EV_KEY]
            assert got, f"{handle.name} stopped delivering events"
        assert scanner.read(0.05) == []  # and the scanner driver did not read them
    finally:
        scanner.close()
        for handle in people:
            handle.close()


def test_select_by_path(pipe_backend) -> None:
    pipe_backend.add("keyboard", "Office Keyboard", KEYBOARD_IDS)
    node = pipe_backend.add("keyboard", "Scanner", SCANNER_IDS)
    scanner = EvdevScanner.from_config("scanner", {"kind": "scanner_evdev", "path": node.path}, bus=pipe_backend.bus)
    scanner.open()
    try:
        assert node.grabbed_by is not None
        node.send(typing("by-path", US))
        assert [s.text for s in read_until(scanner, 1)] == ["by-path"]
    finally:
        scanner.close()
    assert node.grabbed_by is None


def test_path_to_a_device_without_keys_is_a_configuration_error(pipe_backend) -> None:
    touch = pipe_backend.add("touch", "Touchscreen", (1, 2))
    scanner = EvdevScanner.from_config("scanner", {"kind": "scanner_evdev", "path": touch.path}, bus=pipe_backend.bus)
    with pytest.raises(DeviceMisconfigured, match=r"scanner\.path = .*does not send keyboard keys"):
        scanner.open()
    assert touch.grabbed_by is None
    assert touch.handles == []


def test_layout_from_config(pipe_backend) -> None:
    node = pipe_backend.add("keyboard", "Scanner", SCANNER_IDS)
    scanner = scanner_by_ids(pipe_backend, layout="de")
    scanner.open()
    try:
        node.send(typing("Zürich-Straße @5", DE))
        assert [s.text for s in read_until(scanner, 1)] == ["Zürich-Straße @5"]
    finally:
        scanner.close()


def test_tab_terminator_from_config(pipe_backend) -> None:
    node = pipe_backend.add("keyboard", "Scanner", SCANNER_IDS)
    scanner = scanner_by_ids(pipe_backend, terminator="tab")
    scanner.open()
    try:
        node.send(typing("ABC", US, terminator=ecodes.KEY_TAB))
        assert [s.text for s in read_until(scanner, 1)] == ["ABC"]
    finally:
        scanner.close()


def test_partial_scan_dropped_after_timeout(pipe_backend, caplog: pytest.LogCaptureFixture) -> None:
    node = pipe_backend.add("keyboard", "Scanner", SCANNER_IDS)
    scanner = scanner_by_ids(pipe_backend, scan_timeout_ms=50)
    scanner.open()
    try:
        caplog.set_level(logging.INFO, logger="devices.scanner")
        node.send(typing("12", US, terminator=None), at=time.time() - 1.0)  # a scan that lost its Enter
        assert scanner.read(0.05) == []
        assert "dropped a partial scan of 2 characters" in caplog.text
        node.send(typing("34", US))
        assert [s.text for s in read_until(scanner, 1)] == ["34"]
    finally:
        scanner.close()


def test_unplug_and_replug(input_backend, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="devices")
    node = input_backend.add("keyboard", "Scanner", SCANNER_IDS)
    scanner = scanner_by_ids(input_backend)
    scanner.open()
    try:
        node.send(typing("before", US))
        assert [s.text for s in read_until(scanner, 1)] == ["before"]
        if input_backend.name == "pipe":
            handle = node.grabbed_by
        node.unplug()
        with pytest.raises(DeviceUnavailable):
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                scanner.read(0.2)
        assert scanner.health().state is DeviceState.MISSING
        if input_backend.name == "pipe":
            assert handle.closed  # the dead descriptor is out of the poll set and closed
        with pytest.raises(DeviceUnavailable):
            scanner.read(0.01)  # stays closed: no dead descriptor spinning in poll
        for _ in range(3):  # the supervisor retries with backoff; still gone
            with pytest.raises(DeviceUnavailable):
                scanner.open()
        node.replug()
        scanner.open()
        assert scanner.health().state is DeviceState.OK
        node.send(typing("after", US))
        assert [s.text for s in read_until(scanner, 1)] == ["after"]
        if input_backend.name == "pipe":
            assert node.grabbed_by is not None  # grabbed again
    finally:
        scanner.close()
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("devices.scanner")]
    assert len([m for m in messages if ": missing" in m]) == 1, messages
    assert len([m for m in messages if ": back" in m]) == 1, messages


def test_device_grabbed_by_another_process(pipe_backend) -> None:
    node = pipe_backend.add("keyboard", "Scanner", SCANNER_IDS)
    other = pipe_backend.bus.open(node.path)
    other.grab()
    scanner = scanner_by_ids(pipe_backend)
    try:
        with pytest.raises(DeviceUnavailable, match="grabbed by another process"):
            scanner.open()
        health = scanner.health()
        assert health.state is DeviceState.ERROR
        assert "grabbed by another process" in health.detail
        assert node.handles == [other]  # our handle was closed again
    finally:
        other.close()


def test_missing_device_at_open(pipe_backend) -> None:
    scanner = scanner_by_ids(pipe_backend)
    with pytest.raises(DeviceUnavailable, match="not present"):
        scanner.open()
    assert scanner.health().state is DeviceState.MISSING


def test_the_hosts_caps_lock_does_not_invert_a_badge(pipe_backend) -> None:
    """The scanner's keyboard node showed Caps Lock on (the console's, or another keyboard's): taken
    as the scanner's state, every Shift+letter came out lower case and a case-sensitive staff badge
    did not match. Now the state starts off, and the LED is switched off so the scanner agrees."""
    node = pipe_backend.add("keyboard", "Scanner", SCANNER_IDS)
    node.leds_on = [ecodes.LED_CAPSL]
    scanner = scanner_by_ids(pipe_backend)
    scanner.open()
    try:
        assert node.leds_on == []  # switched off on open
        badge = "st_12_AbCdEfGhIjKlMnOpQrStUv"
        node.send(typing(badge, US), at=time.time())  # a long scan: stamped from now on, as if typed now
        assert [s.text for s in read_until(scanner, 1)] == [badge]
        # The scanner's own Caps Lock key: followed, and shown on the LED (a scanner may read it).
        node.send([(ecodes.EV_KEY, ecodes.KEY_CAPSLOCK, 1), (ecodes.EV_KEY, ecodes.KEY_CAPSLOCK, 0)])
        node.send(typing("ab", US))
        assert [s.text for s in read_until(scanner, 1)] == ["AB"]
        assert node.leds_on == [ecodes.LED_CAPSL]
    finally:
        scanner.close()


@pytest.mark.parametrize(
    ("extra", "typed", "expected"),
    [
        ({}, "\x02T-0042\x03", "T-0042"),  # STX/ETX framing (typed as Ctrl+B, Ctrl+C): always taken off
        ({"prefix": "]C1"}, "]C1T-0042", "T-0042"),  # an AIM symbology identifier
        ({"prefix": "#", "suffix": "#"}, "#T-0042#", "T-0042"),
        ({"suffix": "!"}, "T-0042", "T-0042"),  # a suffix missing: the scan as it is
    ],
)
def test_framing_is_taken_off(pipe_backend, extra: dict[str, str], typed: str, expected: str) -> None:
    node = pipe_backend.add("keyboard", "Scanner", SCANNER_IDS)
    scanner = scanner_by_ids(pipe_backend, **extra)
    scanner.open()
    try:
        events = []
        for ch in typed:  # control characters as a keyboard-mode scanner types them: Ctrl + letter
            if ch in "\x02\x03":
                key = ecodes.KEY_B if ch == "\x02" else ecodes.KEY_C
                pairs = [(ecodes.KEY_LEFTCTRL, 1), (key, 1), (key, 0), (ecodes.KEY_LEFTCTRL, 0)]
                events += [(ecodes.EV_KEY, c, v) for c, v in pairs]
            else:
                events += [e for e in typing(ch, US, terminator=None) if e[0] == ecodes.EV_KEY]
        events += [(ecodes.EV_KEY, ecodes.KEY_ENTER, 1), (ecodes.EV_KEY, ecodes.KEY_ENTER, 0)]
        node.send(events)
        assert [s.text for s in read_until(scanner, 1)] == [expected]
    finally:
        scanner.close()

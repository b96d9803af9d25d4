"""Touchscreen activity: reported, throttled, never grabbed."""

from __future__ import annotations

import time

import pytest
from evdev import ecodes

from devices.base import DeviceMisconfigured, DeviceState, TouchActivity
from devices.touch.evdev_touch import EvdevTouch
from devices.virtual.evdev_devices import touch
from tests.devices.helpers import TOUCH_IDS, read_until


def touch_config(**extra) -> dict:
    return {"kind": "touch_evdev", "vendor_id": f"0x{TOUCH_IDS[0]:04x}", "product_id": f"0x{TOUCH_IDS[1]:04x}", **extra}


def test_touch_reports_activity_and_is_never_grabbed(input_backend) -> None:
    node = input_backend.add("touch", "Touchscreen", TOUCH_IDS)
    browser = input_backend.bus.open(node.path)
    screen = EvdevTouch.from_config("touch", touch_config(), bus=input_backend.bus)
    screen.open()
    try:
        node.send(touch(100, 200))
        events = read_until(screen, 1)
        assert len(events) == 1 and isinstance(events[0], TouchActivity) and events[0].device == "touch"
        assert screen.health().last_event_at == events[0].at
        # the browser still gets every touch
        deadline = time.monotonic() + 5
        got: list = []
        while not got and time.monotonic() < deadline:
            try:
                got = [e for e in browser.read() if e.type == ecodes.EV_ABS]
            except BlockingIOError:
                pass
        assert got
    finally:
        screen.close()
        browser.close()


def test_activity_is_throttled(pipe_backend) -> None:
    node = pipe_backend.add("touch", "Touchscreen", TOUCH_IDS)
    screen = EvdevTouch.from_config("touch", touch_config(activity_interval_ms=1000), bus=pipe_backend.bus)
    screen.open()
    try:
        t0 = time.time() - 3.0
        node.send(touch(1, 1), at=t0)
        node.send(touch(2, 2), at=t0 + 0.5)  # within the interval: not reported again
        node.send(touch(3, 3), at=t0 + 1.5)
        events = []
        for _ in range(3):
            events += screen.read(0.05)
        assert [round(e.at - t0, 1) for e in events] == [0.0, 1.5]
    finally:
        screen.close()


def test_a_keyboard_is_not_taken_for_a_touchscreen(pipe_backend) -> None:
    keyboard = pipe_backend.add("keyboard", "Keyboard", TOUCH_IDS)
    screen = EvdevTouch.from_config("touch", {"kind": "touch_evdev", "path": keyboard.path}, bus=pipe_backend.bus)
    with pytest.raises(DeviceMisconfigured, match="no absolute axes"):
        screen.open()
    assert screen.health().state is DeviceState.CLOSED

"""Buttons: debounce and short/long press (pure tracker), and the evdev driver on virtual keypads."""

from __future__ import annotations

import time

import pytest
from evdev import ecodes

from devices.base import ButtonEvent, DeviceState, DeviceUnavailable
from devices.buttons.evdev_buttons import EvdevButtons
from devices.buttons.press import Press, PressTracker
from tests.devices.helpers import PEDAL_IDS, read_until

A, B = ecodes.KEY_F1, ecodes.KEY_F2
DOWN, UP, REPEAT = 1, 0, 2


def run(tracker: PressTracker, events: list[tuple[float, int, int]], until: float) -> list[Press]:
    presses: list[Press] = []
    for at, code, value in events:
        presses += tracker.feed(code, value, at)
    presses += tracker.poll(until)
    return presses


@pytest.mark.parametrize(
    ("events", "until", "expected"),
    [
        pytest.param([(0.0, A, DOWN), (0.2, A, UP)], 1.0, [Press(A, False, 0.2)], id="short press"),
        pytest.param([(0.0, A, DOWN)], 1.0, [Press(A, True, 0.8)], id="held: long press while held"),
        pytest.param([(0.0, A, DOWN)], 0.5, [], id="held, not long yet"),
        pytest.param([(0.0, A, DOWN), (1.5, A, UP)], 2.0, [Press(A, True, 0.8)], id="long, release adds nothing"),
        pytest.param(
            [(0.0, A, DOWN), (0.002, A, UP), (0.004, A, DOWN), (0.006, A, UP), (0.008, A, DOWN), (0.3, A, UP)],
            1.0,
            [Press(A, False, 0.3)],
            id="bouncing contact: one press",
        ),
        pytest.param(
            [(0.0, A, DOWN), (0.01, A, UP)],
            1.0,
            [Press(A, False, 0.03)],
            id="tap shorter than the debounce time is not lost",
        ),
        pytest.param(
            [(0.0, A, DOWN), (0.1, A, REPEAT), (0.2, A, REPEAT), (0.25, A, UP)],
            1.0,
            [Press(A, False, 0.25)],
            id="autorepeat ignored",
        ),
        pytest.param(
            [(0.0, A, DOWN), (0.1, B, DOWN), (0.2, A, UP), (0.3, B, UP)],
            1.0,
            [Press(A, False, 0.2), Press(B, False, 0.3)],
            id="two keys",
        ),
        pytest.param(
            [(0.0, A, DOWN), (0.2, A, UP), (0.21, A, DOWN), (0.4, A, UP)],
            1.0,
            [Press(A, False, 0.2), Press(A, False, 0.4)],
            id="two quick presses after the debounce time",
        ),
        pytest.param([(0.0, A, UP)], 1.0, [], id="release without press"),
    ],
)
def test_press_tracker(events, until: float, expected: list[Press]) -> None:
    tracker = PressTracker(debounce_s=0.03, long_press_s=0.8)
    assert run(tracker, events, until) == pytest.approx(expected)


def test_next_deadline_points_at_the_long_press_and_settle_times() -> None:
    tracker = PressTracker(debounce_s=0.03, long_press_s=0.8)
    assert tracker.next_deadline() is None
    tracker.feed(A, DOWN, 10.0)
    assert tracker.next_deadline() == pytest.approx(10.8)
    tracker.feed(A, UP, 10.01)  # inside the debounce time: settles at 10.03
    assert tracker.next_deadline() == pytest.approx(10.03)


@pytest.mark.parametrize(("debounce", "long"), [(-0.1, 1.0), (0.5, 0.5), (0.0, 0.0)])
def test_press_tracker_refuses_bad_times(debounce: float, long: float) -> None:
    with pytest.raises(ValueError):
        PressTracker(debounce, long)


def pedal_config(**extra) -> dict:
    return {
        "kind": "buttons_evdev",
        "vendor_id": f"0x{PEDAL_IDS[0]:04x}",
        "product_id": f"0x{PEDAL_IDS[1]:04x}",
        "keymap": {"KEY_F1": "next", "KEY_F2": "done"},
        **extra,
    }


def key(code: int, value: int) -> list[tuple[int, int, int]]:
    return [(ecodes.EV_KEY, code, value), (ecodes.EV_SYN, ecodes.SYN_REPORT, 0)]


def test_short_press_through_the_driver(input_backend) -> None:
    node = input_backend.add("keypad", "Foot Pedal", PEDAL_IDS, keys=[A, B, ecodes.KEY_F3])
    buttons = EvdevButtons.from_config("pedal", pedal_config(), bus=input_backend.bus)
    buttons.open()
    try:
        node.send(key(ecodes.KEY_F3, DOWN) + key(ecodes.KEY_F3, UP))  # not in the keymap: ignored
        node.send(key(A, DOWN) + key(A, UP))
        events = read_until(buttons, 1)
        assert [(e.action, e.long_press) for e in events] == [("next", False)]
        assert isinstance(events[0], ButtonEvent) and events[0].device == "pedal"
        assert buttons.read(0.05) == []
    finally:
        buttons.close()


def test_long_press_reported_while_still_held(pipe_backend) -> None:
    node = pipe_backend.add("keypad", "Foot Pedal", PEDAL_IDS, keys=[A, B])
    buttons = EvdevButtons.from_config("pedal", pedal_config(long_press_ms=300), bus=pipe_backend.bus)
    buttons.open()
    try:
        pressed_at = time.time() - 0.5  # pressed half a second ago, not released
        node.send(key(B, DOWN), at=pressed_at)
        events = buttons.read(1.0)
        assert [(e.action, e.long_press) for e in events] == [("done", True)]
        assert events[0].at == pytest.approx(pressed_at + 0.3, abs=0.002)
        node.send(key(B, UP))
        assert buttons.read(0.05) == []  # the release adds nothing
    finally:
        buttons.close()


@pytest.mark.timeout(30)
def test_long_press_detected_by_the_read_deadline(pipe_backend) -> None:
    node = pipe_backend.add("keypad", "Foot Pedal", PEDAL_IDS, keys=[A, B])
    buttons = EvdevButtons.from_config("pedal", pedal_config(long_press_ms=200), bus=pipe_backend.bus)
    buttons.open()
    try:
        node.send(key(A, DOWN))
        # No further event: read wakes up for the long-press time. Were it to sleep out its own
        # deadline instead, the test's timeout (30 s, far below 600 s) would fail it.
        events = buttons.read(600.0)
        assert [(e.action, e.long_press) for e in events] == [("next", True)]
    finally:
        buttons.close()


def test_bouncing_pedal_gives_one_press(pipe_backend) -> None:
    node = pipe_backend.add("keypad", "Foot Pedal", PEDAL_IDS, keys=[A, B])
    buttons = EvdevButtons.from_config("pedal", pedal_config(debounce_ms=30), bus=pipe_backend.bus)
    buttons.open()
    try:
        t0 = time.time() - 1.0
        bounces = [(A, DOWN, 0.0), (A, UP, 0.003), (A, DOWN, 0.006), (A, UP, 0.2), (A, DOWN, 0.203), (A, UP, 0.206)]
        for code, value, dt in bounces:
            node.send(key(code, value), at=t0 + dt)
        events = buttons.read(0.2)
        assert [(e.action, e.long_press) for e in events] == [("next", False)]
        assert buttons.read(0.05) == []
    finally:
        buttons.close()


def test_buttons_survive_unplug(input_backend) -> None:
    node = input_backend.add("keypad", "Foot Pedal", PEDAL_IDS, keys=[A, B])
    buttons = EvdevButtons.from_config("pedal", pedal_config(), bus=input_backend.bus)
    buttons.open()
    try:
        node.unplug()
        with pytest.raises(DeviceUnavailable):
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                buttons.read(0.2)
        assert buttons.health().state is DeviceState.MISSING
        node.replug()
        buttons.open()
        node.send(key(B, DOWN) + key(B, UP))
        assert [e.action for e in read_until(buttons, 1)] == ["done"]
    finally:
        buttons.close()


def test_grab_is_configurable(pipe_backend) -> None:
    node = pipe_backend.add("keypad", "GPIO Buttons", PEDAL_IDS, keys=[A, B])
    for grab, grabbed in ((True, True), (False, False)):
        buttons = EvdevButtons.from_config("pedal", pedal_config(grab=grab), bus=pipe_backend.bus)
        buttons.open()
        try:
            assert (node.grabbed_by is not None) is grabbed
        finally:
            buttons.close()

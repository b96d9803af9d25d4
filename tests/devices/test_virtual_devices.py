"""The stand-ins keep the surface of what they stand in for (so they cannot go stale unnoticed)."""

from __future__ import annotations

import errno
import inspect
import select

import evdev
import pytest
from evdev import ecodes

from devices.evdev_input.bus import EvdevHandle, InputBus, SystemInputBus
from devices.virtual.evdev_devices import PipeInputDevice, VirtualInputBus, keyboard_capabilities, with_syn
from devices.virtual.fifo_input import FifoInputBus

HANDLE_METHODS = ["fileno", "read", "grab", "ungrab", "capabilities", "leds", "set_led", "close"]


def test_the_protocols_list_what_the_drivers_use() -> None:
    members = {name for name in dir(EvdevHandle) if not name.startswith("_")} | set(EvdevHandle.__annotations__)
    assert members == {*HANDLE_METHODS, "path", "name", "info"}
    bus = {"list_paths", "exists", "open", "adopt", "same_node"}
    for kind in (InputBus, SystemInputBus, VirtualInputBus, FifoInputBus):
        assert {name for name in dir(kind) if not name.startswith("_") and callable(getattr(kind, name))} >= bus
    assert {name for name in dir(InputBus) if not name.startswith("_")} == bus


@pytest.mark.parametrize("method", HANDLE_METHODS)
def test_pipe_device_methods_match_evdev_input_device(method: str) -> None:
    real = inspect.signature(getattr(evdev.InputDevice, method))
    stand_in = inspect.signature(getattr(PipeInputDevice, method))
    assert list(stand_in.parameters) == list(real.parameters)


def test_pipe_device_delivers_real_input_events_and_fails_like_an_unplugged_device() -> None:
    bus = VirtualInputBus()
    node = bus.add("/dev/input/by-id/usb-X-event-kbd", "X", 1, 2, keyboard_capabilities())
    handle = bus.open(node.path)
    try:
        assert isinstance(handle.info, evdev.DeviceInfo) and (handle.info.vendor, handle.info.product) == (1, 2)
        node.send(with_syn([(ecodes.KEY_A, 1)]), at=1000.25)
        events = list(handle.read())
        assert all(type(e) is evdev.InputEvent for e in events)
        assert [(e.type, e.code, e.value) for e in events] == [(ecodes.EV_KEY, ecodes.KEY_A, 1), (0, 0, 0)]
        assert events[0].timestamp() == pytest.approx(1000.25)
        assert isinstance(evdev.categorize(events[0]), evdev.KeyEvent)
        with pytest.raises(BlockingIOError):
            list(handle.read())
        node.unplug()
        poller = select.poll()
        poller.register(handle.fileno(), select.POLLIN)
        assert poller.poll(0), "an unplugged device's descriptor stays readable"
        with pytest.raises(OSError) as raised:
            list(handle.read())
        assert raised.value.errno == errno.ENODEV
        with pytest.raises(FileNotFoundError):
            bus.open(node.path)
        assert bus.list_paths() == []
    finally:
        handle.close()

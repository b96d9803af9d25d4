"""Buttons as evdev key events: USB keypads, foot switches, Raspberry Pi GPIO buttons (gpio-keys).

The config maps key code names to actions (``KEY_F1 = "next"``); other keys are ignored. The device
is grabbed by default so that a keypad's keys do not also reach the kiosk's browser.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from evdev import ecodes

from devices.base import ButtonEvent, DeviceHealth, DeviceMisconfigured, DeviceState
from devices.buttons.press import PressTracker
from devices.config import SettingsReader
from devices.evdev_input.bus import DeviceSelector, EvdevHandle, InputBus, SystemInputBus
from devices.evdev_input.reader import EvdevReader, UsesEvdevReader
from devices.health import HealthTracker

logger = logging.getLogger(__name__)

DEFAULT_DEBOUNCE_MS = 30  # mechanical contacts settle within ~5-20 ms
DEFAULT_LONG_PRESS_MS = 800  # long enough not to happen by accident, short enough not to feel stuck


def parse_keymap(reader: SettingsReader) -> dict[int, str]:
    table = reader.get_table("keymap")
    keymap: dict[int, str] = {}
    for key_name, action in table.items():
        code = ecodes.ecodes.get(key_name) if isinstance(key_name, str) else None
        if code is None or not key_name.startswith(("KEY_", "BTN_")):
            raise DeviceMisconfigured(
                f"{reader.name}.keymap.{key_name}: not an evdev key name (like KEY_F1 or BTN_0; "
                "see `python -m evdev.evtest`)"
            )
        if not isinstance(action, str) or not action.strip():
            raise DeviceMisconfigured(f"{reader.name}.keymap.{key_name} = {action!r}: must be an action name")
        keymap[code] = action
    return keymap


class EvdevButtons(UsesEvdevReader):
    def __init__(
        self,
        name: str,
        selector: DeviceSelector,
        keymap: Mapping[int, str],
        *,
        debounce_ms: int = DEFAULT_DEBOUNCE_MS,
        long_press_ms: int = DEFAULT_LONG_PRESS_MS,
        grab: bool = True,
        bus: InputBus | None = None,
    ) -> None:
        self.name = name
        self.keymap = dict(keymap)
        self._health = HealthTracker(name, logger)
        self._tracker = PressTracker(debounce_ms / 1000, long_press_ms / 1000)
        self._reader = EvdevReader(
            name, selector, bus or SystemInputBus(), self._health, grab=grab, suitable=self._has_mapped_keys
        )

    @classmethod
    def from_config(cls, name: str, settings: Mapping[str, Any], *, bus: InputBus | None = None) -> EvdevButtons:
        reader = SettingsReader(name, settings)
        selector = DeviceSelector.from_settings(reader)
        keymap = parse_keymap(reader)
        debounce_ms = reader.get_int("debounce_ms", DEFAULT_DEBOUNCE_MS, min=0, max=500)
        long_press_ms = reader.get_int("long_press_ms", DEFAULT_LONG_PRESS_MS, min=100, max=10000)
        if long_press_ms <= debounce_ms:
            raise reader.error("long_press_ms", f"must be longer than debounce_ms ({debounce_ms})")
        grab = reader.get_bool("grab", True)
        reader.finish()
        return cls(name, selector, keymap, debounce_ms=debounce_ms, long_press_ms=long_press_ms, grab=grab, bus=bus)

    def _has_mapped_keys(self, handle: EvdevHandle) -> str | None:
        keys = set(handle.capabilities().get(ecodes.EV_KEY, []))
        if not keys & set(self.keymap):
            return "sends none of the keys in keymap"
        return None

    def open(self) -> None:
        self._reader.open()
        self._tracker.reset()

    def read(self, timeout_s: float) -> list[ButtonEvent]:
        deadline = time.monotonic() + timeout_s
        out: list[ButtonEvent] = []
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            wait = remaining
            due = self._tracker.next_deadline()
            if due is not None:
                wait = min(wait, max(0.0, due - time.time()))
            for event in self._reader.read(wait):
                if event.type == ecodes.EV_SYN and event.code == ecodes.SYN_DROPPED:
                    self._tracker.reset()
                elif event.type == ecodes.EV_KEY and event.code in self.keymap:
                    out += self._events(self._tracker.feed(event.code, event.value, event.timestamp()))
            out += self._events(self._tracker.poll(time.time()))
            if out or remaining <= 0:
                break
        if out:
            self._health.mark_event(out[-1].at)
        return out

    def _events(self, presses: list[Any]) -> list[ButtonEvent]:
        return [ButtonEvent(self.name, self.keymap[p.code], p.long_press, p.at) for p in presses]

    def health(self) -> DeviceHealth:
        return self._health.get()

    def close(self) -> None:
        self._reader.close()
        self._tracker.reset()
        self._health.set(DeviceState.CLOSED)

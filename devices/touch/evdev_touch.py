"""Touchscreen activity through evdev, for the kiosk's idle timer and screen wake.

The touchscreen is never grabbed: the browser must keep receiving the touches. Only the fact that
someone touched is reported, at most once per ``activity_interval_ms``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from evdev import ecodes

from devices.base import DeviceHealth, DeviceState, TouchActivity
from devices.config import SettingsReader
from devices.evdev_input.bus import DeviceSelector, EvdevHandle, InputBus, SystemInputBus
from devices.evdev_input.reader import EvdevReader, UsesEvdevReader
from devices.health import HealthTracker

logger = logging.getLogger(__name__)

DEFAULT_ACTIVITY_INTERVAL_MS = 1000  # idle timers count seconds; a swipe sends ~100 events/s


def looks_like_touchscreen(handle: EvdevHandle) -> str | None:
    caps = handle.capabilities(absinfo=False)
    axes = set(caps.get(ecodes.EV_ABS, []))
    if not axes & {ecodes.ABS_X, ecodes.ABS_MT_POSITION_X}:
        return "has no absolute axes (not a touchscreen)"
    return None


class EvdevTouch(UsesEvdevReader):
    def __init__(
        self,
        name: str,
        selector: DeviceSelector,
        *,
        activity_interval_ms: int = DEFAULT_ACTIVITY_INTERVAL_MS,
        bus: InputBus | None = None,
    ) -> None:
        self.name = name
        self._interval_s = activity_interval_ms / 1000
        self._last_reported: float | None = None
        self._health = HealthTracker(name, logger)
        self._reader = EvdevReader(
            name, selector, bus or SystemInputBus(), self._health, grab=False, suitable=looks_like_touchscreen
        )

    @classmethod
    def from_config(cls, name: str, settings: Mapping[str, Any], *, bus: InputBus | None = None) -> EvdevTouch:
        reader = SettingsReader(name, settings)
        selector = DeviceSelector.from_settings(reader)
        interval = reader.get_int("activity_interval_ms", DEFAULT_ACTIVITY_INTERVAL_MS, min=0, max=60000)
        reader.finish()
        return cls(name, selector, activity_interval_ms=interval, bus=bus)

    def open(self) -> None:
        self._reader.open()

    def read(self, timeout_s: float) -> list[TouchActivity]:
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            out = []
            for event in self._reader.read(remaining):
                if event.type not in (ecodes.EV_ABS, ecodes.EV_KEY):
                    continue
                at = event.timestamp()
                if self._last_reported is None or at - self._last_reported >= self._interval_s:
                    self._last_reported = at
                    out.append(TouchActivity(self.name, at))
            if out:
                self._health.mark_event(out[-1].at)
                return out
            if remaining <= 0:
                return []

    def health(self) -> DeviceHealth:
        return self._health.get()

    def close(self) -> None:
        self._reader.close()
        self._health.set(DeviceState.CLOSED)

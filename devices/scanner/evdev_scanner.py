"""Barcode scanner acting as a USB keyboard, read through evdev and grabbed exclusively.

Grabbing (EVIOCGRAB) keeps scans from typing into the kiosk's browser. Only the configured device
is ever grabbed: a keyboard or foot pedal taken for a scanner would stop working for people.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from evdev import ecodes

from devices.base import DeviceHealth, DeviceState, ScanEvent
from devices.config import SettingsReader
from devices.evdev_input.bus import DeviceSelector, EvdevHandle, InputBus, SystemInputBus
from devices.evdev_input.reader import EvdevReader, UsesEvdevReader
from devices.health import HealthTracker
from devices.scanner.framing import Framing, read_framing
from devices.scanner.keymap import LAYOUTS, TERMINATORS, Layout, ScanDecoder

logger = logging.getLogger(__name__)

DEFAULT_SCAN_TIMEOUT_MS = 100  # scanners type a whole code in a few ms per key; people are slower


def looks_like_keyboard(handle: EvdevHandle) -> str | None:
    keys = set(handle.capabilities().get(ecodes.EV_KEY, []))
    if not {ecodes.KEY_ENTER, ecodes.KEY_1, ecodes.KEY_A} <= keys:
        return "does not send keyboard keys (Enter, digits, letters)"
    return None


class EvdevScanner(UsesEvdevReader):
    def __init__(
        self,
        name: str,
        selector: DeviceSelector,
        *,
        layout: Layout,
        terminator: str = "enter",
        scan_timeout_ms: int = DEFAULT_SCAN_TIMEOUT_MS,
        framing: Framing | None = None,
        bus: InputBus | None = None,
    ) -> None:
        self.name = name
        self._health = HealthTracker(name, logger)
        self._reader = EvdevReader(
            name, selector, bus or SystemInputBus(), self._health, grab=True, suitable=looks_like_keyboard
        )
        self._decoder = ScanDecoder(layout, TERMINATORS[terminator], scan_timeout_ms / 1000)
        self._framing = framing or Framing()
        self._led_caps: bool | None = None  # the Caps Lock LED as last set on the device

    @classmethod
    def from_config(cls, name: str, settings: Mapping[str, Any], *, bus: InputBus | None = None) -> EvdevScanner:
        reader = SettingsReader(name, settings)
        selector = DeviceSelector.from_settings(reader)
        layout = reader.get_str("layout", "us", choices=LAYOUTS)
        terminator = reader.get_str("terminator", "enter", choices=TERMINATORS)
        timeout_ms = reader.get_int("scan_timeout_ms", DEFAULT_SCAN_TIMEOUT_MS, min=10, max=5000)
        framing = read_framing(reader)
        reader.finish()
        return cls(
            name,
            selector,
            layout=LAYOUTS[layout],
            terminator=terminator,
            scan_timeout_ms=timeout_ms,
            framing=framing,
            bus=bus,
        )

    def open(self) -> None:
        self._reader.open()
        self._decoder.reset()
        # The scanner's Caps Lock is its own, and starts off (keymap.py): the LED may be on from the
        # console or another keyboard; switched off, a scanner that reads it agrees with us.
        self._decoder.caps_lock = False
        self._led_caps = None
        self._show_caps_lock()

    def _show_caps_lock(self) -> None:
        handle = self._reader.handle
        if handle is None or self._led_caps == self._decoder.caps_lock:
            return
        try:
            handle.set_led(ecodes.LED_CAPSL, int(self._decoder.caps_lock))
        except OSError as exc:  # a device without that LED, or read-only: nothing to keep in step
            logger.debug("%s: cannot set the Caps Lock LED: %s", self.name, exc)
        self._led_caps = self._decoder.caps_lock

    def read(self, timeout_s: float) -> list[ScanEvent]:
        deadline = time.monotonic() + timeout_s
        scans: list[ScanEvent] = []
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            for event in self._reader.read(remaining):
                text = self._decoder.feed(event)
                if text is not None and (code := self._framing.unframe(text)):
                    scans.append(ScanEvent(self.name, code, event.timestamp()))
            self._show_caps_lock()
            dropped = self._decoder.expire(time.time())
            if dropped:
                logger.info("%s: dropped a partial scan of %d characters (no terminator)", self.name, len(dropped))
            if scans or remaining <= 0:
                break
        if scans:
            self._health.mark_event(scans[-1].at)
        return scans

    def in_progress(self) -> bool:
        """Part of a scan has been typed, the rest has not yet."""
        return bool(self._decoder.pending)

    def health(self) -> DeviceHealth:
        return self._health.get()

    def close(self) -> None:
        self._reader.close()
        self._decoder.reset()
        self._health.set(DeviceState.CLOSED)

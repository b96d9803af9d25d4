"""A device's current health, with log lines only when it changes.

A device going away is logged once at INFO and its return once, not every retry
(Home Assistant's log-when-unavailable rule).
"""

from __future__ import annotations

import logging
import threading

from devices.base import DeviceHealth, DeviceState

_TROUBLE = {DeviceState.MISSING, DeviceState.OFFLINE, DeviceState.PAPER_OUT, DeviceState.ERROR}


class HealthTracker:
    """Thread-safe: the device thread sets it, the heartbeat reads it."""

    def __init__(self, name: str, logger: logging.Logger) -> None:
        self._name = name
        self._logger = logger
        self._lock = threading.Lock()
        self._health = DeviceHealth(DeviceState.CLOSED)

    @property
    def state(self) -> DeviceState:
        return self._health.state

    def get(self) -> DeviceHealth:
        return self._health

    def set(self, state: DeviceState, detail: str = "") -> None:
        with self._lock:
            old = self._health
            if old.state == state and old.detail == detail:
                return
            self._health = DeviceHealth(state, detail, old.last_event_at)
        if old.state == state:
            return
        if state in _TROUBLE:
            self._logger.info("%s: %s%s", self._name, state.value, f" ({detail})" if detail else "")
        elif state in (DeviceState.OK, DeviceState.PAPER_LOW) and old.state in _TROUBLE:
            self._logger.info("%s: back (%s)", self._name, state.value)
        elif state == DeviceState.PAPER_LOW:
            self._logger.info("%s: paper low", self._name)

    def mark_event(self, at: float) -> None:
        with self._lock:
            old = self._health
            self._health = DeviceHealth(old.state, old.detail, at)

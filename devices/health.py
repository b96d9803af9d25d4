"""A device's current health, with log lines only when it changes.

A device going away is logged once and its return once, not every retry (Home Assistant's
log-when-unavailable rule). Input devices log it at INFO (a scanner unplugged is routine); a
receipt printer logs its trouble at WARNING (a receipt is waiting), once per change of state or
cause ("no answer", "hung up", "cover open" …), never per retry.
"""

from __future__ import annotations

import logging
import threading

from devices.base import DeviceHealth, DeviceState

_TROUBLE = {DeviceState.MISSING, DeviceState.OFFLINE, DeviceState.PAPER_OUT, DeviceState.ERROR}


class HealthTracker:
    """Thread-safe: the device thread sets it, the heartbeat reads it."""

    def __init__(self, name: str, logger: logging.Logger, *, trouble_level: int = logging.INFO) -> None:
        self._name = name
        self._logger = logger
        self._trouble_level = trouble_level
        self._lock = threading.Lock()
        self._health = DeviceHealth(DeviceState.CLOSED)
        self._cause = ""

    @property
    def state(self) -> DeviceState:
        return self._health.state

    def get(self) -> DeviceHealth:
        return self._health

    def set(self, state: DeviceState, detail: str = "", cause: str = "") -> None:
        """``cause``: a short, stable reason (the detail may carry changing text such as an errno)."""
        with self._lock:
            old, old_cause = self._health, self._cause
            if old.state == state and old.detail == detail and old_cause == cause:
                return
            self._health = DeviceHealth(state, detail, old.last_event_at)
            self._cause = cause
        if old.state == state and (state not in _TROUBLE or old_cause == cause):
            return
        if state in _TROUBLE:
            self._logger.log(self._trouble_level, "%s: %s%s", self._name, state.value, f" ({detail})" if detail else "")
        elif state in (DeviceState.OK, DeviceState.PAPER_LOW) and old.state in _TROUBLE:
            self._logger.info("%s: back (%s)", self._name, state.value)
        elif state == DeviceState.PAPER_LOW:
            self._logger.info("%s: paper low", self._name)

    def mark_event(self, at: float) -> None:
        with self._lock:
            old = self._health
            self._health = DeviceHealth(old.state, old.detail, at)

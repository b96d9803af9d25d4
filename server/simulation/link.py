"""One simulated screen or appliance's connection: a python-socketio client over WebSocket that
calls events and waits for their acknowledgements, sending a command again (with the same
idempotency key, so the server answers it once) while the server says it is busy."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from typing import Any

import socketio

logger = logging.getLogger(__name__)

# What the server answers when it cannot do the command now (common/wire.py `retry` codes).
RETRY_CODES = {"busy", "conflict", "internal_error"}
ACK_TIMEOUT_S = 30.0  # far above any ack under load; a lost one is sent again with its key
MAX_ATTEMPTS = 20


class SimulationError(Exception):
    """The protocol answered in a way the simulation cannot go on from."""


class Link:
    _keys = itertools.count(1)

    def __init__(self, url: str, token: str, name: str) -> None:
        self.url, self.token, self.name = url, token, name
        self.sio = socketio.Client(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=2)
        self.calls = 0
        self._lock = threading.Lock()

    def connect(self) -> Link:
        self.sio.connect(self.url, auth={"token": self.token}, transports=["websocket"], wait_timeout=10)
        return self

    def key(self) -> str:
        return f"sim-{self.name}-{next(self._keys)}"

    def call(self, event: str, data: dict[str, Any] | None = None, *, keyed: bool = False) -> dict[str, Any]:
        """The acknowledgement (``ok`` true or false). ``keyed``: a command that changes something,
        sent with an idempotency key so a repeat after a lost ack is answered, not done twice."""
        payload = dict(data or {})
        if keyed:
            payload.setdefault("idempotency_key", self.key())
        delay = 0.05
        for _ in range(MAX_ATTEMPTS):
            try:
                ack = self.sio.call(event, payload, timeout=ACK_TIMEOUT_S)
            except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError):
                ack = {"ok": False, "error": {"code": "busy", "message": "no acknowledgement"}}
            with self._lock:
                self.calls += 1
            if not isinstance(ack, dict):
                raise SimulationError(f"{self.name}: {event} answered {ack!r}")
            if ack.get("ok") or code_of(ack) not in RETRY_CODES:
                return ack
            if not keyed and event not in _SAFE_TO_REPEAT:
                return ack
            time.sleep(delay)  # backing off from a busy server; no event to wait for
            delay = min(delay * 2, 1.0)
        raise SimulationError(f"{self.name}: {event} still refused after {MAX_ATTEMPTS} attempts: {ack}")

    def must(self, event: str, data: dict[str, Any] | None = None, *, keyed: bool = False) -> dict[str, Any]:
        ack = self.call(event, data, keyed=keyed)
        if not ack.get("ok"):
            raise SimulationError(f"{self.name}: {event} {data or {}} refused: {ack.get('error')}")
        return ack

    def close(self) -> None:
        try:
            self.sio.disconnect()
        finally:
            self.sio.eio.disconnect(abort=True)


_SAFE_TO_REPEAT = {"till_status", "queue_snapshot", "till_report_x"}


def code_of(ack: dict[str, Any]) -> str | None:
    error = ack.get("error")
    return error.get("code") if isinstance(error, dict) else None

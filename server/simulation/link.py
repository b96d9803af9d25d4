"""One simulated screen or appliance's connection: a python-socketio client over WebSocket that
calls events and waits for their acknowledgements, sending a command again (with the same
idempotency key, so the server answers it once) while the server says it is busy."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import Counter
from typing import Any

import socketio

logger = logging.getLogger(__name__)

# What the server answers when it cannot do the command now (common/wire.py `retry` codes).
RETRY_CODES = {"busy", "conflict", "internal_error"}
ACK_TIMEOUT_S = 30.0  # far above any ack under load; a lost one is sent again with its key
MAX_ATTEMPTS = 20
# A command is given up only after MAX_ATTEMPTS and this long: a server killed and started again,
# or a database back from a restart, takes seconds more than the attempts' backoff on a busy machine.
RETRY_FOR_S = 45.0
NO_ACK = "unanswered"  # how `retried` counts a call the server never answered (lost, or the link dropped)


class SimulationError(Exception):
    """The protocol answered in a way the simulation cannot go on from."""


class Link:
    _keys = itertools.count(1)

    def __init__(self, url: str, token: str, name: str) -> None:
        self.url, self.token, self.name = url, token, name
        self.sio = socketio.Client(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=2)
        self.calls = 0
        self.retried: Counter[str] = Counter()  # refusals sent again, by code (and NO_ACK)
        self._lock = threading.Lock()
        self._waiting: set[threading.Event] = set()
        self._dropped_sockets: list[Any] = []
        # python-socketio's own call() waits out its whole timeout when the connection drops (its
        # docstring says so): a server killed mid-day would stall every pending call for
        # ACK_TIMEOUT_S. The link wakes them instead, to be sent again with their keys.
        self.sio.on("disconnect", self._dropped)

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
        attempts = 0
        give_up_at = time.monotonic() + RETRY_FOR_S
        while True:
            answer = self._ask(event, payload)
            ack = answer if answer is not None else {"ok": False, "error": {"code": "busy", "message": "no ack"}}
            attempts += 1
            with self._lock:
                self.calls += 1
            if not isinstance(ack, dict):
                raise SimulationError(f"{self.name}: {event} answered {ack!r}")
            if ack.get("ok") or code_of(ack) not in RETRY_CODES:
                return ack
            if not keyed and event not in _SAFE_TO_REPEAT:
                return ack
            if attempts >= MAX_ATTEMPTS and time.monotonic() > give_up_at:
                raise SimulationError(f"{self.name}: {event} still refused after {attempts} attempts: {ack}")
            with self._lock:
                self.retried[NO_ACK if answer is None else str(code_of(ack))] += 1
            time.sleep(delay)  # backing off from a busy server; no event to wait for
            delay = min(delay * 2, 1.0)

    def _ask(self, event: str, payload: dict[str, Any]) -> Any:
        """The server's answer, or None when it gave none: timed out, or the link dropped (or was
        down) meanwhile."""
        answered = threading.Event()
        answers: list[Any] = []

        def on_ack(*args: Any) -> None:
            answers.append(args[0] if len(args) == 1 else list(args))
            answered.set()

        with self._lock:
            self._waiting.add(answered)
        try:
            self.sio.emit(event, payload, callback=on_ack)
            answered.wait(ACK_TIMEOUT_S)
        except socketio.exceptions.BadNamespaceError:  # not connected (yet again)
            pass
        finally:
            with self._lock:
                self._waiting.discard(answered)
        return answers[0] if answers else None

    def _dropped(self, *_reason: Any) -> None:
        with self._lock:
            waiting = list(self._waiting)
        for answered in waiting:
            answered.set()
        # python-engineio reconnects on a new WebSocket and leaves the dropped one's socket open:
        # kept to be closed with the link (closing it here, during the reconnect, slowed it down).
        ws = getattr(self.sio.eio, "ws", None)
        if ws is not None:
            with self._lock:
                self._dropped_sockets.append(ws)

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
            for ws in self._dropped_sockets:
                ws.shutdown()


_SAFE_TO_REPEAT = {"till_status", "queue_snapshot", "till_report_x"}


def code_of(ack: dict[str, Any]) -> str | None:
    error = ack.get("error")
    return error.get("code") if isinstance(error, dict) else None

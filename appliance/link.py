"""The connection to the server: one python-socketio client, used only by the network thread.

python-socketio reconnects by itself, with exponential backoff and jitter (``connect(retry=True)``
for the first connection too); its threads are named ``net.eio.*``. The client's handlers run on
those threads and only log or put events on the network thread's queue. ``call`` waits for the
server's acknowledgement, and gives up at once when the connection drops meanwhile.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import engineio
import socketio

from .errors import AckTimeout, LinkDown
from .messages import NetMessage, ServerEvent

logger = logging.getLogger(__name__)

RECONNECT_FIRST_S = 1.0
RECONNECT_MAX_S = 5.0  # a LAN server back after a restart is found within seconds
NAMESPACE_WAIT_S = 10.0


class _NamedEngineIOClient(engineio.Client):  # type: ignore[misc]
    def start_background_task(self, target: Callable[..., Any], *args: Any, **kwargs: Any) -> threading.Thread:
        name = f"net.eio.{getattr(target, '__name__', 'task').strip('_')}"
        thread = threading.Thread(target=target, args=args, kwargs=kwargs, daemon=True, name=name)
        thread.start()
        return thread


class _Client(socketio.Client):  # type: ignore[misc]
    def _engineio_client_class(self) -> type[engineio.Client]:
        return _NamedEngineIOClient


class ServerLink:
    def __init__(self, url: str, token: str, inbox: queue.Queue[NetMessage], server_events: Iterable[str]) -> None:
        self._url = url
        self._token = token
        self._inbox = inbox
        self._client = _Client(
            reconnection=True,
            reconnection_delay=RECONNECT_FIRST_S,
            reconnection_delay_max=RECONNECT_MAX_S,
            randomization_factor=0.5,
            handle_sigint=False,
            logger=False,
            engineio_logger=False,
        )
        self._lock = threading.Lock()
        self._waiting: threading.Event | None = None  # the acknowledgement a call waits for
        self._refusal = ""
        self._connector: threading.Thread | None = None
        self._closing = threading.Event()
        self._client.on("connect", self._on_connect)
        self._client.on("disconnect", self._on_disconnect)
        self._client.on("connect_error", self._on_connect_error)
        for event in server_events:
            self._client.on(event, self._forward(event))

    # --- the network thread's side ------------------------------------------------------------------

    def start(self) -> None:
        self._connector = self._client.start_background_task(self._connect)

    @property
    def connected(self) -> bool:
        return bool(self._client.connected)

    def call(self, event: str, data: Any, timeout_s: float) -> Any:
        """Send and wait for the acknowledgement. Raises ``LinkDown`` or ``AckTimeout``."""
        done = threading.Event()
        replies: list[Any] = []

        def acknowledged(*args: Any) -> None:
            replies.append(args[0] if args else None)
            done.set()

        with self._lock:
            self._waiting = done
        try:
            self._emit(event, data, acknowledged)
            if not done.wait(timeout_s):
                raise AckTimeout(f"{event}: no acknowledgement within {timeout_s:g} s")
            if not replies:
                raise LinkDown(f"{event}: the connection dropped before the acknowledgement")
            return replies[0]
        finally:
            with self._lock:
                self._waiting = None

    def send(self, event: str, data: Any = None, on_ack: Callable[..., None] | None = None) -> bool:
        """Send without waiting; False if not connected."""
        try:
            self._emit(event, data, on_ack)
            return True
        except LinkDown:
            return False

    def close(self, timeout_s: float = 5.0) -> None:
        self._closing.set()
        deadline = time.monotonic() + timeout_s
        while True:
            abort = getattr(self._client, "_reconnect_abort", None)
            if abort is not None:
                abort.set()  # stops python-socketio's retry loop (its own SIGINT handler does the same)
            try:
                self._client.shutdown()
            except Exception as exc:  # noqa: BLE001 - a half-open transport must not stop the shutdown
                logger.debug("shutdown: %s", exc)
            if self._connector is None or not self._connector.is_alive() or time.monotonic() > deadline:
                break
            self._connector.join(0.1)
        eio = self._client.eio
        if getattr(eio, "state", "") == "connected":
            eio.disconnect(abort=True)

    def _emit(self, event: str, data: Any, callback: Callable[..., None] | None) -> None:
        try:
            if data is None:
                self._client.emit(event, callback=callback)
            else:
                self._client.emit(event, data, callback=callback)
        except (socketio.exceptions.SocketIOError, OSError, ValueError) as exc:
            raise LinkDown(f"{event}: not connected ({exc})") from None

    # --- python-socketio's threads ------------------------------------------------------------------

    def _connect(self) -> None:
        """The first connection. python-socketio's ``retry=True`` retries a server it cannot reach,
        but gives up on one that refuses the handshake (a token not yet known, a database briefly
        away: "busy"); that case is tried again here, with the same kind of backoff and jitter."""
        delay_s = RECONNECT_FIRST_S
        while not self._closing.is_set():
            try:
                self._client.connect(
                    self._url,
                    auth={"token": self._token},
                    transports=["websocket"],
                    wait_timeout=NAMESPACE_WAIT_S,
                    retry=True,
                )
                return
            except socketio.exceptions.ConnectionError as exc:
                logger.debug("first connection failed: %s", exc)
            if self._closing.wait(delay_s * random.uniform(0.5, 1.5)):
                return
            delay_s = min(delay_s * 2, RECONNECT_MAX_S)

    def _on_connect(self) -> None:
        self._refusal = ""
        logger.info("connected to %s", self._url, extra={"sid": self._client.sid})

    def _on_disconnect(self, reason: object = None) -> None:
        with self._lock:
            waiting = self._waiting
        if waiting is not None:
            waiting.set()  # the call gives up now instead of at its timeout
        logger.info("disconnected from %s (%s)", self._url, reason)

    def _on_connect_error(self, data: object = None) -> None:
        message = data.get("message", str(data)) if isinstance(data, dict) else str(data)
        if message != self._refusal:  # once per distinct reason, not every retry
            self._refusal = message
            logger.warning("cannot connect to %s: %s", self._url, message)
        else:
            logger.debug("still cannot connect to %s: %s", self._url, message)

    def _forward(self, event: str) -> Callable[..., None]:
        def forward(data: Any = None) -> None:
            try:
                self._inbox.put_nowait(ServerEvent(event, data))
            except queue.Full:
                # print jobs are sent again on every connect and asked for with print_jobs_pending
                logger.warning("network inbox full; %s dropped until the next connect", event)

        return forward

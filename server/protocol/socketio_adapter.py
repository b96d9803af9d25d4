"""Flask-SocketIO around the dispatcher: connections and their sids, rooms, emits. Thin on
purpose: what an event means is the dispatcher's and the event table's."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import request
from flask_socketio import ConnectionRefusedError, SocketIO

from ..domain.actors import Principal
from ..service import printing
from ..service.changes import Change
from ..service.housekeeping import Housekeeping
from ..service.outbound import principal_room
from ..service.principals import TokenCache
from .dispatcher import Dispatcher

logger = logging.getLogger(__name__)
NAMESPACE = "/"
# A connection told it is signed out gets its acknowledgement and the reason before it is closed.
CLOSE_AFTER_S = 0.2


@dataclass(frozen=True)
class Connection:
    token: str | None
    principal: Principal  # as resolved at connect; every event resolves the token again


class SocketIOOutbound:
    """The outbound port on Flask-SocketIO, and the broadcaster's emitter."""

    def __init__(self, socketio: SocketIO, local_rooms: bool) -> None:
        self._socketio = socketio
        self._local_rooms = local_rooms
        self.changes: Callable[[Change], None] = lambda change: None  # the broadcaster's post
        self.closer = Closer(socketio)

    def queue_changed(self, change: Change) -> None:
        self.changes(change)

    def emit(self, event: str, data: Any, *, to: str) -> None:
        if self.has_members(to) is False:
            return  # python-socketio would encode the packet even for an empty room
        self._socketio.emit(event, data, to=to, namespace=NAMESPACE)

    def has_members(self, room: str) -> bool | None:
        """True/False when this process can tell, None when it cannot (message queue)."""
        if not self._local_rooms:
            return None  # other processes' members are invisible from here
        rooms = self._socketio.server.manager.rooms.get(NAMESPACE, {})
        return bool(rooms.get(room))

    def join(self, sid: str, room: str) -> None:
        self._socketio.server.enter_room(sid, room, namespace=NAMESPACE)

    def close(self, sid: str) -> None:
        self.closer.post(sid)


class Closer:
    """Closes connections a moment after they were told why, on a thread of its own."""

    name = "connections.closer"

    def __init__(self, socketio: SocketIO) -> None:
        self._socketio = socketio
        self._queue: queue.Queue[str] = queue.Queue(maxsize=10_000)

    def post(self, sid: str) -> None:
        try:
            self._queue.put_nowait(sid)
        except queue.Full:
            logger.warning("too many connections to close at once; %s stays open until it reconnects", sid)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                sid = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            stop.wait(CLOSE_AFTER_S)
            try:
                self._socketio.server.disconnect(sid, namespace=NAMESPACE)
            except Exception:  # noqa: BLE001 - it may have gone already
                logger.debug("closing %s failed", sid, exc_info=True)


class SocketIOAdapter:
    """Owns this process's live connections; hands every event to the dispatcher."""

    def __init__(
        self,
        socketio: SocketIO,
        dispatcher: Dispatcher,
        tokens: TokenCache,
        read_session: Any,
        housekeeping: Housekeeping,
        outbound: SocketIOOutbound,
        max_sockets: int,
    ) -> None:
        self.socketio = socketio
        self.dispatcher = dispatcher
        self._tokens = tokens
        self._read = read_session
        self._housekeeping = housekeeping
        self._outbound = outbound
        self._max_sockets = max_sockets
        self._connections: dict[str, Connection] = {}
        self._lock = threading.Lock()

    @property
    def events(self) -> Any:
        return self.dispatcher.events

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    def register(self) -> None:
        self.socketio.on_event("connect", self.on_connect)
        self.socketio.on_event("disconnect", self.on_disconnect)
        for name in self.dispatcher.events:
            self.socketio.on_event(name, self._handler(name))

    def on_connect(self, auth: object = None) -> bool:
        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            principal = self._tokens.resolve(self._read, token)
        except Exception:  # noqa: BLE001 - an unreachable database must refuse, not crash the handshake
            logger.warning("cannot check a token: database unavailable", exc_info=True)
            raise ConnectionRefusedError("the server cannot reach its database", {"code": "busy"}) from None
        if principal is None:
            raise ConnectionRefusedError("a valid staff or device token is needed", {"code": "forbidden"})
        sid = request.sid  # type: ignore[attr-defined]
        with self._lock:
            if len(self._connections) >= self._max_sockets:
                # Keep threads free for /healthz and pages: refuse rather than starve HTTP.
                raise ConnectionRefusedError("the server is at its connection limit", {"code": "busy"})
            self._connections[sid] = Connection(token if isinstance(token, str) else None, principal)
        self._housekeeping.connected(sid, principal.key)
        self._outbound.join(sid, principal_room(principal.kind.value, principal.id))
        if principal.is_till:
            # Receipts that did not print before this till went away: it dedupes by job_id.
            for job in printing.pending_jobs(self._housekeeping.db, principal.id):
                self._outbound.emit("print_receipt", job, to=sid)
        logger.info("connected %s (%s %s)", principal.key, principal.role.value, principal.name)
        return True

    def on_disconnect(self, reason: object = None) -> None:
        with self._lock:
            connection = self._connections.pop(request.sid, None)  # type: ignore[attr-defined]
        if connection is None:
            return
        try:
            self._housekeeping.disconnected(request.sid)  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - the row goes stale by itself; never fail a disconnect
            logger.warning("could not record disconnect of %s", connection.principal.key, exc_info=True)
        logger.info("disconnected %s (%s)", connection.principal.key, reason)

    def _handler(self, name: str) -> Callable[..., dict[str, Any]]:
        def handle(*args: object) -> dict[str, Any]:
            sid = request.sid  # type: ignore[attr-defined]
            connection = self._connections.get(sid)
            if connection is None:
                return {"ok": False, "error": {"code": "forbidden", "message": "not signed in"}}
            return self.dispatcher.dispatch(name, sid, connection.token, args)

        handle.__name__ = f"on_{name}"
        return handle


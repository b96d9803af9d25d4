"""Flask-SocketIO around the dispatcher: connections and their sids, rooms, emits. Thin on
purpose: what an event means is the dispatcher's and the event table's."""

from __future__ import annotations

import logging
import queue
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import simple_websocket
from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI
from flask import request
from flask_socketio import ConnectionRefusedError, SocketIO
from socketio import packet as sio_packet

from ..db.engine import Database
from ..domain.actors import Principal
from ..service import printing
from ..service.changes import Change
from ..service.housekeeping import Housekeeping
from ..service.outbound import principal_room
from ..service.principals import TokenCache
from .dispatcher import BAD_NAME_EVENT, BINARY_EVENT, MALFORMED_EVENT, MAX_EVENT_NAME, Dispatcher

logger = logging.getLogger(__name__)
NAMESPACE = "/"
# A connection told it is signed out gets its acknowledgement and the reason before it is closed.
CLOSE_AFTER_S = 0.2


class WirePacket(sio_packet.Packet):
    """python-socketio's packet, decoded so that no client input raises (each raise became a
    traceback in engine.io's log) or reaches a handler in a shape python-socketio trips on:
    an event that is not JSON, nests too deep for the JSON decoder, is no `[name, ...]` list or
    has a name that is not a short string is handed to the catch-all handler under a marker name
    (`dispatcher.MALFORMED_EVENT`, `BAD_NAME_EVENT`) and acknowledged with the refusal; a binary
    event is answered `BINARY_EVENT` and its attachments are dropped as they come, never buffered;
    any other undecodable packet is dropped (an acknowledgement of an id nobody waits for)."""

    def decode(self, encoded_packet: Any) -> int:
        self.packet_type, self.id = -1, None
        if not isinstance(encoded_packet, str):
            return self._drop()  # a binary attachment: its event was already refused
        try:
            attachments = super().decode(encoded_packet) or 0
        except (ValueError, TypeError, RecursionError):
            if self.packet_type not in (sio_packet.EVENT, sio_packet.BINARY_EVENT):
                return self._drop()
            self.packet_type, self.data = sio_packet.EVENT, [MALFORMED_EVENT]
            return 0
        if self.packet_type == sio_packet.BINARY_EVENT or (attachments and self.packet_type == sio_packet.EVENT):
            self.packet_type, self.data = sio_packet.EVENT, [BINARY_EVENT]
        elif self.packet_type == sio_packet.EVENT:
            if not isinstance(self.data, list) or not self.data:
                self.data = [MALFORMED_EVENT]
            elif not isinstance(self.data[0], str) or len(self.data[0]) > MAX_EVENT_NAME:
                self.data = [BAD_NAME_EVENT]
        elif self.packet_type not in (sio_packet.CONNECT, sio_packet.DISCONNECT, sio_packet.ACK) or attachments:
            return self._drop()
        return 0

    def _drop(self) -> int:
        self.packet_type, self.id, self.data, self.namespace = sio_packet.ACK, None, [], "/"
        return 0


# Client → server engine.io packets: 1 close, 2 ping, 3 pong, 4 message, 5 upgrade, 6 noop.
ENGINEIO_TYPES = "123456"
ENGINEIO_CONTROL_MAX = 16  # "2probe": a control packet carries at most a short word


def engineio_frame_ok(message: object) -> bool:
    """Whether python-engineio can decode this WebSocket message without raising: a binary
    message (handed on as bytes), a Socket.IO packet in a message ("4" then its digit type) or a
    short control packet. Anything else (empty, an unknown type, deeply nested JSON that engine.io
    tries to parse) is not from a Socket.IO client."""
    if isinstance(message, bytes | bytearray):
        return True
    if not isinstance(message, str) or not message or message[0] not in ENGINEIO_TYPES:
        return False
    if message[0] == "4":
        return message[1:2].isdigit()
    return len(message) <= ENGINEIO_CONTROL_MAX and message[1:2] not in ("[", "{")


def bound_websocket_frames(socketio: SocketIO) -> None:
    """Close a WebSocket whose message grows past engine.io's `max_http_buffer_size` while it is
    being read. python-engineio 4.15's threading driver opens simple-websocket's server without
    a `max_message_size`, so a 50 MB frame was read whole before engine.io's size check; with it,
    simple-websocket closes with 1009 (message too big) once the bound is passed."""
    eio = socketio.server.eio
    limit = int(eio.max_http_buffer_size)

    class BoundedWebSocket(SimpleWebSocketWSGI):
        def __call__(self, environ: Any, start_response: Any) -> Any:
            self.ws = simple_websocket.Server(environ, max_message_size=limit, **self.server_args)
            ret = self.app(self)
            if self.ws.mode == "gunicorn":
                raise StopIteration()
            if self.ws.mode == "werkzeug":
                raise ConnectionError()
            return ret

        def close(self) -> None:
            super().close()
            # A close frame is a request: a peer that never answers it (an attacker's idle socket)
            # would keep this socket's reader, and the request thread waiting on it, for good.
            try:
                self.ws.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already gone

        def wait(self) -> Any:
            message = super().wait()
            if message is not None and not engineio_frame_ok(message):
                # engine.io decodes a frame outside any try: each bad one was a logged traceback.
                logger.debug("closing a WebSocket that sent a frame engine.io cannot read")
                return None  # engine.io reads None as the client closing: it closes and cleans up as usual
            return message

    eio._async = {**eio._async, "websocket": BoundedWebSocket}  # this server's copy, not the module's


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
        eio_sid = self._socketio.server.manager.eio_sid_from_sid(sid, NAMESPACE)
        if eio_sid is not None:
            self.closer.post(eio_sid)


class Closer:
    """Closes engine.io sockets a moment after they were told why (signed out, or a refused
    connect), on a thread of its own: a refused socket must not keep its server thread."""

    name = "connections.closer"

    def __init__(self, socketio: SocketIO) -> None:
        self._socketio = socketio
        self._queue: queue.Queue[str] = queue.Queue(maxsize=10_000)

    def post(self, eio_sid: str) -> None:
        try:
            self._queue.put_nowait(eio_sid)
        except queue.Full:
            logger.warning("too many sockets to close at once; %s closes at its connect deadline", eio_sid)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                eio_sid = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            stop.wait(CLOSE_AFTER_S)
            close_engineio(self._socketio, eio_sid)


def close_engineio(socketio: SocketIO, eio_sid: str) -> None:
    eio = socketio.server.eio
    sock = eio.sockets.get(eio_sid)
    if sock is None:
        return  # gone already
    try:
        # Not eio.disconnect(): it waits for the socket's writer to drain its queue, for ever if
        # that writer has already ended, and this thread closes every other socket too.
        sock.close(wait=False, reason=eio.reason.SERVER_DISCONNECT)
    except Exception:  # noqa: BLE001 - it may be going already
        logger.debug("closing %s failed", eio_sid, exc_info=True)
    eio.sockets.pop(eio_sid, None)


class SocketIOAdapter:
    """Owns this process's live connections; hands every event to the dispatcher."""

    def __init__(
        self,
        socketio: SocketIO,
        dispatcher: Dispatcher,
        tokens: TokenCache,
        db: Database,
        housekeeping: Housekeeping,
        outbound: SocketIOOutbound,
        max_sockets: int,
    ) -> None:
        self.socketio = socketio
        self.dispatcher = dispatcher
        self._tokens = tokens
        self._db = db
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
        # Every other event, and the markers `WirePacket` puts for refused packets: answered by the
        # dispatcher (unknown_event / invalid_payload) instead of dropped without an ack.
        self.socketio.on_event("*", self._any_event)
        bound_websocket_frames(self.socketio)

    def on_connect(self, auth: object = None) -> bool:
        sid = request.sid  # type: ignore[attr-defined]
        eio_sid = self.socketio.server.manager.eio_sid_from_sid(sid, NAMESPACE)
        try:
            return self._connect(sid, auth)
        except ConnectionRefusedError:
            # A refused socket must not keep its thread: closed once the refusal has reached it.
            if eio_sid is not None:
                self._outbound.closer.post(eio_sid)
            raise

    def _connect(self, sid: str, auth: object) -> bool:
        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            principal = self._tokens.resolve(self._db.read, token)
        except Exception:  # noqa: BLE001 - an unreachable database must refuse, not crash the handshake
            logger.warning("cannot check a token: database unavailable", exc_info=True)
            raise ConnectionRefusedError("the server cannot reach its database", {"code": "busy"}) from None
        if principal is None:
            raise ConnectionRefusedError("a valid staff or device token is needed", {"code": "forbidden"})
        with self._lock:
            if len(self._connections) >= self._max_sockets:
                # Keep threads free for /healthz and pages: refuse rather than starve HTTP.
                raise ConnectionRefusedError("the server is at its connection limit", {"code": "busy"})
            self._connections[sid] = Connection(token if isinstance(token, str) else None, principal)
        # All or nothing: a failure past this point must leave no slot counted, no presence row.
        try:
            self._housekeeping.connected(sid, principal.key)
            pending = printing.pending_jobs(self._db, principal.id) if principal.is_till else []
        except Exception:  # noqa: BLE001 - the database went away mid-connect: refuse, count nothing
            logger.warning("connect of %s failed; refused with busy", principal.key, exc_info=True)
            self._forget(sid)
            raise ConnectionRefusedError("the server cannot reach its database", {"code": "busy"}) from None
        self._outbound.join(sid, principal_room(principal.kind.value, principal.id))
        # Receipts that did not print before this till went away: it dedupes by job_id.
        for job in pending:
            self._outbound.emit("print_receipt", job, to=sid)
        logger.info("connected %s (%s %s)", principal.key, principal.role.value, principal.name)
        return True

    def _forget(self, sid: str) -> None:
        with self._lock:
            self._connections.pop(sid, None)
        try:
            self._housekeeping.disconnected(sid)
        except Exception:  # noqa: BLE001 - no row, or the database still away: it goes stale by itself
            logger.debug("no presence row to close for %s", sid, exc_info=True)

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

    def _handler(self, name: object) -> Callable[..., dict[str, Any]]:
        def handle(*args: object) -> dict[str, Any]:
            sid = request.sid  # type: ignore[attr-defined]
            connection = self._connections.get(sid)
            if connection is None:
                return {"ok": False, "error": {"code": "forbidden", "message": "not signed in"}}
            return self.dispatcher.dispatch(name, sid, connection.token, args)

        handle.__name__ = f"on_{name}" if isinstance(name, str) else "on_any"
        return handle

    def _any_event(self, name: object, *args: object) -> dict[str, Any]:
        return self._handler(name)(*args)

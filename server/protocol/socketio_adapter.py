"""python-socketio's asyncio server around the dispatcher: connections, their limits, their events.

Connections are held by the event loop, not by threads: an open WebSocket costs memory (~50 KiB)
and no thread, so a thousand screens, or a guest opening sockets, cannot starve anything of
threads. What touches the database runs on the command threads (`socketio.command_*`, a bounded
pool owned here): token checks, presence, and every event's command through the dispatcher. Thin
on purpose: what an event means is the dispatcher's and the event table's.

Every engine.io socket is counted from the moment it opens (`limits.ConnectionLimits`): until its
Socket.IO connect presents a valid token it is *pending*, in a small pool of its own, and it is
closed at its deadline (`connect_deadline_s`). Connect is all or nothing: a failure anywhere in it
leaves no session, no presence row and no slot, and the client is refused with `busy`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from socketio.exceptions import ConnectionRefusedError

from common.logs import Tally

from ..db.engine import Database
from ..domain.actors import Capability, Principal
from ..domain.errors import ErrorCode
from ..service import printing
from ..service.housekeeping import Housekeeping
from ..service.outbound import principal_room
from ..service.principals import TokenCache
from .dispatcher import SIGNED_OUT_EVENT, Dispatcher, fail
from .loop_outbound import NAMESPACE, Action, LoopOutbound
from .socket_server import SpaSocketServer

logger = logging.getLogger(__name__)
T = TypeVar("T")

# How often pending sockets are checked against their deadline: a socket is closed at most this
# long after it is due.
SWEEP_EVERY_S = 0.5


@dataclass
class Connection:
    token: str | None
    principal: Principal  # as resolved at connect; every event resolves the token again
    in_flight: int = 0


class Busy(Exception):
    """The command threads' backlog is full: answered `busy` without queueing anything."""


class SocketIOAdapter:
    """Owns this process's live connections, their limits and the command threads."""

    def __init__(
        self,
        sio: SpaSocketServer,
        dispatcher: Dispatcher,
        tokens: TokenCache,
        db: Database,
        housekeeping: Housekeeping,
        outbound: LoopOutbound,
        *,
        connect_deadline_s: float,
        command_threads: int,
        max_events_in_flight: int,
    ) -> None:
        self.sio = sio
        self.dispatcher = dispatcher
        self.limits = sio.limits
        self._tokens = tokens
        self._db = db
        self._housekeeping = housekeeping
        self._outbound = outbound
        self._deadline_s = connect_deadline_s
        self._max_in_flight = max_events_in_flight
        self._commands = ThreadPoolExecutor(command_threads, thread_name_prefix="socketio.command")
        # Work waiting for or running on the command threads; past this, events are answered
        # `busy` at once rather than queued without bound.
        self._max_backlog = command_threads * 32
        self._backlog = 0
        self._connections: dict[str, Connection] = {}
        self._refusals = Tally()

    @property
    def events(self) -> Any:
        return self.dispatcher.events

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    def register(self) -> None:
        self.sio.on("connect", self.on_connect)
        self.sio.on("disconnect", self.on_disconnect)
        for name in self.dispatcher.events:
            self.sio.on(name, self._handler(name))
        # Every other event, and the markers `WirePacket` puts for refused packets: answered by the
        # dispatcher (unknown_event / invalid_payload) instead of dropped without an ack.
        self.sio.on("*", self._any_event)

    def stop(self) -> None:
        self._commands.shutdown(wait=True, cancel_futures=True)

    # ---- engine.io sockets past their deadline --------------------------------------------------

    async def sweep(self) -> None:
        """Close sockets that did not sign in by their deadline (a task on the loop, for good)."""
        while True:
            await asyncio.sleep(SWEEP_EVERY_S)
            for eio_sid in self.limits.overdue(time.monotonic(), self._deadline_s):
                if not await self._outbound.close_now(eio_sid):
                    self.limits.close(eio_sid)  # gone without a disconnect (its handshake failed)

    # ---- Socket.IO connect and disconnect -------------------------------------------------------

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: object = None) -> bool:
        eio_sid = self.sio.manager.eio_sid_from_sid(sid, NAMESPACE)
        try:
            return await self._connect(sid, eio_sid, auth)
        except ConnectionRefusedError:
            # A refused socket is closed once the refusal has reached it.
            if eio_sid is not None:
                self._outbound.close_soon(eio_sid)
            raise

    async def _connect(self, sid: str, eio_sid: str, auth: object) -> bool:
        self.limits.connecting(eio_sid)
        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            principal = await self._off_loop(self._tokens.resolve, self._db.read, token)
        except Exception:  # noqa: BLE001 - an unreachable database must refuse, not crash the handshake
            logger.warning("cannot check a token: database unavailable or server busy", exc_info=True)
            raise refused(ErrorCode.BUSY, "the server cannot check tokens right now") from None
        if principal is None:
            raise refused(ErrorCode.FORBIDDEN, "a valid staff or device token is needed")
        refusal = self.limits.sign_in(eio_sid, principal.key)
        if refusal is not None:
            if (seen := self._refusals.count(f"{principal.key}:{refusal.name}")) is not None:
                logger.info("refused %s: %s (%d so far)", principal.key, refusal.value, seen)
            raise refused(ErrorCode.BUSY, refusal.value)
        # All or nothing from here: a failure must leave no slot counted and no presence row.
        try:
            pending = await self._off_loop(self._record_presence, sid, principal)
        except Exception:  # noqa: BLE001 - the database went away mid-connect: refuse, count nothing
            logger.warning("connect of %s failed; refused with busy", principal.key, exc_info=True)
            self.limits.sign_out(eio_sid)
            raise refused(ErrorCode.BUSY, "the server cannot reach its database") from None
        if not self.limits.is_signed_in(eio_sid):
            # The socket closed while its presence was being written: undo, as for a disconnect.
            self._off_loop_quietly(self._housekeeping.disconnected, sid)
            raise refused(ErrorCode.BUSY, "the connection closed while connecting")
        self._connections[sid] = Connection(token if isinstance(token, str) else None, principal)
        await self.sio.enter_room(sid, principal_room(principal.kind.value, principal.id), namespace=NAMESPACE)
        if pending:
            # After the connect itself has gone out (python-socketio sends it once this returns).
            asyncio.get_running_loop().create_task(self._send_pending(sid, pending))
        logger.info("connected %s (%s %s)", principal.key, principal.role.value, principal.name)
        return True

    def _record_presence(self, sid: str, principal: Principal) -> list[dict[str, Any]]:
        """On a command thread: the presence row, and for a till the receipts still to print."""
        self._housekeeping.connected(sid, principal.key)
        try:
            prints = principal.is_device and principal.can(Capability.PRINT)  # a till, a kiosk
            return printing.pending_jobs(self._db, principal.id) if prints else []
        except Exception:
            self._housekeeping.disconnected(sid)
            raise

    async def _send_pending(self, sid: str, jobs: list[dict[str, Any]]) -> None:
        # Receipts and slips that did not print before this till went away: it dedupes by job_id.
        for job in jobs:
            await self.sio.emit(printing.event_of(job), job, to=sid, namespace=NAMESPACE)

    async def on_disconnect(self, sid: str, reason: object = None) -> None:
        connection = self._connections.pop(sid, None)
        if connection is None:
            return
        self._off_loop_quietly(self._housekeeping.disconnected, sid)
        logger.info("disconnected %s (%s)", connection.principal.key, reason)

    def end_sign_ins(self, key: str) -> int:
        """Tell `signed_out` to, and close, every connection of principal `key` ('device:3',
        'staff:2') whose sign-in no longer holds as it was at connect: its token is revoked, its
        PIN session deleted, its role changed. Called from any thread, right after the change is
        committed (the back office), so the screen goes at once rather than at its next event.
        Connections of this process only: another process's find out at their next event."""
        ended = 0
        for sid, connection in list(self._connections.items()):  # a copy: the loop may change it
            if connection.principal.key != key:
                continue
            if connection.token is not None:
                self._tokens.forget(connection.token)
            if self._tokens.resolve(self._db.read, connection.token) == connection.principal:
                continue  # e.g. a badge token, still good after a PIN reset
            message = "this sign-in has ended or the token was revoked"
            self._outbound.emit(SIGNED_OUT_EVENT, {"code": ErrorCode.FORBIDDEN.value, "message": message}, to=sid)
            self._outbound.close(sid)
            ended += 1
        if ended:
            logger.info("ended %d connection(s) of %s", ended, key)
        return ended

    # ---- events ---------------------------------------------------------------------------------

    def _handler(self, name: str) -> Callable[..., Any]:
        async def handle(sid: str, *args: object) -> dict[str, Any]:
            return await self._dispatch(name, sid, args)

        handle.__name__ = f"on_{name}"
        return handle

    async def _any_event(self, name: object, sid: str, *args: object) -> dict[str, Any]:
        return await self._dispatch(name, sid, args)

    async def _dispatch(self, name: object, sid: str, args: tuple[object, ...]) -> dict[str, Any]:
        connection = self._connections.get(sid)
        if connection is None:
            return fail(ErrorCode.FORBIDDEN, "not signed in")
        if connection.in_flight >= self._max_in_flight:
            return fail(ErrorCode.BUSY, f"at most {self._max_in_flight} events of one connection at once")
        connection.in_flight += 1
        try:
            ack, actions = await self._off_loop(self._run_event, name, sid, connection.token, args)
        except Busy:
            return fail(ErrorCode.BUSY, "the server is busy; try again")
        finally:
            connection.in_flight -= 1
        for action in actions:  # what the command sent to others and to this caller, before its ack
            await self._outbound.apply(action)
        return ack

    def _run_event(
        self, name: object, sid: str, token: str | None, args: tuple[object, ...]
    ) -> tuple[dict[str, Any], list[Action]]:
        with self._outbound.collecting() as actions:
            ack = self.dispatcher.dispatch(name, sid, token, args)
        return ack, actions

    # ---- the command threads --------------------------------------------------------------------

    async def _off_loop(self, fn: Callable[..., T], *args: Any) -> T:
        if self._backlog >= self._max_backlog:
            raise Busy()
        self._backlog += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._commands, fn, *args)
        finally:
            self._backlog -= 1

    def _off_loop_quietly(self, fn: Callable[..., Any], *args: Any) -> None:
        """Fire and forget (a presence row closing): logged if it fails; the row goes stale anyway."""

        def run() -> None:
            try:
                fn(*args)
            except Exception:  # noqa: BLE001 - the row goes stale by itself; never fail a disconnect
                logger.warning("could not record a disconnect", exc_info=True)

        try:
            self._commands.submit(run)
        except RuntimeError:
            logger.debug("command threads stopped; a presence row goes stale by itself")


def refused(code: ErrorCode, message: str) -> ConnectionRefusedError:
    """A refusal the client reads as {message, data: {code}} (docs/PROTOCOL.md)."""
    return ConnectionRefusedError(message, {"code": code.value})

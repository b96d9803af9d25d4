"""The outbound port on the asyncio Socket.IO server.

Sockets belong to the event loop: only its thread reads or writes them. Every emit, join and
close made on another thread — a command, the broadcaster, housekeeping — is handed over:

- A command's own messages (made on its command thread while it runs, see `collecting`) are kept
  with the call and sent by the loop just before the command's acknowledgement, in the order the
  command made them: a kiosk hears `customer_selection_received` before its ack, as it did when
  emits went out on the request's own thread.
- Everything else goes through one queue that one task drains in order, so a screen receives the
  broadcaster's versions in the order they were emitted.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..service.changes import Change
from .socket_server import SpaSocketServer

logger = logging.getLogger(__name__)
NAMESPACE = "/"
# A connection told why it is being closed (signed out, a refused connect) gets a moment to read it.
CLOSE_AFTER_S = 0.2


@dataclass(frozen=True)
class Emit:
    event: str
    data: Any
    to: str


@dataclass(frozen=True)
class Join:
    sid: str
    room: str


@dataclass(frozen=True)
class Close:
    sid: str


Action = Emit | Join | Close


class LoopOutbound:
    """`Outbound` (server/service/outbound.py) and the broadcaster's `Emitter`, for any thread."""

    def __init__(self, sio: SpaSocketServer, local_rooms: bool, queue_size: int = 10_000) -> None:
        self._sio = sio
        self._local_rooms = local_rooms
        self._queue_size = queue_size
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[Action] | None = None
        self._call = threading.local()
        self.changes: Callable[[Change], None] = lambda change: None  # the broadcaster's post
        self.dropped = 0  # actions with no loop to run them, or past a full queue

    # ---- the port, from any thread ----------------------------------------------------------

    def queue_changed(self, change: Change) -> None:
        self.changes(change)

    def emit(self, event: str, data: Any, *, to: str) -> None:
        if self.has_members(to) is False:
            return  # python-socketio would encode the packet even for an empty room
        self._submit(Emit(event, data, to))

    def join(self, sid: str, room: str) -> None:
        self._submit(Join(sid, room))

    def close(self, sid: str) -> None:
        self._submit(Close(sid))

    def has_members(self, room: str) -> bool | None:
        """True/False when this process can tell, None when it cannot (message queue)."""
        if not self._local_rooms:
            return None  # other processes' members are invisible from here
        # Read from other threads while the loop changes it: one dict lookup and a truth test,
        # each atomic under the GIL; a member who joins this instant is told by the next change.
        rooms = self._sio.manager.rooms.get(NAMESPACE, {})
        return bool(rooms.get(room))

    def rooms_with_members(self, prefix: str) -> frozenset[str] | None:
        """The rooms named `prefix…` with a member here; None under a message queue."""
        if not self._local_rooms:
            return None
        # A copy taken in one C call under the GIL: the loop may change the dict meanwhile.
        rooms = list(self._sio.manager.rooms.get(NAMESPACE, {}).items())
        return frozenset(name for name, members in rooms if members and str(name).startswith(prefix))

    @contextmanager
    def collecting(self) -> Iterator[list[Action]]:
        """On a command thread: what the command sends while it runs is kept in the list, for the
        loop to send before the acknowledgement (`apply`)."""
        actions: list[Action] = []
        self._call.actions = actions
        try:
            yield actions
        finally:
            self._call.actions = None

    def _submit(self, action: Action) -> None:
        actions = getattr(self._call, "actions", None)
        if actions is not None:
            actions.append(action)
            return
        loop = self._loop
        if loop is None:
            self.dropped += 1  # no server is running this app (a test's app without one)
            return
        try:
            loop.call_soon_threadsafe(self._enqueue, action)
        except RuntimeError:
            self.dropped += 1  # the loop has closed: the process is stopping

    # ---- the loop's side ------------------------------------------------------------------------

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Called on the loop once it runs; from then on actions reach the sockets."""
        self._queue = asyncio.Queue(maxsize=self._queue_size)
        self._loop = loop

    def detach(self) -> None:
        self._loop = None

    def _enqueue(self, action: Action) -> None:
        assert self._queue is not None
        try:
            self._queue.put_nowait(action)
        except asyncio.QueueFull:
            # Screens recover through the version gap (a snapshot); nothing is acknowledged here.
            self.dropped += 1
            logger.warning("outbound queue full; dropped %s", type(action).__name__)

    async def run(self) -> None:
        """The one task that drains the queue, in order."""
        assert self._queue is not None
        while True:
            action = await self._queue.get()
            try:
                await self.apply(action)
            except Exception:  # noqa: BLE001 - one failed emit must not stop the others
                logger.exception("sending %s failed", type(action).__name__)

    def backlog(self) -> int:
        return self._queue.qsize() if self._queue is not None else 0

    async def apply(self, action: Action) -> None:
        if isinstance(action, Emit):
            await self._sio.emit(action.event, action.data, to=action.to, namespace=NAMESPACE)
        elif isinstance(action, Join):
            if self._sio.manager.is_connected(action.sid, NAMESPACE):
                await self._sio.enter_room(action.sid, action.room, namespace=NAMESPACE)
        else:
            eio_sid = self._sio.manager.eio_sid_from_sid(action.sid, NAMESPACE)
            if eio_sid is not None:
                self.close_soon(eio_sid)

    def close_soon(self, eio_sid: str, delay_s: float = CLOSE_AFTER_S) -> None:
        """On the loop: close an engine.io socket once what it was just told has gone out."""
        loop = asyncio.get_running_loop()
        loop.call_later(delay_s, lambda: loop.create_task(self.close_now(eio_sid)))

    async def close_now(self, eio_sid: str) -> bool:
        return bool(await self._sio.close_socket(eio_sid))

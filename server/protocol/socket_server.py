"""python-socketio's asyncio server as this process runs it: every engine.io socket counted from
the moment it opens (`limits.ConnectionLimits`), frames engine.io cannot decode refused, and a
close that does not wait on the peer."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import socketio
from engineio.async_drivers import asgi as engineio_asgi

from common.logs import Tally

from .limits import ConnectionLimits
from .packets import engineio_frame_ok

logger = logging.getLogger(__name__)


class GuardedWebSocket(engineio_asgi.WebSocket):  # type: ignore[misc]
    """engine.io's ASGI WebSocket, handing on only frames engine.io can decode: it decodes a frame
    outside any try, so each bad one was a traceback. A bad frame ends the socket as a close would."""

    async def wait(self) -> Any:
        message = await super().wait()
        if message is not None and not engineio_frame_ok(message):
            logger.debug("closing a WebSocket that sent a frame engine.io cannot read")
            return None  # engine.io reads None as the client closing, and cleans up as usual
        return message


class SpaSocketServer(socketio.AsyncServer):  # type: ignore[misc]
    """python-socketio's asyncio server, counting every engine.io socket in `limits` from the
    moment it opens (refused there, it costs nothing more) until it closes."""

    def __init__(self, limits: ConnectionLimits, *, address_of: Callable[[dict[str, Any]], str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.limits = limits
        self._address_of = address_of
        self._refusals = Tally()
        self.eio._async = {**self.eio._async, "websocket": GuardedWebSocket}  # this server's copy

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> Any:
        address = self._address_of(environ)
        admission = self.limits.open(eio_sid, address, time.monotonic())
        if admission.refusal is not None:
            if (seen := self._refusals.count(admission.refusal.name)) is not None:
                logger.info("refused a socket from %s: %s (%d so far)", address, admission.refusal.value, seen)
            return False  # engine.io refuses the socket: nothing was counted or kept
        if admission.evicted is not None:
            # The oldest pending socket made room for this one.
            asyncio.get_running_loop().create_task(self.close_socket(admission.evicted))
        return await super()._handle_eio_connect(eio_sid, environ)

    async def _handle_connect(self, eio_sid: str, namespace: Any, data: Any) -> None:
        if eio_sid not in self.environ:
            return  # closed (its deadline, or evicted) while its connect was on its way in
        await super()._handle_connect(eio_sid, namespace, data)

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any) -> None:
        try:
            await super()._handle_eio_disconnect(eio_sid, reason)
        finally:
            self.limits.close(eio_sid)

    async def close_socket(self, eio_sid: str) -> bool:
        """Close an engine.io socket without waiting on its peer; False if it was gone already."""
        eio = self.eio
        sock = eio.sockets.get(eio_sid)
        if sock is None:
            return False
        try:
            # wait=False: engine.io's wait drains the socket's queue to a peer that may never read.
            await sock.close(wait=False, abort=False, reason=eio.reason.SERVER_DISCONNECT)
            # python-engineio's asyncio socket only marks itself closed: its writer, and with it
            # the WebSocket, would last until the peer went away. This ends the writer after the
            # CLOSE packet, and the writer closes the WebSocket (uvicorn bounds that handshake).
            await sock.queue.put(None)
        except Exception:  # noqa: BLE001 - it may be going already
            logger.debug("closing %s failed", eio_sid, exc_info=True)
        eio.sockets.pop(eio_sid, None)
        return True

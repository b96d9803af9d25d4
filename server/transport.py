"""TCP connections, counted and timed from the moment the kernel hands them over (uvicorn's
protocol classes, subclassed through its documented `http=`/`ws=` settings).

- Every TCP connection counts, whatever it becomes (an HTTP request, a WebSocket, nothing): at
  most `max_total`, and `per_address` from one sender; past either the connection is dropped
  before a byte of it is read. The trusted nginx carries many clients on its connections, so it
  is held only by the total (the per-address limits further up see X-Real-IP).
- A peer that stops reading (or vanishes) is cut off by the kernel after `TCP_USER_TIMEOUT_MS`.
- An HTTP request must arrive complete, headers and body, within `header_timeout_s` of the
  connection opening or of the previous response: uvicorn has no such deadline of its own (a
  byte every few seconds cancels its keep-alive timer), so a trickling sender held its socket
  for as long as it liked.

Both run on the event loop's thread only.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import Counter
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from common.logs import Tally

logger = logging.getLogger(__name__)


# Data the peer leaves unacknowledged this long (a peer that stopped reading, or vanished in a
# power cut without a FIN) aborts the connection in the kernel, whatever else waits on it:
# asyncio's transport.close() would otherwise wait for ever to flush to a peer that never reads.
TCP_USER_TIMEOUT_MS = 30_000


class TcpGuard:
    def __init__(self, *, max_total: int, per_address: int, trusted_proxies: frozenset[str]) -> None:
        self.max_total = max_total
        self.per_address = per_address
        self.trusted_proxies = trusted_proxies
        self._open: dict[int, str] = {}  # id(transport) → peer address
        self._by_address: Counter[str] = Counter()
        self.refused = 0
        self._tally = Tally()

    @property
    def open_count(self) -> int:
        return len(self._open)

    def admit(self, transport: asyncio.BaseTransport) -> bool:
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) and peer else "unknown"
        if len(self._open) >= self.max_total or (
            address not in self.trusted_proxies and self._by_address[address] >= self.per_address
        ):
            self.refused += 1
            if (seen := self._tally.count("dropped")) is not None:  # a flood must not flood the log too
                logger.warning("dropped a TCP connection from %s at the limit (%d so far)", address, seen)
            return False
        self._open[id(transport)] = address
        self._by_address[address] += 1
        sock = transport.get_extra_info("socket")
        if sock is not None and hasattr(socket, "TCP_USER_TIMEOUT"):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, TCP_USER_TIMEOUT_MS)
            except OSError:
                pass  # not TCP (a Unix socket in a test): nothing to time out
        return True

    def release(self, transport: asyncio.BaseTransport | None) -> None:
        address = self._open.pop(id(transport), None)
        if address is None:
            return
        self._by_address[address] -= 1
        if self._by_address[address] <= 0:
            del self._by_address[address]


def guarded_protocols(guard: TcpGuard, header_timeout_s: float) -> tuple[type[Any], type[Any]]:
    """uvicorn's HTTP (h11) and WebSocket protocol classes, with the guard and the deadline."""

    class GuardedHttp(H11Protocol):  # type: ignore[misc]
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if not guard.admit(transport):
                transport.abort()  # type: ignore[attr-defined]
                return
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            guard.release(self.transport)
            super().connection_lost(exc)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()  # the next request has as long as the first

        def handle_websocket_upgrade(self, event: h11.Request) -> None:
            self._disarm()  # from here the WebSocket's own limits hold (engine.io, the adapter)
            super().handle_websocket_upgrade(event)

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(header_timeout_s, self._expire)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expire(self) -> None:
            self._deadline = None
            # IDLE: no complete request line and headers yet; SEND_BODY: its body still coming.
            # A request whose answer is being made (DONE) is left alone.
            if self.conn.their_state in (h11.IDLE, h11.SEND_BODY) and not self.transport.is_closing():
                self.transport.abort()

    class GuardedWebSocket(WebSocketsSansIOProtocol):  # type: ignore[misc]
        def connection_lost(self, exc: Exception | None) -> None:
            guard.release(self.transport)
            super().connection_lost(exc)

    return GuardedHttp, GuardedWebSocket

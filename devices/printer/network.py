"""Receipt printer on the network (raw TCP, port 9100).

A plain socket: python-escpos's ``Network`` would only call ``sendall`` for us, with one 60 s timeout
for connect, writes and reads, a socket leaked when ``connect()`` fails, and an INFO line on the root
logger at every open and close (every 2 s while a printer is down). Here the connect/write timeout
and the reply timeout are separate and short, a silent printer reads as ``b""``, and a printer that
hangs up reads as ``PrinterHungUp``.

The connection is released after every exchange (``release_when_idle``): many network printers take
one connection at a time, and a held one would lock out ``appliance check`` and any other client.
"""

from __future__ import annotations

import logging
import socket

from devices.base import DeviceState, DeviceUnavailable
from devices.printer.connection import PrinterHungUp

logger = logging.getLogger(__name__)
wire = logging.getLogger("wire.printer")

_RECV = 256


class NetworkConnection:
    release_when_idle = True

    def __init__(self, host: str, port: int = 9100, *, timeout_s: float = 5.0) -> None:
        self.host, self.port = host, port
        self.timeout_s = timeout_s
        self.description = f"{host}:{port}"
        self._sock: socket.socket | None = None

    @property
    def is_open(self) -> bool:
        return self._sock is not None

    def open(self) -> None:
        if self._sock is not None:
            return
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
        except OSError as exc:
            raise DeviceUnavailable(f"cannot connect to {self.description}: {exc}", DeviceState.OFFLINE) from exc
        # A status request is 3 bytes: without this, Nagle's algorithm may hold it back for a
        # delayed ACK of the job before it (40 ms and more) while we wait for the reply.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock

    def _socket(self) -> socket.socket:
        if self._sock is None:
            raise ConnectionError(f"{self.description}: not connected")
        return self._sock

    def send(self, data: bytes) -> None:
        sock = self._socket()
        wire.debug("%s > %r", self.description, data)
        sock.settimeout(self.timeout_s)
        sock.sendall(data)

    def read(self, timeout_s: float) -> bytes:
        sock = self._socket()
        sock.settimeout(max(timeout_s, 0.001))
        try:
            data = sock.recv(_RECV)
        except TimeoutError:
            return b""
        if not data:
            raise PrinterHungUp(f"{self.description}: closed by the printer")
        wire.debug("%s < %r", self.description, data)
        return data

    def discard_input(self) -> None:
        sock = self._socket()
        sock.setblocking(False)
        try:
            while True:
                stale = sock.recv(_RECV)
                if not stale:
                    raise PrinterHungUp(f"{self.description}: closed by the printer")
                wire.debug("%s < (stale) %r", self.description, stale)
        except BlockingIOError:
            pass
        finally:
            sock.settimeout(self.timeout_s)

    def close(self, *, failed: bool = False) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError as exc:
                logger.debug("%s: close failed: %s", self.description, exc)

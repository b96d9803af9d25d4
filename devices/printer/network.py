"""Receipt printer on the network (raw TCP, port 9100), through python-escpos's ``Network``.

python-escpos opens the socket with one timeout for connect, writes and reads (60 s by default),
and its ``is_online()`` lets the ``TimeoutError`` escape. Here the connect/write timeout and the
status timeout are separate and short, and a silent printer reads as ``b""``. python-escpos's
``Network`` object does the writing and the status query on the socket we connect.
"""

from __future__ import annotations

import logging
import socket

from escpos.printer import Network

from devices.base import DeviceState, DeviceUnavailable

logger = logging.getLogger(__name__)
wire = logging.getLogger("wire.printer")


class NetworkConnection:
    def __init__(
        self, host: str, port: int = 9100, *, timeout_s: float = 5.0, status_timeout_s: float = 1.0, profile: str
    ) -> None:
        self.host, self.port = host, port
        self.timeout_s = timeout_s
        self.status_timeout_s = status_timeout_s
        self.profile = profile
        self.description = f"{host}:{port}"
        self._printer: Network | None = None

    @property
    def is_open(self) -> bool:
        return self._printer is not None

    def open(self) -> None:
        if self._printer is not None:
            return
        printer = Network(self.host, self.port, timeout=self.timeout_s, profile=self.profile)
        # Connect here rather than in Network.open(): when connect() fails, python-escpos 3.1 drops
        # its socket without closing it (one leaked descriptor per retry while the printer is off).
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
        except OSError as exc:
            raise DeviceUnavailable(f"cannot connect to {self.description}: {exc}", DeviceState.OFFLINE) from exc
        printer.device = sock
        self._printer = printer

    def _socket(self) -> socket.socket:
        if self._printer is None:
            raise ConnectionError(f"{self.description}: not connected")
        sock = self._printer.device
        assert isinstance(sock, socket.socket)
        return sock

    def send(self, data: bytes) -> None:
        self._socket()
        assert self._printer is not None
        wire.debug("%s > %r", self.description, data)
        self._printer._raw(data)  # python-escpos's transport primitive: sendall with the write timeout

    def _drain(self, sock: socket.socket) -> None:
        """Drop late replies to earlier requests, so this reply is not mistaken for an old one."""
        sock.setblocking(False)
        try:
            while True:
                stale = sock.recv(256)
                if not stale:
                    raise ConnectionResetError(f"{self.description}: closed by the printer")
                wire.debug("%s < (stale) %r", self.description, stale)
        except BlockingIOError:
            pass
        finally:
            sock.settimeout(self.timeout_s)

    def query(self, request: bytes) -> bytes:
        sock = self._socket()
        assert self._printer is not None
        self._drain(sock)
        sock.settimeout(self.status_timeout_s)
        try:
            wire.debug("%s > %r", self.description, request)
            reply = bytes(self._printer.query_status(request))
        except TimeoutError:
            reply = b""
        finally:
            sock.settimeout(self.timeout_s)
        wire.debug("%s < %r", self.description, reply)
        return reply

    def close(self) -> None:
        printer, self._printer = self._printer, None
        if printer is not None:
            try:
                printer.close()
            except OSError as exc:
                logger.debug("%s: close failed: %s", self.description, exc)

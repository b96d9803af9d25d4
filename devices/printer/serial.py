"""Receipt printer on a serial port, through python-escpos's ``Serial`` (pyserial underneath).

python-escpos sets no write timeout (a printer holding flow control blocks the writer forever) and
reads status with ``read(16)``, which waits the whole timeout for 16 bytes. Here writes have a
timeout and a status reply is one byte read with the status timeout.
"""

from __future__ import annotations

import logging

import serial
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Serial

from devices.base import DeviceUnavailable
from devices.serial_port import unavailable_for

logger = logging.getLogger(__name__)
wire = logging.getLogger("wire.printer")


class SerialConnection:
    def __init__(
        self,
        port: str,
        baudrate: int = 9600,
        *,
        timeout_s: float = 5.0,
        status_timeout_s: float = 1.0,
        profile: str,
    ) -> None:
        self.port = port
        self.baudrate = baudrate
        self.timeout_s = timeout_s
        self.status_timeout_s = status_timeout_s
        self.profile = profile
        self.description = f"{port} at {baudrate} baud"
        self._printer: Serial | None = None

    @property
    def is_open(self) -> bool:
        return self._printer is not None

    def open(self) -> None:
        if self._printer is not None:
            return
        printer = Serial(self.port, self.baudrate, timeout=self.status_timeout_s, dsrdtr=False, profile=self.profile)
        try:
            printer.open()
        except DeviceNotFoundError as exc:
            cause = exc.__context__
            if isinstance(cause, serial.SerialException | OSError):
                raise unavailable_for(self.port, cause) from exc
            raise DeviceUnavailable(f"{self.port}: {exc}") from exc
        port = self._port(printer)
        port.write_timeout = self.timeout_s
        self._printer = printer

    @staticmethod
    def _port(printer: Serial) -> serial.Serial:
        port = printer.device
        assert isinstance(port, serial.Serial)
        return port

    def send(self, data: bytes) -> None:
        if self._printer is None:
            raise ConnectionError(f"{self.description}: not open")
        wire.debug("%s > %r", self.port, data)
        self._printer._raw(data)  # python-escpos's transport primitive: pyserial write (with write_timeout)
        self._port(self._printer).flush()

    def query(self, request: bytes) -> bytes:
        if self._printer is None:
            raise ConnectionError(f"{self.description}: not open")
        port = self._port(self._printer)
        port.reset_input_buffer()  # late replies to earlier requests
        wire.debug("%s > %r", self.port, request)
        self._printer._raw(request)
        reply = port.read(1)  # returns after the first byte, or b"" after the status timeout
        wire.debug("%s < %r", self.port, reply)
        return bytes(reply)

    def close(self) -> None:
        printer, self._printer = self._printer, None
        if printer is not None:
            try:
                printer.close()
            except (serial.SerialException, OSError) as exc:
                logger.debug("%s: close failed: %s", self.port, exc)

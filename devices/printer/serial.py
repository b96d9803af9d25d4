"""Receipt printer on a serial port (RS-232, USB-serial, the Pi's UART), through pyserial.

pyserial directly: python-escpos's ``Serial`` sets no write timeout (a printer holding flow control
blocks the writer forever), reads status with ``read(16)``, which waits the whole timeout for 16
bytes, and logs every open and close at INFO on the root logger. Here writes have a timeout, a
read returns what arrived, and the port is opened exclusively. The port stays open between jobs:
nobody else may use it, and reopening a silent printer every few seconds helps nothing.
"""

from __future__ import annotations

import logging

import serial

from devices.serial_port import unavailable_for

logger = logging.getLogger(__name__)
wire = logging.getLogger("wire.printer")


class SerialConnection:
    release_when_idle = False

    def __init__(self, port: str, baudrate: int = 9600, *, timeout_s: float = 5.0) -> None:
        self.port = port
        self.baudrate = baudrate
        self.timeout_s = timeout_s
        self.description = f"{port} at {baudrate} baud"
        self._serial: serial.Serial | None = None

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    def open(self) -> None:
        if self._serial is not None:
            return
        try:
            self._serial = serial.Serial(
                self.port, self.baudrate, timeout=0, write_timeout=self.timeout_s, exclusive=True, dsrdtr=False
            )
        except (serial.SerialException, OSError) as exc:
            raise unavailable_for(self.port, exc) from exc

    def _port(self) -> serial.Serial:
        if self._serial is None:
            raise ConnectionError(f"{self.description}: not open")
        return self._serial

    def send(self, data: bytes) -> None:
        port = self._port()
        wire.debug("%s > %r", self.port, data)
        port.write(data)  # SerialTimeoutException (an OSError) after timeout_s of flow control
        port.flush()

    def read(self, timeout_s: float) -> bytes:
        port = self._port()
        port.timeout = timeout_s
        first = bytes(port.read(1))  # returns at the first byte, or b"" after the timeout
        if not first:
            return b""
        port.timeout = 0
        data = first + bytes(port.read(port.in_waiting or 0))
        wire.debug("%s < %r", self.port, data)
        return data

    def discard_input(self) -> None:
        self._port().reset_input_buffer()

    def close(self, *, failed: bool = False) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError) as exc:
                logger.debug("%s: close failed: %s", self.port, exc)

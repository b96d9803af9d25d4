"""What the receipt printer driver needs from a transport (USB, serial, network)."""

from __future__ import annotations

from typing import Protocol


class PrinterConnection(Protocol):
    """One python-escpos printer object, opened or not.

    ``open`` raises ``DeviceUnavailable`` (with ``state`` MISSING, OFFLINE or ERROR) or
    ``DeviceMisconfigured``. ``send`` and ``query`` raise ``OSError`` when the link breaks
    (pyserial's and pyusb's errors are ``OSError`` subclasses). ``query`` returns ``b""`` when the
    printer did not answer within the status timeout.
    """

    description: str

    @property
    def is_open(self) -> bool: ...

    def open(self) -> None: ...

    def send(self, data: bytes) -> None: ...

    def query(self, request: bytes) -> bytes: ...

    def close(self) -> None: ...

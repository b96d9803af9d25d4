"""What the receipt printer driver needs from a transport (USB, serial, network).

The transports only move bytes; the driver decides what they mean (``status.py``). Errors:

- ``open`` raises ``DeviceUnavailable`` (``state`` MISSING, OFFLINE or ERROR) or ``DeviceMisconfigured``;
- ``send`` raises ``OSError`` when the link breaks (pyserial's and pyusb's errors are ``OSError``s);
- ``read`` returns ``b""`` when nothing came within ``timeout_s`` (a silent printer), and raises
  ``PrinterHungUp`` when the printer closed the link (a network printer hanging up); other
  ``OSError``s are a broken link.
"""

from __future__ import annotations

from typing import Protocol


class PrinterHungUp(ConnectionResetError):
    """The printer closed the connection (end of stream), as opposed to staying silent."""


class PrinterConnection(Protocol):
    """One link to a printer, opened or not."""

    description: str
    # True for a network printer: the link is closed after each exchange (a job, a probe), so that a
    # printer taking one connection at a time is free for other clients and ``appliance check``.
    release_when_idle: bool

    @property
    def is_open(self) -> bool: ...

    def open(self) -> None: ...

    def send(self, data: bytes) -> None: ...

    def read(self, timeout_s: float) -> bytes: ...

    def discard_input(self) -> None:
        """Drop bytes already received (late replies to earlier requests)."""

    def close(self, *, failed: bool = False) -> None:
        """Idempotent. ``failed``: the link broke (a USB printer is reset before the next open, with backoff)."""

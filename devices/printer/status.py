"""ESC/POS real-time status (DLE EOT n): the requests, and checking the printer's replies. Pure.

python-escpos 3.1 trusts whatever comes back: ``paper_status()`` says "paper adequate" when the
printer sends nothing, and ``is_online()`` lets a socket ``TimeoutError`` escape. Here a reply
counts only if it is a status byte (bits 1 and 4 set, bits 0 and 7 clear, as every DLE EOT reply
has); no reply or a malformed one means the printer is unreachable, never "paper OK".
"""

from __future__ import annotations

from dataclasses import dataclass

from devices.base import DeviceState

DLE_EOT = b"\x10\x04"
PRINTER_STATUS = 1  # n=1: bit 3 offline, bit 5 waiting for online recovery
OFFLINE_CAUSE = 2  # n=2: bit 2 cover open, bit 3 feed button, bit 5 stopped by paper end, bit 6 error
ERROR_CAUSE = 3  # n=3: bit 3 autocutter error, bit 5 unrecoverable, bit 6 auto-recoverable
PAPER_SENSOR = 4  # n=4: bits 2+3 roll near end, bits 5+6 roll end


def status_request(n: int) -> bytes:
    return DLE_EOT + bytes([n])


def is_status_byte(value: int) -> bool:
    return value & 0b1001_0011 == 0b0001_0010


@dataclass(frozen=True)
class PrinterStatus:
    state: DeviceState
    detail: str = ""

    @property
    def printable(self) -> bool:
        return self.state in (DeviceState.OK, DeviceState.PAPER_LOW)


def interpret(printer: int, paper: int, offline_cause: int | None = None) -> PrinterStatus:
    """The device state from valid status bytes for n=1, n=4 and (when offline) n=2."""
    if paper & 0b0110_0000:
        return PrinterStatus(DeviceState.PAPER_OUT, "paper out")
    if printer & 0b0000_1000:
        causes = []
        if offline_cause is not None:
            if offline_cause & 0b0000_0100:
                causes.append("cover open")
            if offline_cause & 0b0010_0000:
                causes.append("stopped by paper end")
            if offline_cause & 0b0100_0000:
                causes.append("printer error")
            if offline_cause & 0b0000_1000:
                causes.append("paper being fed")
        if "stopped by paper end" in causes:
            return PrinterStatus(DeviceState.PAPER_OUT, "paper out")
        return PrinterStatus(DeviceState.OFFLINE, "printer offline" + (f": {', '.join(causes)}" if causes else ""))
    if paper & 0b0000_1100:
        return PrinterStatus(DeviceState.PAPER_LOW, "paper near end")
    return PrinterStatus(DeviceState.OK)


def unreachable(detail: str) -> PrinterStatus:
    return PrinterStatus(DeviceState.OFFLINE, f"unreachable: {detail}")


def status_byte(reply: bytes) -> int | None:
    """The status byte in a reply, or ``None`` for no reply or a malformed one."""
    if len(reply) != 1 or not is_status_byte(reply[0]):
        return None
    return reply[0]

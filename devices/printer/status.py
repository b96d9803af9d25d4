"""ESC/POS status: the requests, and checking the printer's replies. Pure.

Two kinds of request. DLE EOT n (real-time) is answered at once, even while the printer prints or
is offline: it says how the printer is now. GS r n (transmit status) is an ordinary command: the
printer answers it only when everything sent before it has been processed, so its reply after a
job confirms the job went through the print head, not merely into the printer's buffer.

python-escpos 3.1 trusts whatever comes back: ``paper_status()`` says "paper adequate" when the
printer sends nothing, and ``is_online()`` lets a socket ``TimeoutError`` escape. Here a DLE EOT reply
counts only if it is a status byte (bits 1 and 4 set, bits 0 and 7 clear, as every DLE EOT reply
has); a GS r reply has bits 4 and 7 clear. No reply or a malformed one never means "paper OK".
"""

from __future__ import annotations

from dataclasses import dataclass

from devices.base import DeviceState

DLE_EOT = b"\x10\x04"
PRINTER_STATUS = 1  # n=1: bit 3 offline, bit 5 waiting for online recovery
OFFLINE_CAUSE = 2  # n=2: bit 2 cover open, bit 3 feed button, bit 5 stopped by paper end, bit 6 error
ERROR_CAUSE = 3  # n=3: bit 3 autocutter error, bit 5 unrecoverable, bit 6 auto-recoverable
PAPER_SENSOR = 4  # n=4: bits 2+3 roll near end, bits 5+6 roll end
TRANSMIT_PAPER_STATUS = b"\x1dr\x01"  # GS r 1: bits 0+1 roll near end, bits 2+3 roll end; bits 4, 7 clear


def status_request(n: int) -> bytes:
    return DLE_EOT + bytes([n])


def is_status_byte(value: int) -> bool:
    """A DLE EOT reply."""
    return value & 0b1001_0011 == 0b0001_0010


def is_transmit_status_reply(value: int) -> bool:
    """A GS r reply (bit 4 clear tells it from any DLE EOT reply)."""
    return value & 0b1001_0000 == 0


class Cause:
    """Why a printer is not printing, for the log: one WARNING per change of (state, cause)."""

    NO_ANSWER = "no answer"
    HUNG_UP = "hung up"
    UNREACHABLE = "unreachable"
    LINK_BROKEN = "link broken"
    BAD_REPLY = "bad reply"
    NOT_CONFIRMED = "not confirmed"


@dataclass(frozen=True)
class PrinterStatus:
    state: DeviceState
    detail: str = ""
    cause: str = ""  # Cause.*, or "" when the state says it all

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


def unreachable(detail: str, cause: str = Cause.UNREACHABLE) -> PrinterStatus:
    return PrinterStatus(DeviceState.OFFLINE, f"unreachable: {detail}", cause)


def transmitted_paper_state(reply: int) -> DeviceState:
    """The paper as a GS r 1 reply gives it."""
    if reply & 0b0000_1100:
        return DeviceState.PAPER_OUT
    if reply & 0b0000_0011:
        return DeviceState.PAPER_LOW
    return DeviceState.OK


def status_byte(reply: bytes) -> int | None:
    """The status byte in a reply, or ``None`` for no reply or a malformed one."""
    if len(reply) != 1 or not is_status_byte(reply[0]):
        return None
    return reply[0]

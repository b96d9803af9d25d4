"""Reading DLE EOT status replies: only well-formed status bytes count; silence is never "paper OK"."""

from __future__ import annotations

import pytest

from devices.base import DeviceState
from devices.printer.status import PrinterStatus, interpret, status_byte, status_request


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (b"", None),  # no reply: python-escpos 3.1 would say "paper adequate" here
        (b"\x12", 0x12),
        (b"\x72", 0x72),
        (b"\x00", None),  # fixed bits wrong
        (b"\xff", None),
        (b"\x13", None),  # bit 0 must be 0
        (b"\x92", None),  # bit 7 must be 0
        (b"\x12\x12", None),  # more than one byte: not a reply to one request
    ],
)
def test_status_byte_validation(reply: bytes, expected: int | None) -> None:
    assert status_byte(reply) == expected


@pytest.mark.parametrize(
    ("printer", "paper", "cause", "expected"),
    [
        (0x12, 0x12, None, PrinterStatus(DeviceState.OK)),
        (0x12, 0x1E, None, PrinterStatus(DeviceState.PAPER_LOW, "paper near end")),
        (0x1A, 0x72, 0x32, PrinterStatus(DeviceState.PAPER_OUT, "paper out")),
        (0x12, 0x72, None, PrinterStatus(DeviceState.PAPER_OUT, "paper out")),
        (0x1A, 0x12, 0x16, PrinterStatus(DeviceState.OFFLINE, "printer offline: cover open")),
        (0x1A, 0x12, 0x32, PrinterStatus(DeviceState.PAPER_OUT, "paper out")),
        (0x1A, 0x12, 0x52, PrinterStatus(DeviceState.OFFLINE, "printer offline: printer error")),
        (0x1A, 0x12, None, PrinterStatus(DeviceState.OFFLINE, "printer offline")),
    ],
)
def test_interpret(printer: int, paper: int, cause: int | None, expected: PrinterStatus) -> None:
    assert interpret(printer, paper, cause) == expected


def test_status_requests_are_dle_eot_n() -> None:
    assert [status_request(n) for n in (1, 2, 4)] == [b"\x10\x04\x01", b"\x10\x04\x02", b"\x10\x04\x04"]
    assert PrinterStatus(DeviceState.PAPER_LOW).printable and not PrinterStatus(DeviceState.PAPER_OUT).printable

"""The serial scanner driver through pyserial on a pseudo-terminal pair (the virtual scanner)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.base import DeviceMisconfigured, DeviceState, DeviceUnavailable, InputDevice
from devices.scanner.serial_scanner import SerialScanner
from devices.virtual.serial_scanner import VirtualSerialScanner
from tests.devices.helpers import read_until


@pytest.fixture
def virtual_scanner(tmp_path: Path) -> Iterator[VirtualSerialScanner]:
    with VirtualSerialScanner(link=tmp_path / "usb-Scanner-if00") as scanner:
        yield scanner


def open_driver(port: str, **extra) -> SerialScanner:
    scanner = SerialScanner.from_config("scanner", {"kind": "scanner_serial", "port": port, **extra})
    scanner.open()
    return scanner


@pytest.mark.parametrize("baudrate", [9600, 115200])
def test_scans_at_baud_rate(virtual_scanner: VirtualSerialScanner, baudrate: int) -> None:
    scanner = open_driver(virtual_scanner.port, baudrate=baudrate)
    try:
        assert isinstance(scanner, InputDevice)
        assert virtual_scanner.line_speed() == baudrate  # pyserial really set the port's speed
        virtual_scanner.scan("4006381333931")
        virtual_scanner.scan("T-0042")
        scans = read_until(scanner, 2)
        assert [s.text for s in scans] == ["4006381333931", "T-0042"]
        assert scanner.health().state is DeviceState.OK
        assert scanner.health().last_event_at == scans[-1].at
    finally:
        scanner.close()


@pytest.mark.parametrize(
    ("terminator", "wire", "expected"),
    [
        ("\r", b"A1\rB2\r", ["A1", "B2"]),
        ("\n", b"A1\nB2\n", ["A1", "B2"]),
        ("\r\n", b"A1\r\nB2\r\n", ["A1", "B2"]),
        ("\r", b"A1\r\nB2\r\n", ["A1", "B2"]),  # a scanner sending CR LF to a CR config: the LF is no scan
        ("\r", "Zürich\r".encode(), ["Zürich"]),
    ],
)
def test_terminators(virtual_scanner: VirtualSerialScanner, terminator: str, wire: bytes, expected: list[str]) -> None:
    scanner = open_driver(virtual_scanner.port, terminator=terminator)
    try:
        virtual_scanner.write(wire)
        assert [s.text for s in read_until(scanner, len(expected))] == expected
        assert scanner.read(0.05) == []
    finally:
        scanner.close()


def test_partial_line_is_kept_across_read_timeouts(virtual_scanner: VirtualSerialScanner) -> None:
    scanner = open_driver(virtual_scanner.port)
    try:
        virtual_scanner.write(b"40063")
        assert scanner.read(0.05) == []
        assert scanner.read(0.05) == []
        virtual_scanner.write(b"81333931\r")
        assert [s.text for s in read_until(scanner, 1)] == ["4006381333931"]
    finally:
        scanner.close()


def test_stale_partial_line_is_dropped(virtual_scanner: VirtualSerialScanner, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="devices.scanner")
    scanner = open_driver(virtual_scanner.port, scan_timeout_ms=50)
    try:
        virtual_scanner.write(b"noise")
        deadline = time.monotonic() + 5
        while "dropped a partial scan" not in caplog.text and time.monotonic() < deadline:
            assert scanner.read(0.05) == []
        virtual_scanner.scan("T-1")
        assert [s.text for s in read_until(scanner, 1)] == ["T-1"]
    finally:
        scanner.close()


def test_port_vanishes_and_returns(virtual_scanner: VirtualSerialScanner, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="devices")
    scanner = open_driver(virtual_scanner.port)
    try:
        virtual_scanner.scan("before")
        assert [s.text for s in read_until(scanner, 1)] == ["before"]
        virtual_scanner.unplug()
        with pytest.raises(DeviceUnavailable, match="returned no data"):
            scanner.read(2.0)
        assert scanner.health().state is DeviceState.MISSING
        for _ in range(3):
            with pytest.raises(DeviceUnavailable, match="not present"):
                scanner.open()
        virtual_scanner.replug()
        scanner.open()
        assert scanner.health().state is DeviceState.OK
        virtual_scanner.scan("after")
        assert [s.text for s in read_until(scanner, 1)] == ["after"]
    finally:
        scanner.close()
    messages = [r.getMessage() for r in caplog.records if r.name == "devices.scanner.serial_scanner"]
    assert len([m for m in messages if ": missing" in m]) == 1, messages
    assert len([m for m in messages if ": back" in m]) == 1, messages


def test_missing_port_at_open(tmp_path: Path) -> None:
    scanner = SerialScanner.from_config("scanner", {"kind": "scanner_serial", "port": str(tmp_path / "nothing")})
    with pytest.raises(DeviceUnavailable, match="not present"):
        scanner.open()
    assert scanner.health().state is DeviceState.MISSING
    with pytest.raises(DeviceUnavailable, match="not open"):
        scanner.read(0.01)


def test_port_used_by_another_process_is_an_error(virtual_scanner: VirtualSerialScanner) -> None:
    first = open_driver(virtual_scanner.port)
    try:
        second = SerialScanner.from_config("second", {"kind": "scanner_serial", "port": virtual_scanner.port})
        with pytest.raises(DeviceUnavailable, match="in use"):
            second.open()
        assert second.health().state is DeviceState.ERROR
    finally:
        first.close()


def test_a_scan_sent_before_the_port_was_opened_is_read(virtual_scanner: VirtualSerialScanner) -> None:
    """pyserial's open() throws away what the port holds: a scan made during a replug or a restart."""
    virtual_scanner.scan("A-042")  # the scanner sent it; the port was not open yet
    scanner = open_driver(virtual_scanner.port)
    try:
        assert [s.text for s in read_until(scanner, 1)] == ["A-042"]
        assert scanner.present()
    finally:
        scanner.close()
    virtual_scanner.unplug()
    assert not scanner.present()


def test_a_port_kept_open_across_a_restart_is_taken_over(virtual_scanner: VirtualSerialScanner) -> None:
    before = open_driver(virtual_scanner.port)  # the daemon before the restart…
    kept = os.dup(before.fileno() or -1)  # …and systemd's copy of its descriptor
    before.close()  # the daemon is gone; the copy keeps the port open, and its lock (flock is per file)
    with pytest.raises(DeviceUnavailable, match="in use by another process"):
        open_driver(virtual_scanner.port)  # the lock of the old descriptor still holds
    virtual_scanner.scan("A-043")  # scanned while no daemon ran
    after = SerialScanner.from_config("scanner", {"kind": "scanner_serial", "port": virtual_scanner.port})
    after.adopt(kept)
    after.open()
    try:
        assert [s.text for s in read_until(after, 1)] == ["A-043"]
    finally:
        after.close()
    with pytest.raises(OSError):
        os.fstat(kept)  # taken over and closed: the new descriptor holds the port now


def test_a_scan_being_typed_is_in_progress(virtual_scanner: VirtualSerialScanner) -> None:
    scanner = open_driver(virtual_scanner.port)
    try:
        virtual_scanner.write(b"A-0")
        assert scanner.read(0.2) == [] and scanner.in_progress()
        virtual_scanner.write(b"42\r")
        assert [s.text for s in read_until(scanner, 1)] == ["A-042"] and not scanner.in_progress()
    finally:
        scanner.close()


@pytest.mark.parametrize(
    ("extra", "wire", "expected"),
    [
        ({}, b"\x02A-042\x03", ["A-042"]),  # STX/ETX and no terminator: the ETX ends the scan (was ignored)
        ({}, b"\x02A-042\x03\r\n\x02B-7\x03\r\n", ["A-042", "B-7"]),  # …and a terminator after it is nothing
        ({}, b"noise\x02A-042\x03", ["A-042"]),  # what came before an STX was not the scan
        ({"prefix": "]C1"}, b"]C1A-042\r", ["A-042"]),
        ({"terminator": "\r\n", "suffix": "#"}, b"A-042#\r\n", ["A-042"]),
    ],
)
def test_framings_are_taken_off(
    virtual_scanner: VirtualSerialScanner, extra: dict[str, str], wire: bytes, expected: list[str]
) -> None:
    scanner = open_driver(virtual_scanner.port, **extra)
    try:
        virtual_scanner.write(wire)
        assert [s.text for s in read_until(scanner, len(expected))] == expected
        assert scanner.read(0.1) == []
    finally:
        scanner.close()


def test_a_prefix_longer_than_a_scanner_sends_is_refused() -> None:
    with pytest.raises(DeviceMisconfigured, match=r"^scanner\.prefix = '.{17}': must be at most 16 characters$"):
        SerialScanner.from_config("scanner", {"kind": "scanner_serial", "port": "/dev/x", "prefix": "x" * 17})

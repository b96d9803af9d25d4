"""The USB transport against pyusb's own types, with only the device itself stood in for: there is no
USB printer here, so ``usb.core.find`` returns a ``FakeUsbPrinter`` that answers like one and raises
pyusb's real exceptions (``USBTimeoutError``, ``USBError``). What is checked is what python-escpos
got wrong: a reset on every open (every 2 s for a silent printer) and writes without a timeout."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from typing import Any

import pytest
import usb.core

from devices.base import DeviceState, DeviceUnavailable, Outcome, ReceiptJob
from devices.printer.driver import ReceiptPrinter
from devices.printer.usb import RESET_FIRST_S, UsbConnection
from devices.virtual.printer_model import PrinterModel
from tests.devices.helpers import make_receipt


class FakeUsbPrinter:
    """A pyusb ``Device`` as far as the transport uses it, with the virtual printer model behind its
    bulk endpoints. ``silent``: reads time out; ``broken``: every transfer fails with EIO."""

    backend = type("Backend", (), {"__module__": "usb.backend.libusb1"})()

    def __init__(self) -> None:
        self.model = PrinterModel()
        self.silent = False
        self.broken = False
        self.resets = 0
        self.configured = False
        self.kernel_driver = True
        self.write_timeouts: list[int] = []
        self._replies = bytearray()

    def is_kernel_driver_active(self, interface: int) -> bool:
        return self.kernel_driver

    def detach_kernel_driver(self, interface: int) -> None:
        self.kernel_driver = False

    def get_active_configuration(self) -> object:
        if not self.configured:
            raise usb.core.USBError("Configuration not set", errno=errno.EIO)
        return object()

    def set_configuration(self) -> None:
        self.configured = True

    def reset(self) -> None:
        self.resets += 1

    def write(self, endpoint: int, data: bytes, timeout: int) -> int:
        self.write_timeouts.append(timeout)
        if self.broken:
            raise usb.core.USBError("Input/Output Error", errno=errno.EIO)
        reply, _ = self.model.feed(bytes(data))
        if not self.silent:
            self._replies += reply
        return len(data)

    def read(self, endpoint: int, size: int, timeout: int) -> bytes:
        if self.broken:
            raise usb.core.USBError("Input/Output Error", errno=errno.EIO)
        if not self._replies:
            raise usb.core.USBTimeoutError("Operation timed out", errno=errno.ETIMEDOUT)
        data, self._replies = bytes(self._replies[:size]), self._replies[size:]
        return data


@pytest.fixture
def device(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeUsbPrinter]:
    fake = FakeUsbPrinter()
    found: dict[str, Any] = {"device": fake}
    monkeypatch.setattr(usb.core, "find", lambda **match: found["device"])
    monkeypatch.setattr("usb.util.dispose_resources", lambda device: None)
    yield fake


def test_opening_never_resets_and_writes_have_a_timeout(device: FakeUsbPrinter) -> None:
    connection = UsbConnection(0x04B8, 0x0202, timeout_ms=1234)
    printer = ReceiptPrinter("printer", connection, retry_interval_s=0.0, probe_interval_s=0.0, status_timeout_s=0.05)
    printer.open()
    assert printer.health().state is DeviceState.OK
    assert (device.configured, device.kernel_driver) == (True, False)  # usblp detached, configured once
    printer.submit(ReceiptJob("job-1", make_receipt()))
    assert [r.outcome for r in printer.work(0.1)] == [Outcome.PRINTED]
    assert len([p for p in device.model.papers if p.cut]) == 1
    assert set(device.write_timeouts) == {1234}
    assert device.resets == 0


def test_a_silent_printer_is_neither_reopened_nor_reset(device: FakeUsbPrinter) -> None:
    connection = UsbConnection(0x04B8, 0x0202)
    printer = ReceiptPrinter("printer", connection, retry_interval_s=0.0, probe_interval_s=0.0, status_timeout_s=0.01)
    printer.open()
    device.silent = True
    for _ in range(20):  # twenty probes; python-escpos's open() would have reset it at each reopen
        printer.work(0.0)
    assert printer.health().state is DeviceState.OFFLINE and "no answer" in printer.health().detail
    assert connection.is_open and device.resets == 0


def test_reset_only_after_a_real_failure_and_with_backoff(device: FakeUsbPrinter) -> None:
    connection = UsbConnection(0x04B8, 0x0202)
    connection.open()
    connection.close(failed=False)
    connection.open()
    assert device.resets == 0  # a plain reopen: no reset

    device.broken = True
    with pytest.raises(OSError):
        connection.send(b"x")
    connection.close(failed=True)
    connection.open()
    assert device.resets == 1  # the open after a real failure resets, once
    connection.close(failed=True)
    connection.open()
    assert device.resets == 1  # …and not again within the backoff (RESET_FIRST_S, then doubling)
    assert RESET_FIRST_S >= 1


def test_unplugged_and_permission_errors_are_told_apart(
    device: FakeUsbPrinter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(usb.core, "find", lambda **match: None)
    with pytest.raises(DeviceUnavailable, match="not present") as missing:
        UsbConnection(0x04B8, 0x0202).open()
    assert missing.value.state is DeviceState.MISSING

    def denied(interface: int) -> bool:
        raise usb.core.USBError("Access denied (insufficient permissions)", errno=errno.EACCES)

    monkeypatch.setattr(usb.core, "find", lambda **match: device)
    monkeypatch.setattr(device, "is_kernel_driver_active", denied)
    with pytest.raises(DeviceUnavailable, match="group 'lp'") as refused:
        UsbConnection(0x04B8, 0x0202).open()
    assert refused.value.state is DeviceState.ERROR

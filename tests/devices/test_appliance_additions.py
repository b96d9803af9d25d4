"""Small additions made for the appliance daemon (issue 4): FIFO-backed evdev kinds for running a
daemon process without /dev/uinput, receipt copies marked on the paper, and a missing libusb
reported by the USB printer instead of escaping as pyusb's NoBackendError."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from evdev import ecodes

from devices.base import DeviceHealth, DeviceMisconfigured, DeviceState, DeviceUnavailable, InputDevice, ReceiptJob
from devices.printer.layout import Align, LayoutSettings, TextLine, layout_receipt
from devices.registry import KINDS, build_device
from devices.virtual.evdev_devices import touch, with_syn
from devices.virtual.fifo_input import pack_events, write_events
from devices.virtual.kinds import VIRTUAL_KINDS, with_virtual_kinds
from devices.virtual.printer import VirtualNetworkPrinter
from tests.devices.helpers import make_receipt, read_until
from tests.support import writable_fifo


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    path = tmp_path / "input"
    with writable_fifo(path) as fd:
        yield path, fd


VIRTUAL = with_virtual_kinds()


def test_fifo_kinds_are_extra_to_the_documented_ones() -> None:
    assert set(VIRTUAL_KINDS) == {"buttons_fifo", "touch_fifo"} and not set(VIRTUAL_KINDS) & set(KINDS)
    assert set(VIRTUAL) == set(KINDS) | set(VIRTUAL_KINDS)
    with pytest.raises(DeviceMisconfigured, match=r"^b\.keymap: missing"):
        build_device("b", {"kind": "buttons_fifo", "path": "/tmp/x"}, VIRTUAL)  # the same settings as buttons_evdev
    with pytest.raises(DeviceMisconfigured, match=r"^b\.kind = 'buttons_pipe': must be one of scanner_evdev"):
        build_device("b", {"kind": "buttons_pipe"}, VIRTUAL)


@pytest.mark.parametrize("kind", sorted(VIRTUAL_KINDS))
def test_the_registry_alone_builds_no_virtual_kind(kind: str) -> None:
    with pytest.raises(DeviceMisconfigured, match=rf"^b\.kind = '{kind}': must be one of scanner_evdev"):
        build_device("b", {"kind": kind, "path": "/tmp/x", "keymap": {"KEY_F1": "next"}})


def test_buttons_from_a_fifo_through_the_real_driver(fifo: tuple[Path, int]) -> None:
    path, fd = fifo
    settings = {"kind": "buttons_fifo", "path": str(path), "keymap": {"KEY_F1": "next"}}
    buttons = build_device("buttons", settings, VIRTUAL)
    assert isinstance(buttons, InputDevice)
    buttons.open()
    try:
        assert buttons.health().state is DeviceState.OK
        now = 1_700_000_000.0
        os.write(fd, pack_events(with_syn([(ecodes.KEY_F1, 1), (ecodes.KEY_F1, 0)]), at=now, step_s=0.025))
        os.write(fd, pack_events(with_syn([(ecodes.KEY_F2, 1), (ecodes.KEY_F2, 0)]), at=now + 0.2))  # not mapped
        os.write(fd, pack_events(with_syn([(ecodes.KEY_F1, 1), (ecodes.KEY_F1, 0)]), at=now + 1, step_s=0.5))
        presses = read_until(buttons, 2)
        assert [(p.action, p.long_press) for p in presses] == [("next", False), ("next", True)]
        assert presses[0].at == pytest.approx(now + 0.05)
    finally:
        buttons.close()
    assert buttons.health() == DeviceHealth(DeviceState.CLOSED, "", presses[-1].at)


def test_touch_from_a_fifo_and_a_missing_fifo(fifo: tuple[Path, int], tmp_path: Path) -> None:
    path, fd = fifo
    screen = build_device("touch", {"kind": "touch_fifo", "path": str(path)}, VIRTUAL)
    screen.open()
    try:
        write_events(fd, pack_events(touch(10, 20)))
        [activity] = read_until(screen, 1)
        assert activity.device == "touch"
    finally:
        screen.close()
    gone = build_device("touch", {"kind": "touch_fifo", "path": str(tmp_path / "absent")}, VIRTUAL)
    with pytest.raises(DeviceUnavailable, match="not present"):
        gone.open()
    assert gone.health().state is DeviceState.MISSING


def test_a_copy_says_so_on_the_paper() -> None:
    original = [op for op in layout_receipt(make_receipt(), LayoutSettings()) if isinstance(op, TextLine)]
    copy = [op for op in layout_receipt(make_receipt(copy=True), LayoutSettings()) if isinstance(op, TextLine)]
    assert TextLine("*** COPY ***", Align.CENTER, bold=True) in copy
    # …and when it was printed: by the till's clock, or that the clock is not set yet (issue 13)
    assert TextLine("Printed                      clock not set") in copy
    assert [op for op in copy if op.text != "*** COPY ***" and not op.text.startswith("Printed")] == original
    with pytest.raises(ValueError, match=r"^receipt\.copy = 'yes': must be True or False$"):
        make_receipt(copy="yes")


def test_a_printed_copy_as_the_virtual_printer_reads_it() -> None:
    with VirtualNetworkPrinter() as printer:
        device = build_device("printer", {"kind": "printer_network", "host": printer.host, "port": printer.port})
        device.open()
        try:
            device.submit(ReceiptJob("copy-1", make_receipt(copy=True)))
            deadline = time.monotonic() + 10
            while not printer.receipts and time.monotonic() < deadline:
                device.work(0.5)
        finally:
            device.close()
    assert "*** COPY ***" in printer.receipts[0].text


def test_usb_printer_without_libusb_reports_instead_of_raising() -> None:
    device = build_device("printer", {"kind": "printer_usb", "vendor_id": "0x04b8", "product_id": "0x0202"})
    device.open()  # raises only DeviceMisconfigured, never a library exception
    try:
        health = device.health()
    finally:
        device.close()
    assert health.state in (DeviceState.ERROR, DeviceState.MISSING), health
    assert "usb 04b8:0202" in health.detail


def test_an_input_device_is_taken_over_with_what_came_meanwhile(fifo: tuple[Path, int], tmp_path: Path) -> None:
    """After a restart the evdev drivers take over the descriptor systemd kept (``adopt``): events
    that came while no daemon ran wait in it. Here through a FIFO node and the real button driver."""
    path, fd = fifo
    settings = {"kind": "buttons_fifo", "path": str(path), "keymap": {"KEY_F1": "next"}}
    before = build_device("buttons", settings, VIRTUAL)
    before.open()
    kept = os.dup(before.fileno() or -1)  # systemd's copy
    before.close()
    now = 1_700_000_000.0
    os.write(fd, pack_events(with_syn([(ecodes.KEY_F1, 1), (ecodes.KEY_F1, 0)]), at=now, step_s=0.025))
    after = build_device("buttons", settings, VIRTUAL)
    after.adopt(kept)
    after.open()
    try:
        assert after.fileno() == kept  # this descriptor, not a new one
        [press] = read_until(after, 1)
        assert press.action == "next" and press.at == pytest.approx(now + 0.05)
    finally:
        after.close()

    other = tmp_path / "other"
    os.mkfifo(other)  # a descriptor of some other node is not taken: the configured one is opened
    stray = os.open(other, os.O_RDWR | os.O_NONBLOCK)
    again = build_device("buttons", settings, VIRTUAL)
    again.adopt(stray)
    again.open()
    try:
        assert os.path.samestat(os.fstat(again.fileno() or -1), os.stat(path)) and again.present()
    finally:
        again.close()

"""The receipt printer driver over real transports (TCP, a pty) to the virtual ESC/POS printer,
which parses the bytes as a printer would. Failures in the middle of a job: test_printer_once.py."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from escpos.printer import Network

from devices.base import (
    DeviceError,
    DeviceState,
    DeviceUnavailable,
    DrawerJob,
    JobResult,
    Outcome,
    ReceiptJob,
    ReceiptPrinterDevice,
)
from devices.printer.driver import ReceiptPrinter
from devices.registry import build_device
from devices.virtual.printer import VirtualNetworkPrinter, VirtualSerialPrinter
from devices.virtual.printer_model import DrawerPulse, PaperState, PrintedCode, StatusMode
from tests.devices.helpers import make_receipt


def network_printer(vp: VirtualNetworkPrinter, **extra: Any) -> ReceiptPrinter:
    settings = {
        "kind": "printer_network",
        "host": vp.host,
        "port": vp.port,
        "timeout_s": 2.0,
        "status_timeout_s": 0.3,
        "retry_interval_s": 0.05,
        "probe_interval_s": 0.1,
        **extra,
    }
    printer = build_device("printer", settings)
    assert isinstance(printer, ReceiptPrinter)
    return printer


@pytest.fixture
def printer(virtual_printer: VirtualNetworkPrinter) -> Iterator[ReceiptPrinter]:
    device = network_printer(virtual_printer)
    device.open()
    yield device
    device.close()


def work_until(printer: ReceiptPrinter, done: Callable[[list[JobResult]], bool], timeout_s: float = 5.0) -> list:
    results: list[JobResult] = []
    deadline = time.monotonic() + timeout_s
    while not done(results) and time.monotonic() < deadline:
        results += printer.work(0.1)
    return results


def idle_until(printer: ReceiptPrinter, done: Callable[[], bool], timeout_s: float = 5.0) -> list[JobResult]:
    """Let the printer work (probe while idle) until ``done()``; returns any results meanwhile."""
    results: list[JobResult] = []
    deadline = time.monotonic() + timeout_s
    while not done() and time.monotonic() < deadline:
        results += printer.work(0.05)
    assert done(), "not within the deadline"
    return results


def ok_for(job_id: str) -> Callable[[list[JobResult]], bool]:
    return lambda results: any(r.job_id == job_id and r.ok for r in results)


def test_full_receipt(printer: ReceiptPrinter, virtual_printer: VirtualNetworkPrinter) -> None:
    assert isinstance(printer, ReceiptPrinterDevice)
    assert printer.health().state is DeviceState.OK
    printer.submit(ReceiptJob("job-1", make_receipt(), open_drawer=True))
    results = work_until(printer, ok_for("job-1"))
    assert results == [JobResult("job-1", Outcome.PRINTED, DeviceState.OK, "")]

    [paper] = virtual_printer.receipts
    assert paper.cut == "full"
    lines = paper.lines
    for expected in [
        "Lotus Spa",
        "Hauptstraße 1",
        "10115 Berlin",
        "Receipt                             T-0042",
        "Date                      2024-05-01 14:32",
        "Cashier                               Anna",
        "Massage 60 min",
        "  2 x 45.00 €                      90.00 €",
        "Sauna                              15.00 €",
        "TOTAL                             105.00 €",
        "Paid (Cash)                       110.00 €",
        "Change                              5.00 €",
        "Thank you for your visit!",
    ]:
        assert expected in lines
    assert lines.index("TOTAL                             105.00 €") < lines.index("Thank you for your visit!")
    assert paper.qr_codes == ["T-0042"]
    assert virtual_printer.drawer_pulses == [DrawerPulse(pin=2, on_ms=100, off_ms=100)]
    assert virtual_printer.unknown_commands == []
    # status asked before the job and after each part (printer status, then paper sensor); each
    # part confirmed with GS r, which this printer answers once it has processed what came before
    assert printer.confirms_processing is True
    assert virtual_printer.status_requests[-6:] == [1, 4, 1, 4, 1, 4]
    assert printer.health().last_event_at is not None
    assert printer.pending_job_ids() == []


def test_barcode_instead_of_qr(virtual_printer: VirtualNetworkPrinter) -> None:
    printer = network_printer(virtual_printer, code_symbol="code128", drawer_pin=5)
    printer.open()
    try:
        printer.submit(ReceiptJob("job-b", make_receipt(code="T-{42}"), open_drawer=True))
        work_until(printer, ok_for("job-b"))
        [paper] = virtual_printer.receipts
        assert paper.barcodes == [PrintedCode("CODE128", "T-{42}")]
        assert paper.qr_codes == []
        assert virtual_printer.drawer_pulses == [DrawerPulse(pin=5, on_ms=100, off_ms=100)]
    finally:
        printer.close()


def test_drawer_job_opens_the_drawer_without_paper(printer: ReceiptPrinter, virtual_printer) -> None:
    printer.submit(DrawerJob("drawer-1"))
    assert work_until(printer, ok_for("drawer-1")) == [JobResult("drawer-1", Outcome.PRINTED, DeviceState.OK, "")]
    assert virtual_printer.drawer_pulses == [DrawerPulse(2, 100, 100)]
    assert virtual_printer.papers == []


def test_paper_out_in_the_middle_of_a_job_is_never_sent_again(
    printer: ReceiptPrinter, virtual_printer: VirtualNetworkPrinter
) -> None:
    """The issue's case: the paper runs out halfway. The receipt was sent, so whether it printed is
    for a person to say; the driver never sends it again, not even when the paper is back."""
    virtual_printer.run_out_of_paper_after(lines=3)
    printer.submit(ReceiptJob("job-2", make_receipt(), open_drawer=True))
    [result] = work_until(printer, bool)
    assert (result.job_id, result.outcome, result.state) == ("job-2", Outcome.UNKNOWN, DeviceState.PAPER_OUT)
    assert printer.pending_job_ids() == []
    assert printer.health().state is DeviceState.PAPER_OUT
    [torn] = virtual_printer.papers
    assert torn.cut is None and torn.lines == ["Lotus Spa", "Hauptstraße 1", "10115 Berlin"]

    virtual_printer.set_paper(PaperState.OK)
    assert idle_until(printer, lambda: printer.health().state is DeviceState.OK) == []  # the idle probe
    assert work_until(printer, lambda r: False, timeout_s=0.3) == []
    assert len(virtual_printer.papers) == 1 and virtual_printer.receipts == []
    assert len(virtual_printer.drawer_pulses) == 1  # the drawer opened once, before the receipt

    printer.submit(ReceiptJob("job-2", make_receipt()))  # the same job again: never printed twice
    assert work_until(printer, lambda r: False, timeout_s=0.3) == []
    assert len(virtual_printer.papers) == 1

    # What the till offers instead: a copy, marked, without the drawer.
    printer.submit(ReceiptJob("job-2-copy", make_receipt(copy=True)))
    assert work_until(printer, ok_for("job-2-copy"))[-1].outcome is Outcome.PRINTED
    [copy] = virtual_printer.receipts
    assert "*** COPY ***" in copy.lines and "TOTAL                             105.00 €" in copy.lines
    assert len(virtual_printer.drawer_pulses) == 1


def test_paper_out_before_a_job_sends_nothing(printer: ReceiptPrinter, virtual_printer) -> None:
    virtual_printer.set_paper(PaperState.OUT)
    printer.submit(ReceiptJob("job-3", make_receipt(), open_drawer=True))
    printer.submit(DrawerJob("drawer-3"))
    results = work_until(printer, lambda r: len(r) >= 2)
    assert [(r.job_id, r.outcome, r.state) for r in results] == [
        ("job-3", Outcome.WAITING, DeviceState.PAPER_OUT),
        ("drawer-3", Outcome.WAITING, DeviceState.PAPER_OUT),
    ]
    assert virtual_printer.papers == [] and virtual_printer.drawer_pulses == []
    virtual_printer.set_paper(PaperState.OK)
    results = work_until(printer, lambda r: len(r) >= 2)
    assert [(r.job_id, r.ok) for r in results] == [("job-3", True), ("drawer-3", True)]
    assert len(virtual_printer.receipts) == 1 and len(virtual_printer.drawer_pulses) == 2


def test_paper_low_still_prints(printer: ReceiptPrinter, virtual_printer) -> None:
    virtual_printer.set_paper(PaperState.LOW)
    printer.submit(ReceiptJob("job-4", make_receipt()))
    assert work_until(printer, ok_for("job-4")) == [
        JobResult("job-4", Outcome.PRINTED, DeviceState.PAPER_LOW, "paper near end")
    ]
    assert printer.health().state is DeviceState.PAPER_LOW
    assert len(virtual_printer.receipts) == 1


def test_cover_open_is_offline_with_the_cause(printer: ReceiptPrinter, virtual_printer) -> None:
    virtual_printer.set_cover_open(True)
    printer.submit(ReceiptJob("job-5", make_receipt()))
    assert work_until(printer, bool) == [
        JobResult("job-5", Outcome.WAITING, DeviceState.OFFLINE, "printer offline: cover open")
    ]
    virtual_printer.set_cover_open(False)
    assert work_until(printer, ok_for("job-5"))[-1].ok
    assert len(virtual_printer.receipts) == 1


# Bounded by our 0.3 s status timeout, not python-escpos's 60 s: past 30 s the test fails.
@pytest.mark.timeout(30)
def test_printer_that_never_answers_is_unreachable_within_the_timeout(virtual_printer) -> None:
    virtual_printer.set_status_mode(StatusMode.SILENT)
    printer = network_printer(virtual_printer, status_timeout_s=0.3)
    printer.open()
    try:
        health = printer.health()
        assert health.state is DeviceState.OFFLINE, "silence must never read as paper OK"
        assert "no answer to a status request within 0.3 s" in health.detail
        printer.submit(ReceiptJob("job-6", make_receipt()))
        [result] = work_until(printer, bool)
        assert (result.outcome, result.state) == (Outcome.WAITING, DeviceState.OFFLINE)
        assert "unreachable" in result.detail
        assert virtual_printer.papers == []  # nothing sent to a printer that did not answer
        assert printer.pending_job_ids() == ["job-6"]
        virtual_printer.set_status_mode(StatusMode.ANSWER)
        assert work_until(printer, ok_for("job-6"))[-1] == JobResult("job-6", Outcome.PRINTED, DeviceState.OK, "")
        assert len(virtual_printer.receipts) == 1
    finally:
        printer.close()


def test_printer_that_hangs_up_is_not_paper_ok(virtual_printer) -> None:
    virtual_printer.set_status_mode(StatusMode.HANG_UP)
    # python-escpos 3.1 itself takes the hang-up for "paper adequate" (2):
    library = Network(virtual_printer.host, virtual_printer.port, timeout=2)
    try:
        assert library.paper_status() == 2
    finally:
        library.close()
    printer = network_printer(virtual_printer)
    printer.open()
    try:
        assert printer.health().state is DeviceState.OFFLINE
        assert "hung up when asked for its status" in printer.health().detail  # not "no answer"
    finally:
        printer.close()


def test_printer_power_cycle_between_jobs(virtual_printer: VirtualNetworkPrinter) -> None:
    printer = network_printer(virtual_printer)
    printer.open()
    try:
        printer.submit(ReceiptJob("job-7", make_receipt()))
        work_until(printer, ok_for("job-7"))
        host, port = virtual_printer.host, virtual_printer.port
        virtual_printer.stop()  # switched off
        printer.submit(ReceiptJob("job-8", make_receipt(code="T-0043")))
        [failed] = work_until(printer, bool)
        assert (failed.job_id, failed.outcome, failed.state) == ("job-8", Outcome.WAITING, DeviceState.OFFLINE)
        with VirtualNetworkPrinter(host, port) as switched_on:
            assert work_until(printer, ok_for("job-8"))[-1].ok
            assert [p.qr_codes for p in switched_on.receipts] == [["T-0043"]]
    finally:
        printer.close()


def test_connection_dropped_by_the_printer_reconnects(printer: ReceiptPrinter, virtual_printer) -> None:
    virtual_printer.disconnect_clients()  # e.g. the printer's idle timeout
    printer.submit(ReceiptJob("job-9", make_receipt()))
    assert work_until(printer, ok_for("job-9")) == [JobResult("job-9", Outcome.PRINTED, DeviceState.OK, "")]
    assert [p.qr_codes for p in virtual_printer.receipts] == [["T-0042"]]


def test_duplicate_job_ids_print_once(printer: ReceiptPrinter, virtual_printer) -> None:
    job = ReceiptJob("job-10", make_receipt())
    printer.submit(job)
    printer.submit(job)
    assert printer.pending_job_ids() == ["job-10"]
    results = work_until(printer, ok_for("job-10"))
    assert [r.job_id for r in results] == ["job-10"]
    assert len(virtual_printer.receipts) == 1


def test_bad_jobs_and_a_full_queue_change_nothing(virtual_printer) -> None:
    printer = network_printer(virtual_printer, max_queued_jobs=1)
    with pytest.raises(ValueError, match="not a ReceiptJob, DocumentJob or DrawerJob"):
        printer.submit("print this")  # type: ignore[arg-type]
    printer.submit(DrawerJob("d1"))
    with pytest.raises(DeviceError, match="1 jobs waiting already; job d2 refused"):
        printer.submit(DrawerJob("d2"))
    assert printer.pending_job_ids() == ["d1"]
    with pytest.raises(DeviceUnavailable, match="not open"):
        printer.work(0.01)


def test_work_wakes_up_when_a_job_is_submitted(printer: ReceiptPrinter, virtual_printer) -> None:
    results: list[JobResult] = []
    worker = threading.Thread(target=lambda: results.extend(printer.work(10.0)), name="printer.test-worker")
    worker.start()
    printer.submit(ReceiptJob("job-11", make_receipt()))
    worker.join(timeout=8.0)
    assert not worker.is_alive(), "work() did not return after the job was printed"
    assert [(r.job_id, r.ok) for r in results] == [("job-11", True)]


def test_status_query_can_be_turned_off(virtual_printer) -> None:
    printer = network_printer(virtual_printer, status_query=False)
    printer.open()
    try:
        printer.submit(ReceiptJob("job-12", make_receipt()))
        assert work_until(printer, ok_for("job-12"))[-1].ok
        assert virtual_printer.wait_for(lambda vp: len(vp.receipts) == 1, timeout_s=5)
        assert virtual_printer.status_requests == []
    finally:
        printer.close()


def test_serial_printer_through_a_pty() -> None:
    with VirtualSerialPrinter() as virtual_printer:
        printer = build_device(
            "printer",
            {"kind": "printer_serial", "port": virtual_printer.port, "baudrate": 38400, "status_timeout_s": 0.5},
        )
        printer.open()
        try:
            assert printer.health().state is DeviceState.OK
            printer.submit(ReceiptJob("job-s", make_receipt(), open_drawer=True))
            assert work_until(printer, ok_for("job-s"))[-1] == JobResult("job-s", Outcome.PRINTED, DeviceState.OK, "")
            assert virtual_printer.wait_for(lambda vp: len(vp.receipts) == 1, timeout_s=5)
            [paper] = virtual_printer.receipts
            assert paper.qr_codes == ["T-0042"] and "TOTAL                             105.00 €" in paper.lines
            assert virtual_printer.drawer_pulses == [DrawerPulse(2, 100, 100)]
        finally:
            printer.close()


# --- health while idle, and what it logs ------------------------------------------------------


def test_idle_probes_are_light_and_release_the_connection(virtual_printer: VirtualNetworkPrinter) -> None:
    printer = network_printer(virtual_printer)
    printer.open()
    try:
        before = len(virtual_printer.status_requests)
        idle_until(printer, lambda: len(virtual_printer.status_requests) >= before + 10)
        # a probe asks the printer's status and its paper sensor, nothing else reaches the printer
        assert set(virtual_printer.status_requests[before:]) == {1, 4}
        assert virtual_printer.papers == [] and virtual_printer.unknown_commands == []
        # …and gives the connection back: a printer serving one client at a time stays free
        assert virtual_printer.wait_for(lambda vp: vp.connected == 0, 5) and virtual_printer.connections >= 5

        virtual_printer.set_paper(PaperState.OUT)  # a change while idle is seen by the next probe
        idle_until(printer, lambda: printer.health().state is DeviceState.PAPER_OUT)
        virtual_printer.set_cover_open(True)
        virtual_printer.set_paper(PaperState.OK)
        idle_until(printer, lambda: printer.health().detail == "printer offline: cover open")
    finally:
        printer.close()


def test_a_single_connection_printer_serves_another_client_between_probes() -> None:
    """The network printer's connection was held for good: a printer that serves one connection at a
    time then never answered anyone else (``appliance check`` among them)."""
    with VirtualNetworkPrinter(single_client=True) as vp:
        daemon = network_printer(vp)
        daemon.open()
        try:
            daemon.work(0.2)
            other = network_printer(vp)  # e.g. `python -m appliance check` while the daemon runs
            other.open()
            assert other.health().state is DeviceState.OK, other.health()
            other.close()
            daemon.submit(ReceiptJob("job-x", make_receipt()))
            assert work_until(daemon, ok_for("job-x"))[-1].ok
        finally:
            daemon.close()


def test_printer_trouble_is_logged_once_per_change_at_warning(
    virtual_printer: VirtualNetworkPrinter, caplog: pytest.LogCaptureFixture
) -> None:
    printer = network_printer(virtual_printer, status_timeout_s=0.05)
    printer.open()
    caplog.set_level(logging.DEBUG)
    try:
        virtual_printer.set_status_mode(StatusMode.SILENT)
        start = len(virtual_printer.status_requests)
        idle_until(printer, lambda: len(virtual_printer.status_requests) >= start + 5)  # five probes at least
        virtual_printer.set_status_mode(StatusMode.HANG_UP)
        idle_until(printer, lambda: "hung up" in printer.health().detail)
        start = len(virtual_printer.status_requests)
        idle_until(printer, lambda: len(virtual_printer.status_requests) >= start + 5)
        virtual_printer.set_status_mode(StatusMode.ANSWER)
        idle_until(printer, lambda: printer.health().state is DeviceState.OK)
    finally:
        printer.close()
    said = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "devices.printer.driver"]
    warnings = [m for level, m in said if level == "WARNING"]
    assert len(warnings) == 2, said  # silent, then hung up: told apart, each said once
    assert "no answer to a status request within 0.05 s" in warnings[0]
    assert "hung up when asked for its status" in warnings[1]
    assert ("INFO", "printer: back (ok)") in said
    assert not [r for r in caplog.records if r.name == "root" or "escpos" in r.pathname]  # no python-escpos chatter

"""A receipt reaches the paper at most once and the drawer opens at most once, whatever fails at
whatever moment of a job: the virtual printer is broken after every byte of the conversation (the
status requests, the drawer pulse, the receipt, the GS r confirmations) in each of four ways, then
recovered, and the driver is left to work on.

In process (``ModelLink``: the driver's real bytes into the real parser, without a socket) for every
byte boundary; over TCP (the network transport, python's sockets, the virtual printer's thread)
for a sample of them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from devices.base import JobPart, JobResult, Outcome, ReceiptJob
from devices.printer.driver import ReceiptPrinter
from devices.registry import build_device
from devices.virtual.printer import ModelLink, VirtualNetworkPrinter
from devices.virtual.printer_model import Failure, PrinterModel
from tests.devices.helpers import make_receipt

CODE = "T-0042"
WORK_ROUNDS = 6  # work() calls before and after the recovery; a job needs at most three


@dataclass
class Journal:
    """The appliance's part: each part recorded before it is sent, and how far the printer had got."""

    sent: list[tuple[str, JobPart]] = field(default_factory=list)

    def sending(self, job_id: str, part: JobPart) -> None:
        assert (job_id, part) not in self.sent, f"{part} of {job_id} sent twice"
        self.sent.append((job_id, part))


def in_process_printer(model: PrinterModel) -> tuple[ReceiptPrinter, ModelLink]:
    link = ModelLink(model)
    printer = ReceiptPrinter("printer", link, retry_interval_s=0.0, probe_interval_s=3600.0, print_timeout_s=1.0)
    printer.open()  # probes, and finds out whether the printer answers GS r
    return printer, link


def run(printer: ReceiptPrinter, journal: Journal) -> list[JobResult]:
    results: list[JobResult] = []
    for _ in range(WORK_ROUNDS):
        results += printer.work(0.0, journal)
    return results


def conversation_length(*, drawer: bool, gs_r: bool) -> int:
    """Bytes the printer receives for one job that goes well, after the printer was opened."""
    model = PrinterModel()
    model.answers_gs_r = gs_r
    printer, _ = in_process_printer(model)
    before = model.bytes_received
    printer.submit(ReceiptJob("job", make_receipt(code=CODE), open_drawer=drawer))
    [result] = run(printer, Journal())
    assert result.outcome is Outcome.PRINTED
    return model.bytes_received - before


def check_once(model: PrinterModel, results: list[JobResult], journal: Journal, *, drawer: bool) -> Outcome:
    """The promise, for one job through one failure and the recovery after it."""
    receipts = [p for p in model.papers if p.cut is not None and f"Receipt{' ' * 29}{CODE}" in p.lines]
    assert len(receipts) <= 1, "the receipt printed twice"
    assert len(model.drawer_pulses) <= (1 if drawer else 0), "the drawer opened twice"
    final = [r for r in results if r.final]
    assert len(final) == 1, f"not one final outcome: {results}"
    outcome = final[0].outcome
    if outcome is Outcome.PRINTED:
        assert len(receipts) == 1, "reported printed, but no whole receipt came out"
    assert all(r.outcome is Outcome.WAITING for r in results[:-1]), results
    assert journal.sent.count(("job", JobPart.RECEIPT)) == 1
    return outcome


def break_and_recover(failure: Failure, at: int, *, drawer: bool, gs_r: bool) -> Outcome:
    model = PrinterModel()
    model.answers_gs_r = gs_r
    printer, _ = in_process_printer(model)
    assert printer.confirms_processing is gs_r
    journal = Journal()
    model.fail_after(at, failure)
    printer.submit(ReceiptJob("job", make_receipt(code=CODE), open_drawer=drawer))
    results = run(printer, journal)
    model.recover()
    results += run(printer, journal)
    outcome = check_once(model, results, journal, drawer=drawer)
    papers, pulses = len(model.papers), len(model.drawer_pulses)
    printer.submit(ReceiptJob("job", make_receipt(code=CODE), open_drawer=drawer))  # the server sends it again
    assert run(printer, journal) == []
    assert (len(model.papers), len(model.drawer_pulses)) == (papers, pulses)
    return outcome


@pytest.mark.slow  # ~14,000 jobs, about a minute: in `make test`, not in `make test-fast`
@pytest.mark.parametrize("gs_r", [True, False], ids=["confirmed-by-GS-r", "status-only"])
@pytest.mark.parametrize("drawer", [True, False], ids=["cash", "card"])
@pytest.mark.parametrize("failure", list(Failure), ids=[f.value for f in Failure])
def test_a_failure_at_every_byte_never_prints_twice(failure: Failure, drawer: bool, gs_r: bool) -> None:
    length = conversation_length(drawer=drawer, gs_r=gs_r)
    outcomes = {at: break_and_recover(failure, at, drawer=drawer, gs_r=gs_r) for at in range(length + 1)}
    # Failing before the receipt's first byte: the job waits and prints after the recovery. Failing
    # after its last confirmation: printed. In between: unknown, and left to the cashier.
    assert outcomes[0] is Outcome.PRINTED
    assert outcomes[length] is Outcome.PRINTED
    assert Outcome.UNKNOWN in outcomes.values()
    first_unknown = min(at for at, o in outcomes.items() if o is Outcome.UNKNOWN)
    last_unknown = max(at for at, o in outcomes.items() if o is Outcome.UNKNOWN)
    assert all(o is Outcome.UNKNOWN for at, o in outcomes.items() if first_unknown <= at <= last_unknown)


# --- the same over TCP, for a sample of the boundaries ------------------------------------------


@pytest.fixture
def tcp_printer() -> Iterator[VirtualNetworkPrinter]:
    with VirtualNetworkPrinter() as printer:
        yield printer


def network_printer(vp: VirtualNetworkPrinter) -> ReceiptPrinter:
    printer = build_device(
        "printer",
        {
            "kind": "printer_network",
            "host": vp.host,
            "port": vp.port,
            "timeout_s": 2.0,
            "status_timeout_s": 0.2,
            "print_timeout_s": 1.0,
            "retry_interval_s": 0.01,
            "probe_interval_s": 3600.0,
        },
    )
    assert isinstance(printer, ReceiptPrinter)
    return printer


def work_for(printer: ReceiptPrinter, journal: Journal, rounds: int = WORK_ROUNDS) -> list[JobResult]:
    results: list[JobResult] = []
    for _ in range(rounds):
        results += printer.work(0.05, journal)
        time.sleep(0.01)  # past the retry interval
    return results


@pytest.mark.parametrize("failure", list(Failure), ids=[f.value for f in Failure])
def test_over_tcp_a_failure_in_the_middle_never_prints_twice(
    tcp_printer: VirtualNetworkPrinter, failure: Failure
) -> None:
    length = conversation_length(drawer=True, gs_r=True)
    for at in sorted({0, 5, 7, 12, length // 4, length // 2, 3 * length // 4, length - 4, length - 1, length}):
        printer = network_printer(tcp_printer)
        printer.open()
        try:
            job = f"job-{at}"
            journal = Journal()
            papers, pulses = len(tcp_printer.papers), len(tcp_printer.drawer_pulses)
            tcp_printer.fail_after(at, failure)
            printer.submit(ReceiptJob(job, make_receipt(code=CODE), open_drawer=True))
            results = work_for(printer, journal)
            tcp_printer.recover()
            results += work_for(printer, journal)
            new_papers = tcp_printer.papers[papers:]
            receipts = [p for p in new_papers if p.cut is not None]
            assert len(receipts) <= 1 and len(tcp_printer.drawer_pulses) - pulses <= 1, (at, new_papers)
            [final] = [r for r in results if r.final]
            assert final.outcome is not Outcome.PRINTED or len(receipts) == 1, (at, results)
            assert journal.sent.count((job, JobPart.RECEIPT)) == 1
        finally:
            printer.close()

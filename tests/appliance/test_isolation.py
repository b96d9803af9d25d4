"""A printer that stops answering for 10 s holds up its own thread only: while that thread waits in
its one unanswered status request, every scan at the till reaches the server and is acknowledged,
once each and in order, and the receipt it was given meanwhile prints once the printer answers again.

How fast the scans are acknowledged, with and without the stalled printer, is a figure for
``make bench`` (``bench/appliance.py`` prints the p99 of both and their ratio), not an assertion.
"""

from __future__ import annotations

import time

import pytest

from devices.virtual.printer import VirtualNetworkPrinter
from devices.virtual.printer_model import StatusMode
from devices.virtual.serial_scanner import VirtualSerialScanner
from tests.appliance.harness import Appliances, Spa
from tests.support import wait_until

pytestmark = pytest.mark.slow

STALL_S = 10.0  # the printer's status_timeout_s: each status request then blocks the printer thread this long
SCANS = 200
SCAN_EVERY_S = 0.03  # 200 scans over 6 s of the 10 s stall


def test_scans_reach_the_server_while_the_printer_hangs(
    spa: Spa, printer: VirtualNetworkPrinter, scanner: VirtualSerialScanner, appliances: Appliances
) -> None:
    order, waiting = spa.awaiting_payment(1)[0], spa.waiting_customers(1)[0]
    till = appliances.till(
        scanner=scanner,
        printer=printer,
        printer_options={"status_timeout_s": STALL_S, "probe_interval_s": 0.2},
        drawer=True,
        heartbeat_s=15,
    )
    screen = spa.client("cashier-1")

    # The printer goes mute; the driver's next status request blocks its thread for STALL_S. (Mute
    # first, then counted: any request from here on goes unanswered.)
    printer.set_status_mode(StatusMode.SILENT)
    asked = len(printer.status_requests)
    assert printer.wait_for(lambda p: len(p.status_requests) > asked, 5)
    stuck = printer.status_requests  # the printer thread is inside the last of these
    paid = screen.call("cashier_pay", {"transaction_id": order["transaction_id"], "amount_paid": "50.00"})
    assert paid["ok"]

    for _ in range(SCANS):
        scanner.scan(waiting["code"])
        time.sleep(SCAN_EVERY_S)  # pacing the scans, as a person scans; not a synchronisation
    wait_until(lambda: len(till.acked("cashier_lookup")) == SCANS, 10, what="every scan acknowledged")
    # All while the printer hung, none queued behind it: its thread is still in the request it was
    # stuck in (it asks again only after that one times out).
    assert printer.status_requests == stuck
    acked = till.acked("cashier_lookup")
    assert [line["payload"]["code"] for line in acked] == [waiting["code"]] * SCANS
    seqs = [int(line["key"].rsplit("-", 1)[1]) for line in acked]
    assert seqs == list(range(seqs[0], seqs[0] + SCANS))  # each scan once, in the order scanned
    till.wait_log(lambda line: line["msg"] == "print job rcpt-1: queued", 5, "the job stored while the printer hung")
    assert printer.receipts == []

    printer.set_status_mode(StatusMode.ANSWER)
    assert printer.wait_for(lambda p: len(p.receipts) == 1, 3 * STALL_S)
    wait_until(lambda: spa.query("SELECT state FROM print_jobs") == [("printed",)], 10, what="reported printed")
    assert len(printer.drawer_pulses) == 1  # paid in cash: the drawer opened, once
    assert order["code"] in printer.receipts[0].qr_codes
    assert till.terminate() == 0

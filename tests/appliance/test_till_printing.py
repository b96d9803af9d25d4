"""The till's paper of issue 12 through the whole daemon and the real server: a split payment with
a tip and a discount prints its receipt number, discount, taxes, tip and both tenders; an X report
comes as print_document and goes through the same once-only pipeline (journal, report with
receipt_status by job_id); each is on the paper once, also after a restart."""

from __future__ import annotations

import re

import pytest

from devices.virtual.printer import VirtualNetworkPrinter
from tests.appliance.harness import Appliances, Spa
from tests.support import wait_until

pytestmark = pytest.mark.slow


def job_states(spa: Spa) -> dict[str, str]:
    return dict(spa.query("SELECT job_id, state FROM print_jobs"))


def row(lines: list[str], label: str) -> str:
    [line] = [line for line in lines if line.startswith(label + " ") or line == label]
    return line


def test_a_split_receipt_with_tip_and_discount_and_an_x_report_print_once(
    spa: Spa, printer: VirtualNetworkPrinter, appliances: Appliances
) -> None:
    [order] = spa.awaiting_payment(1)  # a Swedish massage, 45.00
    tid = order["transaction_id"]
    till = appliances.till(printer=printer, printer_options={"retry_interval_s": 0.2, "probe_interval_s": 0.5})
    screen = spa.client("cashier-1")  # the till's own page

    [(item,)] = spa.query("SELECT id FROM transaction_items WHERE transaction_id = ?", (tid,))
    discount = {"transaction_id": tid, "item_id": item, "amount": "4.00", "reason": "regular"}
    discounted = screen.call("cashier_discount", discount)  # under the share that needs a manager
    assert discounted["ok"], discounted
    assert discounted["transaction"]["total"] == "41.00"
    tenders = [{"method": "cash", "amount": "30.00"}, {"method": "card", "amount": "15.00"}]
    paid = screen.call("cashier_pay", {"transaction_id": tid, "tenders": tenders, "tip": "3.00"})
    assert paid["ok"], paid
    assert paid["change"] == "1.00"  # 41.00 + 3.00 owed; 15.00 by card, 30.00 cash: 1.00 back
    receipt_job = paid["print_job"]["job_id"]
    number = paid["payment"]["receipt_number"]
    heard = screen.wait_for("receipt_status", lambda s: s["job_id"] == receipt_job)
    assert heard["ok"] is True and heard["transaction_id"] == tid

    [paper] = printer.receipts
    lines = paper.lines
    assert row(lines, "Receipt no.").endswith(number) and lines.count(row(lines, "Receipt no.")) == 1
    assert row(lines, "Ticket").endswith(order["code"])
    # The server's receipt carries the discount, not its reason (contract.RECEIPT has no field for
    # it yet): the line says "Discount" alone; a reason sent prints beside it (test_till_layout).
    assert row(lines, "  Discount").endswith("-4.00 €")
    for label, value in [
        ("TOTAL", "41.00 €"),
        ("Tip", "3.00 €"),
        ("Total with tip", "44.00 €"),
        ("Paid (Cash)", "30.00 €"),
        ("Paid (Card)", "15.00 €"),
        ("Change", "1.00 €"),
    ]:
        assert row(lines, label).endswith(value), (label, lines)
    assert "Taxes (€)" in lines and row(lines, "Rate").split() == ["Rate", "Net", "Tax", "Gross"]
    assert len(printer.drawer_pulses) == 1  # cash was taken

    report = screen.call("till_report_x", {})
    assert report["ok"], report
    document_job = report["print_job"]["job_id"]
    assert report["print_job"]["transaction_id"] is None and report["print_job"]["open_drawer"] is False
    heard = screen.wait_for("receipt_status", lambda s: s["job_id"] == document_job)
    assert heard["ok"] is True and heard["transaction_id"] is None
    assert printer.wait_for(lambda p: len(p.receipts) == 2, 10)
    x = printer.receipts[1]
    assert "X REPORT" in x.lines and row(x.lines, "Tips").endswith("€3.00")
    assert row(x.lines, "Till").endswith("cashier-1")
    assert re.fullmatch(r"Opened +\d{4}-\d{2}-\d{2} \d{2}:\d{2}", row(x.lines, "Opened"))  # not UTC's ISO
    wait_until(lambda: job_states(spa) == {receipt_job: "printed", document_job: "printed"}, 10, what="both reported")
    assert till.find(lambda line: line["msg"] == f"reported job {document_job}: printed")

    # Once: a restart sends neither again (the server holds both as printed; the appliance too).
    assert till.terminate() == 0
    till.start()
    till.wait_connected(nth=2)
    again = screen.call("till_report_x", {})  # a second report prints: it is a new job
    assert printer.wait_for(lambda p: len(p.receipts) == 3, 10)
    wait_until(lambda: job_states(spa).get(again["print_job"]["job_id"]) == "printed", 10, what="second report")
    assert [p.lines.count("X REPORT") for p in printer.receipts] == [0, 1, 1]
    assert len(printer.papers) == 3 and len(printer.drawer_pulses) == 1
    assert till.terminate() == 0

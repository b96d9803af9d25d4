"""The till's receipts and documents of issue 12 on paper: what the layout makes of discounts, taxes
per rate, a tip, split tenders, a receipt number and COPY, and of a slip or report, as the virtual
printer parses the rendered ESC/POS bytes (42 and 48 columns on 80 mm paper, 32 on 58 mm)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from devices.base import (
    Document,
    DocumentJob,
    DocumentLine,
    JobPart,
    JobResult,
    Outcome,
    ReceiptLine,
    TaxLine,
    Tender,
)
from devices.printer.driver import ReceiptPrinter
from devices.printer.layout import LayoutSettings, label_value, layout_document, layout_receipt
from devices.printer.render import render
from devices.virtual.printer import VirtualNetworkPrinter
from devices.virtual.printer_model import PrinterModel
from tests.devices.helpers import make_receipt
from tests.devices.test_printer_driver import network_printer


def split_receipt(**overrides: Any) -> Any:
    """45.00 less 4.50 ("regular") at 19 %, 2 × 12.35 at 7 %, 10.00 off the order ("sorry"):
    55.20, a 3.00 tip, 40.00 cash and 20.00 card, 1.80 back."""
    values: dict[str, Any] = dict(
        code="A-042",
        receipt_number="T02-2026-000123",
        items=(
            ReceiptLine("Swedish massage", 1, 4500, 450, "regular", 1900),
            ReceiptLine("Hot stones", 2, 1235, 0, "", 700),
        ),
        order_discount_cents=1000,
        order_discount_reason="sorry",
        taxes=(TaxLine(700, 1954, 137, 2091), TaxLine(1900, 2882, 547, 3429)),
        total_cents=5520,
        tip_cents=300,
        paid_cents=6000,
        change_cents=180,
        method="split",
        tenders=(Tender("cash", 4000), Tender("card", 2000)),
    )
    values.update(overrides)
    return make_receipt(**values)


def paper_lines(ops: list[Any]) -> list[str]:
    """What the virtual printer prints of the operations: the one receipt it cut."""
    model = PrinterModel()
    model.feed(render(ops))
    assert model.unknown == []
    [paper] = model.papers
    assert paper.cut == "full"
    return paper.lines


def right(label: str, value: str, width: int) -> str:
    return label + " " * (width - len(label) - len(value)) + value


@pytest.mark.parametrize("width", [42, 48])
def test_a_split_receipt_shows_every_figure_once_on_80_mm_paper(width: int) -> None:
    lines = paper_lines(layout_receipt(split_receipt(), LayoutSettings(width_chars=width)))
    assert all(len(line) <= width for line in lines)
    for expected in [
        right("Receipt no.", "T02-2026-000123", width),
        right("Ticket", "A-042", width),
        right("Swedish massage", "45.00 €", width),
        right("  Discount (regular)", "-4.50 €", width),
        "Hot stones",
        right("  2 x 12.35 €", "24.70 €", width),
        right("Subtotal", "65.20 €", width),
        right("Discount (sorry)", "-10.00 €", width),
        right("TOTAL", "55.20 €", width),
        right("Tip", "3.00 €", width),
        right("Total with tip", "58.20 €", width),
        right("Paid (Cash)", "40.00 €", width),
        right("Paid (Card)", "20.00 €", width),
        right("Change", "1.80 €", width),
        "Taxes (€)",
        right("Rate", "    Net    Tax  Gross", width),
        right("7%", "  19.54   1.37  20.91", width),
        right("19%", "  28.82   5.47  34.29", width),
    ]:
        assert lines.count(expected) == 1, (expected, lines)
    assert not any("COPY" in line for line in lines)
    # in the order a customer reads it: the lines, the bill, the payment, the taxes
    order = [next(i for i, line in enumerate(lines) if line.startswith(s)) for s in
             ("Receipt no.", "Swedish", "Subtotal", "TOTAL", "Tip", "Paid (Cash)", "Change", "Taxes")]  # fmt: skip
    assert order == sorted(order)


def test_a_reprint_says_copy_and_keeps_its_number() -> None:
    printed = datetime(2026, 11, 30, 9, 5)
    lines = paper_lines(layout_receipt(split_receipt(copy=True, printed_at=printed), LayoutSettings()))
    assert lines.count("*** COPY ***") == 1
    assert right("Receipt no.", "T02-2026-000123", 42) in lines
    assert right("Printed", "2026-11-30 09:05", 42) in lines


def test_a_receipt_without_discounts_or_tip_keeps_its_old_shape() -> None:
    """A cash receipt as before issue 12 (no number, no taxes): no subtotal, tip or tax lines."""
    lines = paper_lines(layout_receipt(make_receipt(), LayoutSettings()))
    assert right("Receipt", "T-0042", 42) in lines
    assert not any(line.startswith(("Subtotal", "Tip", "Taxes", "Ticket", "Discount")) for line in lines)
    assert right("Paid (Cash)", "110.00 €", 42) in lines


def test_prices_without_tax_show_the_tax_added_on_top() -> None:
    receipt = split_receipt(
        prices_include_tax=False,
        taxes=(TaxLine(700, 2091, 146, 2237), TaxLine(1900, 3429, 652, 4081)),
        total_cents=6318,
        paid_cents=7000,
        change_cents=382,
        tenders=(Tender("cash", 5000), Tender("card", 2000)),
    )
    lines = paper_lines(layout_receipt(receipt, LayoutSettings()))
    assert right("Tax", "7.98 €", 42) in lines and right("TOTAL", "63.18 €", 42) in lines


def test_58_mm_paper_stacks_the_taxes_when_the_table_does_not_fit() -> None:
    big = split_receipt(
        items=(ReceiptLine("Spa day for a group", 1, 1_234_567_00, 0, "", 1900),),
        order_discount_cents=0,
        order_discount_reason="",
        taxes=(TaxLine(1900, 1_037_451_26, 197_115_74, 1_234_567_00),),
        total_cents=1_234_567_00,
        tip_cents=0,
        paid_cents=1_234_567_00,
        change_cents=0,
        method="card",
        tenders=(Tender("card", 1_234_567_00),),
    )
    lines = paper_lines(layout_receipt(big, LayoutSettings(width_chars=32)))
    assert all(len(line) <= 32 for line in lines)
    assert right("19% net", "1037451.26 €", 32) in lines
    assert right("19% tax", "197115.74 €", 32) in lines
    assert right("19% gross", "1234567.00 €", 32) in lines
    assert not any(line.startswith("Rate") for line in lines)


@pytest.mark.parametrize(
    ("label", "value", "width", "expected"),
    [
        ("Float", "€100.00", 20, ["Float        €100.00"]),
        ("Receipts", "T01-2026-000001 … T01-2026-000003", 42, ["Receipts T01-2026-000001 … T01-2026-000003"]),
        (
            "Receipts",
            "T01-2026-000001 … T01-2026-000003",
            32,
            ["Receipts", "T01-2026-000001 …".rjust(32), "T01-2026-000003".rjust(32)],
        ),
        ("Cash over/short", "€-3.00", 12, ["Cash", "over/short", "      €-3.00"]),
    ],  # fmt: skip
)
def test_a_value_too_wide_for_its_label_goes_below_it(label: str, value: str, width: int, expected: list[str]) -> None:
    assert label_value(label, value, width) == expected


def x_report(**overrides: Any) -> Document:
    values: dict[str, Any] = dict(
        kind="x_report",
        title="X REPORT",
        spa_name="Lotus Spa",
        spa_address="Hauptstraße 1\n10115 Berlin",
        at=datetime(2026, 11, 29, 18, 28),
        till="cashier-1",
        lines=(
            DocumentLine("Opened", datetime(2026, 11, 29, 8, 0)),
            DocumentLine("Float", "€100.00"),
            DocumentLine("Cash sales", "€57.00"),
            DocumentLine("Cash over/short", "€-3.00"),
            DocumentLine("Receipts", "T01-2026-000001 … T01-2026-000003"),
        ),
    )
    values.update(overrides)
    return Document(**values)


@pytest.mark.parametrize("width", [32, 42, 48])
def test_a_report_prints_its_title_till_time_and_lines(width: int) -> None:
    lines = paper_lines(layout_document(x_report(), LayoutSettings(width_chars=width)))
    assert all(len(line) <= width for line in lines)
    assert lines.count("X REPORT") == 1  # centred by the printer, not with spaces
    for expected in [
        right("Till", "cashier-1", width),
        right("Date", "2026-11-29 18:28", width),
        right("Opened", "2026-11-29 08:00", width),
        right("Float", "€100.00", width),
        right("Cash over/short", "€-3.00", width),
    ]:
        assert lines.count(expected) == 1, (expected, lines)
    assert "T01-2026-000003" in "".join(lines) and "Hauptstraße 1" in lines
    assert not any(line.startswith("Number") for line in lines)


def test_a_refund_slip_shows_its_number() -> None:
    slip = x_report(kind="refund", title="REFUND", number="T01-2026-000004", lines=(DocumentLine("Cash", "€18.00"),))
    lines = paper_lines(layout_document(slip, LayoutSettings()))
    assert right("Number", "T01-2026-000004", 42) in lines and right("Cash", "€18.00", 42) in lines


class Journal:
    def __init__(self) -> None:
        self.parts: list[tuple[str, JobPart]] = []

    def sending(self, job_id: str, part: JobPart) -> None:
        self.parts.append((job_id, part))


def test_a_document_goes_through_the_driver_as_a_receipt_does(virtual_printer: VirtualNetworkPrinter) -> None:
    """Journalled part by part, the drawer pulse first and on its own, printed once."""
    printer: ReceiptPrinter = network_printer(virtual_printer)
    printer.open()
    try:
        journal = Journal()
        slip = x_report(kind="cash_out", title="CASH OUT", lines=(DocumentLine("Amount", "€50.00"),))
        printer.submit(DocumentJob("doc-1", slip, open_drawer=True))
        results: list[JobResult] = []
        for _ in range(50):
            results += printer.work(0.1, journal)
            if results:
                break
        assert [(r.job_id, r.outcome) for r in results] == [("doc-1", Outcome.PRINTED)]
        assert journal.parts == [("doc-1", JobPart.DRAWER), ("doc-1", JobPart.RECEIPT)]
        printer.submit(DocumentJob("doc-1", slip, open_drawer=True))  # the server's re-send: ignored
        assert printer.pending_job_ids() == []
        [paper] = virtual_printer.receipts
        assert "CASH OUT" in paper.text and right("Amount", "€50.00", 42) in paper.lines
        assert len(virtual_printer.drawer_pulses) == 1
    finally:
        printer.close()

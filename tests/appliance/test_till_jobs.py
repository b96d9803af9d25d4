"""The till's print jobs of issue 12 as pure functions: a receipt with line and order discounts,
taxes per rate, a tip and split tenders → a print job in exact cents, or a ValueError naming the
field whose figures do not add up; a ``print_document`` (slips, X and Z reports) → a document job,
its result reported for no visit."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from appliance.printstore import PrintJobs
from appliance.protocol import (
    document_job,
    event_of,
    print_job,
    print_request,
    receipt_job,
    receipt_status_payload,
)
from appliance.store import Store, prepare
from devices.base import DocumentJob, DocumentLine, ReceiptJob, ReceiptLine, TaxLine, Tender
from server.domain import till
from server.protocol import schema
from tests.appliance.harness import print_receipt

# 45.00 less 10 % ("regular") at 19 %, 2 × 12.35 at 7 %, 10.00 off the order ("sorry"): the bill of
# server/domain/till.py `bill`, 55.20; a 3.00 tip; 40.00 cash and 20.00 card, 1.80 back from the cash.
BILL = till.bill(
    [till.Line(1, 4050, 1900), till.Line(2, 2470, 700)], till.Discount(till.DiscountKind.AMOUNT, 1000, "sorry")
)


def split_receipt(**changes: Any) -> dict[str, Any]:
    """A print_receipt payload with every field issue 12 added (server/service/printing.py `receipt`)."""
    assert BILL.total_cents == 5520
    body: dict[str, Any] = {
        "receipt_number": "T02-2026-000123",
        "items": [
            {"name": "Swedish massage", "quantity": 1, "unit_price": "45.00", "discount": "4.50",
             "discount_reason": "regular", "tax_rate": "19.00"},
            {"name": "Hot stones", "quantity": 2, "unit_price": "12.35", "discount": "0.00", "tax_rate": "7.00"},
        ],
        "order_discount": "10.00", "order_discount_reason": "sorry", "prices_include_tax": True,
        "taxes": [
            {"rate": "7.00", "net": "19.54", "tax": "1.37", "gross": "20.91"},
            {"rate": "19.00", "net": "28.82", "tax": "5.47", "gross": "34.29"},
        ],
        "total": "55.20", "tip": "3.00", "paid": "60.00", "change": "1.80", "method": "split",
        "tenders": [{"method": "cash", "amount": "40.00"}, {"method": "card", "amount": "20.00"}],
        "timezone": "Europe/Berlin",
    }  # fmt: skip
    body.update(changes)
    return print_receipt(**body)


def test_the_server_bill_is_the_one_in_the_sample() -> None:
    taxes = [(t.rate_bp, t.net_cents, t.tax_cents, t.gross_cents) for t in BILL.taxes]
    assert taxes == [(700, 1954, 137, 2091), (1900, 2882, 547, 3429)]


def test_a_split_receipt_with_discounts_taxes_and_a_tip_becomes_a_job_in_cents() -> None:
    job = receipt_job(split_receipt(), drawer=True)
    r = job.receipt
    assert r.items == (
        ReceiptLine("Swedish massage", 1, 4500, 450, "regular", 1900),
        ReceiptLine("Hot stones", 2, 1235, 0, "", 700),
    )
    assert (r.receipt_number, r.order_discount_cents, r.order_discount_reason) == ("T02-2026-000123", 1000, "sorry")
    assert r.taxes == (TaxLine(700, 1954, 137, 2091), TaxLine(1900, 2882, 547, 3429))
    assert (r.total_cents, r.tip_cents, r.paid_cents, r.change_cents, r.method) == (5520, 300, 6000, 180, "split")
    assert r.tenders == (Tender("cash", 4000), Tender("card", 2000))
    assert (r.tendered("cash"), r.tendered("card")) == (4000, 2000)
    assert job.open_drawer is True


@pytest.mark.parametrize(
    "changes",
    [
        {},  # as the server sends it
        {"copy": True},
        {"receipt_number": None},  # paid at a staff browser: no till, no number
        {
            "tip": "0.00",
            "paid": "57.00",
            "change": "1.80",
            "tenders": [{"method": "cash", "amount": "37.00"}, {"method": "card", "amount": "20.00"}],
        },
        {
            "order_discount": "0.00",
            "order_discount_reason": None,
            "total": "65.20",
            "taxes": [
                {"rate": "7.00", "net": "23.08", "tax": "1.62", "gross": "24.70"},
                {"rate": "19.00", "net": "34.03", "tax": "6.47", "gross": "40.50"},
            ],
            "paid": "70.00",
            "change": "1.80",
            "tip": "3.00",
            "tenders": [{"method": "cash", "amount": "50.00"}, {"method": "card", "amount": "20.00"}],
        },
        # the card pays the rest exactly, the change is all from the cash
        {
            "paid": "58.20",
            "change": "0.00",
            "tenders": [{"method": "cash", "amount": "38.20"}, {"method": "card", "amount": "20.00"}],
        },
        # one tender: the method named, no split
        {"method": "card", "paid": "58.20", "change": "0.00", "tenders": [{"method": "card", "amount": "58.20"}]},
        {"method": "cash", "tenders": [{"method": "cash", "amount": "60.00"}], "change": "1.80"},
        # prices without tax: the lines are the net, the tax goes on top
        {
            "prices_include_tax": False,
            "taxes": [
                {"rate": "7.00", "net": "20.91", "tax": "1.46", "gross": "22.37"},
                {"rate": "19.00", "net": "34.29", "tax": "6.52", "gross": "40.81"},
            ],
            "total": "63.18",
            "paid": "70.00",
            "change": "3.82",
            "tenders": [{"method": "cash", "amount": "50.00"}, {"method": "card", "amount": "20.00"}],
        },
    ],
)
def test_receipts_the_contract_allows_are_accepted(changes: dict[str, Any]) -> None:
    assert isinstance(receipt_job(split_receipt(**changes), drawer=True), ReceiptJob)


def test_receipt_without_the_new_fields_still_prints() -> None:
    """From a server before issue 12: no number, no taxes, no tenders; paid all in the method."""
    r = receipt_job(print_receipt(), drawer=True).receipt
    assert (r.receipt_number, r.taxes, r.tenders, r.tip_cents, r.order_discount_cents) == (None, (), (), 0, 0)


REFUSED = [
    # each new field, malformed
    ({"receipt_number": "T02 2026"}, "receipt.receipt_number = 'T02 2026': must be printable ASCII"),
    ({"receipt_number": 123}, "receipt.receipt_number = 123: must be a string"),
    ({"tip": "-3.00"}, "receipt.tip = '-3.00': must be a non-negative amount"),
    ({"tip": 3.0}, 'receipt.tip = 3.0: must be a decimal string like "45.00"'),
    ({"order_discount": "ten"}, "receipt.order_discount = 'ten': not a decimal amount"),
    ({"order_discount_reason": 7}, "receipt.order_discount_reason = 7: must be a string"),
    (
        {"items": [{"name": "Sauna", "quantity": 1, "unit_price": "55.20", "discount_reason": 5}]},
        "receipt.items.discount_reason = 5: must be a string",
    ),
    ({"prices_include_tax": "yes"}, "receipt.prices_include_tax = 'yes': must be true or false"),
    ({"taxes": {"rate": "7.00"}}, "receipt.taxes: must be a list"),
    ({"taxes": ["7.00"]}, "receipt.taxes[0]: must be an object"),
    ({"tenders": "cash"}, "receipt.tenders: must be a list"),
    ({"method": "cheque"}, "receipt.method = 'cheque': must be one of cash, card, split"),
    # the taxes
    (
        {
            "taxes": [
                {"rate": "7.00", "net": "19.54", "tax": "1.37", "gross": "20.91"},
                {"rate": "19.00", "net": "28.82", "tax": "5.47", "gross": "34.30"},
            ]
        },
        "receipt.taxes.gross_cents = 3430: must be net + tax = 3429",
    ),
    (
        {
            "taxes": [
                {"rate": "7.00", "net": "19.54", "tax": "1.37", "gross": "20.91"},
                {"rate": "19.00", "net": "28.83", "tax": "5.47", "gross": "34.30"},
            ]
        },
        "receipt.taxes: the gross adds up to 5521, not the total 5520",
    ),
    (
        {"taxes": [{"rate": "19.00", "net": "46.39", "tax": "8.81", "gross": "55.20"}]},
        "receipt.items.tax_rate_bp = 700: no line in receipt.taxes for it",
    ),
    (
        {
            "taxes": [
                {"rate": "7.00", "net": "19.54", "tax": "1.37", "gross": "20.91"},
                {"rate": "7.00", "net": "28.82", "tax": "5.47", "gross": "34.29"},
            ]
        },
        "receipt.taxes: rate given twice",
    ),
    (
        {"taxes": [{"rate": "7.001", "net": "19.54", "tax": "1.37", "gross": "20.91"}]},
        "receipt.taxes.rate = '7.001': must be a non-negative amount with at most 2 decimals",
    ),
    (
        {"items": [{"name": "Sauna", "quantity": 1, "unit_price": "55.20", "tax_rate": "107.00"}]},
        "receipt.items.tax_rate = '107.00': more than 100 %",
    ),
    ({"prices_include_tax": False}, "receipt.taxes: the net adds up to 4836, not lines - discounts = 5520"),
    # discounts
    (
        {"items": [{"name": "Swedish massage", "quantity": 1, "unit_price": "45.00", "discount": "45.01"}]},
        "receipt.items.discount_cents = 4501: more than the line's 4500",
    ),
    (
        {"items": [{"name": "Swedish massage", "quantity": 1, "unit_price": "45.00", "discount": "4,50"}]},
        "receipt.items.discount = '4,50': not a decimal amount",
    ),
    ({"order_discount": "9.99"}, "receipt.total_cents = 5520: the items add up to 5521 (every discount off)"),
    ({"order_discount": "70.00"}, "receipt.order_discount_cents = 7000: more than the lines' 6520"),
    # the payment
    ({"tip": "23.00"}, "receipt.paid_cents = 6000: less than the total 5520 + tip 2300"),
    ({"change": "1.79"}, "receipt.change_cents = 179: must be cash - (total + tip - card) = 180"),
    ({"change": "0.00"}, "receipt.change_cents = 0: must be cash - (total + tip - card) = 180"),
    ({"paid": "61.00", "change": "2.80"}, "receipt.paid_cents = 6100: the tenders add up to 6000"),
    ({"tenders": None}, "receipt.tenders: a split payment names its cash and card tenders"),
    ({"tenders": [{"method": "cash", "amount": "60.00"}]}, "receipt.tenders: cash for a split payment"),
    ({"method": "cash"}, "receipt.tenders: cash, card for a cash payment"),
    (
        {"tenders": [{"method": "cash", "amount": "40.00"}, {"method": "cash", "amount": "20.00"}]},
        "receipt.tenders: one tender per method, not ['cash', 'cash']",
    ),
    (
        {"tenders": [{"method": "cheque", "amount": "40.00"}, {"method": "card", "amount": "20.00"}]},
        "receipt.tenders.method = 'cheque': must be one of cash, card",
    ),
    (
        {"tenders": [{"method": "cash", "amount": "0.00"}, {"method": "card", "amount": "60.00"}]},
        "receipt.tenders: the card pays 6000, more than total + tip = 5820",
    ),
    (
        {"tenders": [{"method": "cash", "amount": "forty"}, {"method": "card", "amount": "20.00"}]},
        "receipt.tenders.amount = 'forty': not a decimal amount",
    ),
]


@pytest.mark.parametrize(("changes", "message"), REFUSED)
def test_receipts_whose_fields_or_figures_are_wrong_are_refused_naming_the_field(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        receipt_job(split_receipt(**changes), drawer=True)


def test_an_amount_without_decimals_is_exact_too() -> None:
    """ "3" is 3.00: accepted as an amount, so a tip of 3 with 3.00 expected prints."""
    assert receipt_job(split_receipt(tip="3"), drawer=True).receipt.tip_cents == 300


# --- documents -----------------------------------------------------------------------------------------


def x_report(**changes: Any) -> dict[str, Any]:
    """A print_document as server/service/printing.py `document` and till.py `_document` build it."""
    document: dict[str, Any] = {
        "kind": "x_report", "title": "X REPORT", "number": None, "spa_name": "Lotus Spa",
        "spa_address": "Main St 1", "timezone": "Europe/Berlin", "at": "2026-11-29T17:28:00.000Z",
        "till": "cashier-1",
        "lines": [{"label": "Opened", "value": "2026-11-29T07:00:00.000Z"},
                  {"label": "Float", "value": "€100.00"}, {"label": "Cash sales", "value": "€57.00"},
                  {"label": "Receipts", "value": "T01-2026-000001 … T01-2026-000003"}],
    }  # fmt: skip
    document.update(changes)
    return {"job_id": "doc-x-1", "transaction_id": None, "open_drawer": False, "document": document}


def test_a_document_becomes_a_job_for_no_visit() -> None:
    payload = x_report()
    assert event_of(payload) == "print_document" and event_of(print_receipt()) == "print_receipt"
    request = print_request(payload)
    assert (request.event, request.job_id, request.transaction_id) == ("print_document", "doc-x-1", None)
    job = print_job(payload, drawer=True)
    assert isinstance(job, DocumentJob) and job.open_drawer is False
    d = job.document
    assert (d.kind, d.title, d.till, d.number) == ("x_report", "X REPORT", "cashier-1", None)
    opened = d.lines[0].value
    assert isinstance(opened, datetime) and opened.strftime("%Y-%m-%d %H:%M") == "2026-11-29 08:00"  # spa's time
    assert d.lines[1] == DocumentLine("Float", "€100.00")
    assert d.lines[3].value == "T01-2026-000001 … T01-2026-000003"  # not a time: as it came
    assert d.at.strftime("%Y-%m-%d %H:%M") == "2026-11-29 18:28"  # in the spa's zone


def test_a_refund_slip_for_cash_opens_the_drawer_only_where_there_is_one() -> None:
    payload = x_report(kind="refund", title="REFUND", number="T01-2026-000004") | {
        "transaction_id": 9,
        "open_drawer": True,
    }
    assert document_job(payload, drawer=True).open_drawer is True
    assert document_job(payload, drawer=False).open_drawer is False
    assert print_request(payload).transaction_id == 9
    assert document_job(payload, drawer=True).document.number == "T01-2026-000004"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (x_report() | {"document": None}, "print_document.document: must be an object"),
        (x_report() | {"open_drawer": "no"}, "print_document.open_drawer = 'no': must be true or false"),
        (x_report() | {"transaction_id": 0}, "print_document.transaction_id = 0: must be a positive integer"),
        (x_report() | {"job_id": ""}, "print_document.job_id = ''"),
        (x_report(kind=""), "document.kind = '': must not be empty"),
        (x_report(title=None), "document.title = None: must be a string"),
        (x_report(at="today"), "document.at = 'today': not an ISO time"),
        (x_report(till=""), "document.till = '': must not be empty"),
        (x_report(lines="Float"), "document.lines: must be a list"),
        (x_report(lines=[{"label": "Float", "value": 100}]), "document.lines.value = 100: must be a string"),
        (x_report(number="T01 2026"), "document.number = 'T01 2026': must be printable ASCII"),
        (print_receipt() | {"transaction_id": None}, "print_receipt.transaction_id = None"),  # a receipt is for a visit
    ],
)
def test_documents_that_cannot_print(payload: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        print_job(payload, drawer=True)


def test_a_documents_result_is_reported_for_no_visit_as_the_server_takes_it(tmp_path: Path) -> None:
    """The store's transaction column is NOT NULL: a document for no visit is kept with 0 and
    reported with null, which the server's receipt_status accepts."""
    path = tmp_path / "state" / "outbox.sqlite3"
    prepare(path.parent, path)
    store = Store(path)
    try:
        jobs = PrintJobs(path, store)
        assert jobs.receive("doc-x-1", None, x_report(), "cannot print") == "rejected"
        [report] = jobs.unreported()
        assert report.transaction_id is None
        status = schema.parse_print_status(receipt_status_payload(report.job_id, report.transaction_id, report.result))
        assert (status.job_id, status.transaction_id, status.ok) == ("doc-x-1", None, False)
        jobs.close()
    finally:
        store.close()

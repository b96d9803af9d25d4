"""The receipt layout as a pure function, and receipt validation. No I/O."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from devices.base import DrawerJob, ReceiptJob, ReceiptLine
from devices.printer.layout import (
    Align,
    Barcode,
    CodeSymbol,
    Cut,
    Feed,
    LayoutSettings,
    QrCode,
    TextLine,
    clean,
    format_money,
    layout_receipt,
    two_columns,
)
from tests.devices.helpers import make_receipt


def texts(ops) -> list[str]:
    return [op.text for op in ops if isinstance(op, TextLine)]


@pytest.mark.parametrize(
    ("cents", "currency", "separator", "expected"),
    [
        (0, "€", ".", "0.00 €"),
        (5, "€", ",", "0,05 €"),
        (10500, "€", ",", "105,00 €"),
        (123456, "CHF", ".", "1234.56 CHF"),
        (999, "$", ".", "$9.99"),
        (100, "£", ".", "£1.00"),
    ],
)
def test_format_money(cents: int, currency: str, separator: str, expected: str) -> None:
    assert format_money(cents, currency, separator) == expected


@pytest.mark.parametrize(
    ("left", "right", "width", "expected"),
    [
        ("TOTAL", "9.00 €", 20, ["TOTAL         9.00 €"]),
        ("Hot stone massage deluxe", "90.00 €", 24, ["Hot stone        90.00 €", "massage deluxe"]),
        ("", "1.00 €", 10, ["    1.00 €"]),
    ],
)
def test_two_columns(left: str, right: str, width: int, expected: list[str]) -> None:
    lines = two_columns(left, right, width)
    assert lines == expected
    assert all(len(line) <= width for line in lines)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Anna", "Anna"), ("evil\x1b@\x1dV\x00", "evil @ V "), ("tab\there", "tab here"), ("Zoë €", "Zoë €")],
)
def test_clean_keeps_escpos_commands_out_of_text(text: str, expected: str) -> None:
    assert clean(text) == expected


def test_full_layout() -> None:
    ops = layout_receipt(make_receipt(), LayoutSettings(width_chars=42))
    assert ops[0] == TextLine("Lotus Spa", Align.CENTER, bold=True, double=True)
    assert ops[1:3] == [TextLine("Hauptstraße 1", Align.CENTER), TextLine("10115 Berlin", Align.CENTER)]
    body = texts(ops)
    assert body[3:] == [
        "-" * 42,
        "Receipt                             T-0042",
        "Date                      2024-05-01 14:32",
        "Cashier                               Anna",
        "-" * 42,
        "Massage 60 min",
        "  2 x 45.00 €                      90.00 €",
        "Sauna                              15.00 €",
        "-" * 42,
        "TOTAL                             105.00 €",
        "Paid (Cash)                       110.00 €",
        "Change                              5.00 €",
        "Thank you for your visit!",
    ]
    assert TextLine("TOTAL                             105.00 €", bold=True) in ops
    assert ops[-4:] == [Feed(1), QrCode("T-0042"), TextLine("Thank you for your visit!", Align.CENTER), Cut()]
    assert all(len(t) <= 42 for t in body)


@pytest.mark.parametrize(
    ("settings", "code_op"),
    [
        (LayoutSettings(code_symbol=CodeSymbol.QR), QrCode("T-0042")),
        (LayoutSettings(code_symbol=CodeSymbol.CODE128), Barcode("T-0042")),
        (LayoutSettings(code_symbol=CodeSymbol.NONE), None),
    ],
)
def test_code_symbol_choice(settings: LayoutSettings, code_op) -> None:
    ops = layout_receipt(make_receipt(), settings)
    codes = [op for op in ops if isinstance(op, QrCode | Barcode)]
    assert codes == ([code_op] if code_op else [])


def test_narrow_paper_card_payment_and_no_thank_you() -> None:
    receipt = make_receipt(
        items=(ReceiptLine("Aromatherapy full body treatment", 1, 7900),),
        total_cents=7900,
        paid_cents=7900,
        change_cents=0,
        method="card",
        currency="$",
        spa_address="",
    )
    ops = layout_receipt(receipt, LayoutSettings(width_chars=32, decimal_separator=".", thank_you=""))
    body = texts(ops)
    assert all(len(t) <= 32 for t in body)
    assert "Aromatherapy full body    $79.00" in body
    assert "treatment" in body
    assert "Paid (Card)               $79.00" in body
    assert not any("Thank" in t for t in body)
    assert body[1] == "-" * 32  # no address lines


def test_control_characters_in_names_do_not_become_commands() -> None:
    receipt = make_receipt(cashier="Anna\x1bp\x00\x19\xfa")
    assert "Cashier                          Anna p  ú" in texts(layout_receipt(receipt, LayoutSettings()))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"total_cents": 10000}, "total_cents = 10000: the items add up to 10500"),
        ({"paid_cents": 100, "change_cents": 0}, "paid_cents = 100: less than the total"),
        ({"change_cents": 400}, "change_cents = 400: must be cash - (total + tip - card) = 500"),
        ({"total_cents": 105.0}, "total_cents = 105.0: must be an integer number of cents"),
        ({"method": "cheque"}, "method = 'cheque': must be one of cash, card"),
        ({"code": "T 42"}, "code = 'T 42': must be printable ASCII"),
        ({"items": ()}, "items: must be a non-empty tuple"),
        ({"items": [ReceiptLine("x", 1, 10500)]}, "items: must be a non-empty tuple"),
        ({"created_at": "2024-05-01"}, "created_at = '2024-05-01': must be a datetime"),
        ({"spa_name": " "}, "spa_name = ' ': must not be empty"),
    ],
)
def test_receipt_that_does_not_add_up_is_refused(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        make_receipt(**overrides)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("Sauna", 0, 100), "quantity = 0: must be a whole number >= 1"),
        (("Sauna", True, 100), "quantity = True"),
        (("Sauna", 1, -1), "unit_price_cents = -1: must not be negative"),
        (("", 1, 100), "items.name = '': must not be empty"),
    ],
)
def test_bad_receipt_lines(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReceiptLine(*args)


def test_jobs_need_an_id() -> None:
    with pytest.raises(ValueError, match="job_id"):
        DrawerJob("")
    with pytest.raises(ValueError, match="must be a Receipt"):
        ReceiptJob("j1", "not a receipt")  # type: ignore[arg-type]
    assert ReceiptJob("j1", make_receipt()).open_drawer is False
    assert isinstance(make_receipt().created_at, datetime)

from __future__ import annotations

import pytest

from server.domain.errors import CommandError, ErrorCode
from server.domain.money import MAX_AMOUNT_CENTS, change_due, format_cents, line_total, parse_amount


@pytest.mark.parametrize(
    ("value", "cents"),
    [
        ("45.00", 4500),
        ("45", 4500),
        ("45.5", 4550),
        ("0.01", 1),
        ("0", 0),
        (" 12.30 ", 1230),
        (45, 4500),
        (0, 0),
        ("1000000.00", MAX_AMOUNT_CENTS),
        ("999999.99", 99_999_999),
    ],
)
def test_parse_amount_accepts(value: object, cents: int) -> None:
    assert parse_amount(value) == cents


@pytest.mark.parametrize(
    "value",
    [
        45.0,
        0.1,
        True,
        False,
        None,
        "",
        "abc",
        "45.001",
        "-1",
        "-0.01",
        "1e3",
        "0x10",
        "45,00",
        "01.00",
        " ",
        "NaN",
        "Infinity",
        "1000000.01",
        10_000_001,
        -5,
        [],
        {},
        "١٢",
    ],
)
def test_parse_amount_refuses(value: object) -> None:
    with pytest.raises(CommandError) as err:
        parse_amount(value, "amount_paid")
    assert err.value.code is ErrorCode.INVALID_PAYLOAD
    assert err.value.message.startswith("amount_paid:")


@pytest.mark.parametrize(
    ("cents", "text"), [(0, "0.00"), (1, "0.01"), (4550, "45.50"), (123456, "1234.56"), (-250, "-2.50")]
)
def test_format_cents(cents: int, text: str) -> None:
    assert format_cents(cents) == text


def test_format_and_parse_round_trip() -> None:
    for cents in (0, 1, 99, 100, 101, 4550, 99_999_999):
        assert parse_amount(format_cents(cents)) == cents


def test_change_due() -> None:
    assert change_due(8800, 10000) == 1200
    assert change_due(8800, 8800) == 0
    with pytest.raises(CommandError) as err:
        change_due(8800, 8799)
    assert err.value.code is ErrorCode.INSUFFICIENT_PAYMENT
    assert "87.99" in err.value.message and "88.00" in err.value.message


def test_line_total_is_exact() -> None:
    # 3 × 0.10 is 0.30 exactly, unlike floats (0.30000000000000004).
    assert line_total(10, 3) == 30

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.wire import Limits
from server.domain.errors import CommandError, ErrorCode
from server.domain.money import MAX_AMOUNT_CENTS, amount_pattern, change_due, format_cents, line_total, parse_amount


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
        # JSON numbers, by their shortest decimal representation (what the client wrote).
        (50.1, 5010),
        (45.0, 4500),
        (0.1, 10),
        (0.07, 7),
        (99.99, 9999),
        (1e2, 10000),
        (0.0, 0),
        (-0.0, 0),
        (1000000.0, MAX_AMOUNT_CENTS),
        (999999.99, 99_999_999),
        (1_000_000, MAX_AMOUNT_CENTS),
    ],
)
def test_parse_amount_accepts(value: object, cents: int) -> None:
    assert parse_amount(value) == cents


@pytest.mark.parametrize(
    "value",
    [
        45.001,
        0.005,
        1e-7,
        0.30000000000000004,  # 0.1 + 0.2: a computed float, not an amount anyone typed
        -0.01,
        1000000.01,
        1e16,
        math.nan,
        math.inf,
        -math.inf,
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


def test_a_json_number_was_refused_and_is_accepted_now() -> None:
    # The symptom: the original design's cashier screens send {"amount_paid": 50.1}; it was
    # refused with "floats are not accepted for money".
    assert parse_amount(50.1, "amount_paid") == 5010


def test_change_stays_exact_for_a_json_number() -> None:
    # 50.1 - 45.0 in floats is 5.100000000000001; in cents it is 5.10.
    assert format_cents(change_due(4500, parse_amount(50.1))) == "5.10"


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (45.001, "45.001 has more than two decimals"),
        (math.nan, "nan is not an amount"),
        (math.inf, "inf is not an amount"),
        (1e16, "must be between 0.00 and 1000000.00"),
        (-0.5, "must be between 0.00 and 1000000.00"),
        (True, "not true or false"),
        (None, "a decimal string"),
    ],
)
def test_refusals_say_why(value: object, says: str) -> None:
    with pytest.raises(CommandError) as err:
        parse_amount(value, "amount_paid")
    assert says in err.value.message


def test_the_limit_is_the_wire_contract_s() -> None:
    assert MAX_AMOUNT_CENTS == Limits.MAX_AMOUNT_CENTS


@pytest.mark.parametrize(
    "text", ["0", "0.5", "12.30", " 12.30 ", "999999.99", "1000000", "1000000.0", "1000000.00", "\t5\n"]
)
def test_the_amount_pattern_takes_what_the_parser_takes(text: str) -> None:
    assert re.search(amount_pattern(), text)
    parse_amount(text)


@pytest.mark.parametrize("text", ["1000000.01", "1000000.1", "1000001", "9999999", "01", "1.", ".5", "1.234", "-1", ""])
def test_the_amount_pattern_refuses_what_the_parser_refuses(text: str) -> None:
    assert not re.search(amount_pattern(), text)
    with pytest.raises(CommandError):
        parse_amount(text)


@given(st.integers(0, MAX_AMOUNT_CENTS + 10_000))
def test_the_amount_pattern_matches_the_range_exactly(cents: int) -> None:
    text = format_cents(cents)
    assert bool(re.fullmatch(amount_pattern()[1:-1], text)) is (cents <= MAX_AMOUNT_CENTS)
    for written in (text[:-1], text.removesuffix(".00")):  # one decimal, or none: other amounts, same rule
        assert bool(re.fullmatch(amount_pattern()[1:-1], written)) is _accepted(written)


def _accepted(text: str) -> bool:
    try:
        parse_amount(text)
    except CommandError:
        return False
    return True


@given(st.integers(0, MAX_AMOUNT_CENTS))
def test_every_amount_in_cents_round_trips_as_a_json_number(cents: int) -> None:
    # What a client computes as cents / 100 and sends as a JSON number comes back exact.
    assert parse_amount(cents / 100) == cents


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

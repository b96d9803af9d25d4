from __future__ import annotations

import pytest

from server.domain.codes import normalize_code, ticket_code


@pytest.mark.parametrize(
    ("n", "code"),
    [
        (1, "A-001"),
        (42, "A-042"),
        (999, "A-999"),
        (1000, "B-001"),
        (1998, "B-999"),
        (1999, "C-001"),
        (26 * 999, "Z-999"),
        (26 * 999 + 1, "AA-001"),
        (27 * 999 + 1, "AB-001"),
    ],
)
def test_ticket_code(n: int, code: str) -> None:
    assert ticket_code(n) == code


def test_codes_are_unique_over_a_very_busy_day() -> None:
    codes = [ticket_code(n) for n in range(1, 60_000)]
    assert len(set(codes)) == len(codes)


def test_ticket_code_refuses_zero() -> None:
    with pytest.raises(ValueError):
        ticket_code(0)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("A-042", "A-042"),
        ("a-042", "A-042"),
        (" A042 ", "A-042"),
        ("a42", "A-042"),
        ("A-7", "A-007"),
        ("AB-001", "AB-001"),
        ("A-000", None),
        ("A0", None),
        ("042", None),
        ("A--042", None),
        ("", None),
        ("A-0421", None),
        ("Ä-042", None),
        ("A-042\n", "A-042"),
    ],
)
def test_normalize_code(text: str, code: str | None) -> None:
    assert normalize_code(text) == code

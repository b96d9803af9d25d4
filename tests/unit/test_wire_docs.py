"""docs/PROTOCOL.md's table of error codes says what common/wire.py says, code for code."""

from __future__ import annotations

import re
from pathlib import Path

from common.wire import RETRY_CLASS, ErrorCode
from server.domain.errors import ErrorCode as ServerErrorCode

PROTOCOL = Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md"


def documented() -> dict[str, str]:
    rows = re.findall(r"^\| `([a-z_]+)` \| [^\n]*\| (final|retry)[^|\n]* \|$", PROTOCOL.read_text(), re.M)
    return dict(rows)


def test_the_error_table_matches_the_contract() -> None:
    assert documented() == {code.value: RETRY_CLASS[code].value for code in ErrorCode}


def test_the_server_answers_with_the_contract_codes() -> None:
    assert ServerErrorCode is ErrorCode
    assert set(RETRY_CLASS) == set(ErrorCode)

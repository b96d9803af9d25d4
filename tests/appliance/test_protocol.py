"""The wire, as pure functions: acknowledgements → what the outbox does, print_receipt → a print job
in exact cents, and heartbeats and receipt statuses the server's own parser accepts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from appliance import SOFTWARE
from appliance.clock import TIMESYNCD_FLAG, TillClock
from appliance.protocol import (
    AckKind,
    DeviceReport,
    cents,
    classify_ack,
    heartbeat_payload,
    print_request,
    receipt_job,
    receipt_status_payload,
)
from common.wire import RETRY_CLASS, ErrorCode, Limits, Retry
from devices.print_jobs import ReceiptLine
from devices.printer.layout import LayoutSettings, TextLine, layout_receipt
from server.domain import errors as server_errors
from server.protocol import schema
from tests.appliance.harness import print_receipt


@pytest.mark.parametrize(
    ("ack", "kind"),
    [
        ({"ok": True}, AckKind.DONE),
        ({"ok": True, "replayed": True, "transaction": {"id": 1}}, AckKind.DONE),
        ({"ok": False, "error": {"code": "invalid_state", "message": "m"}}, AckKind.REFUSED),
        ({"ok": False, "error": {"code": "conflict", "message": "m"}}, AckKind.RETRY),  # was dropped once
        ({"ok": False, "error": {"code": "busy", "message": "m"}}, AckKind.RETRY),
        ({"ok": False, "error": {"code": "internal_error", "message": "m"}}, AckKind.RETRY),
        ({"ok": False, "error": {"code": "rate_limited", "message": "m"}}, AckKind.RETRY),  # unknown: keep it
        ({"ok": False}, AckKind.RETRY),
        ({"ok": "yes"}, AckKind.RETRY),
        (None, AckKind.RETRY),
        ("ok", AckKind.RETRY),
    ],
)
def test_acknowledgements(ack: Any, kind: AckKind) -> None:
    assert classify_ack(ack).kind is kind


def test_the_server_answers_with_the_contracts_codes_and_each_has_a_retry_class() -> None:
    assert {c.value for c in server_errors.ErrorCode} == {c.value for c in ErrorCode}
    assert set(RETRY_CLASS) == set(ErrorCode)


@pytest.mark.parametrize("code", sorted(c.value for c in server_errors.ErrorCode))
def test_every_server_error_code_is_classified_as_the_contract_says(code: str) -> None:
    """Fails when the appliance's treatment of a refusal differs from ``common.wire.RETRY_CLASS``:
    a final code drops the command from the outbox, a retry code keeps it for another send."""
    outcome = classify_ack({"ok": False, "error": {"code": code, "message": "m"}})
    expected = AckKind.REFUSED if RETRY_CLASS[ErrorCode(code)] is Retry.FINAL else AckKind.RETRY
    assert (outcome.kind, outcome.code) == (expected, code)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("45.00", 4500), ("0.10", 10), ("0.1", 10), ("45", 4500), ("1234567.89", 123456789), ("0", 0)],
)
def test_money_to_cents_exactly(text: str, expected: int) -> None:
    assert cents(text, "total") == expected


@pytest.mark.parametrize("value", ["45.001", "-1.00", "NaN", "Infinity", "4,50", "", 45.0, 4500, None])
def test_money_that_is_not_an_amount(value: Any) -> None:
    with pytest.raises(ValueError, match=r"^receipt\.total = "):
        cents(value, "total")


def test_a_receipt_becomes_a_print_job_in_cents() -> None:
    job = receipt_job(print_receipt(), drawer=True)
    r = job.receipt
    assert (job.job_id, job.open_drawer) == ("rcpt-7", True)
    assert r.items == (ReceiptLine("Swedish massage", 1, 4500), ReceiptLine("Hot stones", 2, 1235))
    assert (r.total_cents, r.paid_cents, r.change_cents, r.method, r.copy) == (6970, 7000, 30, "cash", False)
    assert r.created_at == datetime.fromisoformat("2026-11-29T07:21:37.212+00:00")
    assert r.created_at.utcoffset() is not None  # printed in the spa's zone (test below)
    assert receipt_job(print_receipt(), drawer=False).open_drawer is False  # no drawer at this till
    assert receipt_job(print_receipt(copy=True), drawer=True).receipt.copy is True


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"total": "69.71"}, "receipt.total_cents = 6971: the items add up to 6970 (every discount off)"),
        ({"change": "0.31"}, "receipt.change_cents = 31: must be cash - (total + tip - card) = 30"),
        ({"paid": "60.00", "change": "0.00"}, "receipt.paid_cents = 6000: less than the total 6970 + tip 0"),
        ({"items": []}, "receipt.items: must be a non-empty list"),
        ({"method": "cheque"}, "receipt.method = 'cheque': must be one of cash, card, split"),
        ({"paid_at": "yesterday"}, "receipt.paid_at = 'yesterday': not an ISO time"),
        ({"total": 69.7}, 'receipt.total = 69.7: must be a decimal string like "45.00"'),
    ],
)
def test_receipts_that_cannot_print(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        receipt_job(print_receipt(**changes), drawer=True)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"transaction_id": 7}, "print_receipt.job_id = None"),
        ({"job_id": "a b", "transaction_id": 7}, "print_receipt.job_id = 'a b'"),
        ({"job_id": "j", "transaction_id": True}, "print_receipt.transaction_id = True"),
        ([], "print_receipt: payload must be an object"),
    ],
)
def test_print_requests_without_usable_ids(payload: Any, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}"):
        print_request(payload)


def test_the_software_name_fits_the_heartbeat() -> None:
    assert len(SOFTWARE) <= Limits.MAX_SOFTWARE


def test_heartbeats_are_what_the_server_accepts() -> None:
    payload = heartbeat_payload(
        {
            "printer": DeviceReport("paper_out", "x" * 500 + "\n\x1b[0m", 1795936897.3),
            "scanner": DeviceReport("restarting-after-a-long-time", "thread died: OSError: [Errno 5]\ttab"),
            "outbox": DeviceReport("ok"),
        },
        "spa-appliance 0.1.0",
    )
    beat = schema.parse_heartbeat(payload)
    assert beat.devices["printer"]["state"] == "paper_out" and len(beat.devices["printer"]["detail"]) == 200
    scanner = {"state": "restarting-after-a-long…", "detail": "thread died: OSError: [Errno 5] tab"}
    assert beat.devices["scanner"] == scanner
    assert beat.devices["outbox"] == {"state": "ok"} and beat.software == "spa-appliance 0.1.0"


@pytest.mark.parametrize(
    ("result", "unknown"),
    [
        ({"ok": True, "state": "ok", "detail": "", "outcome": "printed"}, False),
        ({"ok": False, "state": "paper_out", "detail": "paper out\r\n", "outcome": "waiting"}, False),
        ({"ok": False, "state": "paper_out", "detail": "paper out", "outcome": "unknown"}, True),
        ({"ok": False, "state": "", "detail": "receipt.total = 'x': " + "y" * 300, "outcome": "rejected"}, False),
        ({"ok": True, "state": "ok", "detail": ""}, False),  # a result stored before issue 13
    ],
)
def test_receipt_statuses_are_what_the_server_accepts(result: dict[str, Any], unknown: bool) -> None:
    status = schema.parse_print_status(receipt_status_payload("rcpt-7", 7, result))
    assert (status.job_id, status.transaction_id, status.ok) == ("rcpt-7", 7, result["ok"])
    assert status.state == (result["state"] or "error") and len(status.detail) <= 200
    assert status.unknown is unknown


@pytest.fixture
def pi_at_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The Pi's own zone left at UTC, as a Raspberry Pi OS image comes."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(
    ("paid_at", "zone", "printed"),
    [
        ("2026-11-29T17:28:00.000Z", "Europe/Berlin", "2026-11-29 18:28"),  # the example (CET)
        ("2026-07-01T16:28:00.000Z", "Europe/Berlin", "2026-07-01 18:28"),  # summer time (CEST)
        ("2026-11-29T23:30:00.000Z", "Europe/Berlin", "2026-11-30 00:30"),  # past midnight: the next day
        ("2026-11-29T17:28:00.000Z", "America/New_York", "2026-11-29 12:28"),
        ("2026-11-29T17:28:00.000Z", None, "2026-11-29 17:28"),  # an older server: the Pi's zone
        ("2026-11-29T17:28:00.000Z", "Mars/Olympus", "2026-11-29 17:28"),  # a zone this Pi does not know
        ("2026-11-29T17:28:00", "Europe/Berlin", "2026-11-29 18:28"),  # no zone given: UTC, not local
    ],
)
def test_the_receipt_shows_the_payment_time_in_the_spas_zone(
    pi_at_utc: None, paid_at: str, zone: str | None, printed: str
) -> None:
    changes: dict[str, Any] = {"paid_at": paid_at} | ({"timezone": zone} if zone else {})
    job = receipt_job(print_receipt(**changes), drawer=True)
    lines = [op.text for op in layout_receipt(job.receipt, LayoutSettings()) if isinstance(op, TextLine)]
    assert f"Date{' ' * (42 - 4 - len(printed))}{printed}" in lines
    assert not any(line.startswith("Printed") for line in lines)  # an original says when it was paid


def test_a_copy_says_when_it_was_printed_or_that_the_clock_is_not_set(pi_at_utc: None) -> None:
    payload = print_receipt(copy=True, timezone="Europe/Berlin")
    now = datetime(2026, 11, 30, 8, 5, tzinfo=UTC)
    synced = receipt_job(payload, drawer=True, now=now).receipt
    unsynced = receipt_job(payload, drawer=True, now=None).receipt

    def printed_line(receipt: Any) -> str:
        lines = [op.text for op in layout_receipt(receipt, LayoutSettings()) if isinstance(op, TextLine)]
        return next(line for line in lines if line.startswith("Printed"))

    assert printed_line(synced) == "Printed                   2026-11-30 09:05"
    assert printed_line(unsynced) == "Printed                      clock not set"


def test_the_till_clock_is_synchronised_when_timesyncd_says_so(tmp_path: Path) -> None:
    flag = tmp_path / "synchronized"
    clock = TillClock(str(flag))
    assert not clock.synced() and clock.now() is None
    flag.touch()
    assert clock.synced() and clock.now() is not None
    assert TillClock("").synced()  # told to trust the clock
    assert TIMESYNCD_FLAG == "/run/systemd/timesync/synchronized"

"""Device events → commands, and the room's current claim: pure functions, table-tested."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.commands import (
    Activity,
    Command,
    Resolve,
    claim_after,
    command_for,
    redacted,
    resolve_payload,
    scan_command,
)
from appliance.config import Role, RoomSettings
from devices.base import ButtonEvent, ScanEvent, TouchActivity

BADGE = "st_12_AbCdEfGhIjKlMnOpQrStUv-_9"
ROOM = RoomSettings("3")
ANNA = RoomSettings("4", therapist_token="st_1_annaannaannaannaanna")
CURRENT = Resolve.CURRENT_CLAIM


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A-042", Command("cashier_lookup", {"code": "A-042"}, "s", 1.0)),
        ("a42", Command("cashier_lookup", {"code": "a42"}, "s", 1.0)),
        (" B-7\r\n", Command("cashier_lookup", {"code": "B-7"}, "s", 1.0)),
        ("ABC123", Command("cashier_lookup", {"code": "ABC123"}, "s", 1.0)),
        (BADGE, Command("desk_sign_in", {"staff_token": BADGE}, "s", 1.0, keyed=False)),
        ("st_12_short", None),  # too short to be a badge, not a ticket either
        ("dv_1_AbCdEfGhIjKlMnOpQrStUv", None),  # a device token is nobody's badge
        ("A-0423", None),
        ("ABCD-1", None),
        ("4006381333931", None),  # a product's EAN barcode
        ("", None),
    ],
)
def test_scans(text: str, expected: Command | None) -> None:
    assert scan_command(text, "s", 1.0) == expected


@pytest.mark.parametrize(
    ("room", "action", "long_press", "expected"),
    [
        (ROOM, "next", False, Command("therapist_confirm_next", {"room": "3"}, "b", 2.0)),
        (ANNA, "next", False, Command(
            "therapist_confirm_next", {"room": "4", "therapist_token": ANNA.therapist_token}, "b", 2.0)),
        (ROOM, "next", True, Command("therapist_release", {}, "b", 2.0, resolve=CURRENT)),
        (ROOM, "start", False, Command("therapist_start_service", {}, "b", 2.0, resolve=CURRENT)),
        (ROOM, "start", True, Command("therapist_start_service", {}, "b", 2.0, resolve=CURRENT)),
        (ROOM, "finish", False, Command("therapist_finish_service", {}, "b", 2.0, resolve=CURRENT)),
        (ANNA, "finish", True, Command(
            "therapist_finish_service", {"therapist_token": ANNA.therapist_token}, "b", 2.0, resolve=CURRENT)),
        (ROOM, "release", False, Command("therapist_release", {}, "b", 2.0, resolve=CURRENT)),
        (ROOM, "done", False, None),
    ],
)  # fmt: skip
def test_room_buttons(room: RoomSettings, action: str, long_press: bool, expected: Command | None) -> None:
    assert command_for(Role.ROOM, room, ButtonEvent("b", action, long_press, 2.0)) == expected


@pytest.mark.parametrize(
    ("role", "event", "expected"),
    [
        (Role.KIOSK, TouchActivity("t", 3.0), Activity("t", 3.0)),
        (Role.KIOSK, ScanEvent("s", "A-1", 3.0), None),
        (Role.CASHIER, ButtonEvent("b", "next", False, 3.0), None),
        (Role.CASHIER, TouchActivity("t", 3.0), None),
        (Role.ROOM, ScanEvent("s", "A-1", 3.0), None),
        (Role.LOBBY, TouchActivity("t", 3.0), None),
        (Role.LOBBY, ScanEvent("s", "A-1", 3.0), None),
    ],
)
def test_what_each_role_ignores(role: Role, event: Any, expected: Activity | None) -> None:
    assert command_for(role, ROOM, event) == expected


@pytest.mark.parametrize(
    ("payload", "resolve", "current", "expected"),
    [
        ({"room": "3"}, None, None, {"room": "3"}),
        ({"room": "3"}, None, 9, {"room": "3"}),
        ({}, CURRENT, None, None),
        ({}, CURRENT, 9, {"transaction_id": 9}),
        ({"therapist_token": "st_x"}, CURRENT, 9, {"therapist_token": "st_x", "transaction_id": 9}),
    ],
)
def test_resolving_the_current_claim(
    payload: dict[str, Any], resolve: Resolve | None, current: int | None, expected: dict[str, Any] | None
) -> None:
    assert resolve_payload(payload, resolve, current) == expected


@pytest.mark.parametrize(
    ("event", "payload", "ack", "current", "after"),
    [
        ("therapist_confirm_next", {"room": "3"}, {"ok": True, "transaction": {"id": 5}}, None, 5),
        ("therapist_confirm_next", {"room": "3"}, {"ok": True, "transaction": {"id": 6}}, 5, 6),
        ("therapist_confirm_next", {"room": "3"}, {"ok": True}, 5, 5),
        ("therapist_start_service", {"transaction_id": 5}, {"ok": True}, 5, 5),
        ("therapist_finish_service", {"transaction_id": 5}, {"ok": True}, 5, None),
        ("therapist_release", {"transaction_id": 5}, {"ok": True}, 5, None),
        ("therapist_finish_service", {"transaction_id": 4}, {"ok": True}, 5, 5),  # an older claim: keep the new
        ("cashier_lookup", {"code": "A-1"}, {"ok": True, "transaction": {"id": 8}}, 5, 5),
    ],
)
def test_the_claim_after_an_acknowledgement(
    event: str, payload: dict[str, Any], ack: dict[str, Any], current: int | None, after: int | None
) -> None:
    assert claim_after(event, payload, ack, current) == after


def test_tokens_are_shortened_in_logs() -> None:
    assert redacted({"staff_token": BADGE, "code": "A-1", "transaction_id": 3}) == {
        "staff_token": "st_12…",
        "code": "A-1",
        "transaction_id": 3,
    }

"""Device events → server commands. Pure functions, no I/O: the device threads call them and write
what they return to the outbox.

A room's start / finish / release act on the customer the room claimed last, whose transaction id
is known only from the claim's acknowledgement. Those commands carry ``resolve=CURRENT_CLAIM`` and
get their ``transaction_id`` when they reach the head of the outbox, after every earlier command
(the claim among them) was acknowledged; so presses queued while offline still act in order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from common.wire import Limits
from devices.base import ButtonEvent, InputEvent, ScanEvent, TouchActivity

from .config import Role, RoomSettings

STAFF_BADGE = re.compile(r"^st_[1-9][0-9]{0,9}_[A-Za-z0-9_\-]{20,100}$")  # a staff token as a barcode
TICKET_CODE = re.compile(Limits.TICKET_CODE)  # "A-042", "a42"


class Resolve(StrEnum):
    CURRENT_CLAIM = "current_claim"  # transaction_id := the room's current claim, when sent


@dataclass(frozen=True)
class Command:
    """One command for the server, as it goes into the outbox."""

    event: str  # the wire event name
    payload: Mapping[str, Any] = field(default_factory=dict)
    device: str = ""
    occurred_at: float = 0.0  # unix time of the device event
    resolve: Resolve | None = None
    keyed: bool = True  # sent with its idempotency key (desk_sign_in takes none: signing in twice is harmless)


@dataclass(frozen=True)
class Activity:
    """Someone touched the kiosk: not a command, nothing to replay later; sent only while online."""

    device: str
    at: float


def scan_command(text: str, device: str, at: float) -> Command | None:
    """A cashier's scan: a ticket code looks the transaction up (and claims it when it waits to
    pay); a staff badge signs that person in at this till. Anything else is not for us."""
    code = text.strip()
    if STAFF_BADGE.match(code):
        return Command("desk_sign_in", {"staff_token": code}, device, at, keyed=False)
    if TICKET_CODE.match(code):
        return Command("cashier_lookup", {"code": code}, device, at)
    return None


def button_command(room: RoomSettings, press: ButtonEvent) -> Command | None:
    """A room button. A long press of "next" gives an unstarted claim back (a customer claimed by
    mistake); "release" does that on a short press. Long presses of the others count as presses."""
    acting = {"therapist_token": room.therapist_token} if room.therapist_token else {}
    action = "release" if (press.action == "next" and press.long_press) else press.action
    if action == "next":
        return Command("therapist_confirm_next", {**acting, "room": room.number}, press.device, press.at)
    event = {
        "start": "therapist_start_service",
        "finish": "therapist_finish_service",
        "release": "therapist_release",
    }.get(action)
    if event is None:
        return None
    return Command(event, acting, press.device, press.at, resolve=Resolve.CURRENT_CLAIM)


def command_for(role: Role, room: RoomSettings | None, event: InputEvent) -> Command | Activity | None:
    """What a device event means for an appliance of this role; None: nothing."""
    if role is Role.CASHIER and isinstance(event, ScanEvent):
        return scan_command(event.text, event.device, event.at)
    if role is Role.ROOM and isinstance(event, ButtonEvent) and room is not None:
        return button_command(room, event)
    if role is Role.KIOSK and isinstance(event, TouchActivity):
        return Activity(event.device, event.at)
    return None


def resolve_payload(
    payload: Mapping[str, Any], resolve: Resolve | None, current_claim: int | None
) -> dict[str, Any] | None:
    """The payload to send; None when it refers to a claim the room does not hold."""
    if resolve is None:
        return dict(payload)
    if current_claim is None:
        return None
    return {**payload, "transaction_id": current_claim}


def claim_after(event: str, payload: Mapping[str, Any], ack: Mapping[str, Any], current: int | None) -> int | None:
    """The room's current claim once the server accepted ``event``."""
    if event == "therapist_confirm_next":
        transaction = ack.get("transaction")
        if isinstance(transaction, Mapping) and isinstance(transaction.get("id"), int):
            return int(transaction["id"])
        return current
    if event in ("therapist_finish_service", "therapist_release") and payload.get("transaction_id") == current:
        return None
    return current


def redacted(payload: Mapping[str, Any]) -> dict[str, Any]:
    """For the logs: tokens shortened to their prefix."""
    return {k: (f"{v[:5]}…" if k.endswith("token") and isinstance(v, str) else v) for k, v in payload.items()}

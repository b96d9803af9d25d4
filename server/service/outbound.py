"""The one port every message leaving the server goes through: queue changes, print jobs,
receipt status, device events, replies to one connection. The Socket.IO adapter
(`server/protocol/socketio_adapter.py`) implements it; tests record it."""

from __future__ import annotations

from typing import Any, Protocol

from .changes import Change

THERAPIST_ROOM = "therapist_queue"
CASHIER_ROOM = "cashier_queue"
MONITOR_ROOM = "monitor"


TXN_ROOM_PREFIX = "txn_"


def txn_room(transaction_id: int) -> str:
    """The kiosk that made a transaction (and staff asking after it) hear of its changes here."""
    return f"{TXN_ROOM_PREFIX}{transaction_id}"


def device_room(device_id: int) -> str:
    """Every connection of one device: its appliance daemon and its browser page."""
    return f"device_{device_id}"


def principal_room(kind: str, principal_id: int) -> str:
    return f"{kind}_{principal_id}"


class Outbound(Protocol):
    def queue_changed(self, change: Change) -> None:
        """A committed change: broadcast in version order, off the request path."""
        ...

    def emit(self, event: str, data: Any, *, to: str) -> None:
        """To a room, or to one connection by its sid."""
        ...

    def join(self, sid: str, room: str) -> None: ...

    def close(self, sid: str) -> None:
        """End one connection (its caller may no longer act)."""
        ...

"""Who is calling: a staff member or a device, and what each may do."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from ..db.models import Device, Staff, StaffSession
from .tokens import hash_token, parse_token, token_matches


class Capability(StrEnum):
    ORDER = "order"  # create a transaction (kiosk)
    THERAPIST = "therapist"  # claim, start, add, finish, release
    CASHIER = "cashier"  # claim for payment, look up, pay, release
    CANCEL = "cancel"  # cancel any waiting transaction (front desk)
    CANCEL_OWN = "cancel_own"  # cancel a transaction this device created, while it waits
    VIEW_STAFF = "view_staff"  # full customer names and items
    VIEW_PUBLIC = "view_public"  # codes and first names only
    REPORT_HEALTH = "report_health"  # appliance heartbeats


C = Capability
CAPABILITIES: dict[tuple[str, str], frozenset[Capability]] = {
    ("staff", "therapist"): frozenset({C.THERAPIST, C.VIEW_STAFF, C.VIEW_PUBLIC}),
    ("staff", "cashier"): frozenset({C.CASHIER, C.CANCEL, C.VIEW_STAFF, C.VIEW_PUBLIC}),
    ("staff", "admin"): frozenset(Capability),
    ("device", "kiosk"): frozenset({C.ORDER, C.CANCEL_OWN, C.VIEW_PUBLIC, C.REPORT_HEALTH}),
    ("device", "room"): frozenset({C.THERAPIST, C.VIEW_STAFF, C.VIEW_PUBLIC, C.REPORT_HEALTH}),
    ("device", "cashier"): frozenset({C.CASHIER, C.CANCEL, C.VIEW_STAFF, C.VIEW_PUBLIC, C.REPORT_HEALTH}),
    ("device", "lobby"): frozenset({C.VIEW_PUBLIC, C.REPORT_HEALTH}),
}


@dataclass(frozen=True)
class Principal:
    kind: str  # "staff" | "device" | "system"
    id: int
    role: str
    name: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def capabilities(self) -> frozenset[Capability]:
        return CAPABILITIES.get((self.kind, self.role), frozenset())

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities

    @property
    def staff_id(self) -> int | None:
        return self.id if self.kind == "staff" else None

    @property
    def device_id(self) -> int | None:
        return self.id if self.kind == "device" else None


SYSTEM = Principal("system", 0, "system", "server")


class TokenCache:
    """Resolves tokens to principals, remembering answers briefly.

    Every event re-checks its caller; the cache keeps that from costing a query each time.
    A revoked token stops working within `ttl_s`.
    """

    def __init__(self, ttl_s: float = 10.0, max_entries: int = 4096) -> None:
        self._ttl_s = ttl_s
        self._max = max_entries
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, Principal | None]] = {}

    def resolve(self, session_factory: object, token: object) -> Principal | None:
        """`session_factory` is a context manager factory yielding a read Session (Database.read)."""
        if not isinstance(token, str):
            return None
        digest = hash_token(token)
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(digest)
            if hit is not None and hit[0] > now:
                return hit[1]
        with session_factory() as session:  # type: ignore[operator]
            principal = lookup_token(session, token)
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.clear()
            self._entries[digest] = (now + self._ttl_s, principal)
        return principal

    def forget(self, token: str) -> None:
        with self._lock:
            self._entries.pop(hash_token(token), None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def lookup_token(session: Session, token: str, now: datetime | None = None) -> Principal | None:
    parsed = parse_token(token)
    if parsed is None:
        return None
    kind, row_id = parsed
    if kind == "session":
        signed_in = session.get(StaffSession, row_id)
        now = now or datetime.now(UTC).replace(tzinfo=None)
        if signed_in is None or signed_in.expires_at <= now or not token_matches(token, signed_in.token_hash):
            return None
        row: Staff | Device | None = session.get(Staff, signed_in.staff_id)
        kind = "staff"
    else:
        row = session.get(Staff if kind == "staff" else Device, row_id)
        # Compare against something even for a missing row, so both paths take the same time.
        if not token_matches(token, row.token_hash if row is not None else "0" * 64):
            return None
    if row is None or not row.active:
        return None
    return Principal(kind, row.id, row.role, row.name)

"""Who is calling: tokens resolved to principals (what each may do is the domain's, in
`server/domain/actors.py`)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from ..db.models import Device, Staff, StaffSession
from ..domain.actors import SYSTEM, Capability, Principal, PrincipalKind, role_of
from .tokens import hash_token, parse_token, token_matches

__all__ = ["SYSTEM", "Capability", "Principal", "TokenCache", "lookup_token"]


class TokenCache:
    """Resolves tokens to principals, remembering answers briefly.

    Every event re-checks its caller; the cache keeps that from costing a query each time.
    A revoked token, or an expired PIN session, stops working within `ttl_s` (2 s); a session
    signed out through this process is forgotten at once.
    """

    def __init__(self, ttl_s: float = 2.0, max_entries: int = 4096) -> None:
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
        principal_kind = PrincipalKind.STAFF
    else:
        principal_kind = PrincipalKind.STAFF if kind == "staff" else PrincipalKind.DEVICE
        row = session.get(Staff if principal_kind is PrincipalKind.STAFF else Device, row_id)
        # Compare against something even for a missing row, so both paths take the same time.
        if not token_matches(token, row.token_hash if row is not None else "0" * 64):
            return None
    if row is None or not row.active:
        return None
    return Principal(principal_kind, row.id, role_of(principal_kind, row.role), row.name)

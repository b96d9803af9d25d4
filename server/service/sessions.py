"""Signing in on a screen with a PIN: a short-lived staff session token, and a brake on guessing."""

from __future__ import annotations

import threading
import time
from collections import deque
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from ..db.engine import Database
from ..db.models import Staff, StaffSession
from ..db.queue_repo import add_audit
from ..domain.errors import CommandError, ErrorCode
from .tokens import hash_token, new_token, parse_token, pin_matches, token_matches


class SignInLimiter:
    """At most `attempts` wrong PINs per staff member in `window_s`; a 4-digit PIN has only 10,000 values."""

    def __init__(self, attempts: int = 5, window_s: float = 300.0) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self._failures: dict[int, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, staff_id: int) -> None:
        with self._lock:
            recent = self._recent(staff_id)
            if len(recent) >= self.attempts:
                wait = int(self.window_s - (time.monotonic() - recent[0])) + 1
                raise CommandError(ErrorCode.BUSY, f"too many wrong PINs; try again in {wait} s")

    def failed(self, staff_id: int) -> None:
        with self._lock:
            self._recent(staff_id).append(time.monotonic())

    def _recent(self, staff_id: int) -> deque[float]:
        recent = self._failures.setdefault(staff_id, deque())
        while recent and time.monotonic() - recent[0] > self.window_s:
            recent.popleft()
        return recent


def staff_for_sign_in(db: Database) -> list[dict[str, Any]]:
    """Who can sign in on a screen: active staff with a PIN (names only)."""
    with db.read() as s:
        rows = s.scalars(
            select(Staff).where(Staff.active.is_(True), Staff.pin_hash.is_not(None)).order_by(Staff.name)
        ).all()
        return [{"id": r.id, "name": r.name, "role": r.role} for r in rows]


def sign_in(
    db: Database, limiter: SignInLimiter, staff_id: int, pin: str, now: datetime, ttl_s: float
) -> dict[str, Any]:
    limiter.check(staff_id)
    with db.write() as s:
        staff = s.get(Staff, staff_id)
        if staff is None or not staff.active or staff.pin_hash is None or not pin_matches(pin, staff.pin_hash):
            limiter.failed(staff_id)
            raise CommandError(ErrorCode.FORBIDDEN, "wrong name or PIN")
        s.execute(delete(StaffSession).where(StaffSession.expires_at < now))
        session = StaffSession(
            staff_id=staff.id, token_hash="-", created_at=now, expires_at=now + timedelta(seconds=ttl_s)
        )
        s.add(session)
        s.flush()
        token = new_token("session", session.id)
        session.token_hash = hash_token(token)
        add_audit(s, action="signed_in", actor=f"staff:{staff.id}", created_at=now, staff_id=staff.id)
        return {
            "token": token,
            "staff": {"id": staff.id, "name": staff.name, "role": staff.role},
            "expires_at": session.expires_at.isoformat(timespec="seconds") + "Z",
        }


def sign_out(db: Database, token: str) -> bool:
    parsed = parse_token(token)
    if parsed is None or parsed[0] != "session":
        return False
    with db.write() as s:
        session = s.get(StaffSession, parsed[1])
        if session is None or not token_matches(token, session.token_hash):
            return False
        s.delete(session)
        return True

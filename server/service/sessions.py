"""Signing in on a screen with a PIN: a short-lived staff session token, and a brake on guessing.

Every attempt is counted in the database, in one transaction, *before* its PIN is hashed: per
staff member (`staff:<id>`) and per source address (`addr:<ip>`). After a few free failures each
wrong PIN makes the next attempt wait twice as long as the one before, up to a cap, so parallel
attempts cannot slip past the count, a restart or a second process grants no fresh guesses, and
the right PIN is delayed at most the cap, never locked out. A right PIN resets its staff member's
count. The hash itself (16 MiB of scrypt) runs under a per-process semaphore: memory stays flat
however many attempts arrive at once (docs/SECURITY.md has the figures).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from ..db.engine import Database
from ..db.models import SignInAttempt, Staff, StaffSession
from ..db.queue_repo import add_audit
from ..domain.actors import Principal, PrincipalKind, StaffRole
from ..domain.errors import CommandError, ErrorCode
from ..domain.waits import first_name
from .tokens import hash_token, new_token, parse_token, pin_matches, token_matches


class SignInThrottled(CommandError):
    """Too many wrong PINs lately (or every hash slot taken): try again after `retry_after_s`."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(ErrorCode.BUSY, message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class SignInPolicy:
    """The throttle's figures (server/config.py documents each)."""

    free_failures_per_staff: int = 3
    free_failures_per_address: int = 6
    max_delay_s: float = 60.0
    forget_after_s: float = 900.0

    @classmethod
    def from_settings(cls, settings: Any) -> SignInPolicy:
        return cls(
            free_failures_per_staff=settings.sign_in_free_failures_per_staff,
            free_failures_per_address=settings.sign_in_free_failures_per_address,
            max_delay_s=settings.sign_in_max_delay_s,
            forget_after_s=settings.sign_in_forget_after_s,
        )


def delay_after(failures: int, free: int, max_delay_s: float) -> float:
    """How long the next attempt waits after `failures` wrong PINs: nothing for the first `free`,
    then 2, 4, 8 … s, capped. Pure, so the table test and docs/SECURITY.md use the same numbers."""
    if failures <= free:
        return 0.0
    return min(max_delay_s, 2.0 ** min(failures - free, 62))


class SignInLimiter:
    """The per-process part of the brake: PINs are hashed on `concurrent_hashes` threads of its
    own (`sign_in.hash`); an attempt waits up to `hash_wait_s` for one, then gets `busy`.

    Why threads of its own and not just a semaphore: glibc keeps a freed 16 MiB scrypt buffer in
    the arena of the thread that used it, so hashing on 40 request threads, even two at a time,
    kept ~480 MiB (measured: 140 → 623 MiB after 200 attempts); on two threads it stays flat."""

    def __init__(self, concurrent_hashes: int = 2, hash_wait_s: float = 2.0) -> None:
        self.concurrent_hashes = concurrent_hashes
        self.hash_wait_s = hash_wait_s
        self._slots = threading.BoundedSemaphore(concurrent_hashes)
        self._hashers = ThreadPoolExecutor(concurrent_hashes, thread_name_prefix="sign_in.hash")

    @classmethod
    def from_settings(cls, settings: Any) -> SignInLimiter:
        return cls(settings.sign_in_concurrent_hashes, settings.sign_in_hash_wait_s)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """One of the hashing threads is this attempt's until the block ends."""
        if not self._slots.acquire(timeout=self.hash_wait_s):
            raise SignInThrottled("too many sign-ins at once; try again in a moment", 1)
        try:
            yield
        finally:
            self._slots.release()

    def pin_matches(self, pin: str, stored: str) -> bool:
        """Within `slot()`: the hash, on a hashing thread (never queued: one thread per slot)."""
        return self._hashers.submit(pin_matches, pin, stored).result()

    def close(self) -> None:
        self._hashers.shutdown(wait=True)


def staff_for_sign_in(db: Database, roles: frozenset[str] | None = None) -> list[dict[str, Any]]:
    """Who can sign in on a screen: active staff with a PIN, as ids and first names only."""
    with db.read() as s:
        query = select(Staff).where(Staff.active.is_(True), Staff.pin_hash.is_not(None))
        if roles is not None:
            query = query.where(Staff.role.in_(sorted(roles)))
        rows = s.scalars(query.order_by(Staff.name, Staff.id)).all()
        return [{"id": r.id, "name": first_name(r.name)} for r in rows]


def _locked(s: Session, key: str, now: datetime, policy: SignInPolicy) -> SignInAttempt:
    """The attempt row for `key`, created if missing, locked for this transaction; stale counts forgotten."""

    def lock() -> SignInAttempt | None:
        query = select(SignInAttempt).where(SignInAttempt.key == key).with_for_update()
        return s.scalars(query.execution_options(populate_existing=True)).one_or_none()

    row = lock()
    if row is None:
        # Two first attempts at once: one inserts, the other's insert is ignored; both then lock it.
        s.execute(
            insert(SignInAttempt)
            .values(key=key, failures=0, last_failure_at=None)
            .prefix_with("OR IGNORE", dialect="sqlite")
            .prefix_with("IGNORE", dialect="mysql")
            .prefix_with("IGNORE", dialect="mariadb")
        )
        row = lock()
        assert row is not None
    if row.last_failure_at is not None and now - row.last_failure_at > timedelta(seconds=policy.forget_after_s):
        row.failures = 0
    return row


def _count_attempt(db: Database, staff_id: int, address: str, now: datetime, policy: SignInPolicy) -> Staff | None:
    """Counts this attempt as a wrong PIN before any hash (undone below when it was right), or
    refuses it while the staff member's or the address's delay runs. The staff member, if one can
    sign in with a PIN."""

    def work(s: Session) -> Staff | None:
        staff = s.get(Staff, staff_id)
        if staff is None or not staff.active or staff.pin_hash is None:
            staff = None
        keys = [(f"addr:{address}"[:64], policy.free_failures_per_address)]
        if staff is not None:
            keys.append((f"staff:{staff_id}", policy.free_failures_per_staff))
        rows = [(_locked(s, key, now, policy), free) for key, free in sorted(keys)]
        wait = 0.0
        for row, free in rows:
            delay = delay_after(row.failures, free, policy.max_delay_s)
            if delay > 0 and row.last_failure_at is not None:
                allowed_at = row.last_failure_at + timedelta(seconds=delay)
                wait = max(wait, (allowed_at - now).total_seconds())
        if wait > 0:
            raise SignInThrottled(f"too many wrong PINs; try again in {math.ceil(wait)} s", math.ceil(wait))
        for row, _free in rows:
            row.failures += 1
            # Another process's (or thread's) clock may be a moment ahead: never move backwards.
            row.last_failure_at = max(now, row.last_failure_at or now)
        if staff is not None:
            s.expunge(staff)
        return staff

    return db.run_write(work)


def _checked(
    db: Database,
    limiter: SignInLimiter,
    staff_id: int,
    pin: str,
    clock: Callable[[], datetime],
    address: str,
    policy: SignInPolicy,
) -> tuple[Staff | None, datetime]:
    """The staff member when the PIN is theirs (counted and throttled first), else None."""
    with limiter.slot():
        # The time is read once the slot is ours: an attempt that waited for it must not count
        # with a moment earlier than the failures recorded meanwhile.
        now = clock()
        staff = _count_attempt(db, staff_id, address, now, policy)
        right = staff is not None and staff.pin_hash is not None and limiter.pin_matches(pin, staff.pin_hash)
    return (staff if right else None), now


def check_manager(
    db: Database,
    limiter: SignInLimiter,
    staff_id: int,
    pin: str,
    clock: Callable[[], datetime],
    *,
    address: str,
    policy: SignInPolicy | None = None,
) -> Principal:
    """A manager's approval at the till (a void, a refund, a large discount): their PIN, under
    the same throttle as a sign-in, and an admin's role. MANAGER_NEEDED otherwise."""
    policy = policy or SignInPolicy()
    staff, now = _checked(db, limiter, staff_id, pin, clock, address, policy)
    if staff is None or not staff.active:
        raise CommandError(ErrorCode.MANAGER_NEEDED, "wrong manager or PIN")
    if staff.role != StaffRole.ADMIN.value:
        raise CommandError(ErrorCode.MANAGER_NEEDED, f"{staff.name} is not a manager")
    with db.write() as s:
        s.execute(delete(SignInAttempt).where(SignInAttempt.key == f"staff:{staff.id}"))
        addr = s.get(SignInAttempt, f"addr:{address}"[:64], with_for_update=True)
        if addr is not None and addr.failures > 0:
            addr.failures -= 1
    return Principal(PrincipalKind.STAFF, staff.id, StaffRole.ADMIN, staff.name)


def sign_in(
    db: Database,
    limiter: SignInLimiter,
    staff_id: int,
    pin: str,
    clock: Callable[[], datetime],
    ttl_s: float,
    *,
    address: str = "unknown",
    policy: SignInPolicy | None = None,
) -> dict[str, Any]:
    policy = policy or SignInPolicy()
    staff, now = _checked(db, limiter, staff_id, pin, clock, address, policy)
    if staff is None:
        raise CommandError(ErrorCode.FORBIDDEN, "wrong name or PIN")
    with db.write() as s:
        live = s.get(Staff, staff.id)
        if live is None or not live.active:
            raise CommandError(ErrorCode.FORBIDDEN, "wrong name or PIN")
        # The right PIN: this staff member's count starts again, and the address gets back the
        # failure counted in advance (a screen many people sign in at is not slowed by them).
        s.execute(delete(SignInAttempt).where(SignInAttempt.key == f"staff:{staff.id}"))
        addr = s.get(SignInAttempt, f"addr:{address}"[:64], with_for_update=True)
        if addr is not None and addr.failures > 0:
            addr.failures -= 1
        s.execute(
            delete(SignInAttempt).where(SignInAttempt.last_failure_at < now - timedelta(seconds=policy.forget_after_s))
        )
        s.execute(delete(StaffSession).where(StaffSession.expires_at < now))
        session = StaffSession(
            staff_id=live.id, token_hash="-", created_at=now, expires_at=now + timedelta(seconds=ttl_s)
        )
        s.add(session)
        s.flush()
        token = new_token("session", session.id)
        session.token_hash = hash_token(token)
        add_audit(s, action="signed_in", actor=f"staff:{live.id}", created_at=now, staff_id=live.id)
        return {
            "token": token,
            "staff": {"id": live.id, "name": live.name, "role": live.role},
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

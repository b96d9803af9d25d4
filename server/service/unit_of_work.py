"""The recipe every queue command shares, around its own few lines of work: one database
transaction with idempotency, deadlock retry, the audit entry and the queue version; after
commit the change goes to the outbound port."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import queue_repo as repo
from ..db.engine import Database
from ..db.models import IdempotencyKey, Transaction
from ..db.queue_repo import TxnRecord
from ..domain.actors import Principal
from ..domain.errors import CommandError, ErrorCode
from ..domain.moves import TxnState
from .changes import Change
from .views import public_view, staff_view


@dataclass
class Outcome:
    """What a command's work hands back: its result, the transaction it changed (saved, viewed
    and versioned for it) and what the audit log says about it."""

    result: dict[str, Any]
    txn: TxnRecord | None = None
    reason: str = ""  # the audit action and the broadcast's reason; empty: nothing changed
    audit: dict[str, Any] = field(default_factory=dict)
    from_status: str | None = None
    names: dict[int, str] = field(default_factory=dict)  # staff names the command already knows


Work = Callable[[Session, datetime], Outcome]


def fingerprint(command: object) -> str:
    """SHA-256 (hex) of a command in a canonical form, without its idempotency key: what a
    stored key is compared with. Of the parsed command, so payloads that mean the same (a
    service listed twice or once with quantity 2, a null or an absent field) are the same."""
    if not dataclasses.is_dataclass(command) or isinstance(command, type):
        raise TypeError(f"a command dataclass is needed, not {type(command).__name__}")
    fields = dataclasses.asdict(command)
    fields.pop("idempotency_key", None)
    if isinstance(fields.get("manager"), dict):
        fields["manager"] = {"staff_id": fields["manager"]["staff_id"]}  # never a PIN, even hashed
    canonical = json.dumps([type(command).__name__, fields], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def apply(txn: TxnRecord, before: TxnState, after: TxnState) -> str:
    """Copy a transition's result onto the row to be saved; returns the status it left."""
    for name, value in after.changed(before).items():
        setattr(txn, name, value)
    return before.status.value


class UnitOfWork:
    def __init__(self, db: Database, clock: Callable[[], datetime], publish: Callable[[Change], None]) -> None:
        self.db = db
        self.clock = clock
        self.publish = publish

    def run(
        self, event: str, actor: Principal, command: object | None, work: Work, *, full_result: bool = False
    ) -> tuple[dict[str, Any], Change | None]:
        """`command` is the parsed command (its `idempotency_key`, if any, is stored with its
        fingerprint); None for the server's own work, which has no key."""
        key: str | None = getattr(command, "idempotency_key", None)
        digest = fingerprint(command) if key is not None else None

        def transaction(s: Session) -> tuple[dict[str, Any], Change | None]:
            now = self.clock()
            if key is not None:
                stored = s.get(IdempotencyKey, (actor.key, key))
                if stored is not None:
                    return _replay(stored, event, digest), None
            outcome = work(s, now)
            txn = outcome.txn
            change: Change | None = None
            version: int | None = None
            result = dict(outcome.result)
            if txn is not None:
                names = self.names_for(s, txn, outcome.names)
                audit: repo.AuditFields | None = None
                if outcome.reason:
                    audit = {
                        "action": outcome.reason,
                        "actor": actor.key,
                        "created_at": now,
                        "transaction_id": txn.id,
                        "from_status": outcome.from_status,
                        "to_status": txn.status,
                        "staff_id": actor.staff_id,
                        "device_id": actor.device_id,
                        "detail": {"event": event, **outcome.audit},
                    }
                # The version last of all, so its row is held only while committing: with a key,
                # after the key's row, which needs the answer, which needs the items.
                bump_now = key is None and bool(outcome.reason)
                items, version = repo.finish(s, txn, audit, bump=bump_now)
                full = staff_view(txn, items, names)
                if full_result:
                    result["transaction"] = full
            if key is not None:
                # A concurrent twin that got here first makes this insert fail as a duplicate: this
                # whole transaction then rolls back and the twin's stored result is returned.
                repo.add_idempotency_key(s, actor.key, key, event, json.dumps(result, sort_keys=True), digest, now)
            if txn is not None and outcome.reason:
                if version is None:
                    version = repo.bump_version(s)
                change = Change(version, outcome.reason, txn.id, full, public_view(txn))
            return result, change

        try:
            result, change = self.db.run_write(transaction)
        except IntegrityError:
            if key is None:
                raise
            with self.db.read() as s:
                stored = s.get(IdempotencyKey, (actor.key, key))
                if stored is None:
                    raise
                result, change = _replay(stored, event, digest), None
        if change is not None:
            self.publish(change)
        return result, change

    @staticmethod
    def names_for(s: Session, txn: TxnRecord | Transaction, known: dict[int, str] | None = None) -> dict[int, str]:
        """The names of the therapist and cashier a staff view shows, read only if not known."""
        names = dict(known or {})
        missing = {i for i in (txn.therapist_id, txn.cashier_id) if i and i not in names}
        names.update(repo.staff_names(s, missing))
        return names

    @classmethod
    def staff_view(
        cls, s: Session, txn: TxnRecord | Transaction, known: dict[int, str] | None = None
    ) -> dict[str, Any]:
        return staff_view(txn, repo.items_of(s, txn.id), cls.names_for(s, txn, known))


def _replay(stored: IdempotencyKey, event: str, digest: str | None) -> dict[str, Any]:
    if stored.event != event:
        raise CommandError(ErrorCode.INVALID_PAYLOAD, f"idempotency_key was already used for {stored.event}")
    # A key stored before payload hashes were kept (NULL) replays as it always did.
    if stored.payload_hash is not None and stored.payload_hash != digest:
        raise CommandError(
            ErrorCode.IDEMPOTENCY_MISMATCH, f"idempotency_key was already used for a different {event} payload"
        )
    return {**json.loads(stored.result or "{}"), "replayed": True}

"""The queue's commands. Each runs in one database transaction: resolve who acts, apply the
domain rule, persist, audit, raise the queue version; after commit the change is broadcast."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import queue_repo as repo
from ..db.engine import Database
from ..db.models import IdempotencyKey, Payment, Transaction
from ..db.queue_repo import TxnRecord
from ..domain import codes, money, waits
from ..domain.errors import CommandError, ErrorCode
from ..domain.status import REACHED_AT, Command, TxnStatus, next_status
from ..protocol import schema
from . import desks, printing
from .changes import Change
from .principals import SYSTEM, Capability, Principal, lookup_token
from .printing import ReceiptHeader
from .views import iso, public_view, staff_view

logger = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Outcome:
    result: dict[str, Any]
    txn: TxnRecord | None = None
    reason: str = ""
    audit: dict[str, Any] = field(default_factory=dict)
    from_status: str | None = None
    names: dict[int, str] = field(default_factory=dict)  # staff names the command already knows


class QueueService:
    def __init__(
        self,
        db: Database,
        *,
        zone: Any,
        therapists_on_duty: int | None = None,
        publish: Callable[[Change], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
        receipt_header: ReceiptHeader | None = None,
    ) -> None:
        self.db = db
        self.receipt_header = receipt_header or ReceiptHeader("Spa", "", "€")
        self.zone = zone
        self.therapists_on_duty = therapists_on_duty
        self.publish = publish or (lambda change: None)
        self.clock = clock

    # ---- commands -------------------------------------------------------------------------

    def confirm_selection(self, actor: Principal, cmd: schema.ConfirmSelection) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> Outcome:
            wanted = [i.service_id for i in cmd.items]
            services = repo.active_services(s, wanted)
            missing = [sid for sid in wanted if sid not in services]
            if missing:
                raise CommandError(ErrorCode.UNKNOWN_SERVICE, f"service {missing[0]} is not offered")
            day = self.business_day(now)
            code = codes.ticket_code(repo.next_ticket_number(s, day))
            txn = repo.insert_transaction(
                s,
                {
                    "business_day": day,
                    "code": code,
                    "customer_name": cmd.customer_name,
                    "status": TxnStatus.PENDING_THERAPIST.value,
                    "queue_key": now,
                    "created_by_device_id": actor.device_id,
                    "created_at": now,
                    "total_cents": 0,
                    "total_minutes": 0,
                },
            )
            for req in cmd.items:
                self._add_item(s, txn, services[req.service_id], req.quantity, actor, now)
            ahead = repo.waiting_ahead(s, TxnStatus.PENDING_THERAPIST, txn.queue_key, txn.id)
            wait = self._wait_after(s, ahead, now)
            result = {
                "transaction_id": txn.id,
                "code": code,
                "status": txn.status,
                "position": len(ahead) + 1,
                "estimated_wait_min": wait,
                "total": money.format_cents(txn.total_cents),
                "items": [
                    {"service_id": i.service_id, "name": i.name, "quantity": i.quantity}
                    for i in repo.items_of(s, txn.id)
                ],
            }
            return Outcome(result, txn, "created", {"code": code})

        return self._execute("customer_confirm_selection", actor, cmd.idempotency_key, work)

    def claim_for_therapist(self, actor: Principal, cmd: schema.TherapistClaim) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> Outcome:
            therapist = self._acting_staff(s, actor, cmd.therapist_token, "therapist")
            txn = repo.claim_oldest(s, TxnStatus.PENDING_THERAPIST)
            if txn is None:
                raise CommandError(ErrorCode.QUEUE_EMPTY, "no customer is waiting")
            before = self._move(txn, Command.CLAIM_FOR_THERAPIST, now)
            txn.therapist_id = therapist.staff_id if therapist else None
            txn.room = cmd.room or (actor.name if actor.kind == "device" else None)
            txn.holder = actor.key
            txn.claimed_at = now
            names = {therapist.id: therapist.name} if therapist else {}
            return Outcome({}, txn, "claimed", {"room": txn.room}, before, names)

        return self._execute("therapist_confirm_next", actor, cmd.idempotency_key, work, full_result=True)

    def start_service(self, actor: Principal, cmd: schema.TxnAction) -> dict[str, Any]:
        return self._therapist_step("therapist_start_service", actor, cmd, Command.START_SERVICE, "started")

    def finish_service(self, actor: Principal, cmd: schema.TxnAction) -> dict[str, Any]:
        return self._therapist_step("therapist_finish_service", actor, cmd, Command.FINISH_SERVICE, "finished")

    def release_by_therapist(self, actor: Principal, cmd: schema.TxnAction) -> dict[str, Any]:
        return self._therapist_step("therapist_release", actor, cmd, Command.RELEASE, "released")

    def add_service(self, actor: Principal, cmd: schema.AddService) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> Outcome:
            txn = self._locked(s, cmd.transaction_id)
            self._check_therapist(s, actor, txn, cmd.therapist_token)
            before = self._move(txn, Command.ADD_SERVICE, now)
            service = repo.active_services(s, [cmd.service_id]).get(cmd.service_id)
            if service is None:
                raise CommandError(ErrorCode.UNKNOWN_SERVICE, f"service {cmd.service_id} is not offered")
            self._add_item(s, txn, service, cmd.quantity, actor, now)
            audit = {"service_id": service.id, "quantity": cmd.quantity}
            return Outcome({}, txn, "service_added", audit, before)

        return self._execute("therapist_add_service", actor, cmd.idempotency_key, work, full_result=True)

    def claim_for_cashier(self, actor: Principal, cmd: schema.CashierClaim) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> Outcome:
            cashier = self._acting_staff(s, actor, cmd.cashier_token, "cashier")
            txn = repo.claim_oldest(s, TxnStatus.AWAITING_PAYMENT)
            if txn is None:
                raise CommandError(ErrorCode.QUEUE_EMPTY, "no customer is waiting to pay")
            before = self._take_for_cashier(txn, actor, cashier, now)
            return Outcome({}, txn, "cashier_claimed", {"desk": txn.cashier_desk}, before)

        return self._execute("cashier_claim_next", actor, cmd.idempotency_key, work, full_result=True)

    def lookup_for_cashier(self, actor: Principal, cmd: schema.Lookup) -> dict[str, Any]:
        """A code typed or scanned at the till: claims it when it waits to pay, else shows it."""

        def work(s: Session, now: datetime) -> Outcome:
            cashier = self._acting_staff(s, actor, cmd.cashier_token, "cashier")
            txn = repo.lock_by_code(s, self.business_day(now), cmd.code)
            if txn is None:
                raise CommandError(ErrorCode.NOT_FOUND, f"no transaction {cmd.code} today")
            if txn.status == TxnStatus.AWAITING_PAYMENT.value:
                before = self._take_for_cashier(txn, actor, cashier, now)
                return Outcome({}, txn, "cashier_claimed", {"desk": txn.cashier_desk, "by": "code"}, before)
            if txn.status == TxnStatus.PAYING.value and not _holds_payment(actor, cashier, txn):
                raise CommandError(ErrorCode.INVALID_STATE, f"{txn.code} is being paid at {txn.cashier_desk}")
            # Paying here already, paid (for a reprint) or not yet finished: shown, not changed.
            return Outcome({}, txn)

        return self._execute("cashier_lookup", actor, cmd.idempotency_key, work, full_result=True)

    def pay(self, actor: Principal, cmd: schema.Pay) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> Outcome:
            cashier = self._acting_staff(s, actor, cmd.cashier_token, "cashier")
            txn = self._locked(s, cmd.transaction_id)
            if txn.status == TxnStatus.PAYING.value and not _holds_payment(actor, cashier, txn):
                raise CommandError(ErrorCode.FORBIDDEN, f"{txn.code} is being paid at {txn.cashier_desk}")
            before = self._move(txn, Command.PAY, now)
            change = money.change_due(txn.total_cents, cmd.amount_paid_cents)
            if before == TxnStatus.AWAITING_PAYMENT.value:
                txn.cashier_claimed_at = now
            if cashier is not None:
                txn.cashier_id = cashier.staff_id
            if txn.cashier_desk is None:
                txn.cashier_desk = actor.name
            txn.holder = None
            payment = SimpleNamespace(
                transaction_id=txn.id,
                amount_due_cents=txn.total_cents,
                amount_paid_cents=cmd.amount_paid_cents,
                change_cents=change,
                method=cmd.method,
                cashier_id=txn.cashier_id,
                device_id=actor.device_id,
                created_at=now,
            )
            payment.id = s.execute(insert(Payment.__table__).values(**vars(payment))).inserted_primary_key[0]
            payment_view = {
                "id": payment.id,
                "amount_due": money.format_cents(payment.amount_due_cents),
                "amount_paid": money.format_cents(payment.amount_paid_cents),
                "change": money.format_cents(change),
                "method": payment.method,
                "paid_at": iso(now),
            }
            result = {
                "change": payment_view["change"],
                "payment": payment_view,
                "print_job": self._receipt_job(s, txn, payment, actor, cashier, now),
            }
            audit = {"paid": payment_view["amount_paid"], "method": cmd.method}
            return Outcome(result, txn, "paid", audit, before)

        return self._execute("cashier_pay", actor, cmd.idempotency_key, work, full_result=True)

    def release_by_cashier(self, actor: Principal, cmd: schema.TxnAction) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> Outcome:
            txn = self._locked(s, cmd.transaction_id)
            if txn.status != TxnStatus.PAYING.value:
                raise CommandError(ErrorCode.INVALID_STATE, f"{txn.code} is not being paid")
            if not _holds_payment(actor, None, txn):
                raise CommandError(ErrorCode.FORBIDDEN, f"{txn.code} is held by another cashier")
            before = self._release(txn)
            return Outcome({}, txn, "released", {}, before)

        return self._execute("cashier_release", actor, cmd.idempotency_key, work, full_result=True)

    def cancel(self, actor: Principal, cmd: schema.TxnAction) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> Outcome:
            txn = self._locked(s, cmd.transaction_id)
            if not actor.can(Capability.CANCEL):
                own = actor.can(Capability.CANCEL_OWN) and txn.created_by_device_id == actor.device_id
                if not own or txn.status != TxnStatus.PENDING_THERAPIST.value:
                    raise CommandError(ErrorCode.FORBIDDEN, "this device may cancel only its own waiting customers")
            before = self._move(txn, Command.CANCEL, now)
            txn.holder = None
            return Outcome({}, txn, "cancelled", {}, before)

        return self._execute("cancel_transaction", actor, cmd.idempotency_key, work, full_result=True)

    def release_abandoned(self, transaction_id: int, holder: str, claimed_at: datetime) -> Change | None:
        """The server's own release of a claim whose holder vanished; None if it moved on meanwhile."""

        def work(s: Session, now: datetime) -> Outcome:
            txn = self._locked(s, transaction_id)
            if (
                txn.holder != holder
                or txn.claimed_at != claimed_at
                or txn.status
                not in (
                    TxnStatus.THERAPIST_CONFIRMED.value,
                    TxnStatus.PAYING.value,
                )
            ):
                return Outcome({"released": False})
            before = self._release(txn)
            audit = {"holder": holder, "why": "holder disconnected"}
            return Outcome({"released": True}, txn, "released", audit, before)

        return self._run("release_abandoned", SYSTEM, None, work)[1]

    # ---- reads ----------------------------------------------------------------------------

    def get_transaction(self, actor: Principal, transaction_id: int) -> dict[str, Any]:
        with self.db.read() as s:
            txn = s.get(Transaction, transaction_id)
            if txn is None:
                raise CommandError(ErrorCode.NOT_FOUND, f"no transaction {transaction_id}")
            if not actor.can(Capability.VIEW_STAFF):
                return public_view(txn)
            return self._staff_view(s, txn)

    def snapshot(self, actor: Principal) -> dict[str, Any]:
        """The whole live queue at one version, as a screen needs it after (re)connecting."""
        full = actor.can(Capability.VIEW_STAFF)
        with self.db.read() as s:
            version = repo.current_version(s)
            live = repo.in_statuses(
                s,
                [
                    TxnStatus.PENDING_THERAPIST,
                    TxnStatus.THERAPIST_CONFIRMED,
                    TxnStatus.IN_SERVICE,
                    TxnStatus.AWAITING_PAYMENT,
                    TxnStatus.PAYING,
                ],
            )
            items = repo.items_of_many(s, [t.id for t in live]) if full else {}
            names = repo.staff_names(s, {i for t in live for i in (t.therapist_id, t.cashier_id) if i}) if full else {}
            therapists = self._therapists(s)
            now = self.clock()
            busy = busy_minutes(
                [t for t in live if t.status in (TxnStatus.THERAPIST_CONFIRMED.value, TxnStatus.IN_SERVICE.value)], now
            )
            by_status: dict[str, list[dict[str, Any]]] = {s.value: [] for s in TxnStatus}
            for txn in live:
                view = staff_view(txn, items[txn.id], names) if full else public_view(txn)
                by_status[txn.status].append(view)
        waiting = by_status[TxnStatus.PENDING_THERAPIST.value]
        estimates = waits.estimate_waits([w["total_minutes"] for w in waiting], busy, therapists)
        for position, (view, wait) in enumerate(zip(waiting, estimates, strict=True), start=1):
            view["position"] = position
            view["estimated_wait_min"] = wait
        return {
            "version": version,
            "server_time": iso(now),
            "therapists_on_duty": therapists,
            "waiting": waiting,
            "with_therapist": by_status[TxnStatus.THERAPIST_CONFIRMED.value] + by_status[TxnStatus.IN_SERVICE.value],
            "awaiting_payment": by_status[TxnStatus.AWAITING_PAYMENT.value],
            "paying": by_status[TxnStatus.PAYING.value],
        }

    def business_day(self, now_utc: datetime) -> date:
        return now_utc.replace(tzinfo=UTC).astimezone(self.zone).date()

    # ---- the recipe every command follows ----------------------------------------------------

    def _execute(
        self,
        event: str,
        actor: Principal,
        key: str | None,
        work: Callable[[Session, datetime], Outcome],
        *,
        full_result: bool = False,
    ) -> dict[str, Any]:
        return self._run(event, actor, key, work, full_result=full_result)[0]

    def _run(
        self,
        event: str,
        actor: Principal,
        key: str | None,
        work: Callable[[Session, datetime], Outcome],
        *,
        full_result: bool = False,
    ) -> tuple[dict[str, Any], Change | None]:
        def transaction(s: Session) -> tuple[dict[str, Any], Change | None]:
            now = self.clock()
            if key is not None:
                stored = s.get(IdempotencyKey, (actor.key, key))
                if stored is not None:
                    return self._replay(stored, event), None
            outcome = work(s, now)
            txn = outcome.txn
            change: Change | None = None
            result = dict(outcome.result)
            if txn is not None:
                repo.save(s, txn)
                full = self._staff_view(s, txn, outcome.names)
                if full_result:
                    result["transaction"] = full
                if outcome.reason:
                    repo.add_audit(
                        s,
                        action=outcome.reason,
                        actor=actor.key,
                        created_at=now,
                        transaction_id=txn.id,
                        from_status=outcome.from_status,
                        to_status=txn.status,
                        staff_id=actor.staff_id,
                        device_id=actor.device_id,
                        detail={"event": event, **outcome.audit},
                    )
            if key is not None:
                # A concurrent twin that got here first makes this insert fail as a duplicate: this
                # whole transaction then rolls back and the twin's stored result is returned.
                repo.add_idempotency_key(s, actor.key, key, event, json.dumps(result, sort_keys=True), now)
            if txn is not None and outcome.reason:
                version = repo.bump_version(s)  # last: holds the version row only while committing
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
                result, change = self._replay(stored, event), None
        if change is not None:
            self.publish(change)
        return result, change

    def _replay(self, stored: IdempotencyKey, event: str) -> dict[str, Any]:
        if stored.event != event:
            raise CommandError(ErrorCode.INVALID_PAYLOAD, f"idempotency_key was already used for {stored.event}")
        return {**json.loads(stored.result or "{}"), "replayed": True}

    # ---- helpers ----------------------------------------------------------------------------

    def _therapist_step(
        self, event: str, actor: Principal, cmd: schema.TxnAction, command: Command, reason: str
    ) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> Outcome:
            txn = self._locked(s, cmd.transaction_id)
            self._check_therapist(s, actor, txn, cmd.acting_token)
            if command is Command.RELEASE:
                if txn.status != TxnStatus.THERAPIST_CONFIRMED.value:
                    raise CommandError(ErrorCode.INVALID_STATE, "only an unstarted claim can be given back")
                before = self._release(txn)
            else:
                before = self._move(txn, command, now)
                if command is Command.FINISH_SERVICE:
                    # Now waiting for a cashier: its place is the moment the service ended.
                    txn.queue_key = now
                    txn.holder = None
                elif command is Command.START_SERVICE:
                    txn.holder = None  # started: no longer a claim the server may take back
            return Outcome({}, txn, reason, {}, before)

        return self._execute(event, actor, cmd.idempotency_key, work, full_result=True)

    def _move(self, txn: TxnRecord, command: Command, now: datetime) -> str:
        """Apply a legal move (or raise invalid_state); returns the status it left."""
        current = TxnStatus(txn.status)
        target = next_status(current, command)
        if target is not current:
            txn.status = target.value
            setattr(txn, REACHED_AT[target], now)
        return current.value

    def _release(self, txn: TxnRecord) -> str:
        """Back to the queue it came from, at its original place (queue_key is kept)."""
        current = TxnStatus(txn.status)
        target = next_status(current, Command.RELEASE)
        txn.status = target.value
        if current is TxnStatus.THERAPIST_CONFIRMED:
            txn.therapist_id = None
            txn.room = None
            txn.therapist_confirmed_at = None
        else:
            txn.cashier_id = None
            txn.cashier_desk = None
            txn.cashier_claimed_at = None
        txn.holder = None
        txn.claimed_at = None
        return current.value

    def _take_for_cashier(self, txn: TxnRecord, actor: Principal, cashier: Principal | None, now: datetime) -> str:
        before = self._move(txn, Command.CLAIM_FOR_CASHIER, now)
        txn.cashier_id = cashier.staff_id if cashier else None
        txn.cashier_desk = actor.name if actor.kind == "device" else (cashier.name if cashier else actor.name)
        txn.holder = actor.key
        txn.claimed_at = now
        return before

    def _locked(self, s: Session, transaction_id: int) -> TxnRecord:
        txn = repo.lock_transaction(s, transaction_id)
        if txn is None:
            raise CommandError(ErrorCode.NOT_FOUND, f"no transaction {transaction_id}")
        return txn

    def _add_item(
        self, s: Session, txn: TxnRecord, service: Any, quantity: int, actor: Principal, now: datetime
    ) -> None:
        repo.add_item(
            s,
            {
                "transaction_id": txn.id,
                "service_id": service.id,
                "name": service.name,
                "quantity": quantity,
                "unit_price_cents": service.price_cents,
                "duration_min": service.duration_min,
                "added_by": actor.key,
                "created_at": now,
            },
        )
        # Under the transaction's row lock, so concurrent additions add up instead of overwriting.
        txn.total_cents += money.line_total(service.price_cents, quantity)
        txn.total_minutes += service.duration_min * quantity

    def _receipt_job(
        self, s: Session, txn: TxnRecord, payment: Any, actor: Principal, cashier: Principal | None, now: datetime
    ) -> dict[str, Any] | None:
        """The receipt prints at the till that took the payment; a cash payment opens its drawer."""
        if actor.kind != "device" or actor.role != "cashier":
            return None
        if cashier is not None:
            cashier_name = cashier.name
        else:
            cashier_name = (
                repo.staff_names(s, {txn.cashier_id}).get(txn.cashier_id or 0, actor.name)
                if txn.cashier_id
                else actor.name
            )
        body = printing.receipt(self.receipt_header, txn, payment, cashier_name, s)
        return printing.add_job(s, f"rcpt-{payment.id}", actor.id, txn, body, payment.method == "cash", now)

    def _acting_staff(self, s: Session, actor: Principal, token: str | None, role: str) -> Principal | None:
        """The staff member a command acts for: the payload's token if given, else the caller."""
        if token is None:
            if actor.kind == "staff" and actor.role in (role, "admin"):
                return actor
            if actor.kind == "device":
                # Whoever scanned their badge at this desk, else the room box or till on its own.
                desk = desks.signed_in_at(s, actor)
                return desk if desk is not None and desk.role in (role, "admin") else None
            raise CommandError(ErrorCode.FORBIDDEN, f"a {role} token is needed")
        named = lookup_token(s, token)
        if named is None or named.kind != "staff" or named.role not in (role, "admin"):
            raise CommandError(ErrorCode.FORBIDDEN, f"{role}_token is not a valid {role} token")
        if actor.kind == "staff" and actor.role != "admin" and named.id != actor.id:
            raise CommandError(ErrorCode.FORBIDDEN, f"a {role} can act only for themselves")
        return named

    def _check_therapist(self, s: Session, actor: Principal, txn: TxnRecord, token: str | None) -> None:
        therapist = self._acting_staff(s, actor, token, "therapist")
        if therapist is None or therapist.role == "admin":
            return
        if txn.therapist_id is not None and txn.therapist_id != therapist.id:
            raise CommandError(ErrorCode.FORBIDDEN, f"{txn.code} is another therapist's customer")

    def _staff_view(
        self, s: Session, txn: TxnRecord | Transaction, known: dict[int, str] | None = None
    ) -> dict[str, Any]:
        names = dict(known or {})
        missing = {i for i in (txn.therapist_id, txn.cashier_id) if i and i not in names}
        names.update(repo.staff_names(s, missing))
        return staff_view(txn, repo.items_of(s, txn.id), names)

    def _therapists(self, s: Session) -> int:
        if self.therapists_on_duty:
            return self.therapists_on_duty
        return max(1, repo.active_therapist_count(s))

    def _wait_after(self, s: Session, ahead_minutes: list[int], now: datetime) -> int:
        busy = busy_minutes(repo.in_statuses(s, [TxnStatus.THERAPIST_CONFIRMED, TxnStatus.IN_SERVICE]), now)
        return waits.estimate_waits([*ahead_minutes, 0], busy, self._therapists(s))[-1]


def _holds_payment(actor: Principal, cashier: Principal | None, txn: TxnRecord) -> bool:
    """The till or cashier that claimed a payment (or an admin) may finish or release it."""
    if actor.role == "admin" or txn.holder == actor.key:
        return True
    if cashier is not None and cashier.staff_id is not None and cashier.staff_id == txn.cashier_id:
        return True
    return actor.kind == "device" and actor.name == txn.cashier_desk


def busy_minutes(with_therapist: list[Transaction], now: datetime) -> list[int]:
    """Minutes each busy therapist still needs: the whole service if not started, else what is left."""
    left = []
    for txn in with_therapist:
        if txn.service_started_at is None:
            left.append(txn.total_minutes)
        else:
            elapsed = int((now - txn.service_started_at).total_seconds() // 60)
            left.append(max(0, txn.total_minutes - elapsed))
    return left

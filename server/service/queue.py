"""The queue's commands. Each runs in one database transaction: resolve who acts, apply the
domain rule, persist, audit, raise the queue version; after commit the change is broadcast."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from common.wire import PaymentMethod

from ..db import queue_repo as repo
from ..db.engine import Database
from ..db.models import Payment, Transaction
from ..db.queue_repo import TxnRecord
from ..domain import codes, money, waits
from ..domain.actors import SYSTEM, Capability, Principal, PrincipalKind, StaffRole
from ..domain.errors import CommandError, ErrorCode
from ..domain.moves import Actor, Move, TxnState, holds_payment, still_held, transition
from ..domain.status import LIVE, WITH_THERAPIST, TxnStatus
from . import commands, desks, printing
from .changes import Change
from .principals import lookup_token
from .printing import ReceiptHeader
from .unit_of_work import Outcome, UnitOfWork, Work, apply
from .views import iso, public_view, staff_view

logger = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class QueueService:
    """The queue's use cases. A command is a short recipe inside the unit of work: load and lock
    the transaction, resolve who acts, `transition` (the domain's rule), save, audit."""

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
        self.clock = clock
        self.uow = UnitOfWork(db, clock, publish or (lambda change: None))

    # ---- commands -------------------------------------------------------------------------

    def confirm_selection(self, actor: Principal, cmd: commands.ConfirmSelection) -> dict[str, Any]:
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
            result = {
                "transaction_id": txn.id,
                "code": code,
                "status": txn.status,
                "position": len(ahead) + 1,
                "estimated_wait_min": self._wait_after(s, ahead, now),
                "total": money.format_cents(txn.total_cents),
                "items": [
                    {"service_id": i.service_id, "name": i.name, "quantity": i.quantity}
                    for i in repo.items_of(s, txn.id)
                ],
            }
            return Outcome(result, txn, "created", {"code": code})

        return self._execute("customer_confirm_selection", actor, cmd, work, full_result=False)

    def claim_for_therapist(self, actor: Principal, cmd: commands.TherapistClaim) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> Outcome:
            therapist = self._acting_staff(s, actor, cmd.therapist_token, StaffRole.THERAPIST)
            txn = repo.claim_oldest(s, TxnStatus.PENDING_THERAPIST)
            if txn is None:
                raise CommandError(ErrorCode.QUEUE_EMPTY, "no customer is waiting")
            before = self._transition(txn, Move.CLAIM_FOR_THERAPIST, Actor(actor, therapist), now, room=cmd.room)
            names = {therapist.id: therapist.name} if therapist else {}
            return Outcome({}, txn, "claimed", {"room": txn.room}, before, names)

        return self._execute("therapist_confirm_next", actor, cmd, work)

    def start_service(self, actor: Principal, cmd: commands.TxnAction) -> dict[str, Any]:
        return self._therapist_step("therapist_start_service", actor, cmd, Move.START_SERVICE, "started")

    def finish_service(self, actor: Principal, cmd: commands.TxnAction) -> dict[str, Any]:
        return self._therapist_step("therapist_finish_service", actor, cmd, Move.FINISH_SERVICE, "finished")

    def release_by_therapist(self, actor: Principal, cmd: commands.TxnAction) -> dict[str, Any]:
        return self._therapist_step("therapist_release", actor, cmd, Move.GIVE_BACK, "released")

    def add_service(self, actor: Principal, cmd: commands.AddService) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> Outcome:
            txn = self._locked(s, cmd.transaction_id)
            therapist = self._acting_staff(s, actor, cmd.therapist_token, StaffRole.THERAPIST)
            before = self._transition(txn, Move.ADD_SERVICE, Actor(actor, therapist), now)
            service = repo.active_services(s, [cmd.service_id]).get(cmd.service_id)
            if service is None:
                raise CommandError(ErrorCode.UNKNOWN_SERVICE, f"service {cmd.service_id} is not offered")
            self._add_item(s, txn, service, cmd.quantity, actor, now)
            audit = {"service_id": service.id, "quantity": cmd.quantity}
            return Outcome({}, txn, "service_added", audit, before)

        return self._execute("therapist_add_service", actor, cmd, work)

    def claim_for_cashier(self, actor: Principal, cmd: commands.CashierClaim) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> Outcome:
            cashier = self._acting_staff(s, actor, cmd.cashier_token, StaffRole.CASHIER)
            txn = repo.claim_oldest(s, TxnStatus.AWAITING_PAYMENT)
            if txn is None:
                raise CommandError(ErrorCode.QUEUE_EMPTY, "no customer is waiting to pay")
            before = self._transition(txn, Move.CLAIM_FOR_CASHIER, Actor(actor, cashier), now)
            return Outcome({}, txn, "cashier_claimed", {"desk": txn.cashier_desk}, before)

        return self._execute("cashier_claim_next", actor, cmd, work)

    def lookup_for_cashier(self, actor: Principal, cmd: commands.Lookup) -> dict[str, Any]:
        """A code typed or scanned at the till: claims it when it waits to pay, else shows it."""

        def work(s: Session, now: datetime) -> Outcome:
            cashier = self._acting_staff(s, actor, cmd.cashier_token, StaffRole.CASHIER)
            txn = repo.lock_by_code(s, self.business_day(now), cmd.code)
            if txn is None:
                raise CommandError(ErrorCode.NOT_FOUND, f"no transaction {cmd.code} today")
            who = Actor(actor, cashier)
            if txn.status == TxnStatus.AWAITING_PAYMENT.value:
                before = self._transition(txn, Move.CLAIM_FOR_CASHIER, who, now)
                return Outcome({}, txn, "cashier_claimed", {"desk": txn.cashier_desk, "by": "code"}, before)
            if txn.status == TxnStatus.PAYING.value and not holds_payment(TxnState.of(txn), who):
                raise CommandError(ErrorCode.INVALID_STATE, f"{txn.code} is being paid at {txn.cashier_desk}")
            # Paying here already, paid (for a reprint) or not yet finished: shown, not changed.
            return Outcome({}, txn)

        return self._execute("cashier_lookup", actor, cmd, work)

    def pay(self, actor: Principal, cmd: commands.Pay) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> Outcome:
            cashier = self._acting_staff(s, actor, cmd.cashier_token, StaffRole.CASHIER)
            txn = self._locked(s, cmd.transaction_id)
            before = self._transition(txn, Move.PAY, Actor(actor, cashier), now)
            change = money.change_due(txn.total_cents, cmd.amount_paid_cents)
            payment = SimpleNamespace(
                transaction_id=txn.id,
                amount_due_cents=txn.total_cents,
                amount_paid_cents=cmd.amount_paid_cents,
                change_cents=change,
                method=PaymentMethod(cmd.method).value,
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
            audit = {"paid": payment_view["amount_paid"], "method": payment.method}
            return Outcome(result, txn, "paid", audit, before)

        return self._execute("cashier_pay", actor, cmd, work)

    def release_by_cashier(self, actor: Principal, cmd: commands.TxnAction) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> Outcome:
            txn = self._locked(s, cmd.transaction_id)
            before = self._transition(txn, Move.RELEASE_PAYMENT, Actor(actor), now)
            return Outcome({}, txn, "released", {}, before)

        return self._execute("cashier_release", actor, cmd, work)

    def cancel(self, actor: Principal, cmd: commands.TxnAction) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> Outcome:
            txn = self._locked(s, cmd.transaction_id)
            before = self._transition(txn, Move.CANCEL, Actor(actor), now)
            return Outcome({}, txn, "cancelled", {}, before)

        return self._execute("cancel_transaction", actor, cmd, work)

    def release_abandoned(self, transaction_id: int, holder: str, claimed_at: datetime) -> Change | None:
        """The server's own release of a claim whose holder vanished; None if it moved on meanwhile."""

        def work(s: Session, now: datetime) -> Outcome:
            txn = self._locked(s, transaction_id)
            if not still_held(TxnState.of(txn), holder, claimed_at):
                return Outcome({"released": False})
            before = self._transition(txn, Move.RELEASE_ABANDONED, Actor(SYSTEM), now)
            audit = {"holder": holder, "why": "holder disconnected"}
            return Outcome({"released": True}, txn, "released", audit, before)

        return self.uow.run("release_abandoned", SYSTEM, None, work)[1]

    # ---- reads ----------------------------------------------------------------------------

    def get_transaction(self, actor: Principal, transaction_id: int) -> dict[str, Any]:
        with self.db.read() as s:
            txn = s.get(Transaction, transaction_id)
            if txn is None:
                raise CommandError(ErrorCode.NOT_FOUND, f"no transaction {transaction_id}")
            if not actor.can(Capability.VIEW_STAFF):
                return public_view(txn)
            return self.uow.staff_view(s, txn)

    def snapshot(self, actor: Principal) -> dict[str, Any]:
        """The whole live queue at one version, as a screen needs it after (re)connecting."""
        full = actor.can(Capability.VIEW_STAFF)
        with self.db.read() as s:
            version = repo.current_version(s)
            live = repo.in_statuses(s, list(LIVE))
            items = repo.items_of_many(s, [t.id for t in live]) if full else {}
            names = repo.staff_names(s, {i for t in live for i in (t.therapist_id, t.cashier_id) if i}) if full else {}
            therapists = self._therapists(s)
            now = self.clock()
            busy = waits.busy_minutes(
                ((t.total_minutes, t.service_started_at) for t in live if t.status in WITH_THERAPIST), now
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

    # ---- the steps the recipes share ----------------------------------------------------------

    def _execute(
        self, event: str, actor: Principal, cmd: object, work: Work, *, full_result: bool = True
    ) -> dict[str, Any]:
        """`cmd` is the parsed command: the unit of work stores its key with its fingerprint."""
        return self.uow.run(event, actor, cmd, work, full_result=full_result)[0]

    def _therapist_step(
        self, event: str, actor: Principal, cmd: commands.TxnAction, move: Move, reason: str
    ) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> Outcome:
            txn = self._locked(s, cmd.transaction_id)
            therapist = self._acting_staff(s, actor, cmd.acting_token, StaffRole.THERAPIST)
            before = self._transition(txn, move, Actor(actor, therapist), now)
            return Outcome({}, txn, reason, {}, before)

        return self._execute(event, actor, cmd, work)

    @staticmethod
    def _transition(txn: TxnRecord, move: Move, actor: Actor, now: datetime, *, room: str | None = None) -> str:
        """The domain's rule applied to the row; returns the status it left."""
        before = TxnState.of(txn)
        return apply(txn, before, transition(before, move, actor, now, room=room))

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
        if not actor.is_till:
            return None
        if cashier is not None:
            cashier_name = cashier.name
        elif txn.cashier_id:
            cashier_name = repo.staff_names(s, {txn.cashier_id}).get(txn.cashier_id, actor.name)
        else:
            cashier_name = actor.name
        body = printing.receipt(self.receipt_header, txn, payment, cashier_name, s)
        return printing.add_job(s, f"rcpt-{payment.id}", actor.id, txn, body, payment.method == "cash", now)

    def _acting_staff(self, s: Session, actor: Principal, token: str | None, role: StaffRole) -> Principal | None:
        """The staff member a command acts for: the payload's token if given, else the caller
        (a device: whoever scanned their badge at its desk, else the room box or till on its own)."""
        if token is None:
            if actor.acts_as(role):
                return actor
            if actor.is_device:
                desk = desks.signed_in_at(s, actor)
                return desk if desk is not None and desk.acts_as(role) else None
            raise CommandError(ErrorCode.FORBIDDEN, f"a {role.value} token is needed")
        named = lookup_token(s, token)
        if named is None or not named.acts_as(role):
            raise CommandError(ErrorCode.FORBIDDEN, f"{role.value}_token is not a valid {role.value} token")
        if actor.kind is PrincipalKind.STAFF and not actor.is_admin and named.id != actor.id:
            raise CommandError(ErrorCode.FORBIDDEN, f"a {role.value} can act only for themselves")
        return named

    def _therapists(self, s: Session) -> int:
        if self.therapists_on_duty:
            return self.therapists_on_duty
        return max(1, repo.active_therapist_count(s))

    def _wait_after(self, s: Session, ahead_minutes: list[int], now: datetime) -> int:
        with_therapist = repo.in_statuses(s, list(WITH_THERAPIST))
        busy = waits.busy_minutes(((t.total_minutes, t.service_started_at) for t in with_therapist), now)
        return waits.estimate_waits([*ahead_minutes, 0], busy, self._therapists(s))[-1]

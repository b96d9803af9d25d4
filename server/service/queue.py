"""The queue's commands. Each runs in one database transaction: resolve who acts, apply the
domain rule, persist, audit, raise the queue version; after commit the change is broadcast."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from common.wire import CancelReason

from ..db import queue_repo as repo
from ..db import roster_repo
from ..db.engine import Database
from ..db.models import Transaction
from ..db.queue_repo import TxnRecord
from ..domain import codes, estimates, money
from ..domain.actors import SYSTEM, Capability, DeviceRole, Principal, PrincipalKind, StaffRole
from ..domain.errors import CommandError, ErrorCode
from ..domain.hours import QueueState, intake
from ..domain.moves import Actor, Move, TxnState, holds_payment, still_held, transition
from ..domain.status import LIVE, TxnStatus
from . import billing, commands, desks, estimating, printing
from .changes import Change
from .estimating import NEWCOMER_ID
from .principals import lookup_token
from .printing import ReceiptHeader
from .spa_settings import Defaults, Policy, SpaSettings
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
        publish: Callable[[Change], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
        receipt_header: ReceiptHeader | None = None,
        settings: SpaSettings | None = None,
        public_url: str = "",
    ) -> None:
        self.db = db
        self.public_url = public_url.rstrip("/")  # SPA_PUBLIC_URL: where phones reach the ticket page
        self.receipt_header = receipt_header or ReceiptHeader("Spa", "", "€")
        self.zone = zone
        self.clock = clock
        self.settings = settings or SpaSettings(db, Defaults())
        self.uow = UnitOfWork(db, clock, publish or (lambda change: None))

    # ---- commands -------------------------------------------------------------------------

    def confirm_selection(self, actor: Principal, cmd: commands.ConfirmSelection) -> dict[str, Any]:
        policy = self.settings.policy()

        def work(s: Session, now: datetime) -> Outcome:
            wanted = [i.service_id for i in cmd.items]
            services = repo.active_services(s, wanted)
            missing = [sid for sid in wanted if sid not in services]
            if missing:
                raise CommandError(ErrorCode.UNKNOWN_SERVICE, f"service {missing[0]} is not offered")
            asked = tuple((i.service_id, i.quantity) for i in cmd.items)
            quoted = estimating.quote_queue(s, now, newcomer=asked)
            wait = quoted[NEWCOMER_ID].estimated_wait_min
            if actor.is_device and actor.role is DeviceRole.KIOSK:
                self._check_intake(policy, now, wait)
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
                    "public_id": new_public_id(),
                },
            )
            for req in cmd.items:
                self._add_item(
                    s, txn, services[req.service_id], req.quantity, actor, now, policy.till.prices_include_tax
                )
            result = {
                "transaction_id": txn.id,
                "code": code,
                "status": txn.status,
                "position": quoted[NEWCOMER_ID].position,
                # None: nobody on shift can do these services now (the staff screens flag it).
                "estimated_wait_min": wait,
                "estimated_call_at": iso(now + timedelta(minutes=wait)) if wait is not None else None,
                "public_id": txn.public_id,
                "ticket_path": f"/t/{txn.public_id}",
                "total": money.format_cents(txn.total_cents),
                "items": [
                    {"service_id": i.service_id, "name": i.name, "quantity": i.quantity}
                    for i in repo.items_of(s, txn.id)
                ],
                "print_job": self._ticket_job(s, actor, policy, txn, wait, now),
            }
            return Outcome(result, txn, "created", {"code": code})

        return self._execute("customer_confirm_selection", actor, cmd, work, full_result=False)

    def _ticket_job(
        self, s: Session, actor: Principal, policy: Policy, txn: TxnRecord, wait: int | None, now: datetime
    ) -> dict[str, Any] | None:
        """The paper ticket, in the order's own transaction, for a kiosk whose appliance has a
        printer (``printing.kiosk_prints``); None for any other caller."""
        kiosk = actor.is_device and actor.role is DeviceRole.KIOSK
        if not kiosk or not printing.kiosk_prints(s, actor.id):
            return None
        path = f"/t/{txn.public_id}"
        call_at = self.local(now + timedelta(minutes=wait)) if wait is not None else None
        body = printing.ticket(
            printing.header_of(policy, self.zone), txn.code, wait, call_at, self.public_url + path, now, actor.name
        )
        return printing.add_job(s, "document", f"{printing.TICKET_PREFIX}{txn.id}", actor.id, txn.id, body, False, now)

    def claim_for_therapist(self, actor: Principal, cmd: commands.TherapistClaim) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> Outcome:
            therapist = self.acting_staff(s, actor, cmd.therapist_token, StaffRole.THERAPIST)
            room = self.room_for(s, actor, therapist, cmd.room)
            skills = self.skills_of(s, therapist)
            txn = repo.claim_next_for_therapist(s, skills)
            if txn is None:
                if skills is not None and repo.any_in_status(s, TxnStatus.PENDING_THERAPIST):
                    raise CommandError(ErrorCode.QUEUE_EMPTY, "nobody waiting is for you: their services are not yours")
                raise CommandError(ErrorCode.QUEUE_EMPTY, "no customer is waiting")
            before = self.transition(txn, Move.CLAIM_FOR_THERAPIST, Actor(actor, therapist), now, room=room)
            self.on_shift(s, therapist, now)
            names = {therapist.id: therapist.name} if therapist else {}
            return Outcome({}, txn, "claimed", {"room": txn.room}, before, names)

        return self._execute("therapist_confirm_next", actor, cmd, work)

    def start_service(self, actor: Principal, cmd: commands.TxnAction) -> dict[str, Any]:
        return self._therapist_step("therapist_start_service", actor, cmd, Move.START_SERVICE, "started")

    def finish_service(self, actor: Principal, cmd: commands.TxnAction) -> dict[str, Any]:
        return self._therapist_step(
            "therapist_finish_service", actor, cmd, Move.FINISH_SERVICE, "finished", after=self._observe_duration
        )

    def release_by_therapist(self, actor: Principal, cmd: commands.TxnAction) -> dict[str, Any]:
        return self._therapist_step("therapist_release", actor, cmd, Move.GIVE_BACK, "released")

    def add_service(self, actor: Principal, cmd: commands.AddService) -> dict[str, Any]:
        include_tax = self.settings.policy().till.prices_include_tax

        def work(s: Session, now: datetime) -> Outcome:
            txn = self.locked(s, cmd.transaction_id)
            therapist = self.acting_staff(s, actor, cmd.therapist_token, StaffRole.THERAPIST)
            before = self.transition(txn, Move.ADD_SERVICE, Actor(actor, therapist), now)
            service = repo.active_services(s, [cmd.service_id]).get(cmd.service_id)
            if service is None:
                raise CommandError(ErrorCode.UNKNOWN_SERVICE, f"service {cmd.service_id} is not offered")
            self._add_item(s, txn, service, cmd.quantity, actor, now, include_tax)
            audit = {"service_id": service.id, "quantity": cmd.quantity}
            return Outcome({}, txn, "service_added", audit, before)

        return self._execute("therapist_add_service", actor, cmd, work)

    def claim_for_cashier(self, actor: Principal, cmd: commands.CashierClaim) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> Outcome:
            cashier = self.acting_staff(s, actor, cmd.cashier_token, StaffRole.CASHIER)
            txn = repo.claim_oldest(s, TxnStatus.AWAITING_PAYMENT)
            if txn is None:
                raise CommandError(ErrorCode.QUEUE_EMPTY, "no customer is waiting to pay")
            before = self.transition(txn, Move.CLAIM_FOR_CASHIER, Actor(actor, cashier), now)
            return Outcome({}, txn, "cashier_claimed", {"desk": txn.cashier_desk}, before)

        return self._execute("cashier_claim_next", actor, cmd, work)

    def lookup_for_cashier(self, actor: Principal, cmd: commands.Lookup) -> dict[str, Any]:
        """A code typed or scanned at the till: claims it when it waits to pay, else shows it."""

        def work(s: Session, now: datetime) -> Outcome:
            cashier = self.acting_staff(s, actor, cmd.cashier_token, StaffRole.CASHIER)
            txn = repo.lock_by_code(s, self.business_day(now), cmd.code)
            if txn is None:
                raise CommandError(ErrorCode.NOT_FOUND, f"no transaction {cmd.code} today")
            who = Actor(actor, cashier)
            if txn.status == TxnStatus.AWAITING_PAYMENT.value:
                before = self.transition(txn, Move.CLAIM_FOR_CASHIER, who, now)
                return Outcome({}, txn, "cashier_claimed", {"desk": txn.cashier_desk, "by": "code"}, before)
            if txn.status == TxnStatus.PAYING.value and not holds_payment(TxnState.of(txn), who):
                raise CommandError(ErrorCode.INVALID_STATE, f"{txn.code} is being paid at {txn.cashier_desk}")
            # Paying here already, paid (for a reprint) or not yet finished: shown, not changed.
            return Outcome({}, txn)

        return self._execute("cashier_lookup", actor, cmd, work)

    def release_by_cashier(self, actor: Principal, cmd: commands.TxnAction) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> Outcome:
            txn = self.locked(s, cmd.transaction_id)
            before = self.transition(txn, Move.RELEASE_PAYMENT, Actor(actor), now)
            return Outcome({}, txn, "released", {}, before)

        return self._execute("cashier_release", actor, cmd, work)

    def cancel(self, actor: Principal, cmd: commands.Cancel) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> Outcome:
            txn = self.locked(s, cmd.transaction_id)
            therapist = (
                self.acting_staff(s, actor, None, StaffRole.THERAPIST) if actor.can(Capability.THERAPIST) else None
            )
            proven = (
                cmd.ticket is not None
                and txn.public_id is not None
                and secrets.compare_digest(cmd.ticket, txn.public_id)
            )
            before = self.transition(txn, Move.CANCEL, Actor(actor, therapist, ticket=proven), now)
            reason = cmd.reason
            if actor.role is DeviceRole.KIOSK:
                reason = CancelReason.CUSTOMER.value  # the customer, at the kiosk, with their ticket
            txn.cancel_reason = reason
            audit = {"reason": reason, **({"note": cmd.note} if cmd.note else {})}
            return Outcome({}, txn, "cancelled", audit, before)

        return self._execute("cancel_transaction", actor, cmd, work)

    def release_abandoned(self, transaction_id: int, holder: str, claimed_at: datetime) -> Change | None:
        """The server's own release of a claim whose holder vanished; None if it moved on meanwhile."""

        def work(s: Session, now: datetime) -> Outcome:
            txn = self.locked(s, transaction_id)
            if not still_held(TxnState.of(txn), holder, claimed_at):
                return Outcome({"released": False})
            before = self.transition(txn, Move.RELEASE_ABANDONED, Actor(SYSTEM), now)
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
        """The whole live queue at one version, as a screen needs it after (re)connecting: waiting
        customers in call order (priority first) with their place and estimated wait."""
        full = actor.can(Capability.VIEW_STAFF)
        policy = self.settings.policy()
        with self.db.read() as s:
            version = repo.current_version(s)
            live = repo.in_statuses(s, list(LIVE))
            now = self.clock()
            quoted, team, services = estimating.quote_live(s, live, now, newcomer=())
            items = repo.items_of_many(s, [t.id for t in live]) if full else {}
            names = repo.staff_names(s, {i for t in live for i in (t.therapist_id, t.cashier_id) if i}) if full else {}
            recallable = repo.no_shows_since(s, now - policy.windows.recall) if full else []
            by_status: dict[str, list[dict[str, Any]]] = {s.value: [] for s in TxnStatus}
            for txn in live:
                view = staff_view(txn, items[txn.id], names) if full else public_view(txn)
                if full:
                    view["unservable"] = estimating.unservable(services[txn.id], team)
                by_status[txn.status].append(view)
            no_shows = [
                staff_view(t, repo.items_of(s, t.id), {}) | {"recall_until": iso(t.no_show_at + policy.windows.recall)}
                for t in recallable
            ]
        waiting = by_status[TxnStatus.PENDING_THERAPIST.value]
        for view in waiting:
            quote = quoted[view["id"]]
            view["position"] = quote.position
            view["estimated_wait_min"] = quote.estimated_wait_min
            view["estimated_call_at"] = call_at(now, quote.estimated_wait_min)
        waiting.sort(key=lambda v: v["position"])
        newcomer = quoted[NEWCOMER_ID].estimated_wait_min
        snapshot: dict[str, Any] = {
            "version": version,
            "server_time": iso(now),
            "therapists_on_duty": len(team.on_shift),
            "waiting": waiting,
            "with_therapist": by_status[TxnStatus.THERAPIST_CONFIRMED.value] + by_status[TxnStatus.IN_SERVICE.value],
            "awaiting_payment": by_status[TxnStatus.AWAITING_PAYMENT.value],
            "paying": by_status[TxnStatus.PAYING.value],
            "intake": self.intake_view(policy, now, newcomer),
        }
        if full:
            snapshot["no_shows"] = no_shows
        return snapshot

    def intake_view(self, policy: Policy, now: datetime, newcomer_wait: int | None) -> dict[str, Any]:
        """Whether the kiosk takes a new customer now, and the wait it would quote."""
        state = intake(policy.week, self.local(now), policy.last_entry_min, newcomer_wait, policy.max_wait_min)
        return {
            "state": state.state.value,
            "opens_at": iso(self.utc(state.opens_at)),
            "closes_at": iso(self.utc(state.closes_at)),
            "last_entry_at": iso(self.utc(state.last_entry_at)),
            "estimated_wait_min": newcomer_wait,
            "max_wait_min": policy.max_wait_min,
        }

    def _check_intake(self, policy: Policy, now: datetime, wait: int | None) -> None:
        view = self.intake_view(policy, now, wait)
        state = QueueState(view["state"])
        if state is QueueState.FULL:
            raise CommandError(ErrorCode.QUEUE_FULL, f"the wait would be about {wait} min; the queue is full")
        if state is not QueueState.OPEN:
            opens = f"; it opens again at {view['opens_at']}" if view["opens_at"] else ""
            raise CommandError(ErrorCode.QUEUE_CLOSED, f"the queue is closed ({state.value}){opens}")

    def local(self, now_utc: datetime) -> datetime:
        """The spa's wall clock (naive) at a UTC moment."""
        return now_utc.replace(tzinfo=UTC).astimezone(self.zone).replace(tzinfo=None)

    def utc(self, local: datetime | None) -> datetime | None:
        if local is None:
            return None
        return local.replace(tzinfo=self.zone).astimezone(UTC).replace(tzinfo=None)

    def business_day(self, now_utc: datetime) -> date:
        return now_utc.replace(tzinfo=UTC).astimezone(self.zone).date()

    # ---- the steps the recipes share ----------------------------------------------------------

    def _execute(
        self, event: str, actor: Principal, cmd: object, work: Work, *, full_result: bool = True
    ) -> dict[str, Any]:
        """`cmd` is the parsed command: the unit of work stores its key with its fingerprint."""
        return self.uow.run(event, actor, cmd, work, full_result=full_result)[0]

    def _therapist_step(
        self,
        event: str,
        actor: Principal,
        cmd: commands.TxnAction,
        move: Move,
        reason: str,
        after: Callable[[Session, TxnRecord, datetime], None] | None = None,
    ) -> dict[str, Any]:
        def work(s: Session, now: datetime) -> Outcome:
            txn = self.locked(s, cmd.transaction_id)
            therapist = self.acting_staff(s, actor, cmd.acting_token, StaffRole.THERAPIST)
            before = self.transition(txn, move, Actor(actor, therapist), now)
            if after is not None:
                after(s, txn, now)
            return Outcome({}, txn, reason, {}, before)

        return self._execute(event, actor, cmd, work)

    def transition(self, txn: TxnRecord, move: Move, actor: Actor, now: datetime, **args: Any) -> str:
        """The domain's rule applied to the row; returns the status it left. A move with a window
        (recall, undo) is given the spa's, read before the transaction began (`settings.policy`):
        never a second connection from inside one."""
        before = TxnState.of(txn)
        return apply(txn, before, transition(before, move, actor, now, **args))

    def _observe_duration(self, s: Session, txn: TxnRecord, now: datetime) -> None:
        """A finished service teaches the moving averages how long its services take."""
        started = txn.service_started_at
        if started is None:
            return
        items = repo.items_of(s, txn.id)
        by_service: dict[int, int] = {}
        for item in items:
            by_service[item.service_id] = by_service.get(item.service_id, 0) + item.quantity
        services = roster_repo.lock_services(s, sorted(by_service))
        expected = [(svc.avg_minutes or svc.duration_min) * by_service[svc.id] for svc in services]
        observed = (now - started).total_seconds() / 60
        for svc, share in zip(services, estimates.shares(observed, expected), strict=True):
            per_one = share / by_service[svc.id]
            svc.avg_minutes = estimates.observe(svc.avg_minutes, svc.duration_min, per_one, svc.avg_samples)
            svc.avg_samples += 1
        s.flush()

    def locked(self, s: Session, transaction_id: int) -> TxnRecord:
        txn = repo.lock_transaction(s, transaction_id)
        if txn is None:
            raise CommandError(ErrorCode.NOT_FOUND, f"no transaction {transaction_id}")
        return txn

    def _add_item(
        self,
        s: Session,
        txn: TxnRecord,
        service: Any,
        quantity: int,
        actor: Principal,
        now: datetime,
        include_tax: bool,
    ) -> None:
        """An item at today's price and tax rate (copied: a later change alters no transaction
        made). The total is added to under the transaction's row lock, so concurrent additions
        add up; with discounts on it, the bill is worked out again instead (billing.recompute)."""
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
                "tax_rate_bp": service.tax_rate_bp,
            },
        )
        txn.total_minutes += service.duration_min * quantity
        if txn.discount_kind or not include_tax:
            billing.recompute(s, txn, include_tax)
        else:
            txn.total_cents += money.line_total(service.price_cents, quantity)

    def acting_staff(self, s: Session, actor: Principal, token: str | None, role: StaffRole) -> Principal | None:
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

    def skills_of(self, s: Session, therapist: Principal | None) -> frozenset[int] | None:
        """What a therapist can do (None: everything, e.g. a room box with nobody signed in, or
        an admin standing in)."""
        if therapist is None or therapist.role is not StaffRole.THERAPIST:
            return None
        skills, active = roster_repo.skills_against_active(s, therapist.id)
        return None if skills >= active else skills

    def room_for(self, s: Session, actor: Principal, therapist: Principal | None, asked: str | None) -> str | None:
        """Where a call sends the customer: the room asked for (any name the pattern allows: room
        boxes configured with a number send that), else the room the therapist signed in to, else
        a room box's own room, else its name."""
        if asked is not None:
            return asked
        if therapist is not None and therapist.staff_id is not None:
            facts = roster_repo.room_and_shift(s, therapist.staff_id)
            if facts is not None and facts[0]:
                return facts[0]
        if actor.is_device:
            return roster_repo.device_room(s, actor.id) or actor.name
        return None

    def on_shift(self, s: Session, therapist: Principal | None, now: datetime) -> None:
        """A therapist who takes a customer is at work: on shift from now if they were not."""
        if therapist is None or therapist.role is not StaffRole.THERAPIST:
            return
        facts = roster_repo.room_and_shift(s, therapist.id)
        if facts is not None and facts[1]:
            return  # on shift already: no write on every claim
        if roster_repo.set_shift(s, therapist.id, True, now):
            repo.add_audit(
                s,
                action="shift_started",
                actor=therapist.key,
                created_at=now,
                staff_id=therapist.id,
                detail={"by": "claim"},
            )


def new_public_id() -> str:
    """A ticket's public id: 96 random bits, 16 characters of base64url (the phone page's path)."""
    return secrets.token_urlsafe(12)


def call_at(now: datetime, wait_min: int | None) -> str | None:
    """When a customer quoted `wait_min` is likely called (UTC, ISO)."""
    return iso(now + timedelta(minutes=wait_min)) if wait_min is not None else None

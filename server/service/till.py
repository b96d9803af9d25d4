"""The till: payments (split tenders, tips, a check on amounts far above the bill), discounts,
voids and refunds with a manager's PIN, receipt numbers per till and year, and the cash drawer's
sessions (float, cash in and out, X and Z reports).

A paid transaction is never edited: a refund is an entry of its own. Every amount is integer
cents, every rounding is the domain's (`server/domain/till.py`). The drawer: a till takes no cash
while it has no open session; every cash payment and cash refund belongs to the session open at
its till, so a Z report adds up from the rows alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.orm import Session

from common.wire import PaymentMethod

from ..db import queue_repo as repo
from ..db.engine import Database
from ..db.models import (
    CashMovement,
    Device,
    DocumentCounter,
    Payment,
    PaymentTender,
    PrintJob,
    Refund,
    RefundItem,
    TillReport,
    TillSession,
    TransactionItem,
)
from ..db.queue_repo import TxnRecord
from ..domain import till
from ..domain.actors import Principal, StaffRole
from ..domain.errors import CommandError, ErrorCode
from ..domain.money import format_cents
from ..domain.moves import Actor, Move
from ..domain.status import TxnStatus
from . import billing, commands, printing
from .queue import QueueService
from .sessions import SignInLimiter, SignInPolicy, check_manager
from .spa_settings import Policy
from .unit_of_work import Outcome
from .views import iso


@dataclass(frozen=True)
class ManagerCheck:
    """How a manager's PIN is checked (the sign-in throttle's, per staff member and source)."""

    limiter: SignInLimiter
    policy: SignInPolicy


class TillService:
    def __init__(self, db: Database, queue: QueueService, manager_check: ManagerCheck) -> None:
        self.db = db
        self.queue = queue
        self.manager_check = manager_check

    # ---- paying -----------------------------------------------------------------------------------

    def pay(self, actor: Principal, cmd: commands.Pay) -> dict[str, Any]:
        q = self.queue
        policy = q.settings.policy()
        tenders = _tenders(cmd)

        def work(s: Session, now: datetime) -> Outcome:
            cashier, txn, before = self._cashier_move(s, actor, cmd, Move.PAY, now)
            settled = till.settle(txn.total_cents, cmd.tip_cents, tenders)
            cash = settled.cash_tendered_cents
            if (
                cash
                and not cmd.confirm
                and till.needs_confirmation(
                    txn.total_cents + cmd.tip_cents,
                    cash,
                    policy.till.tender_confirm_multiple,
                    policy.till.largest_note_cents,
                )
            ):
                raise CommandError(
                    ErrorCode.CONFIRMATION_NEEDED,
                    f"{format_cents(cash)} tendered for {format_cents(txn.total_cents + cmd.tip_cents)}: "
                    "check the amount, then confirm it",
                )
            session = open_session(s, actor.device_id) if actor.is_till else None
            if cash and actor.is_till and session is None:
                # A staff browser is no till: it has no drawer to check (and prints no receipt).
                raise CommandError(ErrorCode.TILL_CLOSED, "this till takes no cash until its drawer is opened")
            number = next_number(s, actor.device_id, q.local(now).year) if actor.is_till else None
            payment_id = s.execute(
                insert(Payment.__table__).values(
                    transaction_id=txn.id,
                    amount_due_cents=txn.total_cents,
                    amount_paid_cents=settled.paid_cents,
                    change_cents=settled.change_cents,
                    method=settled.method,
                    cashier_id=txn.cashier_id,
                    device_id=actor.device_id,
                    created_at=now,
                    tip_cents=cmd.tip_cents,
                    receipt_number=number,
                    session_id=session.id if session is not None else None,
                )
            ).inserted_primary_key[0]
            tender_rows = [
                {"payment_id": payment_id, "method": m.value, "amount_cents": amount, "change_cents": change}
                for m, amount, change in (
                    (till.Tender.CASH, cash, settled.change_cents),
                    (till.Tender.CARD, settled.card_cents, 0),
                )
                if amount
            ]
            if tender_rows:
                s.execute(insert(PaymentTender.__table__), tender_rows)
            payment = s.get(Payment, payment_id)
            assert payment is not None
            view = payment_view(s, payment)
            result = {
                "change": view["change"],
                "payment": view,
                "print_job": self._receipt_job(s, txn, payment, actor, cashier, policy, now),
            }
            audit = {"paid": view["amount_paid"], "method": payment.method, "tip": view["tip"], "receipt": number}
            return Outcome(result, txn, "paid", audit, before)

        return q.uow.run("cashier_pay", actor, cmd, work, full_result=True)[0]

    def discount(self, actor: Principal, cmd: commands.SetDiscount) -> dict[str, Any]:
        q = self.queue
        policy = q.settings.policy()
        manager = self._approve(actor, cmd.manager)

        def work(s: Session, now: datetime) -> Outcome:
            cashier, txn, before = self._cashier_move(s, actor, cmd, Move.DISCOUNT, now)
            kind = cmd.kind if cmd.value else None
            if cmd.item_id is not None:
                item = s.get(TransactionItem, cmd.item_id)
                if item is None or item.transaction_id != txn.id:
                    raise CommandError(ErrorCode.NOT_FOUND, f"{txn.code} has no item {cmd.item_id}")
                item.discount_kind, item.discount_value = kind, cmd.value
                item.discount_reason = cmd.reason if cmd.value else None
                s.flush()
            else:
                txn.discount_kind, txn.discount_value = kind, cmd.value
                txn.discount_reason = cmd.reason if cmd.value else None
            billed = billing.recompute(s, txn, policy.till.prices_include_tax)
            if (
                billed.discount_share_bp >= policy.till.discount_without_manager_bp
                and billed.discount_cents
                and manager is None
            ):
                share = policy.till.discount_without_manager_bp / 100
                raise CommandError(
                    ErrorCode.MANAGER_NEEDED, f"a discount of more than {share:g} % needs a manager's PIN"
                )
            audit = {
                "item_id": cmd.item_id,
                "kind": cmd.kind,
                "value": cmd.value,
                "reason": cmd.reason,
                "total": format_cents(txn.total_cents),
                **({"manager": manager.id} if manager is not None else {}),
            }
            return Outcome({}, txn, "discounted", audit, before)

        return q.uow.run("cashier_discount", actor, cmd, work, full_result=True)[0]

    def void(self, actor: Principal, cmd: commands.Void) -> dict[str, Any]:
        q = self.queue
        policy = q.settings.policy()
        manager = self._require_manager(actor, cmd.manager)

        def work(s: Session, now: datetime) -> Outcome:
            cashier, txn, before = self._cashier_move(s, actor, cmd, Move.VOID, now)
            txn.cancel_reason = "void"
            job = None
            if actor.is_till:
                lines = [("Visit", txn.code), ("Total", self._money(policy, txn.total_cents)), ("Reason", cmd.reason)]
                job = self._document(s, actor, policy, now, "void", "VOID", None, lines, False, txn.id)
            audit = {"reason": cmd.reason, "manager": manager.id, "total": format_cents(txn.total_cents)}
            return Outcome({"print_job": job}, txn, "voided", audit, before)

        return q.uow.run("cashier_void", actor, cmd, work, full_result=True)[0]

    def refund(self, actor: Principal, cmd: commands.RefundRequest) -> dict[str, Any]:
        q = self.queue
        policy = q.settings.policy()
        manager = self._require_manager(actor, cmd.manager)

        def work(s: Session, now: datetime) -> Outcome:
            cashier = q.acting_staff(s, actor, cmd.cashier_token, StaffRole.CASHIER)
            txn = q.locked(s, cmd.transaction_id)
            if txn.status != TxnStatus.PAID.value:
                raise CommandError(ErrorCode.INVALID_STATE, f"{txn.code} is not paid: void it instead")
            payment = s.scalars(select(Payment).where(Payment.transaction_id == txn.id)).one()
            sold = billing.sold_items(s, txn.id, payment)
            wanted = dict(cmd.items) if cmd.items else {i.item_id: i.quantity - i.refunded_quantity for i in sold}
            wanted = {item: n for item, n in wanted.items() if n}
            by_id = {i.item_id: i for i in sold}
            unknown = [i for i in wanted if i not in by_id]
            if unknown:
                raise CommandError(ErrorCode.NOT_FOUND, f"{txn.code} has no item {unknown[0]}")
            if not wanted:
                raise CommandError(ErrorCode.INVALID_STATE, f"{txn.code} is refunded in full already")
            amounts = {item: till.refund_amount(by_id[item], n) for item, n in wanted.items()}
            total = sum(amounts.values())
            method = _refund_method(cmd.method, payment, s)
            session = open_session(s, actor.device_id) if actor.is_till else None
            if method == PaymentMethod.CASH.value and actor.is_till and session is None:
                raise CommandError(ErrorCode.TILL_CLOSED, "cash goes back from an open till only")
            number = next_number(s, actor.device_id, q.local(now).year) if actor.is_till else None
            refund_id = s.execute(
                insert(Refund.__table__).values(
                    transaction_id=txn.id,
                    payment_id=payment.id,
                    receipt_number=number,
                    amount_cents=total,
                    method=method,
                    reason=cmd.reason,
                    manager_id=manager.id,
                    cashier_id=cashier.id if cashier is not None else None,
                    device_id=actor.device_id,
                    session_id=session.id if session is not None else None,
                    created_at=now,
                )
            ).inserted_primary_key[0]
            s.execute(
                insert(RefundItem.__table__),
                [
                    {"refund_id": refund_id, "item_id": item, "quantity": n, "amount_cents": amounts[item]}
                    for item, n in wanted.items()
                ],
            )
            names = {i.id: i.name for i in repo.items_of(s, txn.id)}
            job = None
            if actor.is_till:
                lines = [("Visit", txn.code), ("Receipt", payment.receipt_number or "-")]
                lines += [(f"{n} × {names[item]}", self._money(policy, -amounts[item])) for item, n in wanted.items()]
                lines += [("REFUND", self._money(policy, -total)), ("Method", method), ("Reason", cmd.reason)]
                job = self._document(s, actor, policy, now, "refund", "REFUND", number, lines, method == "cash", txn.id)
            result = {
                "refund": {
                    "id": refund_id,
                    "amount": format_cents(total),
                    "method": method,
                    "receipt_number": number,
                    "items": [
                        {"item_id": i, "quantity": n, "amount": format_cents(amounts[i])} for i, n in wanted.items()
                    ],
                },
                "print_job": job,
            }
            audit = {"refund": refund_id, "amount": format_cents(total), "method": method, "manager": manager.id}
            return Outcome(result, txn, "refunded", audit, TxnStatus.PAID.value)

        return q.uow.run("cashier_refund", actor, cmd, work, full_result=True)[0]

    # ---- the drawer -------------------------------------------------------------------------------

    def open_till(self, actor: Principal, cmd: commands.TillOpen) -> dict[str, Any]:
        policy = self.queue.settings.policy()
        device_id = _till_id(actor)

        def work(s: Session, now: datetime) -> Outcome:
            _lock_device(s, device_id)
            if open_session(s, device_id) is not None:
                raise CommandError(ErrorCode.INVALID_STATE, "this till is open already")
            session = TillSession(device_id=device_id, opened_at=now, opened_by=actor.key, float_cents=cmd.float_cents)
            s.add(session)
            s.flush()
            _audit_drawer(s, "till_opened", actor, now, session, float=format_cents(cmd.float_cents))
            job = self._document(
                s,
                actor,
                policy,
                now,
                "till_open",
                "TILL OPENED",
                None,
                [("Float", self._money(policy, cmd.float_cents))],
                True,
            )
            return Outcome({"session": session_view(session), "print_job": job})

        return self.queue.uow.run("till_open", actor, cmd, work)[0]

    def cash_movement(self, actor: Principal, cmd: commands.CashMove) -> dict[str, Any]:
        policy = self.queue.settings.policy()
        device_id = _till_id(actor)

        def work(s: Session, now: datetime) -> Outcome:
            session = _session_open_at(s, device_id)
            movement = CashMovement(
                session_id=session.id,
                kind=cmd.kind,
                amount_cents=cmd.amount_cents,
                reason=cmd.reason,
                by=actor.key,
                created_at=now,
            )
            s.add(movement)
            s.flush()
            _audit_drawer(
                s, f"cash_{cmd.kind}", actor, now, session, amount=format_cents(cmd.amount_cents), reason=cmd.reason
            )
            title = "CASH IN" if cmd.kind == "in" else "CASH OUT"
            lines = [("Amount", self._money(policy, cmd.amount_cents)), ("Reason", cmd.reason)]
            job = self._document(s, actor, policy, now, f"cash_{cmd.kind}", title, None, lines, True)
            totals = drawer_totals(s, session)
            return Outcome(
                {
                    "movement": {"id": movement.id, "kind": cmd.kind, "amount": format_cents(cmd.amount_cents)},
                    "expected_cash": format_cents(totals.expected_cash_cents),
                    "print_job": job,
                }
            )

        return self.queue.uow.run("till_cash", actor, cmd, work)[0]

    def report_x(self, actor: Principal, cmd: commands.Empty) -> dict[str, Any]:
        policy = self.queue.settings.policy()
        device_id = _till_id(actor)
        now = self.queue.clock()
        with self.db.write() as s:
            session = _session_open_at(s, device_id)
            report = drawer_report(s, session, "x", now)
            s.add(TillReport(session_id=session.id, kind="x", created_at=now, body=json.dumps(report, sort_keys=True)))
            job = self._document(
                s, actor, policy, now, "x_report", "X REPORT", None, report_lines(report, policy), False
            )
            _audit_drawer(s, "x_report", actor, now, session)
        return {"report": report, "print_job": job}

    def close_till(self, actor: Principal, cmd: commands.TillClose) -> dict[str, Any]:
        policy = self.queue.settings.policy()
        device_id = _till_id(actor)
        counted_cash = till.counted(dict(cmd.counted))

        def work(s: Session, now: datetime) -> Outcome:
            _lock_device(s, device_id)
            session = _session_open_at(s, device_id)
            session.closed_at, session.closed_by = now, actor.key
            session.counted_cash_cents = counted_cash
            session.counted_card_cents = cmd.counted_card_cents
            session.counted_json = json.dumps({str(d): n for d, n in sorted(cmd.counted)}, sort_keys=True)
            s.flush()
            report = drawer_report(s, session, "z", now)
            s.add(TillReport(session_id=session.id, kind="z", created_at=now, body=json.dumps(report, sort_keys=True)))
            job = self._document(
                s, actor, policy, now, "z_report", "Z REPORT", None, report_lines(report, policy), True
            )
            _audit_drawer(
                s,
                "till_closed",
                actor,
                now,
                session,
                counted=format_cents(counted_cash),
                over_short=report["over_short"]["cash"],
            )
            return Outcome({"report": report, "print_job": job})

        return self.queue.uow.run("till_close", actor, cmd, work)[0]

    def status(self, actor: Principal, cmd: commands.Empty) -> dict[str, Any]:
        """The till's drawer now: its open session and what it should hold, or closed."""
        device_id = _till_id(actor)
        now = self.queue.clock()
        with self.db.read() as s:
            session = open_session(s, device_id)
            if session is None:
                return {"open": False, "session": None}
            return {"open": True, "session": session_view(session), "report": drawer_report(s, session, "x", now)}

    # ---- shared ------------------------------------------------------------------------------------

    def _cashier_move(
        self,
        s: Session,
        actor: Principal,
        cmd: commands.Pay | commands.SetDiscount | commands.Void,
        move: Move,
        now: datetime,
    ) -> tuple[Principal | None, TxnRecord, str]:
        """(the cashier acting, the transaction locked, the status it left) of a till command that
        moves one transaction."""
        q = self.queue
        cashier = q.acting_staff(s, actor, cmd.cashier_token, StaffRole.CASHIER)
        txn = q.locked(s, cmd.transaction_id)
        return cashier, txn, q.transition(txn, move, Actor(actor, cashier), now)

    def _approve(self, actor: Principal, manager: commands.ManagerPin | None) -> Principal | None:
        if manager is None:
            return None
        check = self.manager_check
        return check_manager(
            self.db,
            check.limiter,
            manager.staff_id,
            manager.pin,
            self.queue.clock,
            address=f"till:{actor.key}",
            policy=check.policy,
        )

    def _require_manager(self, actor: Principal, manager: commands.ManagerPin | None) -> Principal:
        approved = self._approve(actor, manager)
        if approved is None:
            raise CommandError(ErrorCode.MANAGER_NEEDED, "a manager's PIN is needed")
        return approved

    @staticmethod
    def _money(policy: Policy, cents: int) -> str:
        return f"{policy.currency}{format_cents(cents)}"

    def _receipt_job(
        self,
        s: Session,
        txn: TxnRecord,
        payment: Payment,
        actor: Principal,
        cashier: Principal | None,
        policy: Policy,
        now: datetime,
    ) -> dict[str, Any] | None:
        """The receipt prints at the till that took the payment; cash opens its drawer."""
        if not actor.is_till:
            return None
        if cashier is not None:
            cashier_name = cashier.name
        elif txn.cashier_id:
            cashier_name = repo.staff_names(s, {txn.cashier_id}).get(txn.cashier_id, actor.name)
        else:
            cashier_name = actor.name
        body = printing.receipt(printing.header_of(policy, self.queue.zone), txn, payment, cashier_name, s)
        opens = any(
            t.method == "cash" for t in s.scalars(select(PaymentTender).where(PaymentTender.payment_id == payment.id))
        )
        return printing.add_job(s, "receipt", f"rcpt-{payment.id}", actor.id, txn.id, body, opens, now)

    def _document(
        self,
        s: Session,
        actor: Principal,
        policy: Policy,
        now: datetime,
        kind: str,
        title: str,
        number: str | None,
        lines: list[tuple[str, str]],
        open_drawer: bool,
        transaction_id: int | None = None,
    ) -> dict[str, Any] | None:
        """A slip or a report for this till's printer (none when the caller is not a till)."""
        if not actor.is_till:
            return None
        header = printing.header_of(policy, self.queue.zone)
        count = s.scalar(select(func.count()).select_from(PrintJob).where(PrintJob.device_id == actor.id)) or 0
        document = printing.document(header, kind, title, number, now, lines, actor.name)
        return printing.add_job(
            s, "document", f"doc-{actor.id}-{count + 1}", actor.id, transaction_id, document, open_drawer, now
        )


# ---- queries and pure pieces --------------------------------------------------------------------


def _tenders(cmd: commands.Pay) -> dict[till.Tender, int]:
    if cmd.tenders:
        out: dict[till.Tender, int] = {}
        for method, cents in cmd.tenders:
            tender = till.Tender(method)
            out[tender] = out.get(tender, 0) + cents
        return out
    return {till.Tender(PaymentMethod(cmd.method).value): cmd.amount_paid_cents}


def _refund_method(asked: str | None, payment: Payment, s: Session) -> str:
    methods = {t.method for t in s.scalars(select(PaymentTender).where(PaymentTender.payment_id == payment.id))}
    if asked is not None:
        return asked
    if len(methods) == 1:
        return methods.pop()
    raise CommandError(ErrorCode.INVALID_PAYLOAD, "method: cash or card (the payment was split)")


def _till_id(actor: Principal) -> int:
    if not actor.is_till:
        raise CommandError(ErrorCode.FORBIDDEN, "only a till has a cash drawer")
    return actor.id


def _lock_device(s: Session, device_id: int) -> None:
    """Serialises opening and closing a till's drawer (its device row, locked until commit)."""
    query = select(Device.id).where(Device.id == device_id)
    if s.get_bind().dialect.name in ("mysql", "mariadb"):
        query = query.with_for_update()
    s.execute(query)


def _audit_drawer(
    s: Session, action: str, actor: Principal, now: datetime, session: TillSession, **detail: Any
) -> None:
    """An audit entry for something done to a till's drawer: which session, by whom."""
    repo.add_audit(
        s,
        action=action,
        actor=actor.key,
        created_at=now,
        device_id=session.device_id,
        detail={"session": session.id, **detail},
    )


def _session_open_at(s: Session, device_id: int) -> TillSession:
    session = open_session(s, device_id)
    if session is None:
        raise CommandError(ErrorCode.TILL_CLOSED, "this till is not open")
    return session


def open_session(s: Session, device_id: int | None) -> TillSession | None:
    if device_id is None:
        return None
    return s.scalars(
        select(TillSession).where(TillSession.device_id == device_id, TillSession.closed_at.is_(None))
    ).first()


def next_number(s: Session, device_id: int | None, year: int) -> str:
    """The next receipt (or refund) number of this till's series for the year: raised under the
    counter row's lock in the payment's own transaction, so a rolled-back payment leaves no gap."""
    assert device_id is not None
    table: Any = DocumentCounter.__table__
    stmt: Any
    if s.get_bind().dialect.name in ("mysql", "mariadb"):
        stmt = mysql.insert(table).values(device_id=device_id, year=year, last_number=1)
        stmt = stmt.on_duplicate_key_update(last_number=table.c.last_number + 1)
    else:
        stmt = sqlite.insert(table).values(device_id=device_id, year=year, last_number=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.device_id, table.c.year], set_={"last_number": table.c.last_number + 1}
        )
    s.execute(stmt)
    n = s.scalar(
        select(DocumentCounter.last_number).where(DocumentCounter.device_id == device_id, DocumentCounter.year == year)
    )
    return f"T{device_id:02d}-{year}-{int(n or 0):06d}"


def payment_view(s: Session, payment: Payment) -> dict[str, Any]:
    tenders = list(
        s.scalars(select(PaymentTender).where(PaymentTender.payment_id == payment.id).order_by(PaymentTender.id))
    )
    return {
        "id": payment.id,
        "amount_due": format_cents(payment.amount_due_cents),
        "amount_paid": format_cents(payment.amount_paid_cents),
        "change": format_cents(payment.change_cents),
        "method": payment.method,
        "paid_at": iso(payment.created_at),
        "tip": format_cents(payment.tip_cents),
        "receipt_number": payment.receipt_number,
        "tenders": [{"method": t.method, "amount": format_cents(t.amount_cents)} for t in tenders],
    }


def session_view(session: TillSession) -> dict[str, Any]:
    return {
        "id": session.id,
        "opened_at": iso(session.opened_at),
        "opened_by": session.opened_by,
        "float": format_cents(session.float_cents),
        "closed_at": iso(session.closed_at),
    }


def drawer_totals(s: Session, session: TillSession) -> till.DrawerTotals:
    tenders = s.execute(
        select(PaymentTender.method, func.sum(PaymentTender.amount_cents - PaymentTender.change_cents))
        .join(Payment, Payment.id == PaymentTender.payment_id)
        .where(Payment.session_id == session.id)
        .group_by(PaymentTender.method)
    ).all()
    sales = till.totals((m, int(a or 0)) for m, a in tenders)
    refunds = till.totals(
        (m, int(a or 0))
        for m, a in s.execute(
            select(Refund.method, func.sum(Refund.amount_cents))
            .where(Refund.session_id == session.id)
            .group_by(Refund.method)
        ).all()
    )
    moves = till.totals(
        (k, int(a or 0))
        for k, a in s.execute(
            select(CashMovement.kind, func.sum(CashMovement.amount_cents))
            .where(CashMovement.session_id == session.id)
            .group_by(CashMovement.kind)
        ).all()
    )
    tips = int(s.scalar(select(func.sum(Payment.tip_cents)).where(Payment.session_id == session.id)) or 0)
    return till.DrawerTotals(
        float_cents=session.float_cents,
        cash_sales_cents=sales.get("cash", 0),
        card_sales_cents=sales.get("card", 0),
        cash_refunds_cents=refunds.get("cash", 0),
        card_refunds_cents=refunds.get("card", 0),
        cash_in_cents=moves.get("in", 0),
        cash_out_cents=moves.get("out", 0),
        tips_cents=tips,
    )


def drawer_report(s: Session, session: TillSession, kind: str, now: datetime) -> dict[str, Any]:
    """An X (now) or Z (at close) report: what the drawer and the card terminal should hold,
    and, at close, what was counted and how far off it is."""
    t = drawer_totals(s, session)
    payments = list(s.scalars(select(Payment).where(Payment.session_id == session.id).order_by(Payment.id)))
    numbers = [p.receipt_number for p in payments if p.receipt_number]
    report: dict[str, Any] = {
        "kind": kind,
        "session": session.id,
        "opened_at": iso(session.opened_at),
        "opened_by": session.opened_by,
        "at": iso(now),
        "float": format_cents(t.float_cents),
        "sales": {"cash": format_cents(t.cash_sales_cents), "card": format_cents(t.card_sales_cents)},
        "tips": format_cents(t.tips_cents),
        "refunds": {"cash": format_cents(t.cash_refunds_cents), "card": format_cents(t.card_refunds_cents)},
        "cash_in": format_cents(t.cash_in_cents),
        "cash_out": format_cents(t.cash_out_cents),
        "expected": {"cash": format_cents(t.expected_cash_cents), "card": format_cents(t.expected_card_cents)},
        "payments": len(payments),
        "first_receipt": numbers[0] if numbers else None,
        "last_receipt": numbers[-1] if numbers else None,
    }
    if kind == "z":
        counted_cash = session.counted_cash_cents or 0
        counted_card = session.counted_card_cents
        report["closed_at"] = iso(session.closed_at)
        report["counted"] = {
            "cash": format_cents(counted_cash),
            "card": format_cents(counted_card) if counted_card is not None else None,
            "denominations": json.loads(session.counted_json or "{}"),
        }
        report["over_short"] = {
            "cash": format_cents(till.over_short(t.expected_cash_cents, counted_cash)),
            "card": format_cents(till.over_short(t.expected_card_cents, counted_card))
            if counted_card is not None
            else None,
        }
    return report


def report_lines(report: dict[str, Any], policy: Policy) -> list[tuple[str, str]]:
    def money(text: str | None) -> str:
        return "-" if text is None else f"{policy.currency}{text}"

    lines = [
        ("Session", str(report["session"])),
        ("Opened", report["opened_at"] or ""),
        ("Float", money(report["float"])),
        ("Cash sales", money(report["sales"]["cash"])),
        ("Card sales", money(report["sales"]["card"])),
        ("Tips", money(report["tips"])),
        ("Cash refunds", money(report["refunds"]["cash"])),
        ("Card refunds", money(report["refunds"]["card"])),
        ("Cash in", money(report["cash_in"])),
        ("Cash out", money(report["cash_out"])),
        ("Expected cash", money(report["expected"]["cash"])),
        ("Expected card", money(report["expected"]["card"])),
        ("Payments", str(report["payments"])),
        ("Receipts", f"{report['first_receipt'] or '-'} … {report['last_receipt'] or '-'}"),
    ]
    if report["kind"] == "z":
        lines += [
            ("Counted cash", money(report["counted"]["cash"])),
            ("Counted card", money(report["counted"]["card"])),
            ("Cash over/short", money(report["over_short"]["cash"])),
            ("Card over/short", money(report["over_short"]["card"])),
        ]
    return lines

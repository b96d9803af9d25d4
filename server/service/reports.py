"""The day's figures for the owner (/office/reports): reads the rows of a day or a range of days
in the spa's time zone — the audit log's status and shift entries, payments with their tenders,
items and discounts, refunds — and hands them to the domain (server/domain/figures.py), which
does every count and sum. The result is a set of named tables of plain values (money as decimal
strings), the same ones the page shows, the JSON carries and each CSV holds.

Which rows count: visits (waits, durations, no-shows, cancellations, customers) by their business
day, the day their ticket was made; money (payments, tips, discounts) by the moment it was paid,
refunds by the moment they were given; shifts and services by the time they overlap the range.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from ..db.engine import Database
from ..db.models import AuditEntry, Payment, PaymentTender, Refund, Staff, Transaction, TransactionItem
from ..domain import figures as fig
from ..domain.money import format_cents
from ..domain.status import TxnStatus
from .spa_settings import SpaSettings

logger = logging.getLogger(__name__)

SHIFT_ACTIONS = ("shift_started", "shift_ended")  # server/service/roster.py and queue.py write them
Cell = str | int


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class Report:
    first: date
    last: date
    timezone: str
    start_local: datetime  # the range in the spa's wall clock: [start, end)
    end_local: datetime
    until_local: datetime  # the range's end, or now when that is earlier (the chart stops there)
    queue_initial: int
    queue_points: tuple[tuple[datetime, int], ...]  # local
    summary: dict[str, Cell]
    tables: dict[str, Table]


# Every table the report has, in the order the page shows them (and the CSV names).
TABLES = (
    "summary",
    "durations",
    "not_served",
    "revenue_by_service",
    "revenue_by_therapist",
    "revenue_by_method",
    "revenue_by_tax_rate",
    "discounts",
    "tips",
    "refunds",
    "utilisation",
    "queue",
    "visits",
)


@dataclass(frozen=True)
class _Visit:
    id: int
    code: str
    business_day: date
    status: str
    cancel_reason: str | None
    therapist_id: int | None


class Reports:
    def __init__(self, db: Database, zone: ZoneInfo, clock: Callable[[], datetime], settings: SpaSettings) -> None:
        self.db = db
        self.zone = zone
        self.clock = clock
        self.settings = settings

    def today(self) -> date:
        return self.clock().replace(tzinfo=UTC).astimezone(self.zone).date()

    def range_of(self, first: str | None, last: str | None) -> tuple[date, date]:
        return fig.day_range(first, last, self.today())

    def build(self, first: date, last: date) -> Report:
        start, end = self._utc(first), self._utc(last + timedelta(days=1))
        now = self.clock()
        until = max(start, min(end, now))
        include_tax = self.settings.policy().till.prices_include_tax
        with self.db.read() as s:
            # A day earlier too: a customer who was waiting at midnight is in the queue's count.
            visits = _visits(s, first - timedelta(days=1), last)
            changes = _changes(s, first - timedelta(days=1), last)
            paid = _payments(s, start, end)
            paid_ids = [p.transaction_id for p in paid]
            items = _items(s, [v.id for v in visits if v.business_day >= first] + paid_ids)
            paid_txns = {t.id: t for t in s.scalars(select(Transaction).where(Transaction.id.in_(paid_ids)))}
            tenders = _tenders(s, [p.id for p in paid])
            refunds = _refunds(s, start, end)
            shifts = _shift_events(s, start, end)
            names = _names(
                s,
                {v.therapist_id for v in visits if v.therapist_id}
                | {t.therapist_id for t in paid_txns.values() if t.therapist_id}
                | set(shifts),
            )

        by_txn: dict[int, list[fig.StatusChange]] = defaultdict(list)
        for c in changes:
            by_txn[c.transaction_id].append(c)
        times = {v.id: fig.visit_times(by_txn[v.id]) for v in visits}
        ours = [v for v in visits if v.business_day >= first]

        paid_visits = [
            fig.PaidVisit(
                code=paid_txns[p.transaction_id].code,
                therapist=names.get(paid_txns[p.transaction_id].therapist_id or 0),
                due_cents=p.amount_due_cents,
                tip_cents=p.tip_cents,
                order_discount_cents=paid_txns[p.transaction_id].discount_cents,
                items=tuple(
                    fig.SoldItem(i.name, i.quantity, i.unit_price_cents * i.quantity, i.discount_cents, i.tax_rate_bp)
                    for i in items.get(p.transaction_id, [])
                ),
            )
            for p in paid
        ]
        queue = fig.queue_length(changes, start, end)
        tables: dict[str, Table] = {
            "durations": _durations(ours, times, items),
            "not_served": _not_served(ours),
            "revenue_by_service": Table(
                ("service", "quantity", "revenue"),
                tuple((n, q, format_cents(c)) for n, q, c in fig.revenue_by_service(paid_visits)),
            ),
            "revenue_by_therapist": Table(
                ("therapist", "visits", "revenue"),
                tuple((t or "", n, format_cents(c)) for t, n, c in fig.revenue_by_therapist(paid_visits)),
            ),
            "revenue_by_method": Table(
                ("method", "payments", "taken", "refunded", "net"),
                tuple(
                    (m, n, format_cents(taken), format_cents(back), format_cents(taken - back))
                    for m, n, taken, back in fig.by_method(
                        [(t.method, t.amount_cents - t.change_cents) for t in tenders],
                        [(r.method, r.amount_cents) for r, _ in refunds],
                    )
                ),
            ),
            "revenue_by_tax_rate": Table(
                ("rate", "net", "tax", "gross"),
                tuple(
                    (
                        fig.rate_text(t.rate_bp),
                        format_cents(t.net_cents),
                        format_cents(t.tax_cents),
                        format_cents(t.gross_cents),
                    )
                    for t in fig.taxes_by_rate(paid_visits, include_tax)
                ),
            ),
            "discounts": _discounts(paid, paid_txns, items),
            "tips": Table(
                ("therapist", "tips", "amount"),
                tuple((t or "", n, format_cents(c)) for t, n, c in fig.tips_by_therapist(paid_visits)),
            ),
            "refunds": Table(
                ("time", "code", "receipt", "method", "amount", "reason"),
                tuple(
                    (
                        self._local_text(r.created_at),
                        code,
                        r.receipt_number or "",
                        r.method,
                        format_cents(r.amount_cents),
                        r.reason,
                    )
                    for r, code in refunds
                ),
            ),
            "utilisation": self._utilisation(visits, times, shifts, names, start, until),
            "queue": Table(
                ("time", "waiting"),
                ((self._local_text(start), queue.initial),)
                + tuple((self._local_text(at), n) for at, n in queue.points),
            ),
            "visits": self._visits_table(ours, times, names),
        }
        discounted = sum(i.discount_cents for p in paid for i in items.get(p.transaction_id, [])) + sum(
            t.discount_cents for t in paid_txns.values()
        )
        summary = self._summary(ours, times, paid, tenders, refunds, discounted, queue)
        tables = {"summary": Table(("figure", "value"), tuple(summary.items())), **tables}
        return Report(
            first=first,
            last=last,
            timezone=str(self.zone),
            start_local=self._local(start),
            end_local=self._local(end),
            until_local=self._local(until),
            queue_initial=queue.initial,
            queue_points=tuple((self._local(at), n) for at, n in queue.points),
            summary=summary,
            tables={name: tables[name] for name in TABLES},
        )

    # ---- the pieces ---------------------------------------------------------------------------

    def _summary(
        self,
        ours: Sequence[_Visit],
        times: dict[int, fig.VisitTimes],
        paid: Sequence[Payment],
        tenders: Sequence[PaymentTender],
        refunds: Sequence[tuple[Refund, str]],
        discounts: int,
        queue: fig.QueueSeries,
    ) -> dict[str, Cell]:
        waits = fig.spread([w for v in ours if (w := times[v.id].wait_s) is not None])
        services = fig.spread([d for v in ours if (d := times[v.id].service_s) is not None])
        revenue = sum(p.amount_due_cents for p in paid)
        tips = sum(p.tip_cents for p in paid)
        taken = sum(t.amount_cents - t.change_cents for t in tenders)
        refunded = sum(r.amount_cents for r, _ in refunds)
        peak_at = queue.peak_at
        return {
            "customers": len(ours),
            "served": services.count,
            "paid": sum(1 for v in ours if v.status == TxnStatus.PAID),
            "no_shows": sum(1 for v in ours if v.status == TxnStatus.NO_SHOW),
            "cancelled": sum(1 for v in ours if v.status == TxnStatus.CANCELLED),
            "waits_counted": waits.count,
            "wait_median_min": fig.minutes_text(waits.median_s),
            "wait_p90_min": fig.minutes_text(waits.p90_s),
            "service_median_min": fig.minutes_text(services.median_s),
            "service_p90_min": fig.minutes_text(services.p90_s),
            "payments": len(paid),
            "revenue": format_cents(revenue),
            "discounts": format_cents(discounts),
            "tips": format_cents(tips),
            "refunds": format_cents(refunded),
            "takings_net": format_cents(taken - refunded),
            "queue_peak": queue.peak,
            "queue_peak_at": self._local_text(peak_at) if peak_at is not None else "",
        }

    def _utilisation(
        self,
        visits: Sequence[_Visit],
        times: dict[int, fig.VisitTimes],
        shifts: dict[int, list[tuple[datetime, bool]]],
        names: dict[int, str],
        start: datetime,
        until: datetime,
    ) -> Table:
        serving: dict[int, list[fig.Interval]] = defaultdict(list)
        for v in visits:
            t = times[v.id]
            if v.therapist_id and t.started_at is not None and t.finished_at is not None:
                serving[v.therapist_id].append(fig.Interval(t.started_at, t.finished_at))
        rows = []
        for staff_id in sorted(set(shifts) | set(serving), key=lambda i: (names.get(i, ""), i)):
            on = fig.shift_intervals(shifts.get(staff_id, []), start, until)
            u = fig.utilisation(on, fig.clip(serving.get(staff_id, []), start, until))
            if not u.on_shift_s and not u.in_service_s:
                continue
            rows.append(
                (
                    names.get(staff_id, f"#{staff_id}"),
                    fig.minutes_text(u.on_shift_s),
                    fig.minutes_text(u.in_service_s),
                    u.percent,
                )
            )
        return Table(("therapist", "on_shift_min", "in_service_min", "utilisation_pct"), tuple(rows))

    def _visits_table(self, ours: Sequence[_Visit], times: dict[int, fig.VisitTimes], names: dict[int, str]) -> Table:
        rows = []
        for v in ours:
            t = times[v.id]
            rows.append(
                (
                    v.code,
                    self._local_text(t.created_at),
                    self._local_text(t.claimed_at),
                    self._local_text(t.started_at),
                    self._local_text(t.finished_at),
                    fig.minutes_text(t.wait_s),
                    fig.minutes_text(t.service_s),
                    v.status,
                    v.cancel_reason or "",
                    names.get(v.therapist_id or 0, ""),
                )
            )
        columns = (
            "code",
            "created",
            "called",
            "started",
            "finished",
            "wait_min",
            "service_min",
            "status",
            "reason",
            "therapist",
        )
        return Table(columns, tuple(rows))

    def _utc(self, day: date) -> datetime:
        """The spa's midnight starting `day`, in naive UTC."""
        return datetime.combine(day, time(0), self.zone).astimezone(UTC).replace(tzinfo=None)

    def _local(self, moment: datetime) -> datetime:
        return moment.replace(tzinfo=UTC).astimezone(self.zone).replace(tzinfo=None)

    def _local_text(self, moment: datetime | None) -> str:
        """The spa's wall clock, to the second: '2026-03-02 09:15:00'."""
        if moment is None:
            return ""
        return self._local(moment).isoformat(sep=" ", timespec="seconds")


# ---- tables made of rows alone --------------------------------------------------------------------


def _durations(ours: Sequence[_Visit], times: dict[int, fig.VisitTimes], items: dict[int, list[Any]]) -> Table:
    """Started → finished: all visits, then per service (a visit of several services under their
    combination: its time cannot be split between them honestly)."""
    groups: dict[str, list[Fraction]] = defaultdict(list)
    every: list[Fraction] = []
    for v in ours:
        d = times[v.id].service_s
        if d is None:
            continue
        every.append(d)
        groups[_mix(items.get(v.id, []))].append(d)
    rows: list[tuple[Cell, ...]] = []
    for name, values in [("", every), *sorted(groups.items())]:
        sp = fig.spread(values)
        rows.append((name, sp.count, fig.minutes_text(sp.median_s), fig.minutes_text(sp.p90_s)))
    return Table(("service", "count", "median_min", "p90_min"), tuple(rows))


def _mix(items: Sequence[Any]) -> str:
    parts = sorted((i.name, i.quantity) for i in items)
    return " + ".join(name if q == 1 else f"{q} × {name}" for name, q in parts)


def _not_served(ours: Sequence[_Visit]) -> Table:
    """No-shows (called, did not come, not recalled) and cancellations by their reason."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for v in ours:
        if v.status == TxnStatus.NO_SHOW:
            counts[("no_show", "")] += 1
        elif v.status == TxnStatus.CANCELLED:
            counts[("cancelled", v.cancel_reason or "other")] += 1
    return Table(("outcome", "reason", "count"), tuple((o, r, n) for (o, r), n in sorted(counts.items())))


def _discounts(paid: Sequence[Payment], txns: dict[int, Transaction], items: dict[int, list[Any]]) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for p in paid:
        txn = txns[p.transaction_id]
        for i in items.get(p.transaction_id, []):
            if i.discount_cents:
                rows.append(
                    (
                        txn.code,
                        "line",
                        i.name,
                        fig.discount_text(i.discount_kind, i.discount_value),
                        i.discount_reason or "",
                        format_cents(i.discount_cents),
                    )
                )
        if txn.discount_cents:
            rows.append(
                (
                    txn.code,
                    "order",
                    "",
                    fig.discount_text(txn.discount_kind, txn.discount_value),
                    txn.discount_reason or "",
                    format_cents(txn.discount_cents),
                )
            )
    return Table(("code", "scope", "service", "given", "reason", "amount"), tuple(rows))


# ---- reading the rows ------------------------------------------------------------------------------


def _visits(s: Session, first: date, last: date) -> list[_Visit]:
    rows = s.execute(
        select(
            Transaction.id,
            Transaction.code,
            Transaction.business_day,
            Transaction.status,
            Transaction.cancel_reason,
            Transaction.therapist_id,
        )
        .where(Transaction.business_day.between(first, last))
        .order_by(Transaction.created_at, Transaction.id)
    )
    return [_Visit(*row) for row in rows]


def _changes(s: Session, first: date, last: date) -> list[fig.StatusChange]:
    """Every audit entry that moved a visit of these days, in the order they were written."""
    rows = s.execute(
        select(AuditEntry.transaction_id, AuditEntry.created_at, AuditEntry.from_status, AuditEntry.to_status)
        .join(Transaction, Transaction.id == AuditEntry.transaction_id)
        .where(
            Transaction.business_day.between(first, last),
            or_(AuditEntry.from_status.is_not(None), AuditEntry.to_status.is_not(None)),
        )
        .order_by(AuditEntry.id)
    )
    # The join makes every transaction_id a real one.
    return [fig.StatusChange(int(tid or 0), at, before, after) for tid, at, before, after in rows]


def _payments(s: Session, start: datetime, end: datetime) -> list[Payment]:
    return list(
        s.scalars(select(Payment).where(Payment.created_at >= start, Payment.created_at < end).order_by(Payment.id))
    )


def _items(s: Session, ids: list[int]) -> dict[int, list[TransactionItem]]:
    found: dict[int, list[TransactionItem]] = defaultdict(list)
    if ids:
        query = select(TransactionItem).where(TransactionItem.transaction_id.in_(set(ids))).order_by(TransactionItem.id)
        for item in s.scalars(query):
            found[item.transaction_id].append(item)
    return found


def _tenders(s: Session, payment_ids: list[int]) -> list[PaymentTender]:
    if not payment_ids:
        return []
    query = select(PaymentTender).where(PaymentTender.payment_id.in_(payment_ids)).order_by(PaymentTender.id)
    return list(s.scalars(query))


def _refunds(s: Session, start: datetime, end: datetime) -> list[tuple[Refund, str]]:
    rows = s.execute(
        select(Refund, Transaction.code)
        .join(Transaction, Transaction.id == Refund.transaction_id)
        .where(Refund.created_at >= start, Refund.created_at < end)
        .order_by(Refund.id)
    )
    return [(r, code) for r, code in rows]


def _shift_events(s: Session, start: datetime, end: datetime) -> dict[int, list[tuple[datetime, bool]]]:
    """Each therapist's shift entries within the range and the last one before it (whether the
    range began on shift)."""
    last_before = (
        select(func.max(AuditEntry.id))
        .where(AuditEntry.action.in_(SHIFT_ACTIONS), AuditEntry.staff_id.is_not(None), AuditEntry.created_at < start)
        .group_by(AuditEntry.staff_id)
    )
    rows = s.execute(
        select(AuditEntry.staff_id, AuditEntry.created_at, AuditEntry.action)
        .where(
            AuditEntry.action.in_(SHIFT_ACTIONS),
            AuditEntry.staff_id.is_not(None),
            or_(and_(AuditEntry.created_at >= start, AuditEntry.created_at < end), AuditEntry.id.in_(last_before)),
        )
        .order_by(AuditEntry.id)
    )
    out: dict[int, list[tuple[datetime, bool]]] = defaultdict(list)
    for staff_id, at, action in rows:
        if staff_id is not None:  # asked for in the query; the column may hold none
            out[staff_id].append((at, action == "shift_started"))
    return dict(out)


def _names(s: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {i: n for i, n in s.execute(select(Staff.id, Staff.name).where(Staff.id.in_(ids)))}

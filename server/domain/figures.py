"""The owner's figures for a day or a range (/office/reports), from what the audit log and the
till recorded. Pure functions over plain rows: the service (server/service/reports.py) reads the
rows, this module does every count, median, interval and sum, table-tested in
tests/unit/test_figures.py.

Times are naive UTC, as the database keeps them. Durations are whole or fractional seconds
(`Fraction`, never float), money integer cents.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction

from .errors import CommandError, ErrorCode
from .status import TxnStatus
from .till import Discount, DiscountKind, Line, TaxLine, allocate, bill

S = TxnStatus
# A report covers at most this many days: a year and its leap day. Longer asks are refused
# rather than left to run for minutes on a busy database.
MAX_RANGE_DAYS = 366
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


# ---- the range --------------------------------------------------------------------------------


def day_range(first: str | None, last: str | None, today: date) -> tuple[date, date]:
    """The days asked for (`from`, `to`, both YYYY-MM-DD, both included): today when neither is
    given, one day when only `from` is. INVALID_PAYLOAD naming the parameter otherwise."""
    start = _day("from", first) if first else None
    end = _day("to", last) if last else None
    if start is None and end is None:
        return today, today
    if start is None:
        raise CommandError(ErrorCode.INVALID_PAYLOAD, "from: the first day is needed with to")
    end = end or start
    if end < start:
        raise CommandError(ErrorCode.INVALID_PAYLOAD, f"to: {end.isoformat()} is before from ({start.isoformat()})")
    days = (end - start).days + 1
    if days > MAX_RANGE_DAYS:
        raise CommandError(ErrorCode.INVALID_PAYLOAD, f"to: at most {MAX_RANGE_DAYS} days at once, not {days}")
    return start, end


def _day(name: str, text: str) -> date:
    if not _DAY.fullmatch(text):
        raise CommandError(ErrorCode.INVALID_PAYLOAD, f"{name}: {text[:20]!r} is not a day like 2026-03-01")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(ErrorCode.INVALID_PAYLOAD, f"{name}: {text} is not a day of the calendar") from None


# ---- medians and percentiles ------------------------------------------------------------------


def median(values: Sequence[Fraction]) -> Fraction | None:
    """The middle value; the mean of the two middle ones for an even count; None for none."""
    if not values:
        return None
    ordered = sorted(values)
    half = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[half]
    return (ordered[half - 1] + ordered[half]) / 2


def percentile(values: Sequence[Fraction], pct: int) -> Fraction | None:
    """The nearest-rank percentile: the smallest value that `pct` % of the values do not exceed
    (always one of the values; for 90 of 1…10 it is 9, of 1…5 it is 5)."""
    if not values:
        return None
    if not 0 < pct <= 100:
        raise ValueError(f"pct = {pct}: must be 1-100")
    ordered = sorted(values)
    rank = math.ceil(Fraction(pct, 100) * len(ordered))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Spread:
    count: int
    median_s: Fraction | None
    p90_s: Fraction | None


def spread(durations_s: Sequence[Fraction]) -> Spread:
    return Spread(len(durations_s), median(durations_s), percentile(durations_s, 90))


def seconds(delta: timedelta) -> Fraction:
    """A timedelta as exact seconds (microseconds included)."""
    return Fraction(delta.days * 86_400 + delta.seconds) + Fraction(delta.microseconds, 1_000_000)


def minutes_text(secs: Fraction | None) -> str:
    """Seconds as minutes with one decimal, rounded half up ('12.5'); '' for none."""
    if secs is None:
        return ""
    tenths = _round_half_up(secs * 10 / 60)
    return f"{tenths // 10}.{tenths % 10}"


def percent_text(part: Fraction | int, whole: Fraction | int) -> str:
    """part/whole as a percentage with one decimal, rounded half up ('62.5'); '' when whole is 0."""
    if not whole:
        return ""
    tenths = _round_half_up(Fraction(part) * 1000 / Fraction(whole))
    return f"{tenths // 10}.{tenths % 10}"


def _round_half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


# ---- a visit's moments, from its status changes ----------------------------------------------


@dataclass(frozen=True)
class StatusChange:
    """One audit entry that moved (or created) a transaction: when, from what, to what."""

    transaction_id: int
    at: datetime
    from_status: str | None
    to_status: str | None


@dataclass(frozen=True)
class VisitTimes:
    created_at: datetime | None
    claimed_at: datetime | None  # first called by a therapist
    started_at: datetime | None  # the service that was finished: its (last) start
    finished_at: datetime | None

    @property
    def wait_s(self) -> Fraction | None:
        if self.created_at is None or self.claimed_at is None:
            return None
        return seconds(self.claimed_at - self.created_at)

    @property
    def service_s(self) -> Fraction | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return seconds(self.finished_at - self.started_at)


def visit_times(changes: Iterable[StatusChange]) -> VisitTimes:
    """A visit's moments from its changes in the order they happened. The wait runs from the
    ticket to the first call (a call given back and made again does not restart it). The service
    runs from the start to the finish that stood: an undone start forgets the start, an undone
    finish forgets the finish, so a correction leaves the moments the therapist meant."""
    created = claimed = started = finished = None
    for c in changes:
        if c.from_status is None and c.to_status == S.PENDING_THERAPIST and created is None:
            created = c.at
        elif c.from_status == S.PENDING_THERAPIST and c.to_status == S.THERAPIST_CONFIRMED and claimed is None:
            claimed = c.at
        elif c.from_status == S.THERAPIST_CONFIRMED and c.to_status == S.IN_SERVICE:
            started, finished = c.at, None
        elif c.from_status == S.IN_SERVICE and c.to_status == S.THERAPIST_CONFIRMED:
            started = None  # the start undone
        elif c.from_status == S.IN_SERVICE and c.to_status == S.AWAITING_PAYMENT:
            finished = c.at
        elif c.from_status == S.AWAITING_PAYMENT and c.to_status == S.IN_SERVICE:
            finished = None  # the finish undone: still in service
    return VisitTimes(created, claimed, started, finished if started is not None else None)


# ---- the queue's length -----------------------------------------------------------------------


@dataclass(frozen=True)
class QueueSeries:
    """How many waited for a therapist: `initial` at the range's start, then a point at every
    moment the number changed (after all the changes of that moment)."""

    initial: int
    points: tuple[tuple[datetime, int], ...]

    @property
    def peak(self) -> int:
        return max([self.initial, *(n for _, n in self.points)])

    @property
    def peak_at(self) -> datetime | None:
        """The first moment the peak was reached within the range (None: it was so at the start)."""
        if self.initial == self.peak:
            return None
        return next(at for at, n in self.points if n == self.peak)


def queue_delta(change: StatusChange) -> int:
    """+1 for a customer who starts waiting for a therapist (a new ticket, a call given back, a
    no-show recalled), −1 for one who stops (called, cancelled), 0 for anything else."""
    waiting_before = change.from_status == S.PENDING_THERAPIST
    waiting_after = change.to_status == S.PENDING_THERAPIST
    return int(waiting_after) - int(waiting_before)


def queue_length(changes: Iterable[StatusChange], start: datetime, end: datetime) -> QueueSeries:
    """The series within [start, end) from every change (earlier ones make the initial count)."""
    initial = 0
    by_moment: dict[datetime, int] = {}
    for c in changes:
        delta = queue_delta(c)
        if not delta or c.at >= end:
            continue
        if c.at < start:
            initial += delta
        else:
            by_moment[c.at] = by_moment.get(c.at, 0) + delta
    level = initial
    points: list[tuple[datetime, int]] = []
    for at in sorted(by_moment):
        if by_moment[at]:
            level += by_moment[at]
            points.append((at, level))
    return QueueSeries(initial, tuple(points))


# ---- shifts, services and utilisation ---------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime

    @property
    def seconds(self) -> Fraction:
        return seconds(self.end - self.start)


def shift_intervals(events: Iterable[tuple[datetime, bool]], start: datetime, end: datetime) -> list[Interval]:
    """A therapist's time on shift within [start, end) from their shift_started (True) and
    shift_ended (False) entries in time order, earlier ones included (the last of them says
    whether the range began on shift). Only a logged start opens a shift: an end with no start
    before it (someone put on shift outside the log, as the demo data is) counts nothing,
    rather than a guess that could stretch back over the whole range."""
    ordered = sorted(events, key=lambda e: e[0])
    before = [on for at, on in ordered if at < start]
    inside = [(at, on) for at, on in ordered if start <= at < end]
    on_shift = bool(before) and before[-1]
    since = start
    out: list[Interval] = []
    for at, on in inside:
        if on and not on_shift:
            since = at
        elif not on and on_shift and at > since:
            out.append(Interval(since, at))
        on_shift = on
    if on_shift and end > since:
        out.append(Interval(since, end))
    return out


def clip(intervals: Iterable[Interval], start: datetime, end: datetime) -> list[Interval]:
    out = []
    for i in intervals:
        a, b = max(i.start, start), min(i.end, end)
        if b > a:
            out.append(Interval(a, b))
    return out


def overlap_s(a: Sequence[Interval], b: Sequence[Interval]) -> Fraction:
    """Seconds in both `a` and `b` (each a set of intervals; overlaps within one count once)."""
    total = Fraction(0)
    for x in _merged(a):
        for y in _merged(b):
            lo, hi = max(x.start, y.start), min(x.end, y.end)
            if hi > lo:
                total += seconds(hi - lo)
    return total


def total_s(intervals: Sequence[Interval]) -> Fraction:
    return sum((i.seconds for i in _merged(intervals)), Fraction(0))


def _merged(intervals: Iterable[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for i in sorted(intervals, key=lambda i: i.start):
        if out and i.start <= out[-1].end:
            out[-1] = Interval(out[-1].start, max(out[-1].end, i.end))
        else:
            out.append(i)
    return out


@dataclass(frozen=True)
class Utilisation:
    on_shift_s: Fraction
    in_service_s: Fraction  # while on shift

    @property
    def percent(self) -> str:
        return percent_text(self.in_service_s, self.on_shift_s)


def utilisation(shifts: Sequence[Interval], services: Sequence[Interval]) -> Utilisation:
    """The share of the time on shift spent serving a customer (started → finished)."""
    return Utilisation(total_s(shifts), overlap_s(shifts, services))


# ---- revenue ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SoldItem:
    service: str  # the name as sold (copied onto the item)
    quantity: int
    gross_cents: int  # unit price × quantity
    discount_cents: int  # the line's own discount
    rate_bp: int

    @property
    def net_cents(self) -> int:
        return self.gross_cents - self.discount_cents


@dataclass(frozen=True)
class PaidVisit:
    """A payment and what it paid for, as the rows hold them."""

    code: str
    therapist: str | None
    due_cents: int
    tip_cents: int
    order_discount_cents: int
    items: tuple[SoldItem, ...]


def item_takings(nets: Sequence[int], due_cents: int) -> list[int]:
    """What each line of a bill brought in: `due_cents` split over the lines in proportion to
    their amounts after their own discounts (the order's discount taken off them as the till
    spreads it, or a tax added on top), adding up to `due_cents` exactly."""
    total = sum(nets)
    if due_cents <= total:
        return [n - s for n, s in zip(nets, allocate(total - due_cents, nets), strict=True)]
    return [n + s for n, s in zip(nets, allocate(due_cents - total, nets), strict=True)]


def revenue_by_service(visits: Iterable[PaidVisit]) -> list[tuple[str, int, int]]:
    """(service, quantity, revenue cents) by revenue, largest first."""
    out: dict[str, list[int]] = {}
    for v in visits:
        takings = item_takings([i.net_cents for i in v.items], v.due_cents)
        for item, cents in zip(v.items, takings, strict=True):
            row = out.setdefault(item.service, [0, 0])
            row[0] += item.quantity
            row[1] += cents
    return sorted(((name, q, c) for name, (q, c) in out.items()), key=lambda r: (-r[2], r[0]))


def revenue_by_therapist(visits: Iterable[PaidVisit]) -> list[tuple[str | None, int, int]]:
    """(therapist, visits, revenue cents), largest first; None: paid with no therapist."""
    out: dict[str | None, list[int]] = {}
    for v in visits:
        row = out.setdefault(v.therapist, [0, 0])
        row[0] += 1
        row[1] += v.due_cents
    return sorted(((t, n, c) for t, (n, c) in out.items()), key=lambda r: (-r[2], r[0] or ""))


def tips_by_therapist(visits: Iterable[PaidVisit]) -> list[tuple[str | None, int, int]]:
    """(therapist, tips given, tip cents) for every therapist tipped, largest first."""
    out: dict[str | None, list[int]] = {}
    for v in visits:
        if v.tip_cents:
            row = out.setdefault(v.therapist, [0, 0])
            row[0] += 1
            row[1] += v.tip_cents
    return sorted(((t, n, c) for t, (n, c) in out.items()), key=lambda r: (-r[2], r[0] or ""))


def taxes_by_rate(visits: Iterable[PaidVisit], prices_include_tax: bool) -> list[TaxLine]:
    """Net, tax and gross per rate, each bill split as its receipt splits it (tax rounded once
    per rate and bill), then added up: the figures match the receipts to the cent."""
    out: dict[int, list[int]] = {}
    for v in visits:
        lines = [Line(n, i.net_cents, i.rate_bp) for n, i in enumerate(v.items)]
        order = Discount(DiscountKind.AMOUNT, v.order_discount_cents, "") if v.order_discount_cents else None
        for t in bill(lines, order, prices_include_tax).taxes:
            row = out.setdefault(t.rate_bp, [0, 0, 0])
            row[0] += t.net_cents
            row[1] += t.tax_cents
            row[2] += t.gross_cents
    return [TaxLine(rate, *out[rate]) for rate in sorted(out)]


def by_method(
    tenders: Iterable[tuple[str, int]], refunds: Iterable[tuple[str, int]]
) -> list[tuple[str, int, int, int]]:
    """(method, tenders, taken cents, refunded cents) per method: a split payment counts once for
    each method it used, with what that method brought in (the cash after its change)."""
    out: dict[str, list[int]] = {}
    for method, cents in tenders:
        row = out.setdefault(method, [0, 0, 0])
        row[0] += 1
        row[1] += cents
    for method, cents in refunds:
        out.setdefault(method, [0, 0, 0])[2] += cents
    return [(m, r[0], r[1], r[2]) for m, r in sorted(out.items())]


def rate_text(rate_bp: int) -> str:
    """1900 → '19.00' (per cent, as the items' tax_rate on the wire)."""
    whole, frac = divmod(rate_bp, 100)
    return f"{whole}.{frac:02d}"


def discount_text(kind: str | None, value: int) -> str:
    """A discount as given: '10.00%' for 1000 basis points, '5.00' for 500 cents."""
    if kind == DiscountKind.PERCENT:
        return f"{rate_text(value)}%"
    return f"{value // 100}.{value % 100:02d}"

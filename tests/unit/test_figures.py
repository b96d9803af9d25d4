"""The owner's figures as pure functions (server/domain/figures.py): medians and percentiles,
a visit's moments from its status changes, the queue's length, shifts and utilisation, revenue
split by service, therapist, method and tax rate, and the range of days asked for."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from fractions import Fraction

import pytest

from server.domain import figures as fig
from server.domain.errors import CommandError, ErrorCode

T0 = datetime(2026, 3, 2, 9, 0)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def change(tid: int, minutes: float, before: str | None, after: str | None) -> fig.StatusChange:
    return fig.StatusChange(tid, at(minutes), before, after)


F = Fraction


@pytest.mark.parametrize(
    ("values", "median", "p90"),
    [
        ([], None, None),
        ([F(7)], F(7), F(7)),
        ([F(3), F(1)], F(2), F(3)),
        ([F(5), F(1), F(3)], F(3), F(5)),
        ([F(n) for n in range(1, 11)], F(11, 2), F(9)),  # nearest rank: ceil(0.9 × 10) = 9th
        ([F(n) for n in range(1, 12)], F(6), F(10)),  # ceil(9.9) = 10th
        ([F(n) for n in (10, 20, 30, 40)], F(25), F(40)),
    ],
)
def test_median_and_nearest_rank_percentile(
    values: list[Fraction], median: Fraction | None, p90: Fraction | None
) -> None:
    assert fig.median(values) == median
    assert fig.percentile(values, 90) == p90
    assert fig.spread(values) == fig.Spread(len(values), median, p90)


@pytest.mark.parametrize(
    ("secs", "text"),
    [
        (None, ""),
        (F(0), "0.0"),
        (F(90), "1.5"),
        (F(63), "1.1"),
        (F(57), "1.0"),
        (F(3), "0.1"),
        (F(2), "0.0"),
        (F(45 * 60), "45.0"),
        (F(1, 2) * 60, "0.5"),
    ],
)
def test_minutes_have_one_decimal_rounded_half_up(secs: Fraction | None, text: str) -> None:
    assert fig.minutes_text(secs) == text


@pytest.mark.parametrize(
    ("part", "whole", "text"),
    [(1, 2, "50.0"), (2, 3, "66.7"), (1, 3, "33.3"), (0, 5, "0.0"), (1, 0, ""), (1, 1, "100.0")],
)
def test_percentages(part: int, whole: int, text: str) -> None:
    assert fig.percent_text(part, whole) == text


def test_a_plain_visit_waits_from_ticket_to_call_and_is_served_from_start_to_finish() -> None:
    times = fig.visit_times(
        [
            change(1, 0, None, "pending_therapist"),
            change(1, 12, "pending_therapist", "therapist_confirmed"),
            change(1, 15, "therapist_confirmed", "in_service"),
            change(1, 75, "in_service", "awaiting_payment"),
            change(1, 80, "awaiting_payment", "paying"),
            change(1, 81, "paying", "paid"),
        ]
    )
    assert (times.wait_s, times.service_s) == (F(12 * 60), F(60 * 60))


def test_a_call_given_back_keeps_the_first_call_and_undos_keep_the_moments_meant() -> None:
    times = fig.visit_times(
        [
            change(1, 0, None, "pending_therapist"),
            change(1, 5, "pending_therapist", "therapist_confirmed"),
            change(1, 6, "therapist_confirmed", "pending_therapist"),  # given back
            change(1, 10, "pending_therapist", "therapist_confirmed"),
            change(1, 11, "therapist_confirmed", "in_service"),
            change(1, 12, "in_service", "therapist_confirmed"),  # start undone
            change(1, 20, "therapist_confirmed", "in_service"),
            change(1, 40, "in_service", "awaiting_payment"),
            change(1, 41, "awaiting_payment", "in_service"),  # finish undone
            change(1, 50, "in_service", "awaiting_payment"),
        ]
    )
    assert times.claimed_at == at(5) and times.wait_s == F(5 * 60)
    assert (times.started_at, times.finished_at, times.service_s) == (at(20), at(50), F(30 * 60))


def test_a_visit_never_called_or_not_finished_has_no_wait_or_duration() -> None:
    waiting = fig.visit_times([change(1, 0, None, "pending_therapist"), change(1, 9, "pending_therapist", "cancelled")])
    assert waiting.wait_s is None and waiting.service_s is None
    started = fig.visit_times(
        [
            change(1, 0, None, "pending_therapist"),
            change(1, 1, "pending_therapist", "therapist_confirmed"),
            change(1, 2, "therapist_confirmed", "in_service"),
        ]
    )
    assert started.wait_s == F(60) and started.service_s is None


@pytest.mark.parametrize(
    ("before", "after", "delta"),
    [
        (None, "pending_therapist", 1),
        ("pending_therapist", "therapist_confirmed", -1),
        ("therapist_confirmed", "pending_therapist", 1),  # given back
        ("no_show", "pending_therapist", 1),  # recalled
        ("pending_therapist", "cancelled", -1),
        ("pending_therapist", "pending_therapist", 0),  # priority
        ("in_service", "awaiting_payment", 0),
    ],
)
def test_queue_deltas(before: str | None, after: str, delta: int) -> None:
    assert fig.queue_delta(change(1, 0, before, after)) == delta


def test_queue_length_counts_earlier_waiters_and_merges_one_moment() -> None:
    changes = [
        change(1, -30, None, "pending_therapist"),  # before the range: waiting at its start
        change(2, 0, None, "pending_therapist"),
        change(3, 0, None, "pending_therapist"),
        change(1, 5, "pending_therapist", "therapist_confirmed"),
        change(2, 10, "pending_therapist", "therapist_confirmed"),
        change(4, 10, None, "pending_therapist"),  # same moment: no change
        change(3, 20, "pending_therapist", "cancelled"),
        change(4, 24 * 60, "pending_therapist", "therapist_confirmed"),  # after the range
    ]
    series = fig.queue_length(changes, at(-1), at(60))
    assert series.initial == 1
    assert series.points == ((at(0), 3), (at(5), 2), (at(20), 1))
    assert series.peak == 3 and series.peak_at == at(0)


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([], []),
        ([(10, True), (70, False)], [(10, 70)]),
        ([(-60, True)], [(0, 120)]),  # on since before the range, still on at its end
        ([(-60, True), (-30, False), (30, True)], [(30, 120)]),
        ([(40, False)], []),  # ended with no start in the log: nothing is guessed
        ([(10, True), (20, True), (30, False), (40, False), (50, True)], [(10, 30), (50, 120)]),
        ([(200, True)], []),
    ],
)
def test_shift_intervals(events: list[tuple[int, bool]], expected: list[tuple[int, int]]) -> None:
    got = fig.shift_intervals([(at(m), on) for m, on in events], at(0), at(120))
    assert [(i.start, i.end) for i in got] == [(at(a), at(b)) for a, b in expected]


def test_utilisation_is_service_time_on_shift_over_shift_time() -> None:
    shifts = [fig.Interval(at(0), at(240))]
    services = [fig.Interval(at(10), at(70)), fig.Interval(at(60), at(100)), fig.Interval(at(230), at(260))]
    u = fig.utilisation(shifts, services)
    assert u.on_shift_s == F(240 * 60) and u.in_service_s == F(100 * 60)  # 10-100 and 230-240
    assert u.percent == "41.7"
    assert fig.clip(services, at(50), at(240)) == [
        fig.Interval(at(50), at(70)),
        fig.Interval(at(60), at(100)),
        fig.Interval(at(230), at(240)),
    ]


@pytest.mark.parametrize(
    ("nets", "due", "expected"),
    [
        ([4500, 1800], 6300, [4500, 1800]),
        ([4500, 1800], 5300, [3786, 1514]),  # €10 off the order, spread as the till does
        ([1000, 1000, 1000], 2000, [666, 667, 667]),  # the odd cent off the first line
        ([1000], 1190, [1190]),  # prices without tax: the tax added on top
        ([0, 0], 0, [0, 0]),
    ],
)
def test_item_takings_add_up_to_what_was_due(nets: list[int], due: int, expected: list[int]) -> None:
    assert fig.item_takings(nets, due) == expected
    assert sum(expected) == due


def visit(code: str, therapist: str | None, due: int, tip: int, order_off: int, *items: fig.SoldItem) -> fig.PaidVisit:
    return fig.PaidVisit(code, therapist, due, tip, order_off, items)


SWEDISH = fig.SoldItem("Swedish massage", 1, 4500, 0, 1900)
FOOT = fig.SoldItem("Foot reflexology", 1, 2500, 0, 700)
FOOT_TEN_OFF = fig.SoldItem("Foot reflexology", 1, 2500, 250, 700)


def test_revenue_by_service_therapist_tips_and_tax_rate() -> None:
    visits = [
        visit("A-001", "Anna", 4500, 500, 0, SWEDISH),
        visit("A-002", "Ben", 6000, 0, 1000, SWEDISH, FOOT),  # 70.00 − 10.00 order discount
        visit("A-003", "Anna", 2250, 200, 0, FOOT_TEN_OFF),
    ]
    # A-002's 10.00 off: 6.43 from the massage, 3.57 from the reflexology (largest remainder).
    assert fig.revenue_by_service(visits) == [("Swedish massage", 2, 4500 + 3857), ("Foot reflexology", 2, 2143 + 2250)]
    assert fig.revenue_by_therapist(visits) == [("Anna", 2, 6750), ("Ben", 1, 6000)]
    assert fig.tips_by_therapist(visits) == [("Anna", 2, 700)]
    taxes = fig.taxes_by_rate(visits, prices_include_tax=True)
    assert [(t.rate_bp, t.gross_cents) for t in taxes] == [(700, 2143 + 2250), (1900, 4500 + 3857)]
    # Each bill split as its receipt splits it: 45.00 at 19 % is 37.82 + 7.18; 38.57 is 32.41 + 6.16.
    assert taxes[1].net_cents == 3782 + 3241 and taxes[1].tax_cents == 718 + 616
    assert all(t.net_cents + t.tax_cents == t.gross_cents for t in taxes)


def test_payment_methods_count_each_tender_of_a_split() -> None:
    rows = fig.by_method([("cash", 4500), ("cash", 3000), ("card", 4000)], [("card", 1000)])
    assert rows == [("card", 1, 4000, 1000), ("cash", 2, 7500, 0)]


@pytest.mark.parametrize(
    ("kind", "value", "text"), [("percent", 1000, "10.00%"), ("percent", 1250, "12.50%"), ("amount", 500, "5.00")]
)
def test_discounts_as_given(kind: str, value: int, text: str) -> None:
    assert fig.discount_text(kind, value) == text


TODAY = date(2026, 3, 2)


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (None, None, (TODAY, TODAY)),
        ("2026-03-01", None, (date(2026, 3, 1), date(2026, 3, 1))),
        ("2026-01-01", "2026-03-01", (date(2026, 1, 1), date(2026, 3, 1))),
        ("2024-01-01", "2024-12-31", (date(2024, 1, 1), date(2024, 12, 31))),  # 366 days
    ],
)
def test_day_ranges(first: str | None, last: str | None, expected: tuple[date, date]) -> None:
    assert fig.day_range(first, last, TODAY) == expected


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        ("2026-3-1", None, "from: '2026-3-1' is not a day"),
        ("2026-02-30", None, "from: 2026-02-30 is not a day of the calendar"),
        ("2026-03-01", "tomorrow", "to: 'tomorrow' is not a day"),
        ("2026-03-02", "2026-03-01", "to: 2026-03-01 is before from"),
        ("2024-01-01", "2025-01-01", "to: at most 366 days at once, not 367"),
        (None, "2026-03-01", "from: the first day is needed"),
        ("٢٠٢٦-03-01", None, "is not a day"),  # digits of another script: refused, not read
    ],
)
def test_bad_ranges_are_refused_naming_the_parameter(first: str | None, last: str | None, message: str) -> None:
    with pytest.raises(CommandError) as err:
        fig.day_range(first, last, TODAY)
    assert err.value.code is ErrorCode.INVALID_PAYLOAD and message in err.value.message

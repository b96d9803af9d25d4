from __future__ import annotations

from datetime import datetime, timedelta

from server.domain.estimates import Therapist
from server.domain.queue_view import Entry, QueueMirror, Roster
from server.domain.status import TxnStatus as S

NOW = datetime(2026, 11, 29, 12, 0, 0)


def team(n: int) -> Roster:
    """n therapists on shift, each able to do everything; durations as the entries say."""
    return Roster(tuple(Therapist(i, None) for i in range(1, n + 1)))


def at(minute: int) -> str:
    return (NOW + timedelta(minutes=minute)).isoformat() + "Z"


def test_waiting_order_positions_and_waits() -> None:
    mirror = QueueMirror()
    mirror.reset(
        [
            Entry(3, S.PENDING_THERAPIST, at(-5), 30),
            Entry(1, S.PENDING_THERAPIST, at(-20), 60),
            Entry(2, S.IN_SERVICE, at(-40), 60, NOW - timedelta(minutes=45)),
            Entry(9, S.PAID, at(-90), 60),
        ],
        team(2),
    )
    assert len(mirror) == 3  # paid is not live
    est = mirror.estimates(NOW)
    assert [(e.id, e.position, e.estimated_wait_min) for e in est] == [(1, 1, 0), (3, 2, 15)]


def test_apply_moves_and_removes() -> None:
    mirror = QueueMirror()
    mirror.reset([Entry(1, S.PENDING_THERAPIST, at(0), 30), Entry(2, S.PENDING_THERAPIST, at(1), 30)], team(1))
    mirror.apply(Entry(1, S.THERAPIST_CONFIRMED, at(0), 30))
    assert [(e.id, e.position, e.estimated_wait_min) for e in mirror.estimates(NOW)] == [(2, 1, 30)]
    mirror.apply(Entry(1, S.CANCELLED, at(0), 30))
    assert [(e.id, e.estimated_wait_min) for e in mirror.estimates(NOW)] == [(2, 0)]
    # Released back: the original place (earlier queue_since) puts it first again.
    mirror.apply(Entry(1, S.PENDING_THERAPIST, at(0), 30))
    assert [e.id for e in mirror.estimates(NOW)] == [1, 2]


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from server.domain.waits import estimate_waits  # noqa: E402

STATUSES = [S.PENDING_THERAPIST, S.THERAPIST_CONFIRMED, S.IN_SERVICE, S.AWAITING_PAYMENT, S.PAID, S.CANCELLED]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 30), st.sampled_from(STATUSES), st.integers(0, 59), st.integers(5, 90)), max_size=80
    ),
    st.integers(1, 4),
)
def test_incremental_mirror_matches_a_fresh_computation(
    changes: list[tuple[int, S, int, int]], therapists: int
) -> None:
    mirror = QueueMirror()
    mirror.reset([], team(therapists))
    live: dict[int, Entry] = {}
    for txn_id, status, minute, minutes in changes:
        entry = Entry(txn_id, status, at(minute), minutes)
        mirror.apply(entry)
        if status in (S.PAID, S.CANCELLED):
            live.pop(txn_id, None)
        else:
            live[txn_id] = entry
    waiting = sorted((e for e in live.values() if e.status is S.PENDING_THERAPIST), key=lambda e: (e.queue_since, e.id))
    busy = [e.total_minutes for e in live.values() if e.status in (S.THERAPIST_CONFIRMED, S.IN_SERVICE)]
    expected = estimate_waits([e.total_minutes for e in waiting], busy, therapists)
    got = mirror.estimates(NOW)
    assert [(e.id, e.position, e.estimated_wait_min) for e in got] == [
        (w.id, i, m) for i, (w, m) in enumerate(zip(waiting, expected, strict=True), start=1)
    ]
    assert [(e.id, e.estimated_wait_min) for e in mirror.estimates(NOW, 3)] == [
        (e.id, e.estimated_wait_min) for e in got[:3]
    ]
    assert len(mirror) == len(live)


def test_priority_customers_are_called_first_fifo_among_themselves() -> None:
    mirror = QueueMirror()
    mirror.reset(
        [
            Entry(1, S.PENDING_THERAPIST, at(-30), 30),
            Entry(2, S.PENDING_THERAPIST, at(-20), 30, priority=True),
            Entry(3, S.PENDING_THERAPIST, at(-10), 30, priority=True),
            Entry(4, S.PENDING_THERAPIST, at(-40), 30),
        ],
        team(1),
    )
    assert [(e.id, e.position, e.estimated_wait_min) for e in mirror.estimates(NOW)] == [
        (2, 1, 0),
        (3, 2, 30),
        (4, 3, 60),
        (1, 4, 90),
    ]
    mirror.apply(Entry(3, S.PENDING_THERAPIST, at(-10), 30))  # priority taken off: back among the rest
    assert [e.id for e in mirror.estimates(NOW)] == [2, 4, 1, 3]


def test_skills_send_each_customer_to_a_therapist_who_can_serve_them() -> None:
    mirror = QueueMirror()
    # Anna (1) does services 1-4; Ben (2) no hot stone (service 4). Averages: 4 takes 75 min, 1 takes 60.
    roster = Roster((Therapist(1, frozenset({1, 2, 3, 4})), Therapist(2, frozenset({1, 2, 3}))), {1: 60.0, 4: 75.0})
    mirror.reset(
        [
            Entry(10, S.PENDING_THERAPIST, at(-30), 75, services=((4, 1),)),
            Entry(11, S.PENDING_THERAPIST, at(-20), 75, services=((4, 1),)),
            Entry(12, S.PENDING_THERAPIST, at(-10), 60, services=((1, 1),)),
            Entry(13, S.IN_SERVICE, at(-90), 60, NOW - timedelta(minutes=50), services=((1, 1),), therapist_id=2),
        ],
        roster,
    )
    # 10 → Anna now; 11 only Anna can do: after 10 (75 min); 12 → Ben once his customer ends (10 min).
    assert [(e.id, e.estimated_wait_min) for e in mirror.estimates(NOW)] == [(10, 0), (11, 75), (12, 10)]
    # Nobody on shift does service 9: no estimate, and no therapist's time taken.
    mirror.apply(Entry(14, S.PENDING_THERAPIST, at(-5), 30, services=((9, 1),)))
    assert mirror.estimates(NOW)[-1].estimated_wait_min is None


def test_kept_loads_quote_what_a_full_replay_quotes_through_any_changes() -> None:
    """The mirror keeps each therapist's claimed minutes as a running sum (issue 14: a broadcast
    used to walk every claimed customer). Through a seeded day of claims, starts, finishes,
    priority, unattributed claims and new averages, it quotes exactly what `quotes` replaying
    every busy customer from scratch quotes."""
    import random

    from server.domain.estimates import Busy, Waiting, quotes

    rng = random.Random(14)
    mirror = QueueMirror()
    roster = Roster((Therapist(1, None), Therapist(2, frozenset({1, 2})), Therapist(3, None)), {1: 30.0, 2: 12.5})
    mirror.reset([], roster)
    live: dict[int, Entry] = {}
    for step in range(600):
        now = NOW + timedelta(minutes=step / 3)
        roll = rng.random()
        waiting = [e for e in live.values() if e.status is S.PENDING_THERAPIST]
        busy = [e for e in live.values() if e.status in (S.THERAPIST_CONFIRMED, S.IN_SERVICE)]
        if roll < 0.35 or not live:
            tid = step + 1
            services = tuple((rng.choice((1, 2, 3)), rng.choice((1, 2))) for _ in range(rng.choice((1, 2))))
            entry = Entry(tid, S.PENDING_THERAPIST, at(step), 40, None, rng.random() < 0.1, services)
        elif roll < 0.6 and waiting:
            w = rng.choice(waiting)
            entry = Entry(
                w.id,
                S.THERAPIST_CONFIRMED,
                w.queue_since,
                40,
                None,
                w.priority,
                w.services,
                rng.choice((1, 2, 3, None)),
            )
        elif roll < 0.75 and busy:
            b = rng.choice(busy)
            entry = Entry(b.id, S.IN_SERVICE, b.queue_since, 40, now, b.priority, b.services, b.therapist_id)
        elif roll < 0.95 and busy:
            b = rng.choice(busy)
            entry = Entry(b.id, S.AWAITING_PAYMENT, b.queue_since, 40, None, b.priority, b.services, b.therapist_id)
        else:
            roster = Roster(roster.on_shift, {1: rng.uniform(20, 50), 2: rng.uniform(5, 20), 3: rng.uniform(10, 90)})
            mirror.roster = roster
            continue
        mirror.apply(entry)
        live.pop(entry.id, None)  # a change moves a customer to the end, as the server's order of changes
        live[entry.id] = entry
        if entry.status is S.AWAITING_PAYMENT:
            del live[entry.id]
        expected = quotes(
            [
                Waiting(e.id, e.priority, f"{e.queue_since}#{e.id:010d}", e.services, e.total_minutes)
                for e in mirror.waiting()
            ],
            roster.on_shift,
            [
                Busy(e.therapist_id, e.services, e.service_started_at, e.total_minutes)
                for e in live.values()
                if e.status in (S.THERAPIST_CONFIRMED, S.IN_SERVICE)
            ],
            roster.averages,
            now,
        )
        assert mirror.estimates(now) == expected, step

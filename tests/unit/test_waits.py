from __future__ import annotations

import pytest

from server.domain.waits import estimate_waits, first_name


@pytest.mark.parametrize(
    ("waiting", "busy", "therapists", "expected"),
    [
        ([], [], 2, []),
        ([60], [], 1, [0]),
        ([60, 30], [], 1, [0, 60]),
        ([60, 30, 45], [], 2, [0, 0, 30]),
        ([60, 30], [20], 1, [20, 80]),
        ([60, 30, 45], [50, 10], 2, [10, 50, 70]),
        # More busy therapists than configured: each busy one still frees up.
        ([30], [40, 5], 1, [5]),
        ([30, 30], [0, 0, 0], 1, [0, 0]),
    ],
)
def test_estimate_waits(waiting: list[int], busy: list[int], therapists: int, expected: list[int]) -> None:
    assert estimate_waits(waiting, busy, therapists) == expected


def test_waits_never_decrease_along_the_queue() -> None:
    waits = estimate_waits([45, 60, 20, 90, 30, 75, 15], [25, 40, 5], 3)
    assert waits == sorted(waits)


@pytest.mark.parametrize(
    ("name", "first"), [("Maria Lopez", "Maria"), ("  Jo  ", "Jo"), ("Ana María de la Cruz", "Ana"), ("", "")]
)
def test_first_name(name: str, first: str) -> None:
    assert first_name(name) == first


def _reference(waiting: list[int], busy: list[int], therapists: int) -> list[int]:
    """The plain simulation over every therapist, to check the shortcut against."""
    free = sorted([max(0, m) for m in busy] + [0] * (max(1, therapists, len(busy)) - len(busy)))
    waits = []
    for minutes in waiting:
        free.sort()
        waits.append(free[0])
        free[0] += minutes
    return waits


@pytest.mark.parametrize("seed", range(30))
def test_shortcut_matches_the_full_simulation(seed: int) -> None:
    import random

    rng = random.Random(seed)
    waiting = [rng.randint(0, 120) for _ in range(rng.randint(0, 15))]
    busy = [rng.randint(-5, 120) for _ in range(rng.randint(0, 40))]
    therapists = rng.randint(1, 10)
    assert estimate_waits(waiting, busy, therapists) == _reference(waiting, busy, therapists)

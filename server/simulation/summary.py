"""The day in figures (pure): customers and how each visit ended, waits, how busy the rooms were,
and how many customers per second of wall-clock time the server carried."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Summary:
    customers: int  # ordered at a kiosk
    turned_away: int  # the kiosk refused them (queue full or closed)
    paid: int
    cancelled: int
    no_show: int
    wait_median_min: float  # arrival to being called, in the model's minutes
    wait_p90_min: float
    utilisation: float  # of the rooms over the day: time in service / (rooms × day)
    day_min: float  # the model's day, first arrival to the last till closed
    wall_s: float
    events: int  # acknowledged protocol calls
    printed: int | None = None  # receipts found on the virtual printers' paper (None: no printers)

    @property
    def customers_per_s(self) -> float:
        return self.customers / self.wall_s if self.wall_s > 0 else 0.0

    def lines(self) -> list[str]:
        return [
            f"customers   {self.customers} (paid {self.paid}, cancelled {self.cancelled}, no-show {self.no_show}, "
            f"turned away {self.turned_away})",
            f"waits       median {self.wait_median_min:.1f} min, p90 {self.wait_p90_min:.1f} min",
            f"rooms       {self.utilisation:.0%} busy over a {self.day_min / 60:.1f} h day",
            *([f"receipts    {self.printed} printed and read back from the paper"] if self.printed is not None else []),
            f"throughput  {self.customers_per_s:.2f} customers/s, {self.events / max(self.wall_s, 1e-9):.0f} events/s "
            f"({self.events} events in {self.wall_s:.1f} s)",
        ]


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return float(ordered[int(rank) - 1])


def utilisation(busy_s: float, rooms: int, day_s: float) -> float:
    return busy_s / (rooms * day_s) if rooms and day_s > 0 else 0.0

"""Opening hours and whether the kiosk takes a new customer now: pure, in the spa's local time.

A week's hours are one `(open, close)` pair of "HH:MM" per weekday (monday … sunday) or none for
a day the spa is closed; no hours at all means always open. The kiosk takes customers from the
opening until `last_entry_min` before the closing, and only while the wait a newcomer would be
quoted is at most `max_wait_min` (none: no limit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum

from .errors import CommandError, ErrorCode

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class QueueState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # outside the opening hours (or a day off)
    LAST_ENTRY_PASSED = "last_entry_passed"  # open, but too close to closing for a new customer
    FULL = "full"  # the wait a newcomer would get is past the limit


@dataclass(frozen=True)
class Day:
    opens: time
    closes: time


@dataclass(frozen=True)
class Week:
    """Each weekday's hours (None: closed that day); `always` when no hours are set at all."""

    days: tuple[Day | None, ...] = (None,) * 7
    always: bool = True

    @classmethod
    def parse(cls, value: object) -> Week:
        """From settings JSON: null (always open) or {"monday": ["09:00", "21:00"] | null, …}."""
        if value is None:
            return cls()
        if not isinstance(value, dict) or set(value) - set(DAYS):
            raise CommandError(ErrorCode.INVALID_PAYLOAD, f"opening hours: an object of {', '.join(DAYS)}")
        days: list[Day | None] = []
        for name in DAYS:
            hours = value.get(name)
            if hours is None:
                days.append(None)
                continue
            if not (
                isinstance(hours, list)
                and len(hours) == 2
                and all(isinstance(h, str) and _HHMM.match(h) for h in hours)
                and hours[0] < hours[1]
            ):
                raise CommandError(
                    ErrorCode.INVALID_PAYLOAD, f'opening hours {name}: ["HH:MM", "HH:MM"], opening first'
                )
            days.append(Day(time.fromisoformat(hours[0]), time.fromisoformat(hours[1])))
        return cls(tuple(days), always=False)

    def to_json(self) -> dict[str, list[str] | None] | None:
        if self.always:
            return None
        return {
            name: [d.opens.strftime("%H:%M"), d.closes.strftime("%H:%M")] if d else None
            for name, d in zip(DAYS, self.days, strict=True)
        }


@dataclass(frozen=True)
class Intake:
    """Whether the kiosk takes a new customer now, and the times around it (local, naive)."""

    state: QueueState
    opens_at: datetime | None = None  # the next opening, when closed now
    closes_at: datetime | None = None  # today's closing, when open
    last_entry_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.state is QueueState.OPEN


def intake(
    week: Week, local_now: datetime, last_entry_min: int, wait_min: int | None, max_wait_min: int | None
) -> Intake:
    """Whether a newcomer is taken at `local_now` (the spa's wall clock), quoted `wait_min`."""
    if not week.always:
        today = week.days[local_now.weekday()]
        if today is None or not today.opens <= local_now.time() < today.closes:
            return Intake(QueueState.CLOSED, opens_at=next_opening(week, local_now))
        closes = datetime.combine(local_now.date(), today.closes)
        last_entry = closes - timedelta(minutes=last_entry_min)
        if local_now >= last_entry:
            return Intake(QueueState.LAST_ENTRY_PASSED, next_opening(week, local_now), closes, last_entry)
        if max_wait_min is not None and wait_min is not None and wait_min > max_wait_min:
            return Intake(QueueState.FULL, None, closes, last_entry)
        # Past closing a customer would not be served: a wait that ends after it is "full" too.
        if wait_min is not None and local_now + timedelta(minutes=wait_min) >= closes:
            return Intake(QueueState.FULL, None, closes, last_entry)
        return Intake(QueueState.OPEN, None, closes, last_entry)
    if max_wait_min is not None and wait_min is not None and wait_min > max_wait_min:
        return Intake(QueueState.FULL)
    return Intake(QueueState.OPEN)


def next_opening(week: Week, local_now: datetime) -> datetime | None:
    """The first opening after `local_now` within a week, or None for a spa never open."""
    for ahead in range(8):
        day = local_now.date() + timedelta(days=ahead)
        hours = week.days[day.weekday()]
        if hours is None:
            continue
        opens = datetime.combine(day, hours.opens)
        if opens > local_now:
            return opens
    return None

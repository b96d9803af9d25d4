"""The settings safe to change while the spa is open — opening hours, queue limits, how long the
front desk's corrections stay possible, the screens' language — read from the `settings` table,
with their defaults from the environment (server/config.py). Cached for a couple of seconds: a
change made in the office reaches every command and every server process within that time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..db import roster_repo
from ..db.engine import Database
from ..domain.errors import CommandError, ErrorCode
from ..domain.hours import Week
from ..domain.moves import Windows

LANGUAGES = ("en", "de")
CACHE_TTL_S = 2.0


@dataclass(frozen=True)
class TillPolicy:
    prices_include_tax: bool
    tender_confirm_multiple: int  # cash tendered above this many times the bill …
    largest_note_cents: int  # … and more than this over it needs the cashier's confirmation
    discount_without_manager_bp: int  # a discount above this share of the bill needs a manager's PIN


@dataclass(frozen=True)
class Policy:
    """What the queue's commands read of the settings."""

    week: Week
    last_entry_min: int  # no new customer this long before closing
    max_wait_min: int | None  # the kiosk is full past this quoted wait (None: no limit)
    windows: Windows
    language: str  # the screens' default language
    till: TillPolicy
    spa_name: str
    spa_address: str  # "\n" between lines
    currency: str


@dataclass(frozen=True)
class Defaults:
    opening_hours: dict[str, Any] | None = None
    last_entry_min: int = 30
    max_wait_min: int | None = 240
    no_show_recall_min: int = 30
    undo_window_s: int = 120
    language: str = "en"
    prices_include_tax: bool = True
    tender_confirm_multiple: int = 5
    largest_note_cents: int = 20_000  # €200
    discount_without_manager_bp: int = 1_000  # 10 % of the bill
    spa_name: str = "Spa"
    spa_address: str = ""
    currency: str = "€"


def _int_in(lo: int, hi: int) -> Callable[[object, str], int]:
    def check(value: object, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise CommandError(ErrorCode.INVALID_PAYLOAD, f"{key}: a whole number {lo}-{hi}")
        return value

    return check


def _optional(check: Callable[[object, str], Any]) -> Callable[[object, str], Any]:
    return lambda value, key: None if value is None else check(value, key)


def _language(value: object, key: str) -> str:
    if value not in LANGUAGES:
        raise CommandError(ErrorCode.INVALID_PAYLOAD, f"{key}: one of {', '.join(LANGUAGES)}")
    return str(value)


def _hours(value: object, key: str) -> dict[str, Any] | None:
    return Week.parse(value).to_json()


def _flag(value: object, key: str) -> bool:
    if not isinstance(value, bool):
        raise CommandError(ErrorCode.INVALID_PAYLOAD, f"{key}: true or false")
    return value


def _text(max_len: int, *, lines: bool = False) -> Callable[[object, str], str]:
    def check(value: object, key: str) -> str:
        if not isinstance(value, str) or len(value) > max_len:
            raise CommandError(ErrorCode.INVALID_PAYLOAD, f"{key}: text of at most {max_len} characters")
        text = value.strip()
        allowed_controls = "\n" if lines else ""
        if any(ord(c) < 32 and c not in allowed_controls for c in text):
            raise CommandError(ErrorCode.INVALID_PAYLOAD, f"{key}: no control characters")
        return text

    return check


def _name(value: object, key: str) -> str:
    text = _text(60)(value, key)
    if not text:
        raise CommandError(ErrorCode.INVALID_PAYLOAD, f"{key}: not empty")
    return text


# Each setting's check: the value as it is stored, or CommandError naming the key.
CHECKS: dict[str, Callable[[object, str], Any]] = {
    "opening_hours": _hours,
    "last_entry_min": _int_in(0, 600),
    "max_wait_min": _optional(_int_in(1, 24 * 60)),
    "no_show_recall_min": _int_in(0, 24 * 60),
    "undo_window_s": _int_in(0, 3600),
    "language": _language,
    "prices_include_tax": _flag,
    "tender_confirm_multiple": _int_in(2, 1000),
    "largest_note_cents": _int_in(100, 10_000_000),
    "discount_without_manager_bp": _int_in(0, 10_000),
    "spa_name": _name,
    "spa_address": _text(300, lines=True),
    "currency": _text(8),
}


class SpaSettings:
    def __init__(self, db: Database, defaults: Defaults, ttl_s: float = CACHE_TTL_S) -> None:
        self._db = db
        self._defaults = defaults
        self._ttl_s = ttl_s
        self._lock = threading.Lock()
        self._cached: tuple[float, dict[str, Any]] | None = None

    def values(self) -> dict[str, Any]:
        """Every setting: its stored value, else its default."""
        now = time.monotonic()
        with self._lock:
            if self._cached is not None and self._cached[0] > now:
                return dict(self._cached[1])
        with self._db.read() as s:
            stored = roster_repo.settings(s)
        merged = {key: stored.get(key, getattr(self._defaults, key)) for key in CHECKS}
        with self._lock:
            self._cached = (now + self._ttl_s, merged)
        return dict(merged)

    def policy(self) -> Policy:
        v = self.values()
        return Policy(
            week=Week.parse(v["opening_hours"]),
            last_entry_min=v["last_entry_min"],
            max_wait_min=v["max_wait_min"],
            windows=Windows(
                recall=timedelta(minutes=v["no_show_recall_min"]), undo=timedelta(seconds=v["undo_window_s"])
            ),
            language=v["language"],
            till=TillPolicy(
                prices_include_tax=v["prices_include_tax"],
                tender_confirm_multiple=v["tender_confirm_multiple"],
                largest_note_cents=v["largest_note_cents"],
                discount_without_manager_bp=v["discount_without_manager_bp"],
            ),
            spa_name=v["spa_name"],
            spa_address=v["spa_address"],
            currency=v["currency"],
        )

    def put(self, changes: dict[str, Any], by: str, now: datetime) -> dict[str, Any]:
        """Check and store some settings at once (all or none); the settings as they now are."""
        unknown = set(changes) - set(CHECKS)
        if unknown:
            raise CommandError(ErrorCode.INVALID_PAYLOAD, f"unknown setting {sorted(unknown)[0]!r}")
        checked = {key: CHECKS[key](value, key) for key, value in changes.items()}
        with self._db.write() as s:
            for key, value in checked.items():
                roster_repo.put_setting(s, key, value, now, by)
        self.forget()
        return self.values()

    def forget(self) -> None:
        with self._lock:
            self._cached = None

"""The server's settings: one frozen object per process, read once at start.

Defaults, then the environment (DATABASE_URL and SPA_*), then a test's overrides.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .domain.errors import CommandError


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///spa.db"
    host: str = "127.0.0.1"
    port: int = 5000
    # Connections are held by one asyncio event loop (uvicorn), not a thread each: ~50 KiB per
    # open WebSocket (docs/PERFORMANCE.md), so a thousand screens cost ~50 MiB. Signed-in sockets
    # (staff and devices) beyond this are refused with `busy`.
    max_connections: int = 1000
    # Sockets that have not completed a Socket.IO connect with a valid token have a small pool of
    # their own: they never take the capacity kept for staff and devices ...
    max_pending_connections: int = 256
    # ... and are closed this long after they opened: a legitimate client connects in milliseconds.
    connect_deadline_s: float = 5.0
    # Per sender address (the TCP peer, or X-Real-IP from the trusted nginx): every socket, and
    # those not yet signed in. A spa's screens each have an address of their own; a guest on the
    # Wi-Fi has one or a few.
    max_connections_per_address: int = 64
    max_pending_per_address: int = 8
    # Per token (a device, a staff member or a PIN session): its daemon, its page, a reload.
    max_connections_per_principal: int = 4
    # TCP connections of any kind (HTTP and WebSocket) per address and in all, counted when the
    # kernel hands them over; an HTTP request must arrive complete within this many seconds.
    max_tcp_connections: int = 2000
    request_header_timeout_s: float = 10.0
    # Socket.IO commands run on this many threads (the database work); HTTP views on their own.
    command_threads: int = 16
    http_threads: int = 16
    # Events of one connection waiting or running at once; more are answered `busy` at once.
    max_events_in_flight: int = 8
    cors_origins: tuple[str, ...] = ()
    message_queue: str | None = None
    # Redis pub/sub channels ignore the database number: separate spas (or test runs) sharing
    # one Redis need their own channel.
    message_queue_channel: str = "spa-queue"
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)
    timezone: str = "UTC"
    spa_name: str = "Spa"
    spa_address: str = ""  # printed on receipts; "\n" separates lines
    currency: str = "€"
    log_format: str = "json"
    log_level: str = "INFO"
    debug: bool = False
    # A claim whose holder vanished goes back to the queue after this long: two minutes covers
    # a tablet's Wi-Fi dropping or a page reload, and is short enough that nobody waits on a ghost.
    claim_grace_s: float = 120.0
    # How often each process marks its live connections as seen; a process that stops doing so
    # (crashed) has its connections counted as gone after 3 beats.
    presence_heartbeat_s: float = 15.0
    # Appliances beat every ~15 s; silent for 3 beats means unplugged or crashed.
    appliance_silent_after_s: float = 45.0
    # Retried commands (an appliance outbox replaying after a long outage) must still find their key.
    idempotency_retention_s: float = 7 * 24 * 3600.0
    # A PIN sign-in on a screen lasts a working day.
    session_ttl_s: float = 12 * 3600.0
    db_pool_size: int = 16
    db_max_overflow: int = 32
    db_retry_attempts: int = 5
    # Broadcasts are put in version order; a missing version is waited for this long before
    # the broadcaster re-reads the queue from the database.
    broadcast_reorder_wait_s: float = 0.25
    broadcast_queue_size: int = 10_000
    # How many waiting customers get position updates pushed when their rooms' members
    # cannot be seen locally (several processes on a message queue).
    position_push_limit: int = 50
    # Defaults of the settings the office may change while running (server/service/spa_settings.py):
    # opening hours as JSON ({"monday": ["09:00", "21:00"], …}; empty: always open), no new customer
    # this long before closing, the kiosk full past this quoted wait (0: no limit), how long a
    # no-show may be recalled and a start or finish undone, the screens' default language.
    opening_hours: str = ""
    last_entry_min: int = 30
    max_wait_min: int = 240
    no_show_recall_min: int = 30
    undo_window_s: int = 120
    language: str = "en"
    # The till: prices include tax (else tax is added on the receipt); cash tendered above this
    # many times the bill and more than the largest note over it needs the cashier's
    # confirmation; a discount above this share of the bill (basis points) needs a manager's PIN.
    prices_include_tax: bool = True
    tender_confirm_multiple: int = 5
    largest_note_cents: int = 20_000
    discount_without_manager_bp: int = 1_000
    # The address phones reach the server at, for the ticket's QR code (https://spa.example);
    # empty: the address the kiosk's page came from.
    public_url: str = ""
    max_payload_bytes: int = 16 * 1024
    # PIN sign-in throttle (docs/SECURITY.md), kept in the database so a restart or a second
    # process grants no fresh guesses. The first `..._free_failures` wrong PINs cost nothing (a
    # typo, a tired thumb); each one after makes the next attempt wait 2, 4, 8 … s, never more
    # than `sign_in_max_delay_s`: the right PIN is delayed at most that long, never locked out.
    # At the cap a 4-digit PIN takes about 3.5 days on average to find, a 6-digit one a year.
    sign_in_free_failures_per_staff: int = 3
    # A shared screen signs many people in: a little more slack per address.
    sign_in_free_failures_per_address: int = 6
    sign_in_max_delay_s: float = 60.0
    # Failures are forgotten after this long without a new one.
    sign_in_forget_after_s: float = 900.0
    # Each PIN check costs 16 MiB of scrypt (n=2^14, r=8): at most this many at once per process ...
    sign_in_concurrent_hashes: int = 2
    # ... and an attempt waits this long for a free slot before it gets `busy`.
    sign_in_hash_wait_s: float = 2.0
    # Addresses whose X-Forwarded-Proto and X-Real-IP are believed: the local nginx (OPERATIONS.md).
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    testing: bool = False
    start_background: bool = True

    def spa_defaults(self) -> Any:
        """The defaults of the settings changed while running, checked (ValueError if wrong)."""
        from .service.spa_settings import CHECKS, Defaults

        values = {
            "opening_hours": json.loads(self.opening_hours) if self.opening_hours.strip() else None,
            "last_entry_min": self.last_entry_min,
            "max_wait_min": self.max_wait_min or None,
            "no_show_recall_min": self.no_show_recall_min,
            "undo_window_s": self.undo_window_s,
            "language": self.language,
            "prices_include_tax": self.prices_include_tax,
            "tender_confirm_multiple": self.tender_confirm_multiple,
            "largest_note_cents": self.largest_note_cents,
            "discount_without_manager_bp": self.discount_without_manager_bp,
            "spa_name": self.spa_name,
            "spa_address": self.spa_address,
            "currency": self.currency,
        }
        return Defaults(**{key: CHECKS[key](value, key) for key, value in values.items()})

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


_ENV = {
    "database_url": "DATABASE_URL",
    "host": "SPA_HOST",
    "port": "SPA_PORT",
    "max_connections": "SPA_MAX_CONNECTIONS",
    "max_pending_connections": "SPA_MAX_PENDING_CONNECTIONS",
    "connect_deadline_s": "SPA_CONNECT_DEADLINE_S",
    "max_connections_per_address": "SPA_MAX_CONNECTIONS_PER_ADDRESS",
    "max_pending_per_address": "SPA_MAX_PENDING_PER_ADDRESS",
    "max_connections_per_principal": "SPA_MAX_CONNECTIONS_PER_PRINCIPAL",
    "max_tcp_connections": "SPA_MAX_TCP_CONNECTIONS",
    "request_header_timeout_s": "SPA_REQUEST_HEADER_TIMEOUT_S",
    "command_threads": "SPA_COMMAND_THREADS",
    "http_threads": "SPA_HTTP_THREADS",
    "max_events_in_flight": "SPA_MAX_EVENTS_IN_FLIGHT",
    "cors_origins": "SPA_CORS_ORIGINS",
    "message_queue": "SPA_MESSAGE_QUEUE",
    "message_queue_channel": "SPA_MESSAGE_QUEUE_CHANNEL",
    "secret_key": "SPA_SECRET_KEY",
    "timezone": "SPA_TIMEZONE",
    "spa_name": "SPA_NAME",
    "spa_address": "SPA_ADDRESS",
    "currency": "SPA_CURRENCY",
    "log_format": "SPA_LOG_FORMAT",
    "log_level": "SPA_LOG_LEVEL",
    "debug": "SPA_DEBUG",
    "claim_grace_s": "SPA_CLAIM_GRACE_S",
    "presence_heartbeat_s": "SPA_PRESENCE_HEARTBEAT_S",
    "appliance_silent_after_s": "SPA_APPLIANCE_SILENT_AFTER_S",
    "session_ttl_s": "SPA_SESSION_TTL_S",
    "db_pool_size": "SPA_DB_POOL_SIZE",
    "db_max_overflow": "SPA_DB_MAX_OVERFLOW",
    "opening_hours": "SPA_OPENING_HOURS",
    "last_entry_min": "SPA_LAST_ENTRY_MIN",
    "max_wait_min": "SPA_MAX_WAIT_MIN",
    "no_show_recall_min": "SPA_NO_SHOW_RECALL_MIN",
    "undo_window_s": "SPA_UNDO_WINDOW_S",
    "language": "SPA_LANGUAGE",
    "public_url": "SPA_PUBLIC_URL",
    "prices_include_tax": "SPA_PRICES_INCLUDE_TAX",
    "tender_confirm_multiple": "SPA_TENDER_CONFIRM_MULTIPLE",
    "largest_note_cents": "SPA_LARGEST_NOTE_CENTS",
    "discount_without_manager_bp": "SPA_DISCOUNT_WITHOUT_MANAGER_BP",
    "sign_in_free_failures_per_staff": "SPA_SIGN_IN_FREE_FAILURES_PER_STAFF",
    "sign_in_free_failures_per_address": "SPA_SIGN_IN_FREE_FAILURES_PER_ADDRESS",
    "sign_in_max_delay_s": "SPA_SIGN_IN_MAX_DELAY_S",
    "sign_in_forget_after_s": "SPA_SIGN_IN_FORGET_AFTER_S",
    "sign_in_concurrent_hashes": "SPA_SIGN_IN_CONCURRENT_HASHES",
    "sign_in_hash_wait_s": "SPA_SIGN_IN_HASH_WAIT_S",
    "trusted_proxies": "SPA_TRUSTED_PROXIES",
}


_AT_LEAST_ONE = (
    "max_connections",
    "max_pending_connections",
    "max_connections_per_address",
    "max_pending_per_address",
    "max_connections_per_principal",
    "max_tcp_connections",
    "command_threads",
    "http_threads",
    "max_events_in_flight",
)
# Settings of earlier versions that nothing reads any more: named in a warning, never silently ignored.
RETIRED = {
    "SPA_THREADS": "connections no longer hold a thread each; see SPA_MAX_CONNECTIONS and SPA_COMMAND_THREADS",
    "SPA_HTTP_RESERVE_THREADS": "HTTP has threads of its own (SPA_HTTP_THREADS)",
    "SPA_THERAPISTS_ON_DUTY": "wait estimates count the therapists on shift (they sign on and off)",
}


def retired_settings(environ: Mapping[str, str] | None = None) -> list[str]:
    """A warning for each retired setting still in the environment."""
    env = os.environ if environ is None else environ
    return [f"{var} is no longer used: {why}" for var, why in RETIRED.items() if env.get(var)]


def load_settings(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    types = {f.name: f.type for f in fields(Settings)}
    for name, var in _ENV.items():
        raw = env.get(var)
        if raw is None or raw == "":
            continue
        values[name] = _convert(var, raw, str(types[name]))
    if "spa_address" in values:
        # An environment file has no multi-line values: a literal \n separates the address lines.
        values["spa_address"] = values["spa_address"].replace("\\n", "\n")
    settings = replace(Settings(), **values)
    if overrides:
        unknown = set(overrides) - set(types)
        if unknown:
            raise ConfigError(f"unknown setting {sorted(unknown)[0]!r}")
        settings = replace(settings, **overrides)
    _check(settings)
    return settings


def _convert(var: str, raw: str, type_name: str) -> Any:
    try:
        if "bool" in type_name:
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError("expected true or false")
        if "tuple" in type_name:
            return tuple(o.strip() for o in raw.split(",") if o.strip())
        if type_name.startswith("int"):
            return int(raw)
        if type_name.startswith("float"):
            return float(raw)
        return raw
    except ValueError as exc:
        raise ConfigError(f"{var}={raw!r}: {exc}") from None


def _check(s: Settings) -> None:
    if not 1 <= s.port <= 65535:
        raise ConfigError(f"SPA_PORT = {s.port}: must be 1-65535")
    for name in _AT_LEAST_ONE:
        if getattr(s, name) < 1:
            raise ConfigError(f"{_ENV[name]} = {getattr(s, name)}: must be at least 1")
    if s.max_tcp_connections < s.max_connections + s.max_pending_connections:
        raise ConfigError(
            f"SPA_MAX_TCP_CONNECTIONS = {s.max_tcp_connections}: must be at least"
            " SPA_MAX_CONNECTIONS + SPA_MAX_PENDING_CONNECTIONS (every socket is a TCP connection)"
        )
    if not 0 < s.connect_deadline_s <= 60:
        raise ConfigError(f"SPA_CONNECT_DEADLINE_S = {s.connect_deadline_s}: must be more than 0, at most 60")
    if not 0 < s.request_header_timeout_s <= 300:
        raise ConfigError(
            f"SPA_REQUEST_HEADER_TIMEOUT_S = {s.request_header_timeout_s}: must be more than 0, at most 300"
        )
    if s.claim_grace_s <= 0:
        raise ConfigError(f"SPA_CLAIM_GRACE_S = {s.claim_grace_s}: must be more than 0")
    if s.sign_in_free_failures_per_staff < 0 or s.sign_in_free_failures_per_address < 0:
        raise ConfigError("SPA_SIGN_IN_FREE_FAILURES_PER_STAFF/_PER_ADDRESS: must be 0 or more")
    if s.sign_in_max_delay_s < 1:
        raise ConfigError(f"SPA_SIGN_IN_MAX_DELAY_S = {s.sign_in_max_delay_s}: must be at least 1")
    if s.sign_in_forget_after_s < s.sign_in_max_delay_s:
        raise ConfigError(
            f"SPA_SIGN_IN_FORGET_AFTER_S = {s.sign_in_forget_after_s}: must be at least SPA_SIGN_IN_MAX_DELAY_S"
        )
    if s.sign_in_concurrent_hashes < 1:
        raise ConfigError(f"SPA_SIGN_IN_CONCURRENT_HASHES = {s.sign_in_concurrent_hashes}: must be at least 1")
    if s.sign_in_hash_wait_s < 0:
        raise ConfigError(f"SPA_SIGN_IN_HASH_WAIT_S = {s.sign_in_hash_wait_s}: must be 0 or more")
    try:
        s.spa_defaults()
    except (ValueError, CommandError) as exc:
        raise ConfigError(f"front desk settings (SPA_OPENING_HOURS, SPA_MAX_WAIT_MIN, …): {exc}") from None
    if s.log_format not in ("json", "text"):
        raise ConfigError(f"SPA_LOG_FORMAT = {s.log_format!r}: must be json or text")
    try:
        ZoneInfo(s.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"SPA_TIMEZONE = {s.timezone!r}: not a known time zone (e.g. Europe/Berlin)") from None

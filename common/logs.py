"""The one log format of every process (server and appliance): JSON lines on stdout for journald,
or the same fields as plain text for a person at a terminal.

A JSON line holds ``ts``, ``level``, ``logger``, ``thread``, ``msg``, then every field passed with
``extra=`` and, with a traceback, ``exc``::

    {"ts": "2026-11-29T07:21:37.212Z", "level": "info", "logger": "appliance.network",
     "thread": "net.socketio", "msg": "acked cashier_lookup", "key": "k3f-12", "latency_ms": 41.2}

``ts`` is ISO-8601 in UTC with milliseconds and ``Z`` (one spelling whichever machine logs it, so
lines from the server and a Pi sort and ``jq``-compare as text); ``level`` is lower case
(``debug``, ``info``, ``warning``, ``error``, ``critical``). Only an entry point calls ``configure``.
"""

from __future__ import annotations

import json
import logging
import math
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

# Attributes every LogRecord has; anything else came in through ``extra=`` and is logged as a field.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "taskName"}
# The Socket.IO, WebSocket and HTTP libraries log every packet or request at INFO when enabled.
QUIET = ("engineio", "socketio", "websocket", "werkzeug", "urllib3")
FORMATS = ("json", "text")


def timestamp(created: float) -> str:
    """``2026-11-29T07:21:37.212Z``: a record's time, as every log line spells it."""
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fields(record: logging.LogRecord) -> dict[str, Any]:
    """What a line says, in order: the fixed fields, then the ``extra=`` ones."""
    entry: dict[str, Any] = {
        "ts": timestamp(record.created),
        "level": record.levelname.lower(),
        "logger": record.name,
        "thread": record.threadName,
        "msg": record.getMessage(),
    }
    for key, value in record.__dict__.items():
        if key not in _STANDARD and not key.startswith("_") and key not in entry:
            entry[key] = value
    return entry


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = fields(record)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``2026-11-29T07:21:37.212Z info    net.socketio appliance.network: acked cashier_lookup``."""

    def format(self, record: logging.LogRecord) -> str:
        entry = fields(record)
        line = f"{entry['ts']} {entry['level']:<7} {entry['thread']} {entry['logger']}: {entry['msg']}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def level_number(name: str) -> int:
    """``"info"`` or ``"INFO"`` → ``logging.INFO``; a name logging does not know → INFO."""
    return logging.getLevelNamesMapping().get(name.upper(), logging.INFO)


def configure(
    fmt: str = "json", level: str = "INFO", *, stream: TextIO | None = None, quiet: Iterable[str] = QUIET
) -> logging.Handler:
    """One handler on the root logger (stdout by default), replacing any earlier one: importing
    python-escpos already called ``logging.basicConfig()``. Returns the handler."""
    if fmt not in FORMATS:
        raise ValueError(f"log format {fmt!r}: must be one of {', '.join(FORMATS)}")
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level_number(level))
    for name in quiet:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler


class Tally:
    """Counts what a flood repeats (a refusal, a dropped connection) and says when it is worth a
    line: the first of each kind, then the 10th, 100th, 1,000th … so that a client repeating
    itself costs a logarithmic amount of log, and the count still reaches the journal."""

    def __init__(self, max_kinds: int = 1024) -> None:
        self._counts: dict[str, int] = {}
        self._max_kinds = max_kinds

    def count(self, kind: str) -> int | None:
        """This kind's count if this one should be logged, else None."""
        if kind not in self._counts and len(self._counts) >= self._max_kinds:
            self._counts.pop(next(iter(self._counts)))  # the oldest kind's count starts again
        seen = self._counts[kind] = self._counts.get(kind, 0) + 1
        return seen if seen == 1 or math.log10(seen).is_integer() else None

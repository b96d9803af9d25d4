"""JSON lines on stdout, for journald. Only the entry point calls ``configure``."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

# Attributes every LogRecord has; anything else came in through ``extra=`` and is logged as a field.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "thread": record.threadName,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure(level: str | None = None, stream: TextIO | None = None) -> None:
    """JSON lines to stdout at ``SPA_LOG_LEVEL`` (default INFO); raw device traffic (the ``wire``
    loggers) only with ``SPA_LOG_WIRE=1``.

    ``force=True``: importing python-escpos already called ``logging.basicConfig()``.
    """
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter())
    name = (level or os.environ.get("SPA_LOG_LEVEL") or "INFO").upper()
    logging.basicConfig(level=getattr(logging, name, logging.INFO), handlers=[handler], force=True)
    wire = os.environ.get("SPA_LOG_WIRE", "") in ("1", "true", "yes")
    logging.getLogger("wire").setLevel(logging.DEBUG if wire else logging.WARNING)
    for noisy in ("socketio", "engineio", "websocket", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

"""The server's logs: the house format (``common/logs.py``), JSON lines to stdout for journald or
plain text for people (``SPA_LOG_FORMAT``)."""

from __future__ import annotations

import logging

from common.logs import JsonFormatter, TextFormatter
from common.logs import configure as _configure

__all__ = ["JsonFormatter", "TextFormatter", "configure"]

# uvicorn's (and websockets') line for every WebSocket opened, refused or closed: the server logs
# its own line for each connection and refusal (with who it was, and counted), so these go.
PER_CONNECTION = frozenset(
    {
        '%s - "WebSocket %s" [accepted]',
        '%s - "WebSocket %s" 403',
        '%s - "WebSocket %s" %d',
        "connection open",
        "connection closed",
    }
)


class PerConnectionLines(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        return not (record.msg in PER_CONNECTION or str(record.msg).startswith("connection rejected"))


def configure(fmt: str = "json", level: str = "INFO") -> None:
    _configure(fmt, level)
    uvicorn = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, PerConnectionLines) for f in uvicorn.filters):
        uvicorn.addFilter(PerConnectionLines())

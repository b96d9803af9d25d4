"""The server's logs: the house format (``common/logs.py``), JSON lines to stdout for journald or
plain text for people (``SPA_LOG_FORMAT``)."""

from __future__ import annotations

from common.logs import JsonFormatter, TextFormatter
from common.logs import configure as _configure

__all__ = ["JsonFormatter", "TextFormatter", "configure"]


def configure(fmt: str = "json", level: str = "INFO") -> None:
    _configure(fmt, level)

"""The daemon's logs: JSON lines on stdout for journald, in the house format (``common/logs.py``).
Only the entry point calls ``configure``."""

from __future__ import annotations

import logging
import os
from typing import TextIO

from common.logs import JsonFormatter
from common.logs import configure as _configure

__all__ = ["JsonFormatter", "configure"]


def configure(level: str | None = None, stream: TextIO | None = None) -> None:
    """JSON lines at ``SPA_LOG_LEVEL`` (default INFO); raw device traffic (the ``wire`` loggers)
    only with ``SPA_LOG_WIRE=1``, and python-escpos's chatter only then too."""
    _configure("json", level or os.environ.get("SPA_LOG_LEVEL") or "INFO", stream=stream)
    wire = os.environ.get("SPA_LOG_WIRE", "") in ("1", "true", "yes")
    logging.getLogger("wire").setLevel(logging.DEBUG if wire else logging.WARNING)
    if not wire:
        for handler in logging.getLogger().handlers:
            handler.addFilter(quiet_escpos)


def quiet_escpos(record: logging.LogRecord) -> bool:
    """python-escpos logs on the root logger (``logging.info(...)``), at INFO on every open and close
    of a printer: "Closing Network connection to printer …" every 2 s while one was down. The drivers
    no longer open printers through it, and whatever it still says below WARNING stays out of the
    journal (the device's own health lines say what matters)."""
    return not (
        record.levelno < logging.WARNING and record.name == "root" and f"{os.sep}escpos{os.sep}" in record.pathname
    )

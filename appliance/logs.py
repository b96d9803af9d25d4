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
    only with ``SPA_LOG_WIRE=1``."""
    _configure("json", level or os.environ.get("SPA_LOG_LEVEL") or "INFO", stream=stream)
    wire = os.environ.get("SPA_LOG_WIRE", "") in ("1", "true", "yes")
    logging.getLogger("wire").setLevel(logging.DEBUG if wire else logging.WARNING)

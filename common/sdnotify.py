"""systemd's notify protocol: one datagram per message to ``$NOTIFY_SOCKET`` (sd_notify(3)),
for the appliance daemon and the server alike.

No library: the protocol is a unix datagram of ``KEY=VALUE`` lines. ``$WATCHDOG_USEC`` (with
``$WATCHDOG_PID``, if set, naming this process) enables the watchdog: ``WATCHDOG=1`` must come at
least that often; we ping at half the interval, as sd_watchdog_enabled(3) recommends.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping

logger = logging.getLogger(__name__)


class Notifier:
    def __init__(self, address: str | None, watchdog_interval_s: float | None) -> None:
        self._address = address
        self.watchdog_interval_s = watchdog_interval_s
        self._last_ping: float | None = None  # the first ping is due at once
        self._socket: socket.socket | None = None
        if address is not None:
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        env = os.environ if environ is None else environ
        raw = env.get("NOTIFY_SOCKET") or None
        address = None
        if raw is not None and raw[0] in "/@":
            address = "\0" + raw[1:] if raw.startswith("@") else raw  # '@': Linux abstract namespace
        interval = None
        usec, pid = env.get("WATCHDOG_USEC", ""), env.get("WATCHDOG_PID", "")
        if usec.isdigit() and int(usec) > 0 and (not pid or pid == str(os.getpid())):
            interval = int(usec) / 1_000_000 / 2
        return cls(address, interval)

    @property
    def enabled(self) -> bool:
        return self._socket is not None

    def notify(self, message: str) -> None:
        if self._socket is None or self._address is None:
            return
        try:
            self._socket.sendto(message.encode(), self._address)
        except OSError as exc:  # systemd gone (shutdown) or the socket unreachable: never fatal
            logger.debug("sd_notify %r failed: %s", message, exc)

    def ready(self, status: str) -> None:
        self.notify(f"READY=1\nSTATUS={status}")

    def status(self, status: str) -> None:
        self.notify(f"STATUS={status}")

    def stopping(self) -> None:
        self.notify("STOPPING=1")

    def watchdog_due(self, now: float | None = None) -> bool:
        if self.watchdog_interval_s is None:
            return False
        if self._last_ping is None:
            return True
        return (time.monotonic() if now is None else now) - self._last_ping >= self.watchdog_interval_s

    def ping(self, now: float | None = None) -> None:
        self._last_ping = time.monotonic() if now is None else now
        self.notify("WATCHDOG=1")

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

"""systemd's notify protocol: one datagram per message to ``$NOTIFY_SOCKET`` (sd_notify(3)),
for the appliance daemon and the server alike.

No library: the protocol is a unix datagram of ``KEY=VALUE`` lines. ``$WATCHDOG_USEC`` (with
``$WATCHDOG_PID``, if set, naming this process) enables the watchdog: ``WATCHDOG=1`` must come at
least that often; we ping at half the interval, as sd_watchdog_enabled(3) recommends.

The file descriptor store (``FileDescriptorStoreMax=`` in the unit): ``store_fd`` hands systemd a
duplicate of a descriptor (``FDSTORE=1`` with the descriptor attached, SCM_RIGHTS), which it keeps
across restarts of the service and passes to the next start as ``$LISTEN_FDS`` (``listen_fds``).
"""

from __future__ import annotations

import array
import logging
import os
import socket
import time
from collections.abc import Mapping, MutableMapping, Sequence

LISTEN_FDS_START = 3  # SD_LISTEN_FDS_START: passed descriptors are 3, 4, …

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

    def notify_fds(self, message: str, fds: Sequence[int]) -> None:
        """A message with descriptors attached (sd_pid_notify_with_fds(3))."""
        if self._socket is None or self._address is None:
            return
        try:
            ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())]
            self._socket.sendmsg([message.encode()], ancillary, 0, self._address)
        except OSError as exc:
            logger.debug("sd_notify %r with descriptors failed: %s", message, exc)

    def store_fd(self, name: str, fd: int) -> None:
        """Keep a duplicate of ``fd`` in the service's store under ``name`` (no ':', no control characters)."""
        self.notify_fds(f"FDSTORE=1\nFDNAME={name}", [fd])

    def remove_fds(self, name: str) -> None:
        """Close and forget every stored descriptor called ``name``."""
        self.notify(f"FDSTOREREMOVE=1\nFDNAME={name}")

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


def listen_fds(environ: MutableMapping[str, str] | None = None) -> dict[str, list[int]]:
    """The descriptors systemd passed to this process (sd_listen_fds_with_names(3)), by name, and the
    variables that said so removed (children must not think they are theirs). Descriptors without
    a name are under "unknown", as systemd names them."""
    env = os.environ if environ is None else environ
    count, pid, names = env.get("LISTEN_FDS", ""), env.get("LISTEN_PID", ""), env.get("LISTEN_FDNAMES", "")
    for key in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"):
        env.pop(key, None)
    if not count.isdigit() or pid != str(os.getpid()):
        return {}
    labels = names.split(":") if names else []
    passed: dict[str, list[int]] = {}
    for i in range(int(count)):
        fd = LISTEN_FDS_START + i
        try:
            os.set_inheritable(fd, False)
        except OSError:  # not open after all: the environment lied
            continue
        passed.setdefault(labels[i] if i < len(labels) and labels[i] else "unknown", []).append(fd)
    return passed

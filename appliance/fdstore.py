"""Input devices kept open across a restart of the daemon, in systemd's file descriptor store.

A scanner whose device nobody holds open drops what is scanned (evdev delivers events only to
open descriptors; a serial port that is closed receives nothing). So each input device's
descriptor is stored with systemd under the device's name once it is open; when the daemon
restarts (a crash, the watchdog, an update's ``systemctl restart``) systemd passes it back, and the
device's thread takes it over (``adopt``): events that came meanwhile are read, an evdev grab still
holds. systemd drops a stored descriptor by itself when its device is unplugged (POLLHUP), and the
whole store when the service is stopped for good.

Without ``$NOTIFY_SOCKET`` (tests, the demo) nothing is stored and nothing inherited.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable

from common.sdnotify import Notifier

logger = logging.getLogger(__name__)


class DeviceFds:
    """Thread-safe: every input device's thread keeps, takes and forgets its own descriptor."""

    def __init__(self, notifier: Notifier, inherited: dict[str, list[int]]) -> None:
        self._notifier = notifier
        self._lock = threading.Lock()
        self._inherited = {name: fds[-1] for name, fds in inherited.items()}
        for fds in inherited.values():
            for fd in fds[:-1]:  # a name stored twice: the last one is the newest
                os.close(fd)

    def take(self, device: str) -> int | None:
        """The descriptor of ``device`` from before the restart, once; None if there is none."""
        with self._lock:
            return self._inherited.pop(device, None)

    def keep(self, device: str, fd: int) -> None:
        """``device`` is open on ``fd``: stored instead of any descriptor stored for it before."""
        self._notifier.remove_fds(device)
        self._notifier.store_fd(device, fd)

    def forget(self, device: str) -> None:
        self._notifier.remove_fds(device)

    def drop_unknown(self, devices: Iterable[str]) -> None:
        """At start: close what was stored for devices this configuration no longer has."""
        known = set(devices)
        with self._lock:
            for name in [n for n in self._inherited if n not in known]:
                logger.info("closing a descriptor kept for %r, which this configuration does not have", name)
                os.close(self._inherited.pop(name))
                self._notifier.remove_fds(name)

"""The server process's own threads: one owner creates, names, starts, watches and joins them.

A worker is an object with a `name` and a `run(stop)` loop that returns once `stop` is set.
`/healthz` and the systemd watchdog read `health()`: a thread that died is reported, and the
watchdog is withheld so systemd restarts the process.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Protocol

logger = logging.getLogger(__name__)


class Worker(Protocol):
    name: str

    def run(self, stop: threading.Event) -> None: ...


class Workers:
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._threads: dict[str, threading.Thread] = {}

    def start(self, worker: Worker) -> None:
        if worker.name in self._threads:
            raise ValueError(f"a worker named {worker.name!r} is already running")
        thread = threading.Thread(target=self._guarded, args=(worker,), name=worker.name, daemon=True)
        self._threads[worker.name] = thread
        thread.start()

    def health(self) -> dict[str, bool]:
        """Each thread's name, and whether it is alive."""
        return {name: thread.is_alive() for name, thread in self._threads.items()}

    def stop(self, timeout_s: float = 5.0) -> None:
        """Ask every worker to return, then join them in the order they started."""
        self._stop.set()
        for name, thread in self._threads.items():
            thread.join(timeout_s)
            if thread.is_alive():
                logger.warning("thread %s did not stop within %.1f s", name, timeout_s)
        self._threads.clear()
        self._stop = threading.Event()

    def _guarded(self, worker: Worker) -> None:
        try:
            worker.run(self._stop)
        except Exception:  # noqa: BLE001 - logged, and seen by health(): the thread is no longer alive
            logger.critical("thread %s died", worker.name, exc_info=True)


class LoopBeat:
    """Whether the event loop that holds the connections still turns: a task on it beats every
    `interval_s`; a loop stuck for `stale_after_s` (a blocking call made on it by mistake) is
    reported as the thread `server.loop` not alive, so /healthz says so and the watchdog is
    withheld."""

    name = "server.loop"

    def __init__(self, interval_s: float = 0.5, stale_after_s: float = 5.0) -> None:
        self._interval_s = interval_s
        self._stale_after_s = stale_after_s
        self._last: float | None = None

    @property
    def attached(self) -> bool:
        return self._last is not None

    def alive(self) -> bool:
        return self._last is not None and time.monotonic() - self._last < self._stale_after_s

    async def run(self) -> None:
        while True:
            self._last = time.monotonic()
            await asyncio.sleep(self._interval_s)

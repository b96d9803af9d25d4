"""The supervisor: starts every worker thread under its name, watches that each is alive and beating,
restarts the ones that died (with backoff), and pings the systemd watchdog only while all are well.

A thread that stopped beating (wedged in a device call) is reported and the watchdog is withheld,
so systemd restarts the daemon if it does not recover. An input device's thread is replaced at once:
the stuck one was told to stop and closes its device if its call ever returns. A printer's thread is
never replaced while it may still be sending a job — a second connection could print it twice.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from common.sdnotify import Notifier

from .messages import NetMessage, WorkerNote

logger = logging.getLogger(__name__)

RESTART_FIRST_S = 0.5
RESTART_MAX_S = 30.0
WELL_AFTER_S = 60.0  # running this long without trouble resets the restart backoff
TICK_S = 0.25


class Pulse:
    """A worker's heartbeat: its thread calls ``beat()`` every loop; the supervisor reads ``silent_s``."""

    def __init__(self) -> None:
        self._last = time.monotonic()

    def beat(self) -> None:
        self._last = time.monotonic()

    def silent_s(self, now: float) -> float:
        return now - self._last


class Worker(Protocol):
    @property
    def thread_name(self) -> str: ...  # "scanner.reader", "printer.worker", "net.socketio"

    @property
    def device(self) -> str | None: ...  # the device it owns, for reports; None for the network thread

    @property
    def replace_when_stalled(self) -> bool: ...

    def run(self, stop: threading.Event, pulse: Pulse) -> None: ...


def restart_delay_s(restarts: int) -> float:
    """0.5 s, 1 s, 2 s, … up to 30 s."""
    return float(min(RESTART_MAX_S, RESTART_FIRST_S * 2 ** max(0, restarts - 1)))


@dataclass
class _Slot:
    factory: Callable[[], Worker]
    worker: Worker
    stop: threading.Event = field(default_factory=threading.Event)
    pulse: Pulse = field(default_factory=Pulse)
    thread: threading.Thread | None = None
    started_at: float = 0.0
    restarts: int = 0
    restart_at: float | None = None  # a restart is due then (monotonic)
    stalled: bool = False
    failure: str = ""

    @property
    def name(self) -> str:
        return self.worker.thread_name


class Supervisor:
    def __init__(
        self,
        notifier: Notifier,
        net_inbox: queue.Queue[NetMessage],
        *,
        stall_after_s: float,
        tick_s: float = TICK_S,
    ) -> None:
        self._notifier = notifier
        self._net_inbox = net_inbox
        self._stall_after_s = stall_after_s
        self._tick_s = tick_s
        self._slots: list[_Slot] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- the owner's side ---------------------------------------------------------------------------

    def add(self, factory: Callable[[], Worker]) -> None:
        self._slots.append(_Slot(factory, factory()))

    def start(self) -> None:
        now = time.monotonic()
        for slot in self._slots:
            self._start(slot, now)
        self._thread = threading.Thread(target=self._run, name="supervisor", daemon=True)
        self._thread.start()

    def halt(self, timeout_s: float = 2.0) -> None:
        """Stop watching (before the workers are stopped, so that none is restarted)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def stop_workers(self, which: Callable[[Worker], bool], timeout_s: float) -> list[str]:
        """Ask the chosen workers to stop and wait for them; returns the names still running."""
        chosen = [s for s in self._slots if which(s.worker)]
        for slot in chosen:
            slot.stop.set()
        deadline = time.monotonic() + timeout_s
        left = []
        for slot in chosen:
            if slot.thread is not None:
                slot.thread.join(max(0.0, deadline - time.monotonic()))
                if slot.thread.is_alive():
                    left.append(slot.name)
        return left

    @property
    def thread_names(self) -> list[str]:
        return [s.name for s in self._slots]

    # --- watching -------------------------------------------------------------------------------------

    def _start(self, slot: _Slot, now: float) -> None:
        slot.stop = threading.Event()
        slot.pulse = Pulse()
        slot.started_at = now
        slot.restart_at = None
        slot.stalled = False
        slot.thread = threading.Thread(
            target=self._body, args=(slot, slot.worker, slot.stop, slot.pulse), name=slot.name, daemon=True
        )
        slot.thread.start()

    def _body(self, slot: _Slot, worker: Worker, stop: threading.Event, pulse: Pulse) -> None:
        try:
            worker.run(stop, pulse)
        except Exception as exc:
            logger.exception("%s died", slot.name)
            slot.failure = f"{type(exc).__name__}: {exc}"
        else:
            if not stop.is_set():
                slot.failure = "returned while it should run"

    def _run(self) -> None:
        while not self._stop.is_set():
            self.check(time.monotonic())
            self._stop.wait(self._tick_s)

    def check(self, now: float) -> bool:
        """One round: restart, report, and ping the watchdog if every thread is well."""
        healthy = True
        for slot in self._slots:
            healthy &= self._check(slot, now)
        if healthy and self._notifier.watchdog_due(now):
            self._notifier.ping(now)
        return healthy

    def _check(self, slot: _Slot, now: float) -> bool:
        if slot.restart_at is not None:
            if now >= slot.restart_at:
                slot.worker = slot.factory()
                self._start(slot, now)
                logger.info("%s restarted (restart %d)", slot.name, slot.restarts)
            return False
        assert slot.thread is not None
        if not slot.thread.is_alive():
            self._schedule_restart(slot, now, f"thread died: {slot.failure or 'unknown'}")
            return False
        silent_s = slot.pulse.silent_s(now)
        if silent_s > self._stall_after_s:
            if not slot.stalled:
                slot.stalled = True
                logger.warning("%s stalled: no heartbeat for %.1f s", slot.name, silent_s)
                self._note(slot, "stalled", f"thread {slot.name} silent for {silent_s:.0f} s")
            if slot.worker.replace_when_stalled:
                slot.stop.set()  # the stuck thread closes its device if its call ever returns
                self._schedule_restart(slot, now, f"thread stalled for {silent_s:.0f} s")
            return False
        if slot.stalled:
            slot.stalled = False
            logger.info("%s recovered", slot.name)
            self._note(slot, None)
        if slot.restarts and now - slot.started_at > WELL_AFTER_S:
            slot.restarts = 0
            self._note(slot, None)
        return True

    def _schedule_restart(self, slot: _Slot, now: float, why: str) -> None:
        slot.restarts += 1
        delay_s = restart_delay_s(slot.restarts)
        slot.restart_at = now + delay_s
        logger.warning("%s: %s; restart %d in %.1f s", slot.name, why, slot.restarts, delay_s)
        self._note(slot, "restarting", f"{why}; restart {slot.restarts}")

    def _note(self, slot: _Slot, state: str | None, detail: str = "") -> None:
        if slot.worker.device is None:
            return
        try:
            self._net_inbox.put_nowait(WorkerNote(slot.worker.device, state, detail))
        except queue.Full:
            logger.warning("network inbox full; dropped a note on %s", slot.name)

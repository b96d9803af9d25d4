"""The supervisor and the device threads, in-process with devices that obey the drivers' protocols:
a thread that died is restarted with backoff and reported; a wedged input thread is replaced, a
wedged printer thread is not; the watchdog is pinged only while all are well; and every device
call happens on its own device's thread."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from appliance.config import CashierSettings, DeviceSpec, parse_config
from appliance.messages import HealthChanged, JobsArrived, NetMessage, OutboxChanged, PrintResultsRecorded, WorkerNote
from appliance.outbox import Outbox
from appliance.printer import PrinterWorker
from appliance.printstore import PrintJobs
from appliance.reader import InputReader
from appliance.store import Store, prepare
from appliance.supervisor import Pulse, Supervisor, restart_delay_s
from common.sdnotify import Notifier
from devices.base import (
    DeviceHealth,
    DeviceState,
    DeviceUnavailable,
    JobResult,
    Outcome,
    PrintJob,
    ScanEvent,
    SendJournal,
)
from tests.appliance.harness import print_receipt
from tests.support import wait_until


class CountingNotifier(Notifier):
    def __init__(self) -> None:
        super().__init__(None, watchdog_interval_s=0.02)
        self.pings: list[float] = []

    def ping(self, now: float | None = None) -> None:
        super().ping(now)
        self.pings.append(time.monotonic())


class FakeWorker:
    """Beats until stopped, unless told to die or to hang (stop beating)."""

    def __init__(self, name: str, device: str | None, replaceable: bool, behaviour: list[str]) -> None:
        self.thread_name = name
        self.device = device
        self.replace_when_stalled = replaceable
        self.behaviour = behaviour.pop(0) if behaviour else "beat"
        self.release = threading.Event()
        self.stop: threading.Event | None = None

    def run(self, stop: threading.Event, pulse: Pulse) -> None:
        self.stop = stop
        if self.behaviour == "die":
            raise OSError(5, "Input/output error")
        if self.behaviour == "hang":
            self.release.wait(10)  # a device call that does not return
        while not stop.wait(0.02):
            pulse.beat()


@pytest.fixture
def inbox() -> queue.Queue[NetMessage]:
    return queue.Queue(100)


def notes(inbox: queue.Queue[NetMessage]) -> list[tuple[str, str | None]]:
    out = []
    while True:
        try:
            message = inbox.get_nowait()
        except queue.Empty:
            return out
        if isinstance(message, WorkerNote):
            out.append((message.device, message.state))


def test_restart_backoff() -> None:
    assert [restart_delay_s(n) for n in (1, 2, 3, 4, 7, 8, 20)] == [0.5, 1.0, 2.0, 4.0, 30.0, 30.0, 30.0]


def test_a_thread_that_died_is_restarted_and_reported(inbox: queue.Queue[NetMessage]) -> None:
    notifier, made = CountingNotifier(), []
    behaviour = ["die"]

    def factory() -> FakeWorker:
        made.append(FakeWorker("scanner.reader", "scanner", True, behaviour))
        return made[-1]

    supervisor = Supervisor(notifier, inbox, stall_after_s=1.0, tick_s=0.02)
    supervisor.add(factory)
    supervisor.start()
    try:
        wait_until(lambda: len(made) == 2, 5, what="a second thread")
        assert "supervisor" in [t.name for t in threading.enumerate()]
        wait_until(lambda: "scanner.reader" in [t.name for t in threading.enumerate()], 2, what="named thread")
        restarted_at = time.monotonic()
        wait_until(lambda: [p for p in notifier.pings if p > restarted_at], 2, what="pings once well")
        assert notes(inbox) == [("scanner", "restarting")]
    finally:
        supervisor.halt()
        supervisor.stop_workers(lambda w: True, 2)


@pytest.mark.parametrize("replaceable", [True, False])
def test_a_wedged_thread_withholds_the_watchdog(inbox: queue.Queue[NetMessage], replaceable: bool) -> None:
    notifier, made, seen = CountingNotifier(), [], []
    behaviour = ["hang"]  # the first thread hangs in a "device call"; a replacement beats

    def factory() -> FakeWorker:
        made.append(FakeWorker("printer.worker", "printer", replaceable, behaviour))
        return made[-1]

    def saw(note: tuple[str, str | None]) -> bool:
        seen.extend(notes(inbox))
        return note in seen

    supervisor = Supervisor(notifier, inbox, stall_after_s=0.3, tick_s=0.02)
    supervisor.add(factory)
    supervisor.start()
    try:
        wait_until(lambda: saw(("printer", "stalled")), 3, what="stalled")
        wedged_at = time.monotonic()
        if replaceable:  # an input device's thread: a new one at once, the stuck one told to stop
            wait_until(lambda: len(made) == 2, 3, what="a new thread")
            assert made[0].stop is not None and made[0].stop.is_set() and not made[0].release.is_set()
        else:  # a printer's thread: never a second one; the watchdog waits for it to come back
            wait_until(lambda: time.monotonic() > wedged_at + 0.5, 1, what="a while")
            assert len(made) == 1 and [p for p in notifier.pings if p > wedged_at] == []
            made[0].release.set()
            wait_until(lambda: saw(("printer", None)), 3, what="recovered")
        well_at = time.monotonic()
        wait_until(lambda: [p for p in notifier.pings if p > well_at], 3, what="pings again")
    finally:
        for worker in made:
            worker.release.set()
        supervisor.halt()
        supervisor.stop_workers(lambda w: True, 2)


# --- the real device threads with devices obeying the drivers' protocols ---------------------------


class FakeScanner:
    """An input device: scans on demand; unplugs once; records the thread of every call."""

    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        self.name = name
        self.calls: list[tuple[str, str]] = []
        self.pending: queue.Queue[str] = settings["feed"]
        self.unplug_once = True
        self._open = False

    def _call(self, what: str) -> None:
        self.calls.append((what, threading.current_thread().name))

    def open(self) -> None:
        self._call("open")
        self._open = True

    def read(self, timeout_s: float) -> list[ScanEvent]:
        self._call("read")
        try:
            text = self.pending.get(timeout=timeout_s)
        except queue.Empty:
            return []
        if text == "unplug" and self.unplug_once:
            self.unplug_once, self._open = False, False
            raise DeviceUnavailable("scanner: unplugged")
        return [ScanEvent(self.name, text, time.time())]

    def health(self) -> DeviceHealth:
        self._call("health")
        return DeviceHealth(DeviceState.OK if self._open else DeviceState.MISSING)

    def present(self) -> bool:
        return True

    def fileno(self) -> int | None:
        return None

    def adopt(self, fd: int) -> None:
        raise AssertionError("nothing to take over here")

    def close(self) -> None:
        self._call("close")


class FakePrinter:
    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        self.name = name
        self.calls: list[tuple[str, str]] = []
        self.jobs: list[PrintJob] = []

    def _call(self, what: str) -> None:
        self.calls.append((what, threading.current_thread().name))

    def open(self) -> None:
        self._call("open")

    def submit(self, job: PrintJob) -> None:
        self._call("submit")
        self.jobs.append(job)

    def work(self, timeout_s: float, journal: SendJournal | None = None) -> list[JobResult]:
        self._call("work")
        done, self.jobs = self.jobs, []
        return [JobResult(j.job_id, Outcome.PRINTED, DeviceState.OK) for j in done]

    def health(self) -> DeviceHealth:
        self._call("health")
        return DeviceHealth(DeviceState.OK)

    def close(self) -> None:
        self._call("close")


def test_device_calls_happen_on_their_own_threads(tmp_path: Path, inbox: queue.Queue[NetMessage]) -> None:
    config = parse_config(
        {"role": "cashier", "server_url": "http://127.0.0.1:1", "token": "dv_1_x", "state_dir": str(tmp_path)},
        tmp_path / "appliance.toml",
    )
    path = config.outbox_path
    epoch = prepare(tmp_path, path)
    store = Store(path)
    feed: queue.Queue[str] = queue.Queue()
    devices: list[Any] = []

    def make(kind: type) -> Any:
        def build(name: str, settings: Mapping[str, Any]) -> Any:
            devices.append(kind(name, settings))
            return devices[-1]

        return build

    printer_inbox: queue.Queue[JobsArrived] = queue.Queue(10)
    reader = InputReader(
        DeviceSpec("scanner", "scanner_fake", {"feed": feed}),
        config,
        lambda: Outbox(path, epoch, store),
        inbox,
        make_device=make(FakeScanner),
    )
    printer = PrinterWorker(
        DeviceSpec("printer", "printer_fake", {}),
        CashierSettings("printer", drawer=True),
        lambda: PrintJobs(path, store),
        printer_inbox,
        inbox,
        make_device=make(FakePrinter),
    )
    supervisor = Supervisor(CountingNotifier(), inbox, stall_after_s=5.0, tick_s=0.02)
    supervisor.add(lambda: reader)
    supervisor.add(lambda: printer)
    supervisor.start()
    try:
        for text in ("A-1", "unplug", "A-2", "hello"):
            feed.put(text)
        PrintJobs(path, store).receive("rcpt-7", 7, print_receipt(), None)
        printer_inbox.put(JobsArrived())
        wait_until(lambda: len(Outbox(path, epoch, store).entries()) == 2, 5, what="two scans in the outbox")
        wait_until(lambda: PrintJobs(path, store).state("rcpt-7") == "printed", 5, what="printed")
    finally:
        supervisor.halt()
        supervisor.stop_workers(lambda w: True, 3)
    assert [e.payload["code"] for e in Outbox(path, epoch, store).entries()] == ["A-1", "A-2"]
    scanner, fake_printer = devices
    assert {thread for _, thread in scanner.calls} == {"scanner.reader"}
    assert {thread for _, thread in fake_printer.calls} == {"printer.worker"}
    assert [c for c, _ in scanner.calls].count("open") == 2  # reopened after the unplug, same thread
    assert scanner.calls[-1][0] == "close" and fake_printer.calls[-1][0] == "close"
    told = []
    while not inbox.empty():
        told.append(inbox.get_nowait())
    assert sum(isinstance(m, OutboxChanged) for m in told) == 2
    assert any(isinstance(m, PrintResultsRecorded) for m in told)
    assert [m.health.state for m in told if isinstance(m, HealthChanged) and m.device == "scanner"][:3] == [
        DeviceState.OK, DeviceState.MISSING, DeviceState.OK,
    ]  # fmt: skip

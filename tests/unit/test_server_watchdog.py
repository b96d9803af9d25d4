"""The server's systemd watchdog (``server/serve.py``): READY=1 only once the runtime's threads run,
WATCHDOG=1 at the notifier's interval only while every one of them is alive, withheld as soon as
one dies and resumed when it is back. Table-driven over ticks, with a notifier that records."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from common.sdnotify import Notifier
from server.serve import ServerWatchdog, runtime_health


class RecordingNotifier(Notifier):
    def __init__(self, watchdog_interval_s: float | None = 0.0) -> None:
        super().__init__(None, watchdog_interval_s)  # no socket: nothing leaves the process
        self.sent: list[str] = []

    def notify(self, message: str) -> None:
        self.sent.append(message.split("\n")[0])


class FakeRuntime:
    def __init__(self, health: dict[str, bool], started: bool = True) -> None:
        self.threads = health
        self.started = started

    def health(self) -> dict[str, bool]:
        return dict(self.threads)


ALIVE = {"broadcaster": True, "housekeeping": True}
ONE_DEAD = {"broadcaster": True, "housekeeping": False}


@pytest.mark.parametrize(
    ("ticks", "sent"),
    [
        ([ALIVE, ALIVE], ["READY=1", "WATCHDOG=1", "WATCHDOG=1"]),
        ([ONE_DEAD, ONE_DEAD, ALIVE], ["READY=1", "WATCHDOG=1"]),  # never ready while a thread is dead
        ([ALIVE, ONE_DEAD, ONE_DEAD, ALIVE], ["READY=1", "WATCHDOG=1", "WATCHDOG=1"]),  # withheld, resumed
        ([{}], ["READY=1", "WATCHDOG=1"]),  # a runtime with no threads to watch
    ],
)
def test_ready_then_pings_only_while_every_thread_is_alive(ticks: list[dict[str, bool]], sent: list[str]) -> None:
    runtime, notifier = FakeRuntime({}), RecordingNotifier()
    watchdog = ServerWatchdog(runtime, notifier, "serving")
    for health in ticks:
        runtime.threads = health
        watchdog.check()
    assert notifier.sent == sent


def test_pings_wait_for_the_interval() -> None:
    notifier = RecordingNotifier(watchdog_interval_s=3600)
    watchdog = ServerWatchdog(FakeRuntime(ALIVE), notifier, "serving")
    for _ in range(3):
        watchdog.check()
    assert notifier.sent == ["READY=1", "WATCHDOG=1"]  # the first ping at once, the next in 30 min


def test_no_watchdog_configured_still_says_ready() -> None:
    notifier = RecordingNotifier(watchdog_interval_s=None)
    watchdog = ServerWatchdog(FakeRuntime(ALIVE), notifier, "serving")
    watchdog.check()
    watchdog.check()
    assert notifier.sent == ["READY=1"]


class BrokenRuntime:
    started = True

    def health(self) -> dict[str, bool]:
        raise RuntimeError("boom")


@pytest.mark.parametrize(
    ("runtime", "health"),
    [
        (FakeRuntime(ONE_DEAD), ONE_DEAD),
        (FakeRuntime(ALIVE, started=False), {"runtime": False}),  # not started: not healthy yet
        (object(), {}),  # a runtime without health(): nothing to withhold the watchdog for
    ],
)
def test_runtime_health(runtime: Any, health: dict[str, bool]) -> None:
    assert runtime_health(runtime) == health


def test_a_failing_health_check_withholds_the_watchdog(caplog: pytest.LogCaptureFixture) -> None:
    notifier = RecordingNotifier()
    ServerWatchdog(BrokenRuntime(), notifier, "serving").check()
    assert notifier.sent == []
    assert "runtime health check failed" in caplog.text


def test_the_thread_is_named_and_stops_promptly() -> None:
    notifier = RecordingNotifier()
    watchdog = ServerWatchdog(FakeRuntime(ALIVE), notifier, "serving")
    watchdog.start()
    assert "server.watchdog" in {t.name for t in threading.enumerate()}
    watchdog.stop(timeout_s=5)
    assert "server.watchdog" not in {t.name for t in threading.enumerate()}
    assert notifier.sent[0] == "READY=1"


@pytest.mark.parametrize(
    ("env", "enabled", "interval_s"),
    [
        ({}, False, None),
        ({"NOTIFY_SOCKET": "@spa-notify", "WATCHDOG_USEC": "30000000"}, True, 15.0),  # half of WatchdogSec
        ({"NOTIFY_SOCKET": "/run/systemd/notify", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, True, None),
        ({"NOTIFY_SOCKET": "relative/path", "WATCHDOG_USEC": "30000000"}, False, 15.0),
        ({"NOTIFY_SOCKET": "@spa-notify", "WATCHDOG_USEC": "0"}, True, None),
    ],
)
def test_the_notifier_from_systemds_environment(env: dict[str, str], enabled: bool, interval_s: float | None) -> None:
    """WATCHDOG_PID naming another process (here pid 1) means the watchdog is not ours to ping."""
    notifier = Notifier.from_env(env)
    try:
        assert (notifier.enabled, notifier.watchdog_interval_s) == (enabled, interval_s)
    finally:
        notifier.close()


def test_start_ups_objects_are_frozen_out_of_full_collections_once_ready() -> None:
    """Not while starting; once, at READY: what start-up made is frozen (gc.freeze), so a full
    collection later scans only what the server made since (docs/PERFORMANCE.md: 86-104 ms
    pauses became 4-9 ms)."""
    import gc

    gc.unfreeze()
    try:
        made_at_start = [[n] for n in range(1000)]  # containers the collector tracks
        runtime, notifier = FakeRuntime(ALIVE, started=False), RecordingNotifier()
        watchdog = ServerWatchdog(runtime, notifier, "serving")
        watchdog.check()
        assert gc.get_freeze_count() == 0 and notifier.sent == []
        runtime.started = True
        watchdog.check()
        frozen = gc.get_freeze_count()
        assert notifier.sent[0] == "READY=1" and frozen >= len(made_at_start)
        watchdog.check()
        assert gc.get_freeze_count() == frozen  # once, not at every tick
    finally:
        gc.unfreeze()

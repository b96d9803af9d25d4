"""systemd integration through the real notify socket protocol: READY=1 once started, WATCHDOG=1
only while every thread beats (withheld while the printer's thread is wedged, back once it
recovers), STOPPING=1 and exit code 0 on SIGTERM."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from devices.virtual.printer import VirtualNetworkPrinter
from devices.virtual.printer_model import StatusMode
from tests.appliance.harness import Appliances, Spa
from tests.support import wait_until

pytestmark = pytest.mark.slow

WATCHDOG_USEC = 600_000  # the daemon pings every 0.3 s
STALL_AFTER_S = 1.0
WEDGE_S = 3.0  # the mute printer's status timeout: its thread blocks this long per request


class NotifySocket:
    """What systemd would receive: (monotonic time, message) for each datagram."""

    def __init__(self) -> None:
        self.name = f"@spa-test-{uuid.uuid4().hex[:12]}"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + self.name[1:])
        self.sock.settimeout(0.1)
        self.messages: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, name="test.notify", daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            self.messages.append((time.monotonic(), data.decode()))

    def times(self, line: str) -> list[float]:
        return [at for at, message in list(self.messages) if line in message.splitlines()]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def notify() -> Iterator[NotifySocket]:
    listener = NotifySocket()
    yield listener
    listener.close()


def test_ready_watchdog_only_while_healthy_and_stopping(
    spa: Spa, printer: VirtualNetworkPrinter, notify: NotifySocket, appliances: Appliances
) -> None:
    till = appliances.till(
        printer=printer,
        printer_options={"status_timeout_s": WEDGE_S, "probe_interval_s": 0.2},
        daemon={"stall_after_s": STALL_AFTER_S},
        env={"NOTIFY_SOCKET": notify.name, "WATCHDOG_USEC": str(WATCHDOG_USEC)},
    )
    wait_until(lambda: notify.times("READY=1"), 5, what="READY=1")
    wait_until(lambda: len(notify.times("WATCHDOG=1")) >= 3, 5, what="watchdog pings")

    printer.set_status_mode(StatusMode.SILENT)
    stalled = till.wait_log(lambda line: line["msg"].startswith("printer.worker stalled"), 10, "stall noticed")
    noticed = time.monotonic()
    wait_until(lambda: time.monotonic() > noticed + 1.0, 2, what="a second of wedge")
    assert [t for t in notify.times("WATCHDOG=1") if t > noticed] == []  # withheld while wedged
    assert stalled["thread"] == "supervisor"
    details = spa.live.healthz(details="1").json()["appliances"]
    assert next(a for a in details if a["name"] == "cashier-1")["devices"]["printer"]["state"] == "stalled"

    printer.set_status_mode(StatusMode.ANSWER)
    resumed = time.monotonic()
    wait_until(lambda: [t for t in notify.times("WATCHDOG=1") if t > resumed], 3 * WEDGE_S, what="pings again")
    assert till.find(lambda line: line["msg"] == "printer.worker recovered")
    assert not till.find(lambda line: "restarted" in line["msg"])  # a printer thread is never replaced

    assert till.terminate() == 0
    assert notify.times("STOPPING=1")
    assert notify.times("STOPPING=1")[0] > notify.times("READY=1")[0]

"""A scanner unplugged and plugged back is reopened by the running daemon: the server sees it go
missing and come back, the log says so once each way, and scans work again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devices.virtual.serial_scanner import VirtualSerialScanner
from tests.appliance.harness import Appliances, Spa, till_config
from tests.appliance.service_manager import ServiceManager
from tests.support import wait_until

pytestmark = pytest.mark.slow


def scanner_state(spa: Spa) -> Any:
    details = spa.live.healthz(details="1").json()["appliances"]
    return next(a for a in details if a["name"] == "cashier-1")["devices"].get("scanner", {}).get("state")


def test_a_replugged_scanner_is_reopened_without_a_restart(
    spa: Spa, scanner: VirtualSerialScanner, appliances: Appliances
) -> None:
    first, second = spa.waiting_customers(2)
    till = appliances.till(scanner=scanner, drawer=False)
    scanner.scan(first["code"])
    till.wait_log(lambda line: line["msg"] == "acked cashier_lookup", 10, "the first scan")
    wait_until(lambda: scanner_state(spa) == "ok", 10, what="scanner ok on the server")

    scanner.unplug()
    wait_until(lambda: scanner_state(spa) == "missing", 10, what="scanner missing on the server")
    scanner.replug()
    wait_until(lambda: scanner_state(spa) == "ok", 15, what="scanner back on the server")
    scanner.scan(second["code"])
    till.wait_log(lambda line: line["msg"] == "acked cashier_lookup", 10, "a scan after the replug", nth=2)

    assert [line["payload"]["code"] for line in till.acked()] == [first["code"], second["code"]]
    device_lines = till.find(lambda line: line.get("logger", "").startswith("devices.scanner"))
    assert [line["msg"].split(" (")[0] for line in device_lines] == ["scanner: missing", "scanner: back"]
    assert len(till.find(lambda line: line["msg"].startswith("started"))) == 1
    assert not till.find(lambda line: "restart" in line["msg"])
    assert till.terminate() == 0


def test_a_scan_right_after_a_replug_mid_scan_is_read_and_the_half_is_never_glued(
    spa: Spa, scanner: VirtualSerialScanner, appliances: Appliances
) -> None:
    """Unplugged in the middle of a scan, plugged back, and scanned at once: before, the daemon
    reopened the port after a backoff of up to 5 s, and pyserial's open threw away what the scanner
    had sent meanwhile. Now the port is looked for every 50 ms and opened without discarding."""
    first, second = spa.waiting_customers(2)
    till = appliances.till(scanner=scanner, drawer=False)
    scanner.scan(first["code"])
    till.wait_log(lambda line: line["msg"] == "acked cashier_lookup", 10, "the first scan")
    for _ in range(3):  # out long enough for the old backoff to grow
        scanner.write(second["code"][:2].encode())  # half a scan…
        scanner.unplug()  # …and the cable is pulled
        wait_until(lambda: scanner_state(spa) == "missing", 10, what="scanner missing on the server")
        scanner.replug()
    scanner.scan(second["code"])  # at once: the daemon has not reopened the port yet
    till.wait_log(lambda line: line["msg"] == "acked cashier_lookup", 15, "the scan after the replug", nth=2)
    assert [line["payload"]["code"] for line in till.acked()] == [first["code"], second["code"]]
    assert not till.find(lambda line: "neither a ticket code" in line["msg"])  # no half, no glued scan
    assert till.terminate() == 0


def test_a_scan_while_the_daemon_restarts_is_not_lost(spa: Spa, appliances: Appliances, tmp_path: Path) -> None:
    """The port is kept open in systemd's file descriptor store while the daemon is down (a crash,
    the watchdog, an update), so what is scanned meanwhile waits in the kernel for the next start.
    The scanner here drops what is sent while nobody has its port open, as a real port does."""
    first, second = spa.waiting_customers(2)
    manager = ServiceManager(tmp_path)
    try:
        with VirtualSerialScanner(link=tmp_path / "uart", drop_while_closed=True) as scanner:
            till = appliances("till", till_config(spa, tmp_path / "till", scanner=scanner, drawer=False))
            till.start(manager=manager)
            till.wait_connected()
            scanner.scan(first["code"])
            till.wait_log(lambda line: line["msg"] == "acked cashier_lookup", 10, "the first scan")
            wait_until(lambda: manager.stored("scanner"), 10, what="the scanner's port in the store")

            till.kill()  # a crash: nothing said, nothing closed in order
            scanner.scan(second["code"])  # nobody reads the port now…
            assert scanner.dropped == []  # …but it is open (systemd holds it): the kernel keeps the scan
            till.start(manager=manager)
            till.wait_log(lambda line: line["msg"] == "acked cashier_lookup", 15, "the scan made meanwhile", nth=2)
            assert till.find(lambda line: line["msg"].startswith("scanner: taken over from before the restart"))
            assert [line["payload"]["code"] for line in till.acked()] == [first["code"], second["code"]]
            assert till.terminate() == 0
    finally:
        manager.close()

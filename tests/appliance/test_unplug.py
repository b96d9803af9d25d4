"""A scanner unplugged and plugged back is reopened by the running daemon: the server sees it go
missing and come back, the log says so once each way, and scans work again."""

from __future__ import annotations

from typing import Any

import pytest

from devices.virtual.serial_scanner import VirtualSerialScanner
from tests.appliance.harness import Appliances, Spa
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

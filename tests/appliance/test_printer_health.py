"""The receipt printer's health through the whole daemon: a printer that serves one connection at a
time stays free for ``appliance check`` while the daemon runs; trouble reaches the till's page
without a job to print, and is logged once per change, with nothing from python-escpos."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from appliance.logs import quiet_escpos
from devices.virtual.printer import VirtualNetworkPrinter
from devices.virtual.printer_model import StatusMode
from tests.appliance.harness import Appliances, Spa
from tests.support import ROOT, wait_until

pytestmark = pytest.mark.slow


def test_the_printer_is_shared_and_its_trouble_said_once(spa: Spa, appliances: Appliances) -> None:
    with VirtualNetworkPrinter(single_client=True) as printer:
        till = appliances.till(printer=printer, printer_options={"status_timeout_s": 0.2})
        screen = spa.client("cashier-1")
        screen.wait_for("appliance_status", lambda s: s["devices"].get("printer", {}).get("state") == "ok")

        # The daemon probes every second, and gives the connection back each time.
        check = subprocess.run(
            [sys.executable, "-m", "appliance", "check", "--config", str(till.config_path)],
            cwd=ROOT,
            env=till.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "device printer (printer_network): ok" in check.stdout, check.stdout + check.stderr

        printer.set_status_mode(StatusMode.SILENT)  # no job waiting: the idle probe finds it
        screen.wait_for("appliance_status", lambda s: s["devices"].get("printer", {}).get("state") == "offline")
        probes = len(printer.status_requests)
        assert printer.wait_for(lambda p: len(p.status_requests) >= probes + 4, 20)  # it keeps asking
        offline_at = len(screen.received("appliance_status"))
        printer.set_status_mode(StatusMode.ANSWER)
        wait_until(
            lambda: any(
                s["devices"].get("printer", {}).get("state") == "ok"
                for s in screen.received("appliance_status")[offline_at:]
            ),
            10,
            what="the printer back on the till's page",
        )
        assert till.terminate() == 0

    printer_lines = till.find(lambda line: line.get("logger") == "devices.printer.driver")
    warnings = [line["msg"] for line in printer_lines if line["level"] == "warning"]
    assert len(warnings) == 1 and "no answer to a status request within 0.2 s" in warnings[0], warnings
    assert [line["msg"] for line in printer_lines if line["msg"].startswith("printer: back")] == ["printer: back (ok)"]
    assert not till.find(lambda line: "Closing" in line["msg"] or "printer enabled" in line["msg"])


def test_python_escpos_chatter_stays_out_of_the_journal() -> None:
    def record(path: str, level: int, name: str = "root") -> logging.LogRecord:
        return logging.LogRecord(name, level, path, 130, "Closing Network connection to printer %s", ("x",), None)

    library = "/opt/spa/venv/lib/python3.11/site-packages/escpos/printer/network.py"
    assert not quiet_escpos(record(library, logging.INFO))
    assert quiet_escpos(record(library, logging.WARNING))  # its warnings and errors still reach the journal
    assert quiet_escpos(record("/opt/spa/venv/lib/python3.11/site-packages/appliance/daemon.py", logging.INFO))

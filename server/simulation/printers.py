"""`--printers`: each till is the real appliance daemon (`python -m appliance`) with a virtual
ESC/POS printer on a loopback port, as `make run` sets up its till. Receipts are read back from
the printed paper: the receipt numbers on it, each to be there once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import ExitStack
from functools import partial
from pathlib import Path

from devices.virtual.printer import VirtualNetworkPrinter

from .driver import Till
from .link import SimulationError

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 20.0


class TillPrinters:
    def __init__(self, stack: ExitStack, workdir: Path, url: str, tills: list[Till]) -> None:
        self.printers: dict[int, VirtualNetworkPrinter] = {}
        for till in tills:
            printer = VirtualNetworkPrinter()
            printer.start()
            stack.callback(printer.stop)
            self.printers[till.device_id] = printer
            proc, log = _start_appliance(workdir, url, till, printer)
            stack.callback(_stop, proc)
            _wait_started(proc, log)

    def printed(self) -> dict[int, list[str]]:
        """Per till, the receipt numbers on its paper, in print order."""
        return {device: receipt_numbers(p) for device, p in self.printers.items()}

    def wait_for(self, expected: dict[int, int], timeout_s: float = 30.0) -> None:
        """Until each till printed as many receipts as it took payments (or the time is up: the
        check then reports what is missing)."""
        deadline = time.monotonic() + timeout_s
        for device, count in expected.items():
            printer = self.printers[device]
            printer.wait_for(partial(_printed_at_least, printer, count), max(0.0, deadline - time.monotonic()))


def _printed_at_least(printer: VirtualNetworkPrinter, count: int, _state: object) -> bool:
    return len(receipt_numbers(printer)) >= count


def receipt_numbers(printer: VirtualNetworkPrinter) -> list[str]:
    numbers = []
    for paper in printer.papers:
        for line in paper.lines:
            if line.startswith("Receipt no."):
                numbers.append(line.split()[-1])
    return numbers


def _start_appliance(
    workdir: Path, url: str, till: Till, printer: VirtualNetworkPrinter
) -> tuple[subprocess.Popen[bytes], Path]:
    state = workdir / f"appliance-{till.name}"
    state.mkdir(exist_ok=True)
    config = workdir / f"appliance-{till.name}.toml"
    config.write_text(
        f"""role = "cashier"
server_url = {json.dumps(url)}
token = {json.dumps(till.token)}
state_dir = {json.dumps(str(state))}
heartbeat_s = 15

[cashier]
printer = "printer"
drawer = true

[daemon]
time_sync_flag = ""

[devices.printer]
kind = "printer_network"
host = "{printer.host}"
port = {printer.port}
"""
    )
    config.chmod(0o600)
    log = workdir / f"appliance-{till.name}.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "appliance", "--config", str(config)],
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "SPA_ALLOW_VIRTUAL_DEVICES": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return proc, log


def _wait_started(proc: subprocess.Popen[bytes], log: Path) -> None:
    """The daemon logs `connected` (JSON lines) once its link to the server is up."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SimulationError(f"the till's appliance exited with {proc.returncode}: {log.read_text()[-2000:]}")
        for raw in log.read_text(errors="replace").splitlines():
            try:
                msg = str(json.loads(raw).get("msg", ""))
            except (ValueError, AttributeError):
                continue
            if msg.startswith("connected"):
                return
        time.sleep(0.1)  # polling a starting process's log: there is nothing to wait on
    raise SimulationError(f"the till's appliance did not connect within {START_TIMEOUT_S:.0f} s: {log}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(25)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

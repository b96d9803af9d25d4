"""The appliance's SD card and devices (issue 13): fsyncs per scan and per receipt, how soon an idle
printer's trouble reaches the till's page, how soon a replugged scanner is read again.

    python -m bench.appliance_devices [--scans 200] [--receipts 20] [--changes 8] [--replugs 5]
                                      [--before DIR]

Everything real on loopback, as in ``bench.appliance``: the server, the daemon as a process, the
virtual serial scanner (a pty) and the virtual ESC/POS network printer.

1. SD card: the daemon runs under ``strace --seccomp-bpf -f -e trace=fsync,fdatasync`` (only those
   calls are stopped and counted; SQLite syncs with fdatasync), once with its writes grouped (the
   default) and once with every write its own fsynced commit (``[daemon] group_commits = false``,
   how every write was committed before), in the same run. Scans every 25 ms; receipts are cash
   payments (drawer and receipt, each recorded before it is sent).
2. A printer's state changing while nothing prints (paper out, then in again): from the change in
   the virtual printer to the till's page receiving the appliance_status that shows it, with the
   idle probe every 1 s (now) and every 10 s (before), in the same run; heartbeats as provisioned
   (15 s: a change is sent within a second of the last one). The changes fall at random points
   of the probe cycle (0.2–10.2 s apart).
3. A replugged scanner: from the replug to the daemon having the port open again (the virtual
   scanner keeps no descriptor of its own, so the port's master sees when the daemon opens it).

``--before DIR``: also run each part with the daemon from an export of the code before this change
(``git archive <rev> | tar -x -C DIR``); the reopen has no switch, so only this shows its before.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from devices.virtual.printer import VirtualNetworkPrinter
from devices.virtual.printer_model import PaperState
from devices.virtual.serial_scanner import VirtualSerialScanner
from tests.appliance.harness import ApplianceProcess, Appliances, Spa, till_config
from tests.support import Client, wait_until

SCAN_EVERY_S = 0.025
STRACE = ["strace", "--seccomp-bpf", "-f", "-ttt", "-e", "trace=fsync,fdatasync"]


# --- 1. fsyncs -------------------------------------------------------------------------------------


def syncs_between(trace: Path, start: float, end: float) -> int:
    count = 0
    for line in trace.read_text(errors="replace").splitlines():
        match = re.match(r"\d+\s+(\d+\.\d+) (fsync|fdatasync)\(", line)
        if match and start <= float(match.group(1)) <= end:
            count += 1
    return count


def stop_traced(till: ApplianceProcess) -> None:
    """SIGTERM to the daemon itself (strace would only detach), then strace ends with it."""
    assert till.proc is not None
    children = Path(f"/proc/{till.proc.pid}/task/{till.proc.pid}/children").read_text().split()
    for pid in children:
        os.kill(int(pid), signal.SIGTERM)
    till.proc.wait(30)


def fsyncs(
    spa: Spa,
    appliances: Appliances,
    work: Path,
    name: str,
    grouped: bool,
    scans: int,
    to_pay: list[dict[str, Any]],
    scan_code: str,
    before: Path | None = None,
) -> dict[str, float]:
    code = scan_code
    receipts = len(to_pay)
    trace = work / f"{name}.strace"
    with VirtualNetworkPrinter() as printer, VirtualSerialScanner(link=work / f"{name}-scanner") as scanner:
        tables: dict[str, Any] = {} if before is not None else {"daemon": {"group_commits": grouped}}
        config = till_config(spa, work / name, scanner=scanner, printer=printer, heartbeat_s=15, **tables)
        till = appliances(name, config)
        run_code(till, before)
        till.launcher = [*STRACE, "-o", str(trace)]
        till.start()
        till.wait_connected()
        screen = spa.client("cashier-1")
        try:
            scanner.scan(code)  # warm up: the first commit creates the WAL
            till.wait_log(lambda line: line.get("msg") == "acked cashier_lookup", 10, "warm-up")
            time.sleep(0.5)
            start = time.time()
            for _ in range(scans):
                scanner.scan(code)
                time.sleep(SCAN_EVERY_S)
            wait_until(lambda: len(till.acked("cashier_lookup")) == scans + 1, 60, what="every scan acknowledged")
            time.sleep(0.5)
            middle = time.time()
            for order in to_pay:
                job = screen.call("cashier_pay", {"transaction_id": order["transaction_id"], "amount_paid": "50.00"})
                assert job.get("ok"), job
                screen.wait_for("receipt_status", lambda s, j=job: s["job_id"] == j["print_job"]["job_id"] and s["ok"])
            wait_until(
                lambda: len(till.find(lambda line: line.get("msg", "").startswith("reported job"))) == receipts,
                30,
                what="every receipt reported",
            )
            time.sleep(0.5)
            end = time.time()
        finally:
            screen.close()
            stop_traced(till)
        assert len(printer.receipts) == receipts
    return {
        "per_scan": syncs_between(trace, start, middle) / scans,
        "per_receipt": syncs_between(trace, middle, end) / receipts,
    }


# --- 2. printer health while idle --------------------------------------------------------------------


def health_latency(
    spa: Spa, appliances: Appliances, work: Path, name: str, probe_s: float | None, changes: int, code: Path | None
) -> list[float]:
    options = {"probe_interval_s": probe_s} if probe_s is not None else {}
    seen: list[float] = []
    phases = random.Random(13)  # the same phases for every setting
    with VirtualNetworkPrinter() as printer:
        config = till_config(spa, work / name, printer=printer, printer_options=options, heartbeat_s=15)
        till = appliances(name, config)  # heartbeats as provisioned: a change is sent within 1 s
        run_code(till, code)
        till.start()
        till.wait_connected()
        screen = spa.client("cashier-1")
        try:
            states = iter([PaperState.OUT, PaperState.OK] * changes)
            for _ in range(changes):
                want = next(states)
                shown = "paper_out" if want is PaperState.OUT else "ok"
                before = len(screen.received("appliance_status"))
                time.sleep(phases.uniform(0.2, 10.2))  # anywhere in a probe cycle, whichever the interval
                changed = time.time()
                printer.set_paper(want)
                heard = wait_for_status(screen, before, shown)
                seen.append(heard - changed)
        finally:
            screen.close()
            till.terminate()
    return seen


def wait_for_status(screen: Client, start: int, state: str) -> float:
    def found() -> float | None:
        for status in screen.received("appliance_status")[start:]:
            if status["devices"].get("printer", {}).get("state") == state:
                return time.time()
        return None

    return float(wait_until(found, 30, 0.005, what=f"printer {state} on the page"))


# --- 3. a replugged scanner ------------------------------------------------------------------------------


def reopen_latency(
    spa: Spa, appliances: Appliances, work: Path, name: str, replugs: int, code: Path | None
) -> list[float]:
    seen: list[float] = []
    with VirtualSerialScanner(link=work / f"{name}-port", drop_while_closed=True) as scanner:
        till = appliances(name, till_config(spa, work / name, scanner=scanner, drawer=False))
        run_code(till, code)
        till.start()
        till.wait_connected()
        try:
            wait_until(scanner.port_open, 10, 0.005, what="the port open")
            for i in range(replugs):
                scanner.unplug()
                time.sleep(2.0 + i * 0.7)  # out for a while: the old backoff had grown by then
                scanner.replug()
                replugged = time.time()
                wait_until(scanner.port_open, 30, 0.002, what="the port open again")
                seen.append(time.time() - replugged)
        finally:
            till.terminate()
    return seen


# --- the run -------------------------------------------------------------------------------------------


def run_code(till: ApplianceProcess, code: Path | None) -> None:
    """Run the daemon from ``code`` (an export of an older version) instead of this tree."""
    if code is not None:
        till.cwd = code
        till.env["PYTHONPATH"] = str(code)


def figures(values: list[float], scale: float = 1000.0, unit: str = "ms") -> str:
    return (
        f"p50 {statistics.median(values) * scale:7.0f} {unit}   max {max(values) * scale:7.0f} {unit}"
        f"   (n={len(values)})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.appliance_devices", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scans", type=int, default=200)
    parser.add_argument("--receipts", type=int, default=20)
    parser.add_argument("--changes", type=int, default=8, help="printer state changes per probe setting")
    parser.add_argument("--replugs", type=int, default=5)
    parser.add_argument("--before", type=Path, help="an export of the code before this change")
    args = parser.parse_args(argv)
    if subprocess.run(["strace", "-V"], capture_output=True, check=False).returncode != 0:
        print("strace is needed (apt-get install strace; the Makefile's APT_PACKAGES has it)", file=sys.stderr)
        return 1
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, loopback")
    before = args.before.resolve() if args.before else None
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-appliance-devices-") as tmp:
        work = Path(tmp)
        spa = Spa(work).start()
        appliances = Appliances(spa, work)
        try:
            # Customers first: a therapist serves the queue in order, and the scanned one must not be next.
            runs = [("grouped", True, None), ("every-write-synced", False, None)]
            if before is not None:
                runs.append(("fsync-before", False, before))
            to_pay = spa.awaiting_payment(len(runs) * args.receipts)
            codes = [c["code"] for c in spa.waiting_customers(len(runs))]  # scanned again and again: look-ups
            for i, (name, grouped, code) in enumerate(runs):
                mine = to_pay[i * args.receipts : (i + 1) * args.receipts]
                results[name] = fsyncs(spa, appliances, work, name, grouped, args.scans, mine, codes[i], code)
            for name, probe in (("probe-1s", None), ("probe-10s", 10.0)):
                results[name] = health_latency(spa, appliances, work, name, probe, args.changes, None)
            results["reopen"] = reopen_latency(spa, appliances, work, "reopen", args.replugs, None)
            if before is not None:
                results["probe-before"] = health_latency(
                    spa, appliances, work, "before-probe", None, args.changes, before
                )
                results["reopen-before"] = reopen_latency(spa, appliances, work, "before-reopen", args.replugs, before)
        finally:
            appliances.close()
            spa.close()

    grouped, synced = results["grouped"], results["every-write-synced"]
    every = f"{args.scans} scans every {SCAN_EVERY_S * 1000:.0f} ms, {args.receipts} cash receipts"
    print(f"\nfsync/fdatasync calls of the daemon ({every})")
    print(f"{'':<38} {'per scan':>9} {'per receipt':>12}")
    if "fsync-before" in results:
        old = results["fsync-before"]
        print(f"{'the code before (--before)':<38} {old['per_scan']:9.2f} {old['per_receipt']:12.2f}")
    print(f"{'every write its own synced commit':<38} {synced['per_scan']:9.2f} {synced['per_receipt']:12.2f}")
    print(
        f"{'grouped, lazy where harmless (now)':<38} {grouped['per_scan']:9.2f} {grouped['per_receipt']:12.2f}"
        f"   (×{grouped['per_scan'] / synced['per_scan']:.2f}, ×{grouped['per_receipt'] / synced['per_receipt']:.2f})"
    )
    print("\nan idle printer's state change → the till's page (appliance_status)")
    print(f"{'probe every 10 s (before)':<38} {figures(results['probe-10s'])}")
    print(f"{'probe every 1 s (now)':<38} {figures(results['probe-1s'])}")
    if "probe-before" in results:
        print(f"{'the code before (--before)':<38} {figures(results['probe-before'])}")
    print("\na replugged scanner → its port open again")
    print(f"{'now':<38} {figures(results['reopen'])}")
    if "reopen-before" in results:
        print(f"{'the code before (--before)':<38} {figures(results['reopen-before'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

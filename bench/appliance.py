"""The appliance daemon: device-event-to-server-acknowledgement latency with and without a stalled
printer, and how fast the outbox replays after an outage.

    python -m bench.appliance [--scans 300] [--replay 1000]

Everything runs for real on loopback: the server (`python -m server run`, SQLite), the daemon
(`python -m appliance`) with the virtual serial scanner (a pty) and the virtual ESC/POS printer as
its devices. Latency is from the moment a scan is written into the scanner's pty to the moment the
daemon has the server's acknowledgement (both processes read the same clock); the daemon logs each
acknowledgement with its time. Figures are printed with ratios against the baseline measured in the
same run, never asserted; the p99 with the printer stalled is also printed against issue 4's bound
(P99_BOUND_MS), which the test suite checks only as behaviour (tests/appliance/test_isolation.py:
every scan acknowledged, in order, while the printer thread still hangs).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from devices.virtual.printer import VirtualNetworkPrinter
from devices.virtual.printer_model import StatusMode
from devices.virtual.serial_scanner import VirtualSerialScanner
from tests.appliance.harness import ApplianceProcess, Appliances, Spa, percentile
from tests.support import wait_until

SCAN_EVERY_S = 0.025  # a scan every 25 ms: busier than any till, slow enough not to measure queueing
STALL_S = 10.0  # the printer's status timeout while it does not answer
P99_BOUND_MS = 50.0  # issue 4: during a 10 s printer stall, scans reach the server with p99 under 50 ms


def latencies(till: ApplianceProcess, written: list[float], start: int) -> dict[str, list[float]]:
    acked = till.acked("cashier_lookup")[start:]
    queued = {
        line["key"]: datetime.fromisoformat(line["ts"].replace("Z", "+00:00")).timestamp()
        for line in till.find(lambda line: line.get("msg") == "queued cashier_lookup")
    }
    return {
        "total_ms": [(line["acked_at"] - at) * 1000 for line, at in zip(acked, written, strict=True)],
        "to_server_ms": [(line["acked_at"] - queued[line["key"]]) * 1000 for line in acked],
    }


def scan_burst(till: ApplianceProcess, scanner: VirtualSerialScanner, code: str, count: int) -> dict[str, list[float]]:
    start = len(till.acked("cashier_lookup"))
    written = []
    for _ in range(count):
        written.append(time.time())
        scanner.scan(code)
        time.sleep(SCAN_EVERY_S)
    wait_until(lambda: len(till.acked("cashier_lookup")) == start + count, 60, what="every scan acknowledged")
    return latencies(till, written, start)


def replay(spa: Spa, till: ApplianceProcess, scanner: VirtualSerialScanner, code: str, count: int) -> float:
    """Commands per second sent from the outbox once the server is back."""
    spa.close_clients()
    spa.crash()
    till.wait_log(lambda line: line.get("msg", "").startswith("disconnected"), 10, "disconnected", nth=1)
    for _ in range(count):
        scanner.scan(code)
    wait_until(lambda: till.outbox_size() == count, 60, what="the outbox filled")
    before = len(till.acked("cashier_lookup"))
    spa.start()
    wait_until(lambda: till.outbox_size() == 0, 300, what="the outbox replayed")
    acked = till.acked("cashier_lookup")[before:]
    return (len(acked) - 1) / (acked[-1]["acked_at"] - acked[0]["acked_at"])


def online_rate(till: ApplianceProcess, scanner: VirtualSerialScanner, code: str, count: int) -> float:
    """Commands per second when a burst of scans arrives while connected (the baseline for replay)."""
    before = len(till.acked("cashier_lookup"))
    for _ in range(count):
        scanner.scan(code)
    wait_until(lambda: len(till.acked("cashier_lookup")) == before + count, 300, what="the burst acknowledged")
    acked = till.acked("cashier_lookup")[before:]
    return (len(acked) - 1) / (acked[-1]["acked_at"] - acked[0]["acked_at"])


def summary(name: str, values: list[float], baseline: list[float] | None) -> str:
    p50, p99 = statistics.median(values), percentile(values, 99)
    text = f"{name:<34} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   max {max(values):7.1f} ms"
    if baseline is not None:
        text += f"   (p50 ×{p50 / statistics.median(baseline):.2f}, p99 ×{p99 / percentile(baseline, 99):.2f})"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.appliance", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scans", type=int, default=300, help="scans per latency measurement")
    parser.add_argument("--replay", type=int, default=1000, help="commands queued during the outage")
    args = parser.parse_args(argv)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, loopback")
    with tempfile.TemporaryDirectory(prefix="bench-appliance-") as tmp:
        work = Path(tmp)
        spa = Spa(work).start()
        printer = VirtualNetworkPrinter().start()
        scanner = VirtualSerialScanner(link=work / "scanner").start()
        appliances = Appliances(spa, work)  # the tests' till, as tests/appliance sets it up
        try:
            code = spa.waiting_customers(1)[0]["code"]
            till = appliances.till(
                scanner=scanner,
                printer=printer,
                printer_options={"status_timeout_s": STALL_S, "probe_interval_s": 0.1},
                heartbeat_s=15,
            )
            results: dict[str, Any] = {}
            scan_burst(till, scanner, code, 20)  # warm-up: connections, caches
            results["baseline"] = scan_burst(till, scanner, code, args.scans)
            printer.set_status_mode(StatusMode.SILENT)
            asked = len(printer.status_requests)
            assert printer.wait_for(lambda p: len(p.status_requests) > asked, 5)
            stalled_at = time.time()
            results["stalled"] = scan_burst(till, scanner, code, args.scans)
            window_s = till.acked("cashier_lookup")[-1]["acked_at"] - stalled_at
            printer.set_status_mode(StatusMode.ANSWER)
            results["online_rate"] = online_rate(till, scanner, code, args.replay)
            results["replay_rate"] = replay(spa, till, scanner, code, args.replay)
            assert till.terminate() == 0
        finally:
            appliances.close()
            scanner.stop()
            printer.stop()
            spa.close()

    base = results["baseline"]
    print(f"\nscan → server acknowledgement, {args.scans} scans every {SCAN_EVERY_S * 1000:.0f} ms each")
    print(summary("printer answering (baseline)", base["total_ms"], None))
    print(summary("printer not answering (stalled)", results["stalled"]["total_ms"], base["total_ms"]))
    print(summary("  of which outbox → ack, baseline", base["to_server_ms"], None))
    print(summary("  of which outbox → ack, stalled", results["stalled"]["to_server_ms"], base["to_server_ms"]))
    inside = "inside" if window_s < STALL_S else "NOT inside"
    print(
        f"  (stalled run: all {args.scans} scans within {window_s:.1f} s of the printer going mute, {inside} "
        f"its {STALL_S:g} s status timeout)"
    )
    p99_base, p99_stalled = percentile(base["total_ms"], 99), percentile(results["stalled"]["total_ms"], 99)
    within = "within" if p99_stalled < P99_BOUND_MS else "OVER"
    print(
        f"p99 scan → acknowledgement: {p99_base:.1f} ms printer answering, {p99_stalled:.1f} ms printer stalled "
        f"(×{p99_stalled / p99_base:.2f}); stalled {within} the {P99_BOUND_MS:g} ms bound"
    )
    print(f"\noutbox throughput, {args.replay} commands")
    print(f"{'burst while online (baseline)':<34} {results['online_rate']:7.0f} commands/s")
    print(
        f"{'replay after an outage':<34} {results['replay_rate']:7.0f} commands/s"
        f"   (×{results['replay_rate'] / results['online_rate']:.2f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

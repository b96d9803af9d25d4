"""`python -m devices.virtual printer|scanner`: what `make run` starts for the demo."""

from __future__ import annotations

import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.base import ReceiptJob
from devices.registry import build_device
from tests.devices.helpers import make_receipt, read_until

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def run_cli() -> Iterator:
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "devices.virtual", *args],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def first_line(proc: subprocess.Popen[str], timeout_s: float = 20.0) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout_s)
    assert ready, "the virtual device printed nothing"
    return proc.stdout.readline().strip()


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0, stderr
    return stderr


def test_virtual_printer_cli_logs_the_receipt(run_cli) -> None:
    proc = run_cli("printer", "--port", "0")
    host, port = first_line(proc).rsplit(":", 1)
    printer = build_device("printer", {"kind": "printer_network", "host": host, "port": int(port)})
    printer.open()
    try:
        printer.submit(ReceiptJob("demo-1", make_receipt()))
        results = []
        for _ in range(50):
            results += printer.work(0.1)
            if results:
                break
        assert [r.ok for r in results] == [True]
    finally:
        printer.close()
    log = stop(proc)
    assert "virtual-printer printed:" in log
    assert "TOTAL                             105.00 €" in log
    assert "[qr T-0042]" in log and "--- cut ---" in log


def test_virtual_scanner_cli_scans_stdin_lines(run_cli, tmp_path: Path) -> None:
    link = tmp_path / "spa-scanner"
    proc = run_cli("scanner", "--link", str(link))
    port = first_line(proc)
    assert port == str(link) and link.is_symlink()
    scanner = build_device("scanner", {"kind": "scanner_serial", "port": port})
    scanner.open()
    try:
        assert proc.stdin is not None
        proc.stdin.write("T-0042\n")
        proc.stdin.flush()
        assert [s.text for s in read_until(scanner, 1, timeout_s=10)] == ["T-0042"]
    finally:
        scanner.close()
    stop(proc)
    assert not link.exists()

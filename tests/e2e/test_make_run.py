"""`make run`'s demo (scripts/run-demo.sh): server, demo data and a simulated till whose virtual
printer prints the receipt of a payment, and whose virtual scanner looks a code up."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest
import requests

from tests.support import ROOT, Client, free_port, wait_until

pytestmark = pytest.mark.slow  # the demo's server and its till's daemon as processes


def demo_env(tmp_path: Path, port: int, **more: str) -> dict[str, str]:
    return {
        **os.environ,
        "PY": str(ROOT / ".venv/bin/python"),
        "PORT": str(port),
        "VAR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'spa.db'}",
        **more,
    }


def start_demo(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(
            ["bash", "scripts/run-demo.sh"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_up(url: str) -> None:
    def up() -> bool:
        try:
            return requests.get(f"{url}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    wait_until(up, 40, 0.2, "the demo server")


def stop_demo(demo: subprocess.Popen[bytes]) -> None:
    if demo.poll() is None:
        os.killpg(demo.pid, signal.SIGTERM)
    demo.wait(30)


def processes_of(tmp_path: Path) -> list[str]:
    """The command lines still running that belong to this test's demo (its VAR directory)."""
    out = subprocess.run(["ps", "-ww", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if str(tmp_path) in line and "ps -eo" not in line]


def test_the_demo_prints_a_receipt_for_a_payment(tmp_path: Path) -> None:
    port, printer_port = free_port(), free_port()
    env = demo_env(tmp_path, port, PRINTER_PORT=str(printer_port))
    log = tmp_path / "run.log"
    demo = start_demo(env, log)
    url = f"http://127.0.0.1:{port}"
    clients: list[Client] = []
    try:
        wait_up(url)
        text = log.read_text()
        assert f"{url}/kiosk#token=dv_" in text and "Anna 1111" in text and f"{url}/office" in text
        # The migrations' log lines go to a file, not to the console.
        assert "alembic" not in text.lower() and "alembic" in (tmp_path / "var/setup.log").read_text().lower()
        tokens = {r["name"]: r["token"] for r in json.loads((tmp_path / "var/demo-tokens.json").read_text())}
        # The till's appliance connects with the cashier-1 token, like its page would.
        wait_until(lambda: "connected device:2 (cashier cashier-1)" in log.read_text(), 30, 0.2, "the till")
        kiosk, anna, page = (Client(url, tokens[n]).connect() for n in ("kiosk-1", "Anna", "cashier-1"))
        clients += [kiosk, anna, page]
        order = kiosk.call("customer_confirm_selection", {"customer_name": "Newcomer", "items": [{"service_id": 1}]})
        tid = anna.call("therapist_confirm_next")["transaction"]["id"]
        anna.call("therapist_start_service", {"transaction_id": tid})
        anna.call("therapist_finish_service", {"transaction_id": tid})
        # A scan at the virtual scanner claims it for the till; the till's page shows it.
        with open(tmp_path / "var/scanner-input", "w") as fifo:
            fifo.write(order["code"] + "\n")
        shown = page.wait_for("cashier_lookup_result", timeout_s=20)
        assert shown["transaction"]["code"] == order["code"] and shown["transaction"]["status"] == "paying"
        paid = page.call("cashier_pay", {"transaction_id": tid, "amount_paid": "50.00"})
        assert paid["change"] == "5.00"
        wait_until(
            lambda: order["code"] in log.read_text().partition(" printed:\n")[2],
            30,
            0.2,
            "the receipt",
        )
        receipt = log.read_text().partition(" printed:\n")[2]
        assert (
            "Serenity Spa\n[printer] 1 Example Street\n[printer] Springfield" in receipt
            and "Swedish massage" in receipt
            and "5.00" in receipt
        )
        assert page.wait_for("receipt_status", timeout_s=20)["ok"] is True
    finally:
        for c in clients:
            c.close()
        stop_demo(demo)


def test_a_second_run_keeps_the_tokens_screens_hold(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = demo_env(tmp_path, port)
    first = start_demo(env, tmp_path / "first.log")
    try:
        wait_up(url)
    finally:
        stop_demo(first)
    tokens = {r["name"]: r["token"] for r in json.loads((tmp_path / "var/demo-tokens.json").read_text())}
    second = start_demo(env, tmp_path / "second.log")
    try:
        wait_up(url)
        again = {r["name"]: r["token"] for r in json.loads((tmp_path / "var/demo-tokens.json").read_text())}
        assert again == tokens
        kiosk = Client(url, tokens["kiosk-1"]).connect()  # a screen opened during the first run
        try:
            assert kiosk.call("customer_confirm_selection", {"customer_name": "Kept", "items": [{"service_id": 1}]})[
                "ok"
            ]
        finally:
            kiosk.close()
    finally:
        stop_demo(second)


def test_a_taken_port_is_named_and_nothing_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            ["bash", "scripts/run-demo.sh"],
            cwd=ROOT,
            env=demo_env(tmp_path, port),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode != 0
    assert f"port {port} on 127.0.0.1 is taken" in result.stderr and "make run PORT=" in result.stderr
    assert "Traceback" not in result.stderr and processes_of(tmp_path) == []


def test_when_the_server_dies_everything_stops_and_make_run_fails(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "run.log"
    demo = start_demo(demo_env(tmp_path, port), log)
    try:
        wait_up(url)
        wait_until(lambda: "connected device:2 (cashier cashier-1)" in log.read_text(), 30, 0.2, "the till")
        # The till's daemon and the virtual scanner name the demo's directory on their command lines.
        assert len(processes_of(tmp_path)) >= 2, processes_of(tmp_path)
        out = subprocess.run(
            ["pgrep", "-f", "--", f"-m server run --host 127.0.0.1 --port {port}"], capture_output=True, text=True
        )
        pids = [int(p) for p in out.stdout.split()]
        assert len(pids) == 1, out
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        assert demo.wait(30) != 0
        assert "server ended" in log.read_text()
        wait_until(lambda: processes_of(tmp_path) == [], 10, 0.2, "the till, printer and scanner to stop")
    finally:
        stop_demo(demo)

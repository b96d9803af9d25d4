"""`make run`'s demo (scripts/run-demo.sh): server, demo data and a simulated till whose virtual
printer prints the receipt of a payment, and whose virtual scanner looks a code up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
import requests

from tests.support import ROOT, Client, free_port, wait_until

pytestmark = pytest.mark.slow  # the demo's server and its till's daemon as processes


def test_the_demo_prints_a_receipt_for_a_payment(tmp_path: Path) -> None:
    port, printer_port = free_port(), free_port()
    env = {
        **os.environ,
        "PY": str(ROOT / ".venv/bin/python"),
        "PORT": str(port),
        "PRINTER_PORT": str(printer_port),
        "VAR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'spa.db'}",
    }
    log = tmp_path / "run.log"
    with open(log, "wb") as out:
        demo = subprocess.Popen(
            ["bash", "scripts/run-demo.sh"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    clients: list[Client] = []
    try:

        def up() -> bool:
            try:
                return requests.get(f"{url}/healthz", timeout=1).status_code == 200
            except requests.RequestException:
                return False

        wait_until(up, 30, 0.2, "the demo server")
        text = log.read_text()
        assert f"{url}/kiosk#token=dv_" in text and "PIN 1111" in text
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
        os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(30)

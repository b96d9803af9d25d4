"""The kiosk's printed ticket (issue 11) through the whole daemon and the real server: a kiosk box
with a printer says so in its heartbeat; an order confirmed on its page prints one ticket with the
code and a QR code of the phone page, through the till's once-only pipeline (journal, report with
receipt_status by job_id), and never again after a restart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devices.virtual.printer import VirtualNetworkPrinter
from tests.appliance.harness import Appliances, Spa, appliance_config, printer_settings
from tests.support import wait_until

pytestmark = pytest.mark.slow


def job_states(spa: Spa) -> dict[str, str]:
    return dict(spa.query("SELECT job_id, state FROM print_jobs"))


def says_it_prints(spa: Spa) -> bool:
    [(health,)] = spa.query("SELECT health_json FROM devices WHERE name = 'kiosk-1'")
    return bool(health) and json.loads(health).get("prints") is True


def test_a_kiosk_confirm_prints_one_ticket_with_the_code_and_the_phone_page(
    spa: Spa, printer: VirtualNetworkPrinter, appliances: Appliances, tmp_path: Path
) -> None:
    devices = {"printer": printer_settings(printer, retry_interval_s=0.2, probe_interval_s=0.5)}
    config = appliance_config(
        spa, "kiosk-1", "kiosk", tmp_path / "kiosk", kiosk={"printer": "printer"}, devices=devices
    )
    kiosk = appliances("kiosk", config).start()
    kiosk.wait_connected()
    wait_until(lambda: says_it_prints(spa), 10, what="the kiosk's heartbeat saying it has a printer")

    page = spa.client("kiosk-1")  # the kiosk's own touch page
    order = page.call("customer_confirm_selection", {"customer_name": "Ola", "items": [{"service_id": 1}]})
    assert order["ok"], order
    job_id = order["print_job"]["job_id"]
    heard = page.wait_for("receipt_status", lambda s: s["job_id"] == job_id)
    assert heard["ok"] is True and heard["transaction_id"] == order["transaction_id"]

    [ticket] = printer.receipts
    # No SPA_PUBLIC_URL here: the appliance put the address it reaches the server at in front.
    phone_page = f"{spa.url}/t/{order['public_id']}"
    assert ticket.qr_codes == [phone_page]
    assert order["code"] in ticket.lines and "".join(ticket.lines).endswith(phone_page)
    assert printer.drawer_pulses == []  # a kiosk has no cash drawer
    wait_until(lambda: job_states(spa) == {job_id: "printed"}, 10, what="the ticket reported printed")
    kiosk.wait_log(lambda line: line["msg"] == f"reported job {job_id}: printed", 10, "the ticket's result acked")

    # Once: a restart prints nothing again; the next order prints its own ticket.
    assert kiosk.terminate() == 0
    kiosk.start()
    kiosk.wait_connected(nth=2)
    second = page.call("customer_confirm_selection", {"customer_name": "Per", "items": [{"service_id": 1}]})
    assert second["ok"] and second["print_job"]["job_id"] != job_id
    assert printer.wait_for(lambda p: len(p.receipts) == 2, 10)
    wait_until(lambda: job_states(spa).get(second["print_job"]["job_id"]) == "printed", 10, what="second ticket")
    assert [p.qr_codes for p in printer.receipts] == [[phone_page], [f"{spa.url}/t/{second['public_id']}"]]
    assert kiosk.terminate() == 0

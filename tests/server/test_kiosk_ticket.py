"""The kiosk's printed ticket (issue 11), on the server: a kiosk whose appliance says it has a
printer gets one `ticket` print job per order, in the order's own transaction; a kiosk without one,
and every other caller, gets none; a ticket not printed within minutes is not sent again."""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from server.db.engine import Database
from server.db.models import PrintJob
from server.protocol import contract, schema
from server.service import appliances, printing
from server.service.commands import Heartbeat
from server.service.principals import Principal
from server.service.queue import QueueService
from tests.server.conftest import Clock
from tests.support import InProcessServer, wait_until
from tests.unit.test_contract_validator import wire_validator


def jobs_of(db: Database) -> list[PrintJob]:
    with db.read() as s:
        return list(s.scalars(select(PrintJob).order_by(PrintJob.job_id)))


def says_it_prints(db: Database, device: Principal, prints: bool = True) -> None:
    appliances.record_heartbeat(db, device, Heartbeat({"printer": {"state": "ok"}}, "test", prints), Clock()())


def confirm(service: QueueService, actor: Principal, name: str = "Maria Lopez") -> dict[str, Any]:
    return service.confirm_selection(actor, schema.ConfirmSelection(name, (schema.ItemRequest(1, 1),), None))


def test_a_kiosk_with_a_printer_gets_exactly_one_ticket_job_for_its_order(
    db: Database, actors: dict[str, Principal]
) -> None:
    clock = Clock()
    service = QueueService(db, zone=ZoneInfo("Europe/Berlin"), clock=clock, public_url="https://spa.example/")
    kiosk = actors["kiosk-1"]
    says_it_prints(db, kiosk)

    ack = confirm(service, kiosk)

    job = ack["print_job"]
    assert job["job_id"] == f"tkt-{ack['transaction_id']}" and job["transaction_id"] == ack["transaction_id"]
    assert job["open_drawer"] is False
    ticket = job["document"]
    assert ticket["kind"] == "ticket" and ticket["code"] == ack["code"] and ticket["till"] == "kiosk-1"
    assert ticket["url"] == f"https://spa.example/t/{ack['public_id']}"
    # The call time on the spa's wall clock (Berlin, not UTC) and the minutes, as the kiosk shows them.
    wait = ack["estimated_wait_min"]
    local = (clock.now + timedelta(minutes=wait)).replace(tzinfo=UTC).astimezone(ZoneInfo("Europe/Berlin"))
    assert ticket["lines"] == [{"label": "Called about", "value": f"{local:%H:%M} (~{wait} min)"}]
    assert ticket["timezone"] == "Europe/Berlin"
    wire_validator(contract.ACKS["customer_confirm_selection"]).validate({"ok": True, **ack})

    [row] = jobs_of(db)
    assert (row.job_id, row.device_id, row.state, row.kind) == (job["job_id"], kiosk.id, "pending", "document")
    assert json.loads(row.payload) == job
    assert printing.pending_jobs(db, kiosk.id, clock.now) == [job]

    # A replay of the same order (same key) makes no second job.
    keyed = schema.ConfirmSelection("Ola", (schema.ItemRequest(1, 1),), "k-1")
    first = service.confirm_selection(kiosk, keyed)
    again = service.confirm_selection(kiosk, keyed)
    assert again.get("replayed") and again["print_job"] == first["print_job"]
    assert [j.job_id for j in jobs_of(db)] == sorted([job["job_id"], first["print_job"]["job_id"]])


def test_no_ticket_job_without_a_printer_or_for_other_callers(
    db: Database, service: QueueService, actors: dict[str, Principal]
) -> None:
    kiosk = actors["kiosk-1"]
    assert confirm(service, kiosk)["print_job"] is None  # never heard of: a page in a browser
    says_it_prints(db, kiosk, prints=False)
    assert confirm(service, kiosk)["print_job"] is None  # its box has no printer
    says_it_prints(db, actors["cashier-1"])  # a till prints, but does not order for customers
    for caller in ("cashier-1", "Carla", "Erik", "Dana"):
        assert confirm(service, actors[caller])["print_job"] is None, caller
    assert jobs_of(db) == []


def test_a_ticket_not_printed_within_minutes_is_not_sent_again(db: Database, actors: dict[str, Principal]) -> None:
    clock = Clock()
    service = QueueService(db, zone=ZoneInfo("UTC"), clock=clock)
    kiosk = actors["kiosk-1"]
    says_it_prints(db, kiosk)
    old = confirm(service, kiosk)["print_job"]
    assert old["document"]["url"].startswith("/t/")  # no SPA_PUBLIC_URL: the appliance adds its address
    clock.advance(printing.TICKET_TTL.total_seconds() - 60)
    fresh = confirm(service, kiosk)["print_job"]
    assert [j["job_id"] for j in printing.pending_jobs(db, kiosk.id, clock.now)] == [old["job_id"], fresh["job_id"]]
    clock.advance(61)
    assert [j["job_id"] for j in printing.pending_jobs(db, kiosk.id, clock.now)] == [fresh["job_id"]]


def test_over_the_wire_the_kiosk_gets_its_ticket_and_reports_it(
    served: InProcessServer, tokens: dict[str, str]
) -> None:
    kiosk, till, admin = (served.client(tokens[name]) for name in ("kiosk-1", "cashier-1", "Dana"))
    assert till.emit("cashier_subscribe", {}, callback=True)["ok"]
    beat = {"devices": {"printer": {"state": "ok"}}, "software": "test", "prints": True}
    assert kiosk.emit("appliance_heartbeat", beat, callback=True) == {"ok": True}
    order = {"customer_name": "Ola", "items": [{"service_id": 1}]}
    ack = kiosk.emit("customer_confirm_selection", order, callback=True)
    assert ack["ok"] and ack["print_job"]["document"]["kind"] == "ticket"
    job_id = ack["print_job"]["job_id"]

    def events(client: Any, name: str) -> list[Any]:
        return [e["args"][0] for e in client.get_received() if e["name"] == name]

    sent = wait_until(lambda: events(kiosk, "print_document"), 10, what="the ticket sent to the kiosk")
    assert sent == [ack["print_job"]]
    assert kiosk.emit("print_jobs_pending", {}, callback=True) == {"ok": True, "jobs": [ack["print_job"]]}
    status = {"transaction_id": ack["transaction_id"], "job_id": job_id, "ok": True, "state": "ok"}
    assert kiosk.emit("receipt_status", status, callback=True) == {"ok": True}
    heard = wait_until(lambda: events(kiosk, "receipt_status"), 10, what="the result echoed to the kiosk")
    assert [h["job_id"] for h in heard] == [job_id] and heard[0]["ok"] is True
    assert kiosk.emit("print_jobs_pending", {}, callback=True) == {"ok": True, "jobs": []}
    # An admin may order too (the back office's test order); no ticket job is made for them.
    by_admin = admin.emit("customer_confirm_selection", order, callback=True)
    assert by_admin["ok"] and by_admin["print_job"] is None
    assert events(till, "receipt_status") == []  # the cashiers do not hear of a kiosk's ticket
    for client in (kiosk, till, admin):
        client.disconnect()


@pytest.mark.parametrize("prints", [True, False])
def test_the_heartbeat_keeps_what_the_appliance_says_about_its_printer(prints: bool) -> None:
    beat = schema.parse_heartbeat({"devices": {}, "software": None, "prints": prints})
    assert beat.prints is prints
    assert schema.parse_heartbeat({"devices": {}}).prints is False  # an older appliance

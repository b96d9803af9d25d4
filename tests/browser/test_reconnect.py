"""The server restarts mid-visit: every page shows that it is reconnecting, comes back by itself
without a reload, rebuilds from a fresh snapshot (including a change no broadcast announced)
and carries on."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from server.db.engine import Database
from server.protocol import schema
from server.service.principals import Principal
from server.service.queue import QueueService

from .conftest import Screens, Spa, kiosk_type, wait_online

pytestmark = pytest.mark.browser

RECONNECT_MS = 20_000


def order_while_the_server_is_down(spa: Spa, name: str) -> None:
    """A change straight in the database: the pages can only learn of it from a snapshot."""
    db = Database(spa.server.database_url, pool_size=1, max_overflow=0)
    try:
        kiosk = spa.people["kiosk-1"]
        service = QueueService(db, zone=ZoneInfo("UTC"))
        actor = Principal("device", kiosk["id"], "kiosk", kiosk["name"])
        service.confirm_selection(actor, schema.ConfirmSelection(name, (schema.ItemRequest(5, 1),)))
    finally:
        db.dispose()


def test_pages_recover_after_a_server_restart(screens: Screens, spa: Spa, shot: Any) -> None:
    kiosk = screens.open("kiosk", "kiosk-1", size=(800, 480), touch=True, idle=600, ticket=600)
    lobby = screens.open("lobby", "lobby-1", size=(800, 480))
    room = screens.open("therapist", "room-1", size=(800, 480))  # a room box: its device token
    cashier = screens.open("cashier", "cashier-1", size=(800, 480))
    pages = {"kiosk": kiosk, "lobby": lobby, "therapist": room, "cashier": cashier}

    kiosk.locator("#start").tap()
    kiosk.locator(".card", has_text="Facial").tap()
    kiosk.locator("#to-name").tap()
    kiosk_type(kiosk, "olga")
    kiosk.locator("#confirm").tap()
    expect(kiosk.locator("#ticket-code")).to_have_text("A-001")
    room.locator("#next").click()
    expect(room.locator("#cur-code")).to_have_text("A-001")
    expect(lobby.locator('#serving li[data-code="A-001"]')).to_contain_text("Room 1")
    for tab in pages.values():
        tab.evaluate("window.sameDocument = true")

    spa.server.stop()
    for name, tab in pages.items():
        banner = tab.locator("#connection")
        expect(banner, name).to_be_visible(timeout=RECONNECT_MS)
        expect(banner, name).to_have_text("Reconnecting…")
    shot(lobby, "reconnect-1-lobby-reconnecting")
    order_while_the_server_is_down(spa, "Bob Stone")

    spa.server.start()
    for name, tab in pages.items():
        wait_online(tab, RECONNECT_MS)
        expect(tab.locator("#connection"), name).to_be_hidden()
        assert tab.evaluate("window.sameDocument") is True, f"{name} was reloaded"

    # The snapshot brought what happened meanwhile; what was on screen is still right.
    expect(lobby.locator('#waiting li[data-code="A-002"]')).to_contain_text("Bob")
    expect(lobby.locator('#serving li[data-code="A-001"]')).to_contain_text("Room 1")
    expect(room.locator('#waiting li[data-code="A-002"]')).to_contain_text("Bob Stone")
    expect(room.locator("#cur-code")).to_have_text("A-001")
    expect(kiosk.locator("#ticket-status")).to_have_text("It is your turn! Please go to room 1.")
    shot(lobby, "reconnect-2-lobby-back")

    # And it carries on: broadcasts after the restart reach every page (the kiosk rejoined its
    # transaction's room, the others their queues).
    room.locator("#start").click()
    expect(kiosk.locator("#ticket-status")).to_have_text("Enjoy your treatment.")
    room.locator("#finish").click()
    expect(lobby.locator('#to-cashier li[data-code="A-001"]')).to_be_visible()
    expect(kiosk.locator("#ticket-status")).to_have_text("Please go to the cashier.")
    expect(cashier.locator('#pay-queue [data-code="A-001"]')).to_contain_text("€38.50")
    cashier.locator("#claim-next").click()
    expect(cashier.locator("#txn-code")).to_have_text("A-001")
    shot(cashier, "reconnect-3-cashier-after-restart")

"""A customer's whole visit, with the four screens open at once against one live server, each
step checked on screen: kiosk order at 800×480, lobby, therapist, cashier, and back to the
lobby and the kiosk."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support import wait_until

from .conftest import FakeTill, Screens, Spa, keypad, sign_in
from .kiosk_keys import type_name

pytestmark = pytest.mark.browser


def test_a_visit_from_kiosk_to_cashier(screens: Screens, spa: Spa, fake_till: FakeTill, shot: Any) -> None:
    kiosk = screens.open("kiosk", "kiosk-1", size=(800, 480), touch=True, idle=600, ticket=600)
    lobby = screens.open("lobby", "lobby-1", size=(1280, 720), announce=1)
    therapist = screens.open("therapist", size=(1024, 600), online=False, room="3")
    cashier = screens.open("cashier", "cashier-1", size=(1024, 600))

    # The token left the address bar once the page had it.
    assert "#" not in kiosk.url and "token" not in lobby.url

    # Kiosk: two services into the cart, the name on the on-screen keyboard, confirm (twice: a double tap).
    kiosk.locator("#start").tap()
    kiosk.locator(".card", has_text="Swedish massage").tap()
    kiosk.locator(".card", has_text="Foot reflexology").tap()
    expect(kiosk.locator("#cart-lines li")).to_have_count(2)
    expect(kiosk.locator("#cart-total")).to_have_text("€70.00")
    kiosk.locator("#to-name").tap()
    type_name(kiosk, "Maria Lopez")
    expect(kiosk.locator("#name-value")).to_have_text("Maria Lopez")
    expect(kiosk.locator("#name-summary")).to_have_text("2 services · €70.00")
    shot(kiosk, "journey-1-kiosk-name")
    kiosk.locator("#confirm").dblclick()
    expect(kiosk.locator("#ticket-code")).to_have_text("A-001")
    expect(kiosk.locator("#ticket-position")).to_have_text("1")
    expect(kiosk.locator("#ticket-wait")).to_have_text("now")
    expect(kiosk.locator("#ticket-status")).to_contain_text("take a seat")
    shot(kiosk, "journey-2-kiosk-ticket")

    # Lobby: the code waits, by code and first name only; the double tap made one order, not two.
    waiting = lobby.locator('#waiting li[data-code="A-001"]')
    expect(waiting).to_contain_text("Maria")
    expect(lobby.locator("#waiting li")).to_have_count(1)
    assert "Lopez" not in lobby.inner_text("body")

    # Therapist: sign in with name + PIN, take the next customer, start, add a service, finish.
    expect(therapist.locator(".signin-person")).to_have_count(3)  # Anna, Ben and Dana (admin)
    sign_in(therapist, "Anna", "1111")
    expect(therapist.locator("#who")).to_have_text("Anna")
    expect(therapist.locator('#waiting li[data-code="A-001"]')).to_contain_text("Maria Lopez")
    therapist.locator("#next").click()
    expect(therapist.locator("#cur-code")).to_have_text("A-001")
    expect(therapist.locator("#cur-name")).to_have_text("Maria Lopez")
    expect(therapist.locator("#cur-items li")).to_have_count(2)
    expect(therapist.locator("#waiting-empty")).to_be_visible()

    serving = lobby.locator('#serving li[data-code="A-001"]')
    expect(serving).to_contain_text("Room 3")
    expect(lobby.locator("#waiting li")).to_have_count(0)
    expect(kiosk.locator("#ticket-status")).to_have_text("It is your turn! Please go to room 3.")
    expect(kiosk.locator("#ticket-room")).to_have_text("→ Room 3")
    expect(kiosk.locator("#ticket-qr")).to_be_visible()  # the phone page's QR code stays to scan
    called = lobby.evaluate("window.spaLobby.announcements.map((a) => a.text)")
    assert called == ["A 1, Maria, please go to room 3."]

    therapist.locator("#start").click()
    expect(therapist.locator("#cur-status")).to_contain_text("In treatment")
    expect(kiosk.locator("#ticket-status")).to_have_text("Enjoy your treatment.")
    therapist.locator("#add").click()
    therapist.locator(".add-service", has_text="Head and shoulders").click()
    expect(therapist.locator("#cur-items li")).to_have_count(3)
    expect(therapist.locator("#cur-total")).to_contain_text("€88.00")
    expect(therapist.locator("#work-notice")).to_have_text("Head and shoulders added.")
    shot(therapist, "journey-3-therapist-in-service")
    therapist.locator("#finish").click()
    expect(therapist.locator("#work-notice")).to_have_text("A-001 is done and goes to the cashier.")
    expect(therapist.locator("#current-empty")).to_be_visible()

    # Lobby: from "now serving" to "please go to the cashier", with a chime and the words.
    expect(lobby.locator('#to-cashier li[data-code="A-001"]')).to_contain_text("Maria")
    expect(lobby.locator("#serving li")).to_have_count(0)
    expect(kiosk.locator("#ticket-status")).to_have_text("Please go to the cashier.")
    announcements = lobby.evaluate("window.spaLobby.announcements")
    assert [a["text"] for a in announcements] == [
        "A 1, Maria, please go to room 3.",
        "A 1, Maria, please go to the cashier.",
    ]
    assert all(a["chime"] and a["voice"] for a in announcements)
    # Headless Chromium has no voice: chimed and shown, never logged as spoken.
    assert not any(a["spoken"] for a in announcements)
    shot(lobby, "journey-4-lobby-cashier-call")

    # Cashier: the code typed into the focused lookup field, as a scanner does, then Enter.
    expect(cashier.locator('#pay-queue [data-code="A-001"]')).to_contain_text("€88.00")
    expect(cashier.locator("#lookup")).to_be_focused()
    cashier.keyboard.type("A-001")
    cashier.keyboard.press("Enter")
    expect(cashier.locator("#txn-code")).to_have_text("A-001")
    expect(cashier.locator("#txn-name")).to_have_text("Maria Lopez")
    expect(cashier.locator("#txn-items li")).to_have_count(3)
    expect(cashier.locator("#txn-total")).to_have_text("€88.00")
    expect(cashier.locator("#lookup")).to_have_value("")
    expect(lobby.locator('#to-cashier li[data-code="A-001"]')).to_contain_text("cashier-1")

    keypad(cashier, "50")
    expect(cashier.locator("#tendered")).to_have_text("€50.00")
    expect(cashier.locator("#change-preview")).to_have_text("Short by €38.00")
    cashier.locator("#pay").click()
    expect(cashier.locator("#cashier-error")).to_have_text("Not enough: €50.00 was tendered but €88.00 is due.")
    expect(cashier.locator("#pay")).to_be_enabled()
    shot(cashier, "journey-5-cashier-short")

    keypad(cashier, "100")
    expect(cashier.locator("#change-preview")).to_have_text("Change: €12.00")
    cashier.locator("#pay").click()
    expect(cashier.locator("#change-due")).to_have_text("€12.00")
    expect(cashier.locator("#cashier-error")).to_be_hidden()
    expect(cashier.locator("#print-status")).to_have_text("Receipt printed.")
    shot(cashier, "journey-6-cashier-paid")
    cashier.locator("#reprint").click()
    wait_until(lambda: len(fake_till.jobs) == 2, what="the reprint at the till")
    expect(cashier.locator("#print-status")).to_have_text("Receipt printed.")
    assert [job["job_id"] for job in fake_till.jobs] == ["rcpt-1", "rcpt-1-r1"]
    assert fake_till.jobs[0]["open_drawer"] is True

    # The lobby lets go of the code; the kiosk thanks the customer.
    expect(lobby.locator("#to-cashier li")).to_have_count(0)
    expect(kiosk.locator("#ticket-status")).to_have_text("Thank you for your visit!")
    expect(cashier.locator("#pay-queue li")).to_have_count(0)
    shot(kiosk, "journey-7-kiosk-paid")
    shot(lobby, "journey-8-lobby-empty")
    cashier.locator("#done").click()
    expect(cashier.locator("#txn-empty")).to_be_visible()
    expect(cashier.locator("#lookup")).to_be_focused()

    # Everything came from the spa server, the Socket.IO client included.
    assert any(u.endswith("/static/vendor/socket.io.min.js") for u in screens.requests)

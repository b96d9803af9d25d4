"""The kiosk on its own: the on-screen keyboard, the idle timeout back to the attract screen,
quantities, acknowledgement errors in plain words, and cancelling a ticket."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from server.db.engine import Database
from server.db.models import Service

from .conftest import Screens, Spa, kiosk_type
from .kiosk_keys import type_name

pytestmark = pytest.mark.browser

IDLE_S = 1.5


@pytest.mark.shared_server
def test_on_screen_keyboard(screens: Screens, spa: Spa) -> None:
    kiosk = screens.open("kiosk", "kiosk-1", touch=True, idle=600)
    kiosk.locator("#attract").tap()
    kiosk.locator(".card", has_text="Facial").tap()
    kiosk.locator("#to-name").tap()
    confirm = kiosk.locator("#confirm")
    expect(confirm).to_be_disabled()  # no name yet
    expect(kiosk.locator("#name-hint")).to_have_text("Type your name")

    # Names are kept as typed: only the first letter starts in capitals (a pressed shift, shown);
    # shift flips the next letter; apostrophe and hyphen.
    kiosk_type(kiosk, "liam o")
    expect(kiosk.locator("#name-value")).to_have_text("Liam o")
    kiosk.locator('#keyboard [data-key="backspace"]').tap()
    kiosk.locator('#keyboard [data-key="shift"]').tap()
    expect(kiosk.locator('#keyboard [data-key="s"]')).to_have_text("S")
    kiosk.locator('#keyboard [data-key="shift"]').tap()
    expect(kiosk.locator('#keyboard [data-key="s"]')).to_have_text("s")
    type_name(kiosk, "O'Brien-Smith")
    expect(kiosk.locator("#name-value")).to_have_text("Liam O'Brien-Smith")
    expect(kiosk.locator("#name-count")).to_have_text("18 / 60")
    expect(confirm).to_be_enabled()

    # Backspace, a double space refused, accented letters on their own layers.
    for _ in range(6):
        kiosk.locator('#keyboard [data-key="backspace"]').tap()
    kiosk_type(kiosk, "  ")
    type_name(kiosk, "Émile")
    expect(kiosk.locator("#name-value")).to_have_text("Liam O'Brien Émile")

    # At most 60 characters, like the server (typed faster through a USB keyboard, which the
    # kiosk also accepts for service staff): counted on screen, and the end said in words.
    kiosk.keyboard.type("x" * 45)
    expect(kiosk.locator("#name-value")).to_have_text("Liam O'Brien Émile" + "x" * 42)
    expect(kiosk.locator("#name-count")).to_have_text("60 / 60")
    expect(kiosk.locator("#name-error")).to_have_text("A name can have at most 60 characters.")


@pytest.mark.shared_server
def test_idle_timeout_returns_to_attract_and_forgets(screens: Screens, spa: Spa, shot: Any) -> None:
    kiosk = screens.open("kiosk", "kiosk-1", touch=True, idle=IDLE_S, ticket=IDLE_S)
    expect(kiosk.locator("#attract")).to_be_visible()
    shot(kiosk, "kiosk-attract-800x480")

    # Half an order: quantities, then the customer walks away on the name screen.
    kiosk.locator("#attract").tap()
    card = kiosk.locator(".card", has_text="Hot stone massage")
    card.tap()
    card.tap()
    expect(card.locator(".card-badge")).to_have_text("× 2")
    kiosk.locator('#cart-lines [data-action="dec"]').tap()
    expect(kiosk.locator("#cart-lines .qty-value")).to_have_text("1")
    expect(kiosk.locator("#cart-total")).to_have_text("€65.00")
    kiosk.locator("#to-name").tap()
    kiosk_type(kiosk, "ana")
    expect(kiosk.locator("#attract")).to_be_visible(timeout=(IDLE_S + 4) * 1000)

    # The next customer finds nothing of it.
    kiosk.locator("#attract").tap()
    expect(kiosk.locator("#order")).to_be_visible()
    expect(kiosk.locator("#cart-lines li")).to_have_count(0)
    expect(kiosk.locator(".card.chosen")).to_have_count(0)
    expect(kiosk.locator("#to-name")).to_be_disabled()
    expect(kiosk.locator("#cart-total")).to_have_text("€0.00")

    # Touching keeps the screen: two taps within the timeout, then idle again.
    kiosk.wait_for_timeout(IDLE_S * 600)
    kiosk.locator(".card", has_text="Facial").tap()
    kiosk.wait_for_timeout(IDLE_S * 600)
    expect(kiosk.locator("#order")).to_be_visible()
    expect(kiosk.locator("#attract")).to_be_visible(timeout=(IDLE_S + 4) * 1000)

    # A confirmed ticket also gives way to the attract screen after its own timeout.
    kiosk.locator("#attract").tap()
    kiosk.locator(".card", has_text="Facial").tap()
    kiosk.locator("#to-name").tap()
    kiosk_type(kiosk, "ana")
    kiosk.locator("#confirm").tap()
    expect(kiosk.locator("#ticket-code")).to_have_text("A-001")
    expect(kiosk.locator("#attract")).to_be_visible(timeout=(IDLE_S + 4) * 1000)


def test_cancel_a_waiting_ticket_and_errors_in_plain_words(screens: Screens, spa: Spa) -> None:
    kiosk = screens.open("kiosk", "kiosk-1", touch=True, idle=600, ticket=600)
    lobby = screens.open("lobby", "lobby-1")
    kiosk.locator("#attract").tap()
    kiosk.locator(".card", has_text="Facial").tap()
    kiosk.locator("#to-name").tap()
    kiosk_type(kiosk, "zoe")
    kiosk.locator("#confirm").tap()
    expect(kiosk.locator("#ticket-code")).to_have_text("A-001")
    expect(lobby.locator('#waiting li[data-code="A-001"]')).to_be_visible()

    # Cancelling asks first; "no" keeps the ticket.
    kiosk.locator("#ticket-cancel").tap()
    kiosk.locator('[data-action="cancel-no"]').tap()
    expect(kiosk.locator("#ticket-cancel")).to_be_visible()
    kiosk.locator("#ticket-cancel").tap()
    kiosk.locator("#ticket-cancel-yes").tap()
    expect(kiosk.locator("#ticket-status")).to_have_text("Your visit has been cancelled.")
    expect(kiosk.locator("#ticket-cancel")).to_be_hidden()
    expect(lobby.locator("#waiting li")).to_have_count(0)

    # A service withdrawn while it sat in the cart: the refusal in plain words, the cart
    # refreshed from the catalog, and no stuck button.
    kiosk.locator("#ticket-done").tap()
    kiosk.locator("#attract").tap()
    kiosk.locator(".card", has_text="Facial").tap()
    kiosk.locator(".card", has_text="Aromatherapy").tap()
    kiosk.locator("#to-name").tap()
    kiosk_type(kiosk, "zoe")
    withdraw(spa, "Aromatherapy")
    kiosk.locator("#confirm").tap()
    expect(kiosk.locator("#name-error")).to_have_text("That service is no longer offered.")
    expect(kiosk.locator("#name-summary")).to_have_text("1 service · €38.50")
    kiosk.locator("#confirm").tap()
    expect(kiosk.locator("#ticket-code")).to_have_text("A-002")


def withdraw(spa: Spa, name: str) -> None:
    db = Database(spa.server.database_url, pool_size=1, max_overflow=0)
    try:
        with db.write() as session:
            session.execute(update(Service).where(Service.name == name).values(active=False))
    finally:
        db.dispose()

"""Every page, in a busy known state, fits the 7" Pi display (800×480) without scrolling, with
touch targets of at least 48 px, no text selection and no pinch zoom; the kiosk also fits
1280×800, and the front desk's screen its own 1280×800. Screenshots of each state are saved for
a person to look at."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import expect

from server.db.engine import Database
from server.service.spa_settings import Defaults, SpaSettings
from tests.support import wait_until

from .conftest import Screens, Spa, assert_fits, keypad, sign_in

pytestmark = pytest.mark.browser

NAMES = [
    "Maria Lopez",
    "Bartholomew Featherstonehaugh-Cholmondeley",
    "Aiko Tanaka",
    "Pierre Dupont",
    "Fatima Zahra",
    "Liam O'Brien",
    "Sven Ek",
    "Olga Petrova",
    "Ana Silva",
    "Tom Hardy",
    "Zoe Kim",
    "Kristiansen-Abernathy Maximiliana",
]


# A Saturday queue this long (12 customers of two to three treatments, two therapists) is quoted
# about 14 hours' wait: the office lets the kiosk take it, as a spa open all day would.
LONG_DAY_MAX_WAIT_MIN = 24 * 60


def long_day(spa: Spa) -> None:
    """The office's settings for the busy day: the kiosk takes waits up to a day (the default 240
    min would turn the eighth customer away with queue_full), open all day (no hours set)."""
    db = Database(spa.server.database_url, pool_size=1, max_overflow=0)
    try:
        now = datetime.now(UTC).replace(tzinfo=None)
        SpaSettings(db, Defaults()).put({"max_wait_min": LONG_DAY_MAX_WAIT_MIN}, "staff:test", now)
    finally:
        db.dispose()
    erik = spa.client("Erik")
    try:  # the server reads settings through a short cache: until it has the new one
        wait_until(
            lambda: erik.call("queue_snapshot")["intake"]["max_wait_min"] == LONG_DAY_MAX_WAIT_MIN,
            what="the server to read the new max_wait_min",
        )
        roster = erik.call("staff_roster")
        assert all(t["on_shift"] for t in roster["therapists"]), roster  # Anna and Ben at work
    finally:
        erik.close()


def busy_day(spa: Spa) -> None:
    """Twelve customers: some waiting, three with therapists, two to pay, one paying."""
    long_day(spa)
    kiosk, anna, room, till = spa.client("kiosk-1"), spa.client("Anna"), spa.client("room-1"), spa.client("cashier-1")
    try:
        for i, name in enumerate(NAMES):
            items = [{"service_id": 1 + i % 7}, {"service_id": 1 + (i + 3) % 7, "quantity": 2}]
            ack = kiosk.call("customer_confirm_selection", {"customer_name": name, "items": items})
            assert ack["ok"], ack
        for _ in range(3):
            tid = room.call("therapist_confirm_next")["transaction"]["id"]
            room.call("therapist_start_service", {"transaction_id": tid})
            room.call("therapist_finish_service", {"transaction_id": tid})
        assert till.call("cashier_claim_next")["ok"]
        room.call("therapist_confirm_next")
        claim = anna.call("therapist_confirm_next", {"room": "12"})
        tid = claim["transaction"]["id"]
        anna.call("therapist_start_service", {"transaction_id": tid})
        for service_id in (2, 4, 6, 7):
            anna.call("therapist_add_service", {"transaction_id": tid, "service_id": service_id})
    finally:
        for client in (kiosk, anna, room, till):
            client.close()


def check(tab: Any, shot: Any, name: str) -> None:
    assert_fits(tab, name)
    shot(tab, name)


def test_every_page_fits_800x480(screens: Screens, spa: Spa, shot: Any) -> None:
    busy_day(spa)
    size = (800, 480)

    lobby = screens.open("lobby", "lobby-1", size=size)
    expect(lobby.locator("#serving li")).to_have_count(2)
    expect(lobby.locator("#to-cashier li")).to_have_count(3)
    expect(lobby.locator("#waiting-more")).to_be_visible()  # more waiting than fit
    check(lobby, shot, "lobby-800x480")
    assert "Featherstonehaugh" not in lobby.inner_text("body")  # first names only

    therapist = screens.open("therapist", size=size, online=False, room="12")
    expect(therapist.locator(".signin-person")).to_have_count(3)
    check(therapist, shot, "therapist-sign-in-800x480")
    sign_in(therapist, "Anna", "1111")
    expect(therapist.locator("#cur-items li")).to_have_count(6)
    expect(therapist.locator("#waiting li")).to_have_count(7)
    check(therapist, shot, "therapist-800x480")
    therapist.locator("#add").click()
    expect(therapist.locator(".add-service")).to_have_count(7)
    check(therapist, shot, "therapist-add-service-800x480")

    cashier = screens.open("cashier", "cashier-1", size=size)
    expect(cashier.locator("#pay-queue li")).to_have_count(3)
    check(cashier, shot, "cashier-idle-800x480")
    cashier.locator("#claim-next").click()
    keypad(cashier, "1")
    cashier.locator("#pay").click()
    expect(cashier.locator("#cashier-error")).to_contain_text("Not enough")
    check(cashier, shot, "cashier-short-800x480")
    cashier.locator('#keypad [data-key="exact"]').click()
    cashier.locator("#pay").click()
    expect(cashier.locator("#change-due")).to_have_text("€0.00")
    check(cashier, shot, "cashier-paid-800x480")
    cashier.locator("#cashier-signin").click()
    expect(cashier.locator(".signin-person")).to_have_count(2)  # Carla and Dana (admin)
    check(cashier, shot, "cashier-sign-in-800x480")

    # The kiosk at both sizes: every service in the cart, the longest name the server takes.
    for kiosk_size, code, name in (
        (size, "A-013", "wolfeschlegelsteinhausenbergerdorff maximiliana kristiansen"),
        ((1280, 800), "A-014", "maximiliana kristiansen"),
    ):
        label = f"{kiosk_size[0]}x{kiosk_size[1]}"
        kiosk = screens.open("kiosk", "kiosk-1", size=kiosk_size, touch=True, idle=600, ticket=600)
        check(kiosk, shot, f"kiosk-attract-{label}")
        kiosk.locator("#attract").tap()
        for card in kiosk.locator(".card").all():
            card.tap()
        expect(kiosk.locator("#cart-lines li")).to_have_count(7)
        check(kiosk, shot, f"kiosk-order-{label}")
        kiosk.locator("#to-name").tap()
        kiosk.keyboard.type(name)  # the on-screen keyboard has its own test; here only the length counts
        check(kiosk, shot, f"kiosk-name-{label}")
        kiosk.locator("#confirm").tap()
        expect(kiosk.locator("#ticket-code")).to_have_text(code)
        check(kiosk, shot, f"kiosk-ticket-{label}")

    # The front desk at its own size: the whole queue, a customer chosen, a dialog open.
    desk = screens.open("desk", size=(1280, 800), online=False)
    check(desk, shot, "desk-sign-in-1280x800")
    sign_in(desk, "Erik", "4444")
    expect(desk.locator("#waiting .desk-row")).to_have_count(9)  # seven, and the kiosk's two
    expect(desk.locator("#serving .desk-row")).to_have_count(4)  # two with therapists, two to pay
    check(desk, shot, "desk-busy-1280x800")
    desk.locator('#serving .desk-row[data-status="in_service"]').click()
    expect(desk.locator("#d-items li")).to_have_count(6)
    check(desk, shot, "desk-busy-chosen-1280x800")
    desk.locator('#d-actions [data-move="undo_start"]').click()
    expect(desk.locator("#dialog")).to_be_visible()
    check(desk, shot, "desk-busy-dialog-1280x800")

    lobby_tv = screens.open("lobby", "lobby-1", size=(1920, 1080))
    expect(lobby_tv.locator('#waiting li[data-code="A-006"]')).to_be_visible()
    check(lobby_tv, shot, "lobby-1920x1080")

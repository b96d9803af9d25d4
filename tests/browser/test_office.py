"""The back office (/office) and the landing page (/) in Chromium at 1280×800: an admin signs in,
adds and reprices a service, adds a staff member and sees the PIN once, revokes a device and
sees the screen using it signed out, changes the spa's name and sees it (issue 12)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from .conftest import Screens, Spa, sign_in

pytestmark = pytest.mark.browser
DESK = (1280, 800)


def office(screens: Screens) -> Any:
    tab = screens.open("office", size=DESK, online=False)
    tab.on("dialog", lambda dialog: dialog.accept())  # "Revoke lobby-1?" and the like: yes
    sign_in(tab, "Dana", "999999")
    expect(tab.locator("#office-who")).to_have_text("Dana")
    return tab


def form_field(tab: Any, form: str, name: str) -> Any:
    return tab.locator(f'#{form}-form [name="{name}"]')


def fits(tab: Any) -> None:
    """Nothing of the page is cut off or scrolls the window at 1280×800."""
    size = tab.evaluate("() => [document.scrollingElement.scrollWidth, document.scrollingElement.scrollHeight]")
    assert size[0] <= DESK[0] and size[1] <= DESK[1], size


def test_services_and_staff(screens: Screens, spa: Spa, shot: Callable[[Any, str], Path]) -> None:
    tab = office(screens)
    expect(tab.locator("#services-table tbody tr")).to_have_count(7)
    fits(tab)
    shot(tab, "office-services")

    form_field(tab, "services", "name").fill("Sauna")
    form_field(tab, "services", "price").fill("12.50")
    form_field(tab, "services", "duration_min").fill("30")
    form_field(tab, "services", "tax_rate").fill("7.00")
    form_field(tab, "services", "category").fill("Heat")
    tab.locator("#services-save").click()
    expect(tab.locator("#office-notice")).to_have_text("Sauna was added.")
    sauna = tab.locator('#services-table tr[data-name="Sauna"]')
    expect(sauna).to_contain_text("12.50")
    expect(sauna).to_contain_text("Anna, Ben")  # every therapist, until the office says otherwise

    sauna.get_by_role("button", name="Edit").click()
    expect(tab.locator("#services-form h2")).to_have_text("Edit Sauna")
    form_field(tab, "services", "price").fill("14.00")
    tab.locator('#services-form input[name="therapists"]').first.uncheck()  # Anna
    tab.locator("#services-save").click()
    expect(sauna).to_contain_text("14.00")
    expect(sauna.locator("td").nth(6)).to_have_text("Ben")

    # A wrong price is refused in plain words, and nothing is saved.
    sauna.get_by_role("button", name="Edit").click()
    form_field(tab, "services", "price").fill("14.999")
    tab.locator("#services-save").click()
    expect(tab.locator("#office-error")).to_contain_text("Please check the form")
    shot(tab, "office-service-refused")
    catalog = requests.get(f"{spa.url}/api/services", headers={"Authorization": f"Bearer {spa.token('kiosk-1')}"})
    assert {s["name"]: s["price"] for s in catalog.json()["services"]}["Sauna"] == "14.00"

    # Staff: a new cashier, and the PIN shown once.
    tab.locator('#office-tabs [data-tab="staff"]').click()
    expect(tab.locator('#staff-table tr[data-name="Dana"]')).to_contain_text("Admin")
    form_field(tab, "staff", "name").fill("Eve")
    form_field(tab, "staff", "role").select_option("cashier")
    tab.locator("#staff-save").click()
    once = tab.locator("#once")
    expect(once).to_be_visible()
    expect(tab.locator("#once-title")).to_have_text("The PIN for Eve")
    pin = tab.locator("#once-secret").inner_text()
    assert re.fullmatch(r"[0-9]{4}", pin), pin
    shot(tab, "office-staff-pin")
    tab.locator("#once-close").click()
    expect(once).to_be_hidden()
    assert pin not in tab.content()  # shown once: gone from the page
    eve = tab.locator('#staff-table tr[data-name="Eve"]')
    expect(eve).to_contain_text("Cashier")
    staff = requests.get(f"{spa.url}/api/staff", timeout=5).json()["staff"]
    eve_id = next(s["id"] for s in staff if s["name"] == "Eve")
    signed = requests.post(f"{spa.url}/api/sign-in", json={"staff_id": eve_id, "pin": pin}, timeout=10)
    assert signed.json()["ok"] is True

    # Switched off, then on again, with the toggle.
    eve.locator("input[data-toggle]").uncheck()
    expect(tab.locator("#office-notice")).to_have_text("Eve is switched off.")
    expect(eve).to_have_class("inactive")
    fits(tab)
    shot(tab, "office-staff")


def test_devices_revoked_and_the_screen_signed_out(
    screens: Screens, spa: Spa, shot: Callable[[Any, str], Path]
) -> None:
    lobby = screens.open("lobby", "lobby-1", size=DESK)  # online: connected with its token
    tab = office(screens)
    tab.locator('#office-tabs [data-tab="devices"]').click()
    row = tab.locator('#devices-table tr[data-name="lobby-1"]')
    expect(row).to_contain_text("Lobby screen")
    shot(tab, "office-devices")

    row.get_by_role("button", name="Revoke").click()
    expect(tab.locator("#office-notice")).to_have_text("lobby-1 is revoked: its screen was signed out.")
    expect(row).to_contain_text("Revoked")
    # The lobby is closed by the server and its token refused when it asks again.
    expect(lobby.locator("html")).to_have_attribute("data-connection", "refused", timeout=20_000)
    expect(lobby.locator("#connection")).to_contain_text("not authorised")
    shot(lobby, "office-revoked-lobby")

    # A new token for it: shown once, with the address and its QR code.
    row.get_by_role("button", name="New token").click()
    expect(tab.locator("#once-title")).to_have_text("Open lobby-1 with this address")
    url = tab.locator("#once-url").inner_text()
    assert re.fullmatch(rf"{re.escape(spa.url)}/lobby#token=dv_\d+_\S+", url), url
    expect(tab.locator("#once-qr-img")).to_be_visible()
    assert tab.locator("#once-qr-img").evaluate("(img) => img.complete && img.naturalWidth > 0")
    shot(tab, "office-device-address")
    tab.locator("#once-close").click()
    reopened = screens.open("lobby", size=DESK, online=False)
    reopened.goto(url)
    expect(reopened.locator("html")).to_have_attribute("data-connection", "online", timeout=15_000)

    # A new device, added with its room.
    form_field(tab, "devices", "name").fill("room-3")
    form_field(tab, "devices", "role").select_option("room")
    form_field(tab, "devices", "room").select_option("Room 3")
    tab.locator("#devices-save").click()
    expect(tab.locator("#once-url")).to_contain_text("/therapist#token=dv_")
    tab.locator("#once-close").click()
    expect(tab.locator('#devices-table tr[data-name="room-3"]')).to_contain_text("Room 3")


def test_settings_rooms_and_changes(screens: Screens, spa: Spa, shot: Callable[[Any, str], Path]) -> None:
    tab = office(screens)
    tab.locator('#office-tabs [data-tab="rooms"]').click()
    form_field(tab, "rooms", "name").fill("Garden")
    tab.locator("#rooms-save").click()
    expect(tab.locator('#rooms-table tr[data-name="Garden"]')).to_be_visible()

    tab.locator('#office-tabs [data-tab="settings"]').click()
    expect(form_field(tab, "settings", "spa_name")).to_have_value("Serenity Spa")
    form_field(tab, "settings", "spa_name").fill("Lotus Garden Spa")
    form_field(tab, "settings", "always_open").uncheck()
    form_field(tab, "settings", "open_monday").check()
    form_field(tab, "settings", "from_monday").fill("10:00")
    form_field(tab, "settings", "to_monday").fill("19:00")
    fits(tab)
    shot(tab, "office-settings")
    tab.locator("#settings-save").click()
    expect(tab.locator("#office-notice")).to_have_text("The settings were saved.")
    expect(tab.locator("#office-spa")).to_have_text("Lotus Garden Spa")

    # A closing before the opening is refused, and said so.
    form_field(tab, "settings", "to_monday").fill("08:00")
    tab.locator("#settings-save").click()
    expect(tab.locator("#office-error")).to_have_text("Monday: the closing time must come after the opening time.")

    tab.locator('#office-tabs [data-tab="changes"]').click()
    rows = tab.locator("#changes-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Settings changed")
    expect(rows.first).to_contain_text("Spa name: Serenity Spa → Lotus Garden Spa")
    expect(rows.first).to_contain_text("Opening hours: Always open → Monday 10:00–19:00")
    expect(rows.nth(1)).to_contain_text("Room added")
    expect(rows.first).to_contain_text("Dana")
    shot(tab, "office-changes")

    # The name everywhere: the landing page and the screens.
    landing = screens.open("", size=DESK, online=False)
    expect(landing.locator("#spa-name")).to_have_text("Lotus Garden Spa")
    expect(landing).to_have_title("Lotus Garden Spa")

    # The reports link, and the sign-in it reuses (sessionStorage "spa.office.token").
    assert tab.locator("#reports-link").get_attribute("href") == "/office/reports"
    assert str(tab.evaluate("() => sessionStorage.getItem('spa.office.token')")).startswith("ss_")

    # Signing out: back to the names; a reload stays signed out.
    tab.locator("#office-signout").click()
    expect(tab.locator(".signin-person")).to_have_count(1)
    tab.reload()
    expect(tab.locator(".signin-person")).to_have_text("Dana")


@pytest.mark.shared_server
def test_the_landing_page(screens: Screens, spa: Spa, shot: Callable[[Any, str], Path]) -> None:
    tab = screens.open("", size=DESK, online=False)
    expect(tab.locator("#spa-name")).to_have_text("Serenity Spa")
    for page in ("kiosk", "therapist", "cashier", "desk", "lobby"):
        expect(tab.locator(f"#link-{page}")).to_have_attribute("href", f"/{page}")
    expect(tab.locator("#link-office")).to_have_text("Back office sign-in")
    fits(tab)
    shot(tab, "landing")
    tab.locator("#link-office").click()
    expect(tab).to_have_url(f"{spa.url}/office")
    expect(tab.locator(".signin-person")).to_have_text("Dana")


def test_a_wrong_pin_and_a_session_that_ended(screens: Screens, spa: Spa) -> None:
    tab = screens.open("office", size=DESK, online=False)
    sign_in(tab, "Dana", "000000")
    expect(tab.locator(".signin-error")).to_have_text("Wrong PIN. Please try again.")
    tab.locator('.signin-keys [data-key="back"]').click()
    sign_in(tab, "Dana", "999999")
    expect(tab.locator("#services-table tbody tr")).to_have_count(7)
    token = tab.evaluate("() => sessionStorage.getItem('spa.office.token')")
    requests.post(f"{spa.url}/api/sign-out", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    tab.locator('#office-tabs [data-tab="rooms"]').click()
    expect(tab.locator("#office-error")).to_have_text("Your sign-in has ended. Please sign in again.")
    expect(tab.locator(".signin-person")).to_have_text("Dana")

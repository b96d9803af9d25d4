"""The screens speak the spa's language (`SPA_LANGUAGE`, or the office's setting): the German
tables are used, with English for any word not translated yet. The kiosk and the phone page have
a language button for the customer's own; the kiosk forgets it when the visit is over."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Screens, Spa, assert_fits, wait_online
from tests.browser.kiosk_keys import type_name
from tests.support import LiveServer, load_demo, sqlite_database


def test_a_german_spa_gets_german_screens(browser: Any, tmp_path: Path, shot: Any) -> None:
    url = sqlite_database(tmp_path)
    people = load_demo(url)
    server = LiveServer(url, tmp_path, SPA_NAME="Serenity Spa", SPA_CURRENCY="€", SPA_LANGUAGE="de").start()
    screens = Screens(browser, Spa(server, people))
    try:
        kiosk = screens.open("kiosk", "kiosk-1")
        expect(kiosk.locator("body")).to_contain_text("Zum Starten berühren")
        expect(kiosk.locator("body")).not_to_contain_text("Touch to start")
        shot(kiosk, "kiosk-de")
        lobby = screens.open("lobby", "lobby-1", size=(1920, 1080))
        expect(lobby.locator("html")).to_have_attribute("data-connection", "online")
        assert not screens.problems, screens.problems
    finally:
        screens.close()
        server.stop()


# ---- the customer's language button (kiosk 800×480, phone 390×844) ------------------------------

KIOSK = (800, 480)
PHONE = (390, 844)

# The rectangles of the language button and of every other visible thing beside it (`others`,
# a selector): a button that covers a word or a control would show here.
OVERLAPS_JS = """([button, others]) => {
  const box = document.querySelector(button).getBoundingClientRect();
  const hit = (r) => r.width > 0 && r.height > 0 &&
    r.left < box.right && box.left < r.right && r.top < box.bottom && box.top < r.bottom;
  return [...document.querySelectorAll(others)]
    .filter((el) => !el.hidden && hit(el.getBoundingClientRect()))
    .map((el) => el.id || el.className || el.tagName);
}"""


def language_button_fits(tab: Any, button: str, others: str) -> None:
    size = tab.locator(button).bounding_box()
    assert size and size["width"] >= 48 and size["height"] >= 48, size
    assert tab.evaluate(OVERLAPS_JS, [button, others]) == []


def chosen(tab: Any) -> Any:
    return tab.evaluate("sessionStorage.getItem('spa.language')")


def test_kiosk_customer_switches_to_german_and_the_next_one_starts_in_english(
    screens: Screens, spa: Spa, shot: Any
) -> None:
    kiosk = screens.open("kiosk", "kiosk-1", size=KIOSK, touch=True, idle=600, ticket=4, cancel=600)
    expect(kiosk.locator("#start")).to_have_text("Touch to start")
    button = kiosk.locator("#attract .language-button")
    expect(button).to_have_text("Deutsch")
    assert button.get_attribute("lang") == "de"
    language_button_fits(kiosk, "#attract .language-button", "#attract > :not(.language-slot)")
    assert_fits(kiosk, "kiosk attract with the language button")
    shot(kiosk, "language-kiosk-attract-en-800x480")

    button.tap()
    expect(kiosk.locator("#start")).to_have_text("Zum Starten berühren")
    expect(kiosk.locator("html")).to_have_attribute("lang", "de")
    expect(kiosk.locator("#attract .language-button")).to_have_text("English")
    wait_online(kiosk)
    assert chosen(kiosk) == "de"
    shot(kiosk, "language-kiosk-attract-de-800x480")

    kiosk.locator("#start").tap()
    title = kiosk.locator("#order .bar h1")
    expect(title).to_have_text("Wählen Sie Ihre Anwendungen")
    kiosk.locator(".card", has_text="Facial").first.tap()
    expect(kiosk.locator("#cart-lines .cart-line")).to_have_count(1)
    # Switching on the catalog keeps the screen and the cart: English, then German again.
    kiosk.locator("#order .language-button").tap()
    expect(title).to_have_text("Choose your treatments")
    expect(kiosk.locator("#cart-lines .cart-line")).to_have_count(1)
    expect(kiosk.locator("#cart-lines .line-name")).to_have_text("Facial")
    kiosk.locator("#order .language-button").tap()
    expect(title).to_have_text("Wählen Sie Ihre Anwendungen")
    expect(kiosk.locator("#cart-lines .cart-line")).to_have_count(1)
    wait_online(kiosk)
    language_button_fits(kiosk, "#order .language-button", "#order .bar > :not(.language-slot)")
    assert_fits(kiosk, "kiosk catalog with the language button")
    shot(kiosk, "language-kiosk-catalog-de-800x480")

    # The order in German; the keyboard and the name screen speak it too.
    kiosk.locator("#to-name").tap()
    expect(kiosk.locator("#name .bar h1")).to_have_text("Ihr Name")
    assert kiosk.locator("#name .language-button").count() == 0  # no switching with an order under way
    type_name(kiosk, "Maria")
    kiosk.locator("#confirm").tap()
    expect(kiosk.locator("#ticket")).to_be_visible()
    expect(kiosk.locator("#ticket-code")).to_have_text(re.compile(r"^A-\d{3}$"))
    expect(kiosk.locator(".ticket-intro")).to_have_text("Ihre Nummer")
    expect(kiosk.locator("#ticket-done")).to_have_text("Fertig")
    shot(kiosk, "language-kiosk-ticket-de-800x480")

    # The ticket times out: the next customer finds the spa's language, and no choice left over.
    expect(kiosk.locator("#start")).to_have_text("Touch to start", timeout=15_000)
    expect(kiosk.locator("#attract")).to_be_visible()
    expect(kiosk.locator("html")).to_have_attribute("lang", "en")
    expect(kiosk.locator("#attract .language-button")).to_have_text("Deutsch")
    assert chosen(kiosk) is None
    wait_online(kiosk)
    shot(kiosk, "language-kiosk-attract-after-visit-800x480")


def test_kiosk_language_left_on_the_attract_screen_goes_back_to_the_default(screens: Screens, spa: Spa) -> None:
    kiosk = screens.open("kiosk", "kiosk-1", size=KIOSK, touch=True, idle=2)
    kiosk.locator("#attract .language-button").tap()
    expect(kiosk.locator("#start")).to_have_text("Zum Starten berühren")
    # Nobody starts an order: after the idle time the kiosk speaks the spa's language again.
    expect(kiosk.locator("#start")).to_have_text("Touch to start", timeout=15_000)
    assert chosen(kiosk) is None
    wait_online(kiosk)


def test_phone_page_switches_to_german_and_keeps_it(screens: Screens, spa: Spa, shot: Any) -> None:
    client = spa.client("kiosk-1")
    try:
        ack = client.call("customer_confirm_selection", {"customer_name": "Lena", "items": [{"service_id": 6}]})
    finally:
        client.close()
    assert ack["ok"], ack
    phone = screens.open(ack["ticket_path"].lstrip("/"), size=PHONE, touch=True, online=False)
    expect(phone.locator("#code")).to_have_text(ack["code"])
    expect(phone.locator(".ticket-label")).to_have_text("Your ticket")
    button = phone.locator(".language-button")
    expect(button).to_have_text("Deutsch")
    language_button_fits(phone, ".language-button", ".bar h1, main > :not(.bar)")
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= PHONE[0]
    shot(phone, "language-phone-en-390x844")

    button.tap()
    expect(phone.locator(".ticket-label")).to_have_text("Ihr Ticket")
    expect(phone.locator("#facts dt").first).to_have_text("Ihr Platz in der Warteschlange")
    expect(phone.locator("#updated")).to_contain_text("Aktualisiert")
    expect(phone.locator("#code")).to_have_text(ack["code"])
    expect(phone.locator(".language-button")).to_have_text("English")
    expect(phone.locator("html")).to_have_attribute("lang", "de")
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= PHONE[0]
    shot(phone, "language-phone-de-390x844")

    # The phone keeps its customer's choice (unlike the kiosk, nobody else uses it).
    phone.reload()
    expect(phone.locator(".ticket-label")).to_have_text("Ihr Ticket")
    expect(phone.locator("#updated")).to_contain_text("Aktualisiert")
    assert chosen(phone) == "de"


THIRD_LANGUAGE = """new MutationObserver((changes, observer) => {
  const element = document.getElementById("page-config");
  let config;
  try {
    config = JSON.parse(element.textContent);
  } catch {
    return; // not there yet, or its text not all parsed yet
  }
  config.languages = ["en", "de", "fr"];
  element.textContent = JSON.stringify(config);
  observer.disconnect();
}).observe(document, { childList: true, subtree: true });"""


def test_kiosk_with_more_languages_offers_a_small_chooser(screens: Screens, spa: Spa, shot: Any) -> None:
    kiosk = screens.open("kiosk", "kiosk-1", size=KIOSK, touch=True, idle=600)

    # The server offers English and German; a third (without a table: its words fall back to
    # English), as a spa with more languages would have, goes into the page's configuration as
    # the page arrives (a rewritten response would lose Chromium's loopback permission).
    kiosk.add_init_script(THIRD_LANGUAGE)
    kiosk.reload()
    wait_online(kiosk)
    toggle = kiosk.locator("#attract .language-toggle")
    expect(toggle).to_have_text("English ▾")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.tap()
    options = kiosk.locator("#attract .language-option")
    expect(options).to_have_text(["Deutsch", "FR"])
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(kiosk.locator("#attract")).to_be_visible()  # opening the chooser did not start an order
    # The pressed button springs back (screens.css: 80 ms) before it is measured.
    kiosk.wait_for_function(
        "() => getComputedStyle(document.querySelector('#attract .language-toggle')).transform === 'none'"
    )
    assert_fits(kiosk, "kiosk attract with the language chooser open")
    shot(kiosk, "language-kiosk-chooser-800x480")
    options.filter(has_text="Deutsch").tap()
    expect(kiosk.locator("#start")).to_have_text("Zum Starten berühren")
    expect(kiosk.locator("#attract .language-toggle")).to_have_text("Deutsch ▾")
    wait_online(kiosk)

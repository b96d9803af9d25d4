"""Issue 11 on the customer-facing screens, in Chromium at their real sizes: the kiosk (800×480)
refusing politely when the queue is closed or full, its keyboard, its ticket with the wait as a
time of day, the room and a QR code of the phone page, and a ticket the next customer cannot
cancel; the phone page (390×844) in plain words; the lobby TV (1920×1080) naming rooms, hiding
priority, speaking only with a voice, and drawing Chinese and emoji names with real glyphs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import update

from server.db.engine import Database
from server.db.models import Service
from server.service.spa_settings import Defaults, SpaSettings
from tests.support import LiveServer, load_demo, sqlite_database, wait_until

from .conftest import Screens, Spa, assert_fits
from .kiosk_keys import type_name

pytestmark = pytest.mark.browser

KIOSK = (800, 480)
PHONE = (390, 844)
TV = (1920, 1080)
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


# ---- a spa whose wall clock shows midday, so opening hours never straddle midnight ----------


def midday_zone() -> str:
    """A fixed-offset zone in which it is 11:xx as the module loads (so midday for an hour)."""
    offset = 11 - datetime.now(UTC).hour  # local = UTC + offset
    if offset > 14:
        offset -= 24
    if offset == 0:
        return "UTC"
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"  # Etc/GMT-3 is UTC+3


ZONE = midday_zone()


@contextmanager
def midday_spa(workdir: Path) -> Iterator[Spa]:
    url = sqlite_database(workdir)
    people = load_demo(url)
    server = LiveServer(url, workdir, SPA_NAME="Serenity Spa", SPA_CURRENCY="€", SPA_TIMEZONE=ZONE)
    server.start()
    try:
        yield Spa(server, people)
    finally:
        server.stop()


@pytest.fixture
def noon(browser: Any, tmp_path: Path) -> Iterator[tuple[Spa, Screens]]:
    with midday_spa(tmp_path) as spa:
        opened = Screens(browser, spa)
        try:
            yield spa, opened
        finally:
            opened.close()
        assert not opened.problems, "\n".join(opened.problems)


def local_now() -> datetime:
    return datetime.now(ZoneInfo(ZONE))


def put_settings(spa: Spa, **values: Any) -> None:
    """As the office changes them while the spa runs (the server sees them within seconds)."""
    db = Database(spa.server.database_url, pool_size=1, max_overflow=0)
    try:
        SpaSettings(db, Defaults()).put(values, "staff:4", datetime.now(UTC).replace(tzinfo=None))
    finally:
        db.dispose()


def hhmm(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def order_on_kiosk(kiosk: Any, service: str, name: str) -> None:
    kiosk.locator("#attract").tap()
    kiosk.locator(".card", has_text=service).first.tap()
    kiosk.locator("#to-name").tap()
    type_name(kiosk, name)


def staff_view(spa: Spa, transaction_id: int) -> dict[str, Any]:
    desk = spa.client("Erik")
    try:
        ack = desk.call("get_transaction", {"transaction_id": transaction_id})
    finally:
        desk.close()
    assert ack["ok"], ack
    return dict(ack["transaction"])


def kiosk_order(spa: Spa, name: str, service_id: int = 6) -> dict[str, Any]:
    kiosk = spa.client("kiosk-1")
    try:
        ack = kiosk.call("customer_confirm_selection", {"customer_name": name, "items": [{"service_id": service_id}]})
    finally:
        kiosk.close()
    assert ack["ok"], ack
    return dict(ack)


# ---- the kiosk --------------------------------------------------------------------------------


def test_keyboard_european_letters_digits_and_a_counted_limit(screens: Screens, spa: Spa, shot: Any) -> None:
    kiosk = screens.open("kiosk", "kiosk-1", size=KIOSK, touch=True, idle=600, ticket=600)
    kiosk.locator("#attract").tap()
    kiosk.locator(".card", has_text="Facial").tap()
    kiosk.locator("#to-name").tap()
    expect(kiosk.locator("#name-count")).to_have_text("0 / 60")
    # Only the name's first letter starts in capitals, shown as a pressed shift that can be undone.
    expect(kiosk.locator('#keyboard [data-key="shift"]')).to_have_attribute("aria-pressed", "true")
    expect(kiosk.locator('#keyboard [data-key="w"]')).to_have_text("W")
    assert_fits(kiosk, "kiosk name keyboard")
    shot(kiosk, "kiosk-day-keyboard-letters-800x480")

    # Every letter the issue names, on the keyboard's layers, each a full-size key on screen.
    wanted = "łżčšřőşğðþ" + "ąćęńóśźžůűěďťňľĺŕ" + "àâçéèêëîïôöùûüÿæœßñ" + "0123456789" + ".-'"
    found = {}
    for _ in range(3):
        for char in wanted:
            key = kiosk.locator(f'#keyboard [data-key="{char}"]')
            if key.count() and char not in found:
                box = key.bounding_box()
                found[char] = box
                assert box["width"] >= 47.5 and box["height"] >= 47.5, (char, box)
                assert box["x"] >= 0 and box["x"] + box["width"] <= KIOSK[0] + 0.5, (char, box)
                assert box["y"] + box["height"] <= KIOSK[1] + 0.5, (char, box)
        assert_fits(kiosk, "kiosk keyboard layer")
        shot(kiosk, f"kiosk-day-keyboard-layer-{len(found)}-800x480")
        kiosk.locator('#keyboard [data-key="layer"]').tap()
    assert set(wanted) <= set(found), f"missing keys: {sorted(set(wanted) - set(found))}"
    expect(kiosk.locator('#keyboard [data-key="q"]')).to_be_visible()  # back on the letters

    # Names kept as typed: no capital forced on "van der", accented capitals with shift.
    name = "Łucja van der Żółć-Şahin O'Brien Jr. 2"
    type_name(kiosk, name)
    expect(kiosk.locator("#name-value")).to_have_text(name)
    expect(kiosk.locator("#name-count")).to_have_text(f"{len(name)} / 60")
    shot(kiosk, "kiosk-day-keyboard-name-800x480")

    # The limit is shown and counted, and saying so beats cutting silently.
    kiosk.keyboard.type("x" * (60 - len(name)))
    expect(kiosk.locator("#name-count")).to_have_text("60 / 60")
    expect(kiosk.locator("#name-count")).to_have_class(re.compile(r"\bfull\b"))
    kiosk.locator('#keyboard [data-key="a"]').tap()
    expect(kiosk.locator("#name-error")).to_have_text("A name can have at most 60 characters.")
    expect(kiosk.locator("#name-value")).to_have_text(name + "x" * (60 - len(name)))
    assert_fits(kiosk, "kiosk name at its limit")
    shot(kiosk, "kiosk-day-keyboard-limit-800x480")
    for _ in range(60 - len(name)):
        kiosk.locator('#keyboard [data-key="backspace"]').tap()
    expect(kiosk.locator("#name-count")).not_to_have_class(re.compile(r"\bfull\b"))

    # The server stores the name exactly as typed.
    kiosk.locator("#confirm").tap()
    expect(kiosk.locator("#ticket-code")).to_have_text("A-001")
    view = staff_view(spa, 1)
    assert view["customer_name"] == name


def test_a_long_service_name_keeps_its_price_in_view(screens: Screens, spa: Spa, shot: Any) -> None:
    long_name = "Signature hot stone and warm herbal poultice full body massage with scalp ritual and foot bath"
    db = Database(spa.server.database_url, pool_size=1, max_overflow=0)
    try:
        with db.write() as session:
            session.execute(update(Service).where(Service.name == "Hot stone massage").values(name=long_name))
    finally:
        db.dispose()
    kiosk = screens.open("kiosk", "kiosk-1", size=KIOSK, touch=True, idle=600)
    kiosk.locator("#attract").tap()
    card = kiosk.locator(".card", has_text="Signature hot stone")
    card.tap()
    expect(kiosk.locator("#cart-lines li")).to_have_count(1)
    for card_el in kiosk.locator(".card").all():
        box, price = card_el.bounding_box(), card_el.locator(".card-price").bounding_box()
        name_box = card_el.locator(".card-name").bounding_box()
        assert price["width"] > 0 and price["height"] > 0
        # The price sits inside its card, below the name, not pushed out or under it.
        assert price["x"] >= box["x"] - 0.5 and price["x"] + price["width"] <= box["x"] + box["width"] + 0.5
        assert price["y"] + price["height"] <= box["y"] + box["height"] + 0.5
        assert name_box["y"] + name_box["height"] <= price["y"] + 0.5
    expect(card.locator(".card-price")).to_have_text("€65.00")
    expect(card.locator(".card-price")).to_be_in_viewport()
    line = kiosk.locator("#cart-lines li").first
    expect(line.locator(".line-total")).to_have_text("€65.00")
    expect(line.locator(".line-total")).to_be_in_viewport()
    total_box, line_box = line.locator(".line-total").bounding_box(), line.bounding_box()
    assert total_box["x"] + total_box["width"] <= line_box["x"] + line_box["width"] + 0.5
    assert_fits(kiosk, "kiosk with a long service name")
    shot(kiosk, "kiosk-day-long-service-name-800x480")


def test_kiosk_refuses_politely_when_closed_late_or_full(noon: tuple[Spa, Screens], shot: Any) -> None:
    spa, screens = noon
    kiosk = screens.open("kiosk", "kiosk-1", size=KIOSK, touch=True, idle=600, ticket=600, intake=1)
    expect(kiosk.locator("#attract")).to_be_visible()
    now = local_now()

    # A day off: the closed screen says when the spa opens again, and takes no order.
    tomorrow = DAYS[(now.weekday() + 1) % 7]
    put_settings(spa, opening_hours={tomorrow: ["09:00", "18:00"]})
    expect(kiosk.locator("#closed")).to_be_visible(timeout=15_000)
    expect(kiosk.locator("#closed-title")).to_have_text("We are closed")
    expect(kiosk.locator("#closed-text")).to_contain_text("We open again at")
    expect(kiosk.locator("#closed-text")).to_contain_text("09:00")
    kiosk.locator("#closed").tap()
    expect(kiosk.locator("#order")).to_be_hidden()
    assert_fits(kiosk, "kiosk closed")
    shot(kiosk, "kiosk-day-closed-800x480")

    # Open, but within the last entry: the last entry and closing times in words.
    today = DAYS[now.weekday()]
    opens, closes = now - timedelta(hours=2), now + timedelta(minutes=20)
    put_settings(spa, opening_hours={today: [hhmm(opens), hhmm(closes)]}, last_entry_min=30)
    expect(kiosk.locator("#closed-title")).to_have_text("No new visits today", timeout=15_000)
    last_entry = hhmm(closes - timedelta(minutes=30))
    expect(kiosk.locator("#closed-text")).to_contain_text(f"The last entry was at {last_entry}.")
    expect(kiosk.locator("#closed-hours")).to_have_text(f"Today: last entry {last_entry}, closing {hhmm(closes)}.")
    shot(kiosk, "kiosk-day-last-entry-800x480")

    # Open again: the attract screen, with the wait a newcomer would get.
    closing = now + timedelta(hours=8)
    put_settings(spa, opening_hours={today: [hhmm(opens), hhmm(closing)]}, max_wait_min=None)
    expect(kiosk.locator("#attract")).to_be_visible(timeout=15_000)
    last = hhmm(closing - timedelta(minutes=30))
    expect(kiosk.locator("#attract-hours")).to_have_text(f"Open today until {hhmm(closing)} · last entry {last}")
    assert_fits(kiosk, "kiosk attract with today's hours")
    shot(kiosk, "kiosk-day-attract-hours-800x480")

    # Full while a customer is typing their name: the server's refusal in plain words, then the
    # closed screen explains; the order does not go through.
    for i in range(4):
        kiosk_order(spa, f"Guest {i}")  # a facial each: 45 min, for Anna and Ben
    order_on_kiosk(kiosk, "Facial", "Zoe")
    put_settings(spa, max_wait_min=30)
    wait_until(lambda: snapshot(spa)["intake"]["state"] == "full", what="the server sees the limit")
    kiosk.locator("#confirm").tap()
    expect(kiosk.locator("#closed")).to_be_visible(timeout=15_000)
    expect(kiosk.locator("#closed-title")).to_have_text("The queue is full")
    expect(kiosk.locator("#closed-text")).to_contain_text("Please ask at reception or come back later.")
    assert_fits(kiosk, "kiosk full")
    shot(kiosk, "kiosk-day-full-800x480")
    assert [w["code"] for w in snapshot(spa)["waiting"]] == ["A-001", "A-002", "A-003", "A-004"]  # no Zoe

    # No limit any more: the kiosk opens by itself.
    put_settings(spa, max_wait_min=None)
    expect(kiosk.locator("#attract")).to_be_visible(timeout=15_000)
    expect(kiosk.locator("#attract-wait")).to_contain_text("Waiting now: about")


def snapshot(spa: Spa) -> dict[str, Any]:
    desk = spa.client("Erik")
    try:
        return dict(desk.call("queue_snapshot"))
    finally:
        desk.close()


def test_ticket_wait_as_time_of_day_room_qr_and_no_cancel_for_the_next(noon: tuple[Spa, Screens], shot: Any) -> None:
    spa, screens = noon
    # Anna and Ben are busy: the kiosk's customer waits for the first of them to be free.
    for name, therapist in (("First", "Anna"), ("Second", "Ben")):
        kiosk_order(spa, name)
        client = spa.client(therapist)
        try:
            assert client.call("therapist_confirm_next", {"room": "Room 3"})["ok"]
        finally:
            client.close()

    kiosk = screens.open("kiosk", "kiosk-1", size=KIOSK, touch=True, idle=600, ticket=600, cancel=600)
    order_on_kiosk(kiosk, "Facial", "Maria")
    kiosk.locator("#confirm").tap()
    expect(kiosk.locator("#ticket-code")).to_have_text("A-003")
    expect(kiosk.locator("#ticket-position")).to_have_text("1")
    wait_text = kiosk.locator("#ticket-wait").inner_text()
    minutes = int(re.fullmatch(r"(\d+) min", wait_text).group(1))  # type: ignore[union-attr]
    assert minutes > 0
    call_at = kiosk.locator("#ticket-call-at").inner_text()
    shown = datetime.strptime(re.fullmatch(r"about (\d\d:\d\d)", call_at).group(1), "%H:%M")  # type: ignore[union-attr]
    expected = local_now() + timedelta(minutes=minutes)
    drift = abs((shown.hour * 60 + shown.minute) - (expected.hour * 60 + expected.minute))
    assert drift <= 2, (call_at, expected)

    # Something to take away: a QR code of the phone page and its short address.
    qr = kiosk.locator("#ticket-qr")
    expect(qr).to_be_visible()
    src = qr.get_attribute("src")
    match = re.fullmatch(r"/t/([A-Za-z0-9_-]{16})/qr\.svg", src or "")
    assert match, src
    public_id = match.group(1)
    loaded = "() => { const img = document.querySelector('#ticket-qr'); return img.complete && img.naturalWidth > 0; }"
    kiosk.wait_for_function(loaded)  # an SVG without its namespace would never draw
    host = spa.url.split("//", 1)[1]
    expect(kiosk.locator("#ticket-address")).to_have_text(f"{host}/t/{public_id}")
    svg = requests.get(f"{spa.url}{src}", timeout=5)
    assert svg.status_code == 200 and svg.headers["Content-Type"].startswith("image/svg+xml")
    assert svg.text.startswith('<svg xmlns="http://www.w3.org/2000/svg"')  # else an <img> shows nothing
    assert_fits(kiosk, "kiosk ticket with QR")
    shot(kiosk, "kiosk-day-ticket-qr-800x480")

    # The phone page of that address: place, the wait as a time of day, in plain words.
    phone = screens.open("t/" + public_id, size=PHONE, touch=True, online=False)
    expect(phone.locator("#code")).to_have_text("A-003")
    expect(phone.locator("#name")).to_have_text("Maria")
    expect(phone.locator("#place")).to_have_text("1")
    expect(phone.locator("#wait")).to_have_text(re.compile(r"^about \d\d:\d\d$"))
    expect(phone.locator("#wait-minutes")).to_have_text(re.compile(r"^in about \d+ min$"))
    expect(phone.locator("#updated")).to_contain_text("Updated")
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= PHONE[0]
    shot(phone, "phone-ticket-waiting-390x844")

    # The next person touches the ticket away from its buttons: no cancelling the visit now.
    expect(kiosk.locator("#ticket-cancel")).to_be_visible()
    kiosk.locator("#ticket-code").tap()
    expect(kiosk.locator("#ticket-cancel")).to_be_hidden()
    expect(kiosk.locator("#ticket-code")).to_have_text("A-003")  # still there to read

    # Called: the room on the kiosk's ticket and on the phone.
    room = spa.client("room-1")
    try:
        assert room.call("therapist_confirm_next")["ok"]
    finally:
        room.close()
    expect(kiosk.locator("#ticket-room")).to_have_text("→ Room 1")
    expect(kiosk.locator("#ticket-status")).to_have_text("It is your turn! Please go to room 1.")
    assert_fits(kiosk, "kiosk ticket called")
    shot(kiosk, "kiosk-day-ticket-called-800x480")
    expect(phone.locator("#room")).to_have_text("Room 1", timeout=15_000)
    expect(phone.locator("#state")).to_have_text("It is your turn! Please go to Room 1.")
    expect(phone.locator("#facts")).to_be_hidden()
    shot(phone, "phone-ticket-called-390x844")

    # Done: the kiosk forgets the ticket (its id with it).
    kiosk.locator("#ticket-done").tap()
    expect(kiosk.locator("#attract")).to_be_visible()
    assert kiosk.locator("#ticket-qr").get_attribute("src") is None
    assert public_id not in kiosk.content()


def test_the_cancel_offer_ends_and_a_cancel_carries_the_ticket(screens: Screens, spa: Spa) -> None:
    kiosk = screens.open("kiosk", "kiosk-1", size=KIOSK, touch=True, idle=600, ticket=600, cancel=2)
    sent: list[str] = []
    kiosk.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(str(frame))))
    kiosk.reload()
    kiosk.wait_for_selector('html[data-connection="online"]', state="attached")
    order_on_kiosk(kiosk, "Facial", "Ida")
    kiosk.locator("#confirm").tap()
    expect(kiosk.locator("#ticket-code")).to_have_text("A-001")
    expect(kiosk.locator("#ticket-cancel")).to_be_visible()
    # The customer who ordered has a short while; then the offer goes by itself.
    expect(kiosk.locator("#ticket-cancel")).to_be_hidden(timeout=6000)
    assert snapshot(spa)["waiting"][0]["code"] == "A-001"

    kiosk.locator("#ticket-done").tap()
    order_on_kiosk(kiosk, "Facial", "Jo")
    kiosk.locator("#confirm").tap()
    expect(kiosk.locator("#ticket-code")).to_have_text("A-002")
    kiosk.locator("#ticket-cancel").tap()
    kiosk.locator("#ticket-cancel-yes").tap()
    expect(kiosk.locator("#ticket-status")).to_have_text("Your visit has been cancelled.")
    cancels = [f for f in sent if "cancel_transaction" in f]
    assert cancels and re.search(r'"ticket":"[A-Za-z0-9_-]{16}"', cancels[0]), cancels


def test_phone_page_says_cancelled_and_no_show_in_plain_words(screens: Screens, spa: Spa, shot: Any) -> None:
    gone = kiosk_order(spa, "Gone")
    missed = kiosk_order(spa, "Missed")
    desk, room = spa.client("Erik"), spa.client("room-2")
    try:
        phone_gone = screens.open(gone["ticket_path"].lstrip("/"), size=PHONE, touch=True, online=False)
        phone_missed = screens.open(missed["ticket_path"].lstrip("/"), size=PHONE, touch=True, online=False)
        expect(phone_gone.locator("#place")).to_have_text("1")
        expect(phone_missed.locator("#place")).to_have_text("2")
        assert desk.call("cancel_transaction", {"transaction_id": gone["transaction_id"], "reason": "left"})["ok"]
        claim = room.call("therapist_confirm_next")
        assert claim["ok"] and claim["transaction"]["code"] == missed["code"]
        expect(phone_missed.locator("#room")).to_have_text("Room 2", timeout=15_000)
        assert desk.call("front_desk_no_show", {"transaction_id": missed["transaction_id"]})["ok"]
    finally:
        desk.close()
        room.close()
    expect(phone_gone.locator("#state")).to_have_text("This visit has been cancelled.", timeout=15_000)
    expect(phone_gone.locator("#facts")).to_be_hidden()
    shot(phone_gone, "phone-ticket-cancelled-390x844")
    expect(phone_missed.locator("#state")).to_have_text(
        "You were called but did not come. Please ask at reception: they can put you back in the queue.",
        timeout=15_000,
    )
    expect(phone_missed.locator("#room")).to_be_hidden()
    shot(phone_missed, "phone-ticket-no-show-390x844")

    unknown = screens.open("t/AAAAAAAAAAAAAAAA", size=PHONE, online=False)
    expect(unknown.locator("#error")).to_have_text("This ticket was not found. Please ask at reception.")


# ---- the lobby --------------------------------------------------------------------------------

# A voice, as a browser with a speech engine has: what the page is given, and what it said.
FAKE_VOICE = """() => {
  const said = [];
  window.spokenByEngine = said;
  const voice = { lang: "en-GB", name: "espeak-ng English", default: true, localService: true, voiceURI: "en-GB" };
  // Real voices are SpeechSynthesisVoice objects, which a page cannot make: utterances here take any.
  window.SpeechSynthesisUtterance = class {
    constructor(text) { this.text = text; this.lang = ""; this.voice = null; }
  };
  const synth = window.speechSynthesis;
  synth.getVoices = () => [voice];
  synth.speak = (utterance) => {
    said.push(utterance.text);
    setTimeout(() => utterance.onstart && utterance.onstart(new Event("start")), 10);
    setTimeout(() => utterance.onend && utterance.onend(new Event("end")), 20);
  };
}"""


def test_lobby_names_rooms_hides_priority_and_speaks_only_with_a_voice(screens: Screens, spa: Spa, shot: Any) -> None:
    first, second, third = (kiosk_order(spa, name) for name in ("Ada", "Bo", "Cy"))
    lobby = screens.open("lobby", "lobby-1", size=TV, announce=1)  # Chromium here: no voice
    expect(lobby.locator("#waiting li")).to_have_count(3)
    expect(lobby.locator("#voice-note")).to_have_text("No voice installed: calls are chimed and shown, not spoken")

    # Priority moves Cy to the front of the call order, and the screen shows no more than that.
    desk = spa.client("Erik")
    try:
        ack = desk.call("front_desk_priority", {"transaction_id": third["transaction_id"], "priority": True})
        assert ack["ok"], ack
    finally:
        desk.close()
    codes = lobby.locator("#waiting li")
    expect(codes.first).to_have_attribute("data-code", third["code"])
    assert [c.get_attribute("data-code") for c in codes.all()] == [third["code"], first["code"], second["code"]]
    board = lobby.inner_text("main").lower()
    assert "priority" not in board and "vip" not in board
    assert "priority" not in lobby.locator("#waiting").inner_html().lower()

    room = spa.client("room-2")
    try:
        assert room.call("therapist_confirm_next")["ok"]
    finally:
        room.close()
    called = lobby.locator(f'#serving li[data-code="{third["code"]}"]')
    expect(called).to_contain_text("→ Room 2")
    log = lobby.evaluate("window.spaLobby.announcements")
    assert [a["text"] for a in log] == ["A 3, Cy, please go to room 2."]
    assert log[0]["voice"] and not log[0]["spoken"] and log[0]["unspoken"] == "no voice"
    assert_fits(lobby, "lobby TV")
    shot(lobby, "lobby-day-room-no-voice-1920x1080")
    small = screens.open("lobby", "lobby-1", size=KIOSK, announce=1)  # the 7" display
    expect(small.locator("#voice-note")).to_be_visible()
    expect(small.locator(f'#serving li[data-code="{third["code"]}"]')).to_contain_text("→ Room 2")
    where = small.locator(f'#serving li[data-code="{third["code"]}"] .where')
    assert where.evaluate("(el) => el.scrollWidth <= el.clientWidth"), "the room is cut off at 800x480"
    assert_fits(small, "lobby 800x480 without a voice")
    shot(small, "lobby-day-no-voice-800x480")

    # The same call on a screen with a voice: spoken, and only then logged as spoken.
    voiced = screens.open("lobby", "lobby-1", size=TV, announce=1, online=False)
    voiced.add_init_script(f"({FAKE_VOICE})()")
    voiced.reload()
    voiced.wait_for_selector('html[data-connection="online"]', state="attached")
    expect(voiced.locator("#waiting li")).to_have_count(2)
    expect(voiced.locator("#voice-note")).to_be_hidden()
    room = spa.client("room-1")
    try:
        assert room.call("therapist_confirm_next")["ok"]
    finally:
        room.close()
    expect(voiced.locator(f'#serving li[data-code="{first["code"]}"]')).to_contain_text("→ Room 1")
    voiced.wait_for_function("() => window.spaLobby.announcements.some((a) => a.spoken)")
    assert voiced.evaluate("window.spokenByEngine") == ["A 1, Ada, please go to room 1."]
    entry = voiced.evaluate("window.spaLobby.announcements")[-1]
    assert entry["spoken"] and "unspoken" not in entry
    # …while the voiceless screen logged the same call, unspoken.
    lobby.wait_for_function("() => window.spaLobby.announcements.length === 2")
    assert not any(a["spoken"] for a in lobby.evaluate("window.spaLobby.announcements"))


@contextmanager
def speech_engine(workdir: Path) -> Iterator[dict[str, str]]:
    """speech-dispatcher with espeak-ng, as provisioning installs it on a lobby, on a socket of the
    test's own: the environment that points Chromium's speech at it. Stopped at the end."""
    binary = shutil.which("speech-dispatcher")
    assert binary, "speech-dispatcher is missing: apt-get install speech-dispatcher-espeak-ng (make install does)"
    socket_path = workdir / "speechd.sock"
    engine = subprocess.Popen(
        [binary, "--run-single", "-c", "unix_socket", "-S", str(socket_path), "-t", "60", "-L", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(socket_path.exists, timeout_s=15, what="speech-dispatcher's socket")
        yield {"SPEECHD_ADDRESS": f"unix_socket:{socket_path}"}
    finally:
        engine.terminate()
        try:
            engine.wait(5)
        except subprocess.TimeoutExpired:
            engine.kill()  # it waits for its output module; nothing of ours is left to say
            engine.wait(5)


def test_lobby_speaks_with_a_real_speech_engine(browser: Any, spa: Spa, tmp_path: Path, shot: Any) -> None:
    """Chromium as the appliance runs it (--enable-speech-dispatcher) with espeak-ng's voices: the
    call is handed to the engine, which starts saying it, and only then is it logged as spoken."""
    kiosk_order(spa, "Ada")
    with speech_engine(tmp_path) as env:
        voiced = browser.browser_type.launch(
            executable_path="/usr/bin/chromium",  # Debian's, as the appliances run it
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--enable-speech-dispatcher"],
            env={**os.environ, **env},
            headless=True,
        )
        screens = Screens(voiced, spa)
        try:
            lobby = screens.open("lobby", "lobby-1", size=TV, announce=1)
            lobby.wait_for_function("() => window.spaLobby.voices() > 0", timeout=20_000)
            expect(lobby.locator("#voice-note")).to_be_hidden()
            room = spa.client("room-1")
            try:
                assert room.call("therapist_confirm_next")["ok"]
            finally:
                room.close()
            expect(lobby.locator('#serving li[data-code="A-001"]')).to_contain_text("→ Room 1")
            lobby.wait_for_function("() => window.spaLobby.announcements.some((a) => a.spoken)", timeout=20_000)
            entry = lobby.evaluate("window.spaLobby.announcements")[-1]
            assert entry["text"] == "A 1, Ada, please go to room 1." and "unspoken" not in entry
            shot(lobby, "lobby-day-real-voice-1920x1080")
        finally:
            screens.close()
            voiced.close()
        assert not screens.problems, "\n".join(screens.problems)


# The page's own font stack drawing a string on a canvas: its width, and whether any pixel has
# colour (a colour emoji does; a missing glyph's box or a monochrome fallback does not).
GLYPHS_JS = """(text) => {
  const font = getComputedStyle(document.body).fontFamily;
  const canvas = document.createElement("canvas");
  canvas.width = 200; canvas.height = 120;
  const ctx = canvas.getContext("2d");
  ctx.font = `64px ${font}`;
  ctx.textBaseline = "top";
  ctx.fillStyle = "#000";
  ctx.fillText(text, 4, 4);
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let coloured = 0, inked = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 0) inked += 1;
    const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
    if (data[i + 3] > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 40) coloured += 1;
  }
  return { width: ctx.measureText(text).width, inked, coloured, font };
}"""
# A code point no font draws: what a missing glyph looks like here (U+10FFFD, private use).
TOFU = "\U0010fffd"


def test_chinese_and_emoji_names_render_with_real_glyphs(screens: Screens, spa: Spa, shot: Any) -> None:
    for name in ("王小明", "Zoë 🌸", "さくら", "김민준"):
        kiosk_order(spa, name)
    lobby = screens.open("lobby", "lobby-1", size=TV)
    expect(lobby.locator("#waiting li")).to_have_count(4)
    expect(lobby.locator('#waiting li[data-code="A-001"] .name')).to_have_text("王小明")
    expect(lobby.locator('#waiting li[data-code="A-002"] .name')).to_have_text("Zoë")  # first name only
    fonts = lobby.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Noto Sans CJK" in fonts and "Noto Color Emoji" in fonts, fonts

    tofu = lobby.evaluate(GLYPHS_JS, TOFU)
    for char in ("王", "小", "さ", "김"):
        glyph = lobby.evaluate(GLYPHS_JS, char)
        assert glyph["width"] > 0 and glyph["inked"] > 0, (char, glyph)
        assert glyph["width"] != tofu["width"], f"{char} draws as the missing-glyph box: {glyph} vs {tofu}"
    emoji = lobby.evaluate(GLYPHS_JS, "🌸")
    assert emoji["width"] > 0 and emoji["width"] != tofu["width"], (emoji, tofu)
    assert emoji["coloured"] > 50, f"🌸 is not drawn in colour: {emoji}"

    # The row on the TV is as wide as the glyphs, not as a row of boxes.
    widths = lobby.evaluate(
        """([name, tofu]) => {
          const probe = (text) => {
            const span = document.createElement("span");
            span.style.cssText = "position: absolute; white-space: nowrap";
            span.style.font = getComputedStyle(document.querySelector("#waiting li .name")).font;
            span.textContent = text;
            document.body.append(span);
            const width = span.getBoundingClientRect().width;
            span.remove();
            return width;
          };
          return [probe(name), probe(tofu.repeat(3))];
        }""",
        ["王小明", TOFU],
    )
    assert widths[0] > 0 and widths[0] != widths[1], widths
    shot(lobby, "lobby-day-cjk-emoji-1920x1080")

    phone = screens.open(f"t/{kiosk_order(spa, '🌸 Lin')['public_id']}", size=PHONE, online=False)
    expect(phone.locator("#name")).to_have_text("🌸")
    shot(phone, "phone-ticket-emoji-name-390x844")

    # A name is text, never markup, on the phone and on the TV.
    markup = "<img/src=x/onerror=window.pwned=1>"
    phone = screens.open(f"t/{kiosk_order(spa, markup)['public_id']}", size=PHONE, online=False)
    expect(phone.locator("#name")).to_have_text(markup)
    expect(lobby.locator("#waiting li .name", has_text="<img")).to_have_text(markup)
    assert phone.evaluate("window.pwned") is None and lobby.evaluate("window.pwned") is None
    assert phone.locator("#name img").count() == 0 and lobby.locator("#waiting img").count() == 0

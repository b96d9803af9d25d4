"""The front desk's screen (/desk, 1280×800) against a real server and real clients: sign-in with a
PIN, the queue in call order with priority and unservable marks, and each correction the server
allows — cancel with a reason, no-show and recall, hand back, transfer, pick out of order,
priority, remove an item, undo a start and a finish — with its refusal in plain words."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.request import urlopen

import pytest
from playwright.sync_api import expect

from server.db.engine import Database
from server.service.spa_settings import Defaults, SpaSettings
from tests.support import wait_until

from .conftest import Screens, Spa, assert_fits, sign_in

pytestmark = pytest.mark.browser

STAFF = (1280, 800)


def order(spa: Spa, name: str, *service_ids: int) -> dict[str, Any]:
    kiosk = spa.client("kiosk-1")
    try:
        ack = kiosk.call(
            "customer_confirm_selection",
            {"customer_name": name, "items": [{"service_id": s} for s in service_ids]},
        )
        assert ack["ok"], ack
        return dict(ack)
    finally:
        kiosk.close()


def transaction(spa: Spa, tid: int) -> dict[str, Any]:
    erik = spa.client("Erik")
    try:
        return dict(erik.call("get_transaction", {"transaction_id": tid})["transaction"])
    finally:
        erik.close()


def open_desk(screens: Screens) -> Any:
    desk = screens.open("desk", size=STAFF, online=False)
    expect(desk.locator(".signin-person")).to_have_count(3)  # Carla, Dana (admin), Erik: no therapists
    sign_in(desk, "Erik", "4444")
    expect(desk.locator("#desk-who")).to_have_text("Erik")
    expect(desk.locator("html")).to_have_attribute("data-connection", "online")
    return desk


def choose(desk: Any, code: str) -> None:
    desk.locator(f'.desk-row[data-code="{code}"]').click()
    expect(desk.locator("#d-code")).to_have_text(code)


def action(desk: Any, move: str) -> Any:
    return desk.locator(f'#d-actions [data-move="{move}"]')


def offered(desk: Any) -> set[str]:
    """The moves the screen offers for the chosen customer: its buttons, and removing an item."""
    moves = set(desk.locator("#d-actions [data-move]").evaluate_all("bs => bs.map((b) => b.dataset.move)"))
    return moves | ({"remove_item"} if desk.locator("#d-items .remove-item").count() else set())


def dialog_yes(desk: Any, choice: str | None = None) -> None:
    dialog = desk.locator("#dialog")
    expect(dialog).to_be_visible()
    if choice is not None:
        expect(desk.locator("#dialog-yes")).to_be_disabled()  # a reason or a person must be chosen first
        dialog.locator(".choice", has_text=choice).click()
    desk.locator("#dialog-yes").click()
    expect(dialog).to_be_hidden()


def test_the_desk_corrects_the_waiting_queue(screens: Screens, spa: Spa, shot: Any) -> None:
    greta = order(spa, "Greta Lind", 1)
    hans = order(spa, "Hans Berg", 4)  # a hot stone massage: only Anna does them
    ida = order(spa, "Ida Holm", 7, 5)
    desk = open_desk(screens)
    rows = desk.locator("#waiting .desk-row")
    expect(rows).to_have_count(3)
    assert rows.evaluate_all("rs => rs.map((r) => r.dataset.code)") == [greta["code"], hans["code"], ida["code"]]
    expect(desk.locator("#intake")).to_have_text("Kiosk open")

    # Anna goes off shift: nobody on shift does hot stone massages, and the desk says so.
    expect(desk.locator("#roster li")).to_have_count(2)
    desk.locator("#roster li", has_text="Anna").locator("button").click()
    expect(desk.locator("#roster li", has_text="Anna").locator("button")).to_have_text("Off shift")
    hans_row = desk.locator(f'#waiting [data-code="{hans["code"]}"]')
    expect(hans_row.locator(".mark-unservable")).to_have_text("Nobody on shift can do all of this")
    expect(desk.locator(f'#waiting [data-code="{greta["code"]}"] .mark-unservable')).to_have_count(0)
    shot(desk, "desk-unservable-1280x800")
    desk.locator("#roster li", has_text="Anna").locator("button").click()
    expect(hans_row.locator(".mark-unservable")).to_have_count(0)

    # Priority (an appointment that arrived): called first, marked.
    choose(desk, ida["code"])
    assert offered(desk) == {"assign", "prioritise", "cancel"}
    action(desk, "prioritise").click()
    dialog_yes(desk, "Appointment")
    expect(desk.locator("#desk-notice")).to_have_text(f"{ida['code']} has priority.")
    expect(rows.first).to_have_attribute("data-code", ida["code"])
    expect(rows.first.locator(".mark-priority")).to_have_text("Priority · Appointment")
    assert transaction(spa, ida["transaction_id"])["priority_reason"] == "appointment"

    # Picked out of order for a therapist: Ben cannot do Hans's hot stone massage, Anna can.
    choose(desk, hans["code"])
    action(desk, "assign").click()
    expect(desk.locator("#dialog .choice", has_text="Ben")).to_be_disabled()
    expect(desk.locator("#dialog .choice", has_text="Ben")).to_contain_text("cannot do all of it")
    shot(desk, "desk-assign-dialog-1280x800")
    dialog_yes(desk, "Anna")
    serving = desk.locator(f'#serving [data-code="{hans["code"]}"]')
    expect(serving).to_contain_text("Called · Anna")
    assert transaction(spa, hans["transaction_id"])["therapist"]["name"] == "Anna"

    # Cancelled with a reason, after asking; "Back" keeps the visit.
    choose(desk, greta["code"])
    action(desk, "cancel").click()
    desk.locator("#dialog-no").click()
    expect(desk.locator("#dialog")).to_be_hidden()
    expect(desk.locator(f'#waiting [data-code="{greta["code"]}"]')).to_be_visible()
    action(desk, "cancel").click()
    expect(desk.locator("#dialog-title")).to_have_text(f"Cancel the visit of {greta['code']} Greta Lind? Why?")
    shot(desk, "desk-cancel-dialog-1280x800")
    dialog_yes(desk, "Left")
    expect(desk.locator(f'#waiting [data-code="{greta["code"]}"]')).to_have_count(0)
    expect(desk.locator("#desk-notice")).to_have_text(f"{greta['code']} was cancelled.")
    cancelled = transaction(spa, greta["transaction_id"])
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "left")

    # A refusal in plain words: the customer was taken while the dialog was open.
    choose(desk, ida["code"])
    action(desk, "cancel").click()
    ben = spa.client("Ben")
    try:
        assert ben.call("therapist_confirm_next")["transaction"]["id"] == ida["transaction_id"]  # priority first
        ben.call("therapist_start_service", {"transaction_id": ida["transaction_id"]})
    finally:
        ben.close()
    desk.locator("#dialog .choice", has_text="Duplicate").click()
    desk.locator("#dialog-yes").click()
    expect(desk.locator("#desk-error")).to_contain_text("That is not possible right now:")
    expect(desk.locator("#dialog")).to_be_hidden()
    assert transaction(spa, ida["transaction_id"])["status"] == "in_service"
    assert_fits(desk, "the desk with its queue")
    shot(desk, "desk-refusal-1280x800")


def test_the_desk_corrects_called_and_served_customers(screens: Screens, spa: Spa, shot: Any) -> None:
    jon = order(spa, "Jon Falk", 1, 5)
    kim = order(spa, "Kim Roos", 7)
    desk = open_desk(screens)
    anna, ben = spa.client("Anna"), spa.client("Ben")
    try:
        assert anna.call("therapist_confirm_next", {"room": "Room 1"})["transaction"]["id"] == jon["transaction_id"]
        assert ben.call("therapist_confirm_next", {"room": "Room 2"})["transaction"]["id"] == kim["transaction_id"]

        # Called: the therapist and the room; no-show, hand back, transfer, cancel, remove an item.
        jon_row = desk.locator(f'#serving [data-code="{jon["code"]}"]')
        expect(jon_row).to_contain_text("Called · Anna · Room 1")
        choose(desk, jon["code"])
        assert offered(desk) == {"no_show", "give_back", "transfer", "cancel", "remove_item"}
        shot(desk, "desk-called-1280x800")

        # No-show, then recalled to the original place within the window.
        action(desk, "no_show").click()
        dialog_yes(desk)
        no_show = desk.locator(f'#no-shows [data-code="{jon["code"]}"]')
        expect(no_show).to_contain_text(re.compile(r"(29|30) min left to recall"))
        choose(desk, jon["code"])
        assert offered(desk) == {"recall", "cancel"}
        shot(desk, "desk-no-show-1280x800")
        action(desk, "recall").click()
        expect(desk.locator(f'#waiting [data-code="{jon["code"]}"]')).to_be_visible()
        expect(no_show).to_have_count(0)
        assert transaction(spa, jon["transaction_id"])["status"] == "pending_therapist"

        # Transferred from Ben to Anna: Anna holds the claim now, in her room.
        choose(desk, kim["code"])
        action(desk, "transfer").click()
        expect(desk.locator("#dialog .choice")).to_have_count(1)  # not Ben himself
        dialog_yes(desk, "Anna")
        kim_row = desk.locator(f'#serving [data-code="{kim["code"]}"]')
        expect(kim_row).to_contain_text("Called · Anna")
        assert transaction(spa, kim["transaction_id"])["therapist"]["name"] == "Anna"

        # Handed back: waiting again at its original place, after Jon who came first.
        choose(desk, kim["code"])
        action(desk, "give_back").click()
        dialog_yes(desk)
        expect(desk.locator("#waiting .desk-row")).to_have_count(2)
        order_now = desk.locator("#waiting .desk-row").evaluate_all("rs => rs.map((r) => r.dataset.code)")
        assert order_now == [jon["code"], kim["code"]]

        # In treatment: undo the start; remove an item added by mistake.
        jon_claim = anna.call("therapist_confirm_next")["transaction"]
        assert jon_claim["id"] == jon["transaction_id"]
        anna.call("therapist_start_service", {"transaction_id": jon["transaction_id"]})
        expect(jon_row).to_contain_text("In treatment · Anna")
        choose(desk, jon["code"])
        assert offered(desk) == {"undo_start", "remove_item"}
        desk.locator("#d-items .remove-item").first.click()
        expect(desk.locator("#dialog-title")).to_have_text(f"Remove Swedish massage from {jon['code']}?")
        dialog_yes(desk)
        expect(desk.locator("#d-items li")).to_have_count(1)
        expect(desk.locator("#d-items .remove-item")).to_have_count(0)  # never the last item
        expect(desk.locator("#d-total")).to_contain_text("€25.00")
        action(desk, "undo_start").click()
        dialog_yes(desk)
        expect(jon_row).to_contain_text("Called · Anna")

        # Finished, then undone before a cashier takes it.
        anna.call("therapist_start_service", {"transaction_id": jon["transaction_id"]})
        anna.call("therapist_finish_service", {"transaction_id": jon["transaction_id"]})
        expect(jon_row).to_contain_text("To pay")
        choose(desk, jon["code"])
        assert offered(desk) == {"undo_finish"}  # one item left: it is not removed, the visit is cancelled
        action(desk, "undo_finish").click()
        dialog_yes(desk)
        expect(jon_row).to_contain_text("In treatment · Anna")
        assert transaction(spa, jon["transaction_id"])["status"] == "in_service"
        assert_fits(desk, "the desk with customers served")
        shot(desk, "desk-served-1280x800")
    finally:
        anna.close()
        ben.close()


def test_a_till_opens_the_desk_with_its_device_token(screens: Screens, spa: Spa, shot: Any) -> None:
    code = order(spa, "Lea Stein", 6)["code"]
    desk = screens.open("desk", "cashier-1", size=STAFF)
    expect(desk.locator("#desk-who")).to_have_text("Till")
    expect(desk.locator("#desk-signout")).to_be_hidden()
    expect(desk.locator(f'#waiting [data-code="{code}"]')).to_be_visible()
    expect(desk.locator("#roster li")).to_have_count(2)
    choose(desk, code)
    assert offered(desk) == {"assign", "prioritise", "cancel"}
    assert_fits(desk, "the desk at a till")
    shot(desk, "desk-till-1280x800")

    # A therapist's PIN does not open the desk: only desk, cashier and admin are listed.
    other = screens.open("desk", size=STAFF, online=False)
    names = other.locator(".signin-person").evaluate_all("bs => bs.map((b) => b.textContent)")
    assert sorted(names) == ["Carla", "Dana", "Erik"]
    assert_fits(other, "the desk's sign-in")
    shot(other, "desk-sign-in-1280x800")


def test_the_desk_and_the_therapist_speak_the_spas_language(screens: Screens, spa: Spa, shot: Any) -> None:
    db = Database(spa.server.database_url, pool_size=1, max_overflow=0)
    try:
        SpaSettings(db, Defaults()).put({"language": "de"}, "staff:test", datetime.now(UTC).replace(tzinfo=None))
    finally:
        db.dispose()

    def served_in_german() -> bool:  # the server reads its settings through a short cache
        with urlopen(f"{spa.url}/desk") as response:
            return re.search(r'"language":\s*"de"', response.read().decode()) is not None

    wait_until(served_in_german, what="the pages to carry the spa's new language")
    code = order(spa, "Uwe Kranz", 4)["code"]
    desk = screens.open("desk", "cashier-1", size=STAFF)
    expect(desk.locator(".bar h1")).to_have_text("Empfang")
    expect(desk.locator("#waiting-title")).to_contain_text("Wartend")
    choose(desk, code)
    expect(action(desk, "prioritise")).to_have_text("Vorrang")
    expect(action(desk, "cancel")).to_have_text("Besuch stornieren")
    shot(desk, "desk-de-1280x800")

    therapist = screens.open("therapist", "room-1", size=STAFF)
    expect(therapist.locator("#next")).to_have_text("Nächster Kunde")
    expect(therapist.locator("#signin-open")).to_have_text("Anmelden")
    therapist.locator("#next").click()
    expect(therapist.locator("#cur-code")).to_have_text(code)
    expect(therapist.locator("#cur-status")).to_have_text("Aufgerufen · Raum 1")
    expect(therapist.locator("#cancel-visit")).to_be_visible()
    expect(therapist.locator("#cancel-visit")).to_have_text("Kunde gegangen")
    expect(therapist.locator("#no-show")).to_have_text("Nicht gekommen")
    shot(therapist, "therapist-de-1280x800")

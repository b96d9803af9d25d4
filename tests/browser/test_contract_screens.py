"""The screens take the wire contract from the server instead of copying it: limits, retry classes
and payment methods from the page config (common/wire.py page_contract()), the buttons from the
moves a staff view lists as "allowed", and one FIFO order from "queue_place".

Where a test must show that a screen follows what the server sent (and does not merely agree with
it), it changes what the page receives: the page config before the page's modules read it, the
staff views through a route on its WebSocket."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from common.wire import RETRY_CLASS, Limits, page_contract

from .conftest import Screens, Spa, assert_fits, keypad, kiosk_type, sign_in

pytestmark = pytest.mark.browser

STAFF = (1280, 800)
KIOSK = (800, 480)
LOBBY = (1920, 1080)

# Runs in the page before its modules: the whole document is parsed ("interactive"), the deferred
# module scripts have not run yet. (A route that rewrote the HTML would do, but Chromium then
# treats the document as public and its local-network checks refuse the WebSocket to loopback.)
LIMITS_JS = """
document.addEventListener("readystatechange", () => {
  const element = document.getElementById("page-config");
  if (document.readyState !== "interactive" || !element) return;
  const config = JSON.parse(element.textContent);
  Object.assign(config.contract.limits, %s);
  element.textContent = JSON.stringify(config);
});
"""
# A Socket.IO packet in an Engine.IO message: "42[event, data]" or "43<ack id>[answer]".
SOCKETIO_PACKET = re.compile(r"^(4[23]\d*)(\[.*)$", re.S)


def order(spa: Spa, name: str, *service_ids: int) -> dict[str, Any]:
    kiosk = spa.client("kiosk-1")
    try:
        return dict(
            kiosk.call(
                "customer_confirm_selection",
                {"customer_name": name, "items": [{"service_id": s} for s in service_ids]},
            )
        )
    finally:
        kiosk.close()


def contract_in_page(tab: Any) -> dict[str, Any]:
    """The contract as the page's own config module exposes it."""
    return dict(tab.evaluate('async () => (await import("/static/js/lib/config.js")).contract'))


def with_limits(tab: Any, limits: dict[str, int]) -> None:
    """From the next load on, the page's config carries these limits in its contract."""
    tab.add_init_script(script=LIMITS_JS % json.dumps(limits))


def with_staff_views(tab: Any, change: Callable[[dict[str, Any]], None]) -> None:
    """From the next load on, every staff view the page receives (acknowledgements and broadcasts)
    passes through `change` first; what the page sends goes to the server as it is."""

    def edit(value: Any) -> None:
        if isinstance(value, dict):
            if "allowed" in value and "id" in value:
                change(value)
            for inner in value.values():
                edit(inner)
        elif isinstance(value, list):
            for inner in value:
                edit(inner)

    def to_page(message: str | bytes) -> str | bytes:
        match = SOCKETIO_PACKET.match(message) if isinstance(message, str) else None
        if not match or '"allowed"' not in message:
            return message
        data = json.loads(match.group(2))
        edit(data)
        return match.group(1) + json.dumps(data)

    def handle(ws: Any) -> None:
        server = ws.connect_to_server()
        ws.on_message(lambda message: server.send(message))
        server.on_message(lambda message: ws.send(to_page(message)))

    tab.route_web_socket(re.compile(r"/socket\.io/"), handle)


def test_kiosk_limits_come_from_the_page_config(screens: Screens, spa: Spa, shot: Any) -> None:
    kiosk = screens.open("kiosk", "kiosk-1", size=KIOSK, touch=True, idle=600)
    contract = contract_in_page(kiosk)
    assert contract == page_contract()
    limits = contract["limits"]
    assert (limits["max_quantity"], limits["max_items"], limits["max_name"]) == (
        Limits.MAX_QUANTITY,
        Limits.MAX_ITEMS,
        Limits.MAX_NAME,
    )
    assert limits["max_amount_cents"] == Limits.MAX_AMOUNT_CENTS

    # One more than max_quantity of one treatment is refused, in words.
    kiosk.locator("#attract").tap()
    facial = kiosk.locator(".card", has_text="Facial")
    for _ in range(limits["max_quantity"] + 1):
        facial.tap()
    expect(kiosk.locator("#cart-error")).to_have_text(f"At most {limits['max_quantity']} of one treatment.")
    expect(facial.locator(".card-badge")).to_have_text(f"× {limits['max_quantity']}")
    expect(kiosk.locator("#cart-lines .qty-value")).to_have_text(str(limits["max_quantity"]))
    shot(kiosk, "contract-kiosk-max-quantity-800x480")

    # The name stops at max_name, typed on a USB keyboard or on the screen.
    kiosk.locator("#to-name").tap()
    kiosk.keyboard.type("x" * (limits["max_name"] + 5))
    kiosk_type(kiosk, "a")
    expect(kiosk.locator("#name-value")).to_have_text("X" + "x" * (limits["max_name"] - 1))
    assert_fits(kiosk, "kiosk with the longest name")
    shot(kiosk, "contract-kiosk-max-name-800x480")

    # Served with other limits, the same kiosk keeps to those: it copies none of its own.
    small = {"max_quantity": 3, "max_items": 2, "max_name": 8}
    with_limits(kiosk, small)
    kiosk.reload()
    wait_for_contract(kiosk, small)
    kiosk.locator("#attract").tap()
    facial = kiosk.locator(".card", has_text="Facial")
    for _ in range(small["max_quantity"] + 1):
        facial.tap()
    expect(kiosk.locator("#cart-error")).to_have_text("At most 3 of one treatment.")
    expect(kiosk.locator("#cart-lines .qty-value")).to_have_text("3")
    others = kiosk.locator(".card").filter(has_not_text="Facial")
    others.nth(0).tap()
    others.nth(1).tap()  # a third treatment: more than max_items
    expect(kiosk.locator("#cart-lines li")).to_have_count(small["max_items"])
    kiosk.locator("#to-name").tap()
    kiosk.keyboard.type("abcdefghijkl")
    expect(kiosk.locator("#name-value")).to_have_text("Abcdefgh")


def wait_for_contract(tab: Any, limits: dict[str, int]) -> None:
    tab.wait_for_selector('html[data-connection="online"]', state="attached")
    shown = contract_in_page(tab)["limits"]
    assert {k: shown[k] for k in limits} == limits


def test_retry_classes_come_from_the_contract(screens: Screens) -> None:
    page = screens.open("lobby", online=False)  # any page: it serves the modules
    classes = page.evaluate(
        """async (codes) => {
          const { retryClass } = await import("/static/js/lib/config.js");
          return Object.fromEntries([...codes, "a_code_from_a_newer_server"].map((c) => [c, retryClass(c)]));
        }""",
        [code.value for code in RETRY_CLASS],
    )
    assert classes == {code.value: retry.value for code, retry in RETRY_CLASS.items()} | {
        "a_code_from_a_newer_server": "retry"
    }

    # A "retry" refusal (conflict) is asked again with the same key; a "final" one is not.
    keys = page.evaluate(
        """async () => {
          const { Live } = await import("/static/js/lib/live.js");
          const sent = [];
          const answers = [
            { ok: false, error: { code: "conflict", message: "" } },
            { ok: true },
            { ok: false, error: { code: "invalid_state", message: "" } },
            { ok: true },
          ];
          const live = new Live({ token: "x", page: "test", t: (key) => key, banner: null });
          live.socket = {
            connected: true,
            timeout() { return this; },
            emitWithAck(event, body) { sent.push(body.idempotency_key); return Promise.resolve(answers.shift()); },
          };
          const finish = { transaction_id: 1 };
          for (let i = 0; i < 4; i += 1) await live.command("therapist_finish_service", finish, { keyed: true });
          return sent;
        }"""
    )
    assert keys[0] == keys[1], "a conflict is retried with the same idempotency key"
    assert keys[2] != keys[1] and keys[3] != keys[2], "a final refusal ends the action"


# The therapist screen's buttons for the moves a staff view lists: always there, enabled as allowed.
BUTTONS = {
    "#start": "start_service",
    "#add": "add_service",
    "#finish": "finish_service",
    "#release": "give_back",
}
# The front desk's corrections it makes on the therapist's own customer: shown only when allowed.
CORRECTIONS = {
    "#no-show": "no_show",
    "#cancel-visit": "cancel",
    "#undo-start": "undo_start",
}
# What the therapist screen offers for its customer, out of everything "allowed" may list. The
# desk's own moves (assign, prioritise, transfer, recall) and the till's are on their screens.
THERAPIST_MOVES = {*BUTTONS.values(), *CORRECTIONS.values(), "remove_item", "undo_finish"}


def test_therapist_buttons_follow_allowed(screens: Screens, spa: Spa, shot: Any) -> None:
    seen: dict[int, list[str]] = {}  # the last "allowed" the page received for each transaction
    withheld: set[str] = set()  # moves the test takes out of what the page receives

    def change(view: dict[str, Any]) -> None:
        view["allowed"] = [move for move in view["allowed"] if move not in withheld]
        seen[view["id"]] = list(view["allowed"])

    therapist = screens.open("therapist", size=STAFF, online=False, room="4")
    with_staff_views(therapist, change)
    therapist.reload()
    sign_in(therapist, "Ben", "2222")
    expect(therapist.locator("html")).to_have_attribute("data-connection", "online")
    ticket = order(spa, "Greta Lind", 7, 5)
    tid, code = ticket["transaction_id"], ticket["code"]
    expect(therapist.locator(f'#waiting li[data-code="{code}"]')).to_be_visible()
    # Waiting: the server lists the desk's moves too; this screen's part is "Next customer".
    assert seen[tid] == ["claim_for_therapist", "cancel", "assign", "prioritise"]

    def offered() -> set[str]:
        """The moves the screen offers now: enabled buttons, shown corrections, item removal."""
        shown = {selector for selector in [*BUTTONS, *CORRECTIONS] if therapist.locator(selector).is_visible()}
        moves = {
            move for selector, move in BUTTONS.items() if selector in shown and therapist.locator(selector).is_enabled()
        }
        moves |= {move for selector, move in CORRECTIONS.items() if selector in shown}
        if therapist.locator("#cur-items .remove-item").first.is_visible():
            moves.add("remove_item")
        if therapist.locator("#undo-finish").is_visible():
            moves.add("undo_finish")
        return moves

    def expect_offered(moves: set[str]) -> None:
        for selector, move in BUTTONS.items():
            button = therapist.locator(selector)
            if move in moves:
                expect(button).to_be_enabled()
            else:
                expect(button).to_be_disabled()
        for selector, move in CORRECTIONS.items():
            expect(therapist.locator(selector)).to_be_visible() if move in moves else expect(
                therapist.locator(selector)
            ).to_be_hidden()
        assert offered() == moves
        assert moves == set(seen[tid]) & THERAPIST_MOVES  # exactly its part of "allowed"

    # Claimed: start, add a service, give back, did not come, left, remove an item; not finish.
    therapist.locator("#next").click()
    expect(therapist.locator("#cur-code")).to_have_text(code)
    expect(therapist.locator("#cur-status")).to_contain_text("Called")
    expect_offered({"start_service", "add_service", "give_back", "no_show", "cancel", "remove_item"})
    shot(therapist, "contract-therapist-claimed-1280x800")

    # Started: add a service, finish, undo the start, remove an item. Then the server (as the
    # test has it) stops allowing additions and undos: the buttons follow "allowed".
    therapist.locator("#start").click()
    expect(therapist.locator("#cur-status")).to_contain_text("In treatment")
    expect_offered({"add_service", "finish_service", "undo_start", "remove_item"})
    shot(therapist, "contract-therapist-started-1280x800")
    withheld.update({"add_service", "undo_start"})
    therapist.reload()  # a fresh snapshot, through the same route
    expect(therapist.locator("#cur-status")).to_contain_text("In treatment")
    expect_offered({"finish_service", "remove_item"})
    withheld.clear()

    # Finished: it leaves the screen for the cashier's queue; undoing the finish is offered a while.
    therapist.locator("#finish").click()
    expect(therapist.locator("#work-notice")).to_have_text(f"{code} is done and goes to the cashier.")
    expect(therapist.locator("#current-empty")).to_be_visible()
    assert seen[tid] == ["claim_for_cashier", "pay", "remove_item", "undo_finish", "discount", "void"]
    expect(therapist.locator("#undo-finish")).to_have_text(f"Undo finish of {code}")
    assert offered() == {"undo_finish"}  # remove_item there is the till's now
    assert_fits(therapist, "therapist after finishing")
    shot(therapist, "contract-therapist-finished-1280x800")


def test_cashier_order_follows_queue_place(screens: Screens, spa: Spa, shot: Any) -> None:
    cashier = screens.open("cashier", "cashier-1", size=STAFF)
    lobby = screens.open("lobby", "lobby-1", size=LOBBY)
    ada = order(spa, "Ada Moss", 1)["code"]
    bo = order(spa, "Bo Berg", 5)["code"]
    cy = order(spa, "Cy Holm", 7)["code"]

    # Finished in another order than they came: Bo, then Ada, then Cy.
    anna, ben = spa.client("Anna"), spa.client("Ben")
    try:
        first = anna.call("therapist_confirm_next")["transaction"]
        second = ben.call("therapist_confirm_next")["transaction"]
        assert (first["code"], second["code"]) == (ada, bo)
        for client, txn in ((ben, second), (anna, first)):
            client.call("therapist_start_service", {"transaction_id": txn["id"]})
            client.call("therapist_finish_service", {"transaction_id": txn["id"]})
        third = ben.call("therapist_confirm_next")["transaction"]
        ben.call("therapist_start_service", {"transaction_id": third["id"]})
        ben.call("therapist_finish_service", {"transaction_id": third["id"]})
        snapshot = anna.call("queue_snapshot")
        waiting = [order(spa, name, 1)["code"] for name in ("Di Roos", "Ed Falk")]
    finally:
        anna.close()
        ben.close()
    to_pay = sorted(snapshot["awaiting_payment"], key=lambda v: v["queue_place"])
    by_place = [v["code"] for v in to_pay]
    assert by_place == [bo, ada, cy]

    rows = cashier.locator("#pay-queue [data-code]")
    expect(rows).to_have_count(3)  # from the broadcasts
    assert rows.evaluate_all("rows => rows.map((r) => r.dataset.code)") == by_place
    cashier.reload()  # from a snapshot
    expect(rows).to_have_count(3)
    assert rows.evaluate_all("rows => rows.map((r) => r.dataset.code)") == by_place

    # The lobby's public views carry no queue_place: the same helper orders them by queue_since, id.
    expect(lobby.locator("#waiting .row")).to_have_count(2)
    assert lobby.locator("#waiting .row").evaluate_all("rows => rows.map((r) => r.dataset.code)") == waiting
    expect(lobby.locator("#to-cashier .row")).to_have_count(3)
    shot(lobby, "contract-lobby-1920x1080")

    # The payment methods are the contract's; the tender stops at max_amount_cents.
    methods = cashier.locator("#methods [data-method]").evaluate_all("bs => bs.map((b) => b.dataset.method)")
    assert methods == page_contract()["payment_methods"]
    rows.first.click()
    expect(cashier.locator("#txn-code")).to_have_text(bo)
    expect(cashier.locator("#release")).to_be_visible()  # claimed here: "release_payment" allowed
    largest = str(Limits.MAX_AMOUNT_CENTS // 100)
    keypad(cashier, largest + "9")  # a digit more than the largest amount has: refused
    expect(cashier.locator("#tendered")).to_have_text(f"€{largest}.00")
    nines = "9" * len(largest)  # as many digits, but more than the largest amount: the last refused
    keypad(cashier, nines)
    expect(cashier.locator("#tendered")).to_have_text(f"€{nines[:-1]}.00")
    keypad(cashier, "1")
    expect(cashier.locator("#change-preview")).to_have_text(re.compile(r"^Short by €\d+\.\d\d$"))
    assert_fits(cashier, "cashier with a queue")
    shot(cashier, "contract-cashier-queue-1280x800")

    # Given queue places in the opposite order, the same list follows them.
    reverse = {v["queue_place"]: f"place-{9 - i}" for i, v in enumerate(to_pay)}

    def change(view: dict[str, Any]) -> None:
        view["queue_place"] = reverse.get(view["queue_place"], view["queue_place"])

    with_staff_views(cashier, change)
    cashier.reload()
    expect(rows).to_have_count(3)
    assert rows.evaluate_all("rows => rows.map((r) => r.dataset.code)") == list(reversed(by_place))

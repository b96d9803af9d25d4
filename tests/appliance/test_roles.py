"""Each role's daemon against the real server: the kiosk's touches reach its page, the lobby reports
its health, a till's badge scan signs the cashier in, a room's buttons act for its therapist and a
long press gives an unstarted claim back."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from devices.virtual.evdev_devices import touch
from devices.virtual.fifo_input import pack_events
from devices.virtual.serial_scanner import VirtualSerialScanner
from tests.appliance.harness import Appliances, Spa, appliance_config
from tests.support import wait_until

pytestmark = pytest.mark.slow


def test_kiosk_touch_reaches_its_page_and_the_lobby_reports_health(
    spa: Spa,
    fifo: Callable[[str], tuple[Path, int]],
    appliances: Appliances,
    tmp_path: Path,
) -> None:
    touch_path, screen_fd = fifo("touch")
    kiosk = appliances(
        "kiosk",
        appliance_config(
            spa,
            "kiosk-1",
            "kiosk",
            tmp_path / "kiosk",
            devices={"touch": {"kind": "touch_fifo", "path": str(touch_path)}},
        ),
    ).start()
    lobby = appliances(
        "lobby", appliance_config(spa, "lobby-1", "lobby", tmp_path / "lobby", lobby={"announce": False})
    ).start()
    page, other_page = spa.client("kiosk-1"), spa.client("cashier-1")
    kiosk.wait_connected()

    os.write(screen_fd, pack_events(touch(100, 200)))
    assert page.wait_for("device_activity")["at"].endswith("Z")
    assert other_page.received("device_activity") == []

    def states() -> dict[str, str]:
        return {a["name"]: a["state"] for a in spa.live.healthz(details="1").json()["appliances"]}

    wait_until(lambda: states()["lobby-1"] == "ok" and states()["kiosk-1"] == "ok", 10, what="both reporting")
    assert kiosk.outbox_size() == 0  # a touch is not a command: nothing to replay after an outage
    assert kiosk.terminate() == 0 and lobby.terminate() == 0


def test_a_refused_token_is_logged_once_while_retrying(spa: Spa, appliances: Appliances, tmp_path: Path) -> None:
    config = appliance_config(spa, "lobby-1", "lobby", tmp_path / "lobby")
    impostor = appliances("impostor", {**config, "token": "dv_1_" + "x" * 30}, env={"SPA_LOG_LEVEL": "DEBUG"}).start()
    impostor.wait_log(lambda line: line["msg"].startswith("still cannot connect"), 10, "a retry", nth=2)
    refusals = impostor.find(lambda line: line["msg"].startswith("cannot connect"))
    reason = "a valid staff or device token is needed"
    assert [(x["level"], x["msg"]) for x in refusals] == [("warning", f"cannot connect to {spa.url}: {reason}")]
    assert not impostor.find(lambda line: line["msg"].startswith("connected"))
    assert impostor.terminate() == 0


def test_a_scanned_badge_signs_the_cashier_in_at_the_till(
    spa: Spa, scanner: VirtualSerialScanner, appliances: Appliances
) -> None:
    order = spa.awaiting_payment(1)[0]
    till = appliances.till(scanner=scanner, drawer=False)
    screen = spa.client("cashier-1")

    scanner.scan(spa.tokens["Carla"])
    assert screen.wait_for("desk_signed_in")["staff"]["name"] == "Carla"
    scanner.scan(order["code"].replace("-", "").lower())
    shown = screen.wait_for("cashier_lookup_result")
    assert shown["transaction"]["code"] == order["code"] and shown["transaction"]["status"] == "paying"
    assert shown["transaction"]["cashier"]["name"] == "Carla"
    scanner.scan("not a ticket")  # ignored: neither a ticket code nor a badge
    till.wait_log(lambda line: "ignored" in line["msg"], 5, "the stray scan ignored")
    assert [line["msg"] for line in till.acked()] == ["acked desk_sign_in", "acked cashier_lookup"]
    assert not any(spa.tokens["Carla"] in line for line in till.log_path.read_text().splitlines())
    assert till.terminate() == 0


def test_room_buttons_act_for_its_therapist_and_a_long_press_gives_the_claim_back(
    spa: Spa, appliances: Appliances
) -> None:
    first, second = spa.waiting_customers(2)
    room, buttons = appliances.room(device="room-2", number="12", therapist_token=spa.tokens["Anna"])

    buttons.press("next")
    room.wait_log(lambda line: line["msg"] == "acked therapist_confirm_next", 10, "claimed")
    buttons.press("next", held_s=1.0)  # long: give it back
    room.wait_log(lambda line: line["msg"] == "acked therapist_release", 10, "released")
    assert spa.query("SELECT status, therapist_id FROM transactions WHERE id = ?", (first["transaction_id"],)) == [
        ("pending_therapist", None)
    ]
    buttons.press("start")  # nothing claimed now: dropped here, never sent
    room.wait_log(lambda line: line["msg"].startswith("dropped therapist_start_service"), 10, "dropped")

    for action in ("next", "start"):
        buttons.press(action)
    room.wait_log(lambda line: line["msg"] == "acked therapist_start_service", 10, "started")
    rows = spa.query("SELECT t.status, t.room, s.name FROM transactions t JOIN staff s ON s.id = t.therapist_id")
    assert rows == [("in_service", "12", "Anna")]
    assert spa.query("SELECT status FROM transactions WHERE id = ?", (second["transaction_id"],)) == [
        ("pending_therapist",)
    ]  # the released customer kept the first place and was claimed again
    assert room.terminate() == 0

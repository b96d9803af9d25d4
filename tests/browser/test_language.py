"""The screens speak the spa's language (`SPA_LANGUAGE`, or the office's setting): the German
tables are used, with English for any word not translated yet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Screens, Spa
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

"""Typing a name on the kiosk's on-screen keyboard as a person does (server/web/static/js/lib/keypad.js)."""

from __future__ import annotations

from typing import Any

LAYERS = 3  # the letters, then two layers of accented letters


def type_name(kiosk: Any, text: str) -> None:
    """Taps `text` key by key: shift before a capital (and off again before a small letter when
    the keyboard has it on, as at the start of a name), the layer key to reach accented letters."""
    for char in text:
        lower = char.lower()
        key = kiosk.locator(f'#keyboard [data-key="{lower}"]')
        for _ in range(LAYERS):
            if key.count():
                break
            kiosk.locator('#keyboard [data-key="layer"]').tap()
        shifted = kiosk.locator('#keyboard [data-key="shift"]').get_attribute("aria-pressed") == "true"
        has_case = lower.upper() != lower
        if has_case and (char != lower) != shifted:
            kiosk.locator('#keyboard [data-key="shift"]').tap()
        key.tap()
        while kiosk.locator('#keyboard [data-key="q"]').count() == 0:  # back on the letters
            kiosk.locator('#keyboard [data-key="layer"]').tap()

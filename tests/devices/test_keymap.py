"""Decoding scanner key events into text: layouts, shift, caps lock, dead keys, terminators, timeouts.

The expected characters come from keyboard rows written out here, independently of the tables in
devices/scanner/keymap.py; events are real ``evdev.InputEvent`` objects.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

import pytest
from evdev import InputEvent, ecodes
from hypothesis import given
from hypothesis import strategies as st

from devices.scanner.keymap import DE, FR, LAYOUTS, TERMINATORS, US, ScanDecoder, encode, key_events

K = ecodes.ecodes
EV_KEY, EV_SYN = ecodes.EV_KEY, ecodes.EV_SYN


def events(pairs: Sequence[tuple[int, int]], start: float = 1000.0, step: float = 0.001) -> list[InputEvent]:
    out = []
    for i, (code, value) in enumerate(pairs):
        t = start + i * step
        sec = int(t)
        out.append(InputEvent(sec, round((t - sec) * 1e6), EV_KEY, code, value))
        out.append(InputEvent(sec, round((t - sec) * 1e6), EV_SYN, ecodes.SYN_REPORT, 0))
    return out


def tap(name: str, *, shift: str | None = None, altgr: bool = False) -> list[tuple[int, int]]:
    code = K[name]
    mods = ([K[shift]] if shift else []) + ([ecodes.KEY_RIGHTALT] if altgr else [])
    return [(m, 1) for m in mods] + [(code, 1), (code, 0)] + [(m, 0) for m in reversed(mods)]


def decode(decoder: ScanDecoder, pairs: Sequence[tuple[int, int]], **kw: float) -> list[str]:
    return [text for ev in events(pairs, **kw) if (text := decoder.feed(ev)) is not None]


ENTER = [(ecodes.KEY_ENTER, 1), (ecodes.KEY_ENTER, 0)]

# The US keyboard, row by row: key names, unshifted characters, shifted characters.
US_ROWS = [
    ("GRAVE 1 2 3 4 5 6 7 8 9 0 MINUS EQUAL", "`1234567890-=", "~!@#$%^&*()_+"),
    ("Q W E R T Y U I O P LEFTBRACE RIGHTBRACE BACKSLASH", "qwertyuiop[]\\", "QWERTYUIOP{}|"),
    ("A S D F G H J K L SEMICOLON APOSTROPHE", "asdfghjkl;'", 'ASDFGHJKL:"'),
    ("Z X C V B N M COMMA DOT SLASH", "zxcvbnm,./", "ZXCVBNM<>?"),
    ("SPACE", " ", " "),
]
US_ORACLE: dict[str, tuple[str, bool]] = {}
for names, plain, shifted in US_ROWS:
    for name, p, s in zip(names.split(), plain, shifted, strict=True):
        US_ORACLE.setdefault(p, (f"KEY_{name}", False))
        US_ORACLE.setdefault(s, (f"KEY_{name}", True))


def test_oracle_covers_printable_ascii() -> None:
    assert set(US_ORACLE) == set(string.printable[:95])


@pytest.mark.parametrize("char", list(string.printable[:95]))
def test_every_printable_ascii_character_on_us_layout(char: str) -> None:
    key, shifted = US_ORACLE[char]
    shift = ("KEY_LEFTSHIFT" if ord(char) % 2 else "KEY_RIGHTSHIFT") if shifted else None
    decoder = ScanDecoder(US)
    assert decode(decoder, tap(key, shift=shift) + ENTER) == [char]


def test_whole_ascii_string_in_one_scan() -> None:
    text = string.printable[:95]
    pairs = [p for ch in text for p in tap(US_ORACLE[ch][0], shift="KEY_LEFTSHIFT" if US_ORACLE[ch][1] else None)]
    assert decode(ScanDecoder(US), pairs + ENTER) == [text]


@pytest.mark.parametrize(
    ("layout", "keys", "expected"),
    [
        # the same physical keys on three layouts
        (US, ["KEY_Q", "KEY_W", "KEY_Y", "KEY_Z", "KEY_1", "KEY_M"], "qwyz1m"),
        (DE, ["KEY_Q", "KEY_W", "KEY_Y", "KEY_Z", "KEY_1", "KEY_M"], "qwzy1m"),
        (FR, ["KEY_Q", "KEY_W", "KEY_Y", "KEY_Z", "KEY_1", "KEY_M"], "azyw&,"),
        (DE, ["KEY_SEMICOLON", "KEY_APOSTROPHE", "KEY_LEFTBRACE", "KEY_MINUS", "KEY_SLASH"], "öäüß-"),
        (FR, ["KEY_2", "KEY_7", "KEY_9", "KEY_0", "KEY_APOSTROPHE"], "éèçàù"),
    ],
)
def test_layout_switch_changes_the_characters(layout, keys: list[str], expected: str) -> None:
    pairs = [p for key in keys for p in tap(key)]
    assert decode(ScanDecoder(layout), pairs + ENTER) == [expected]


@pytest.mark.parametrize(
    ("layout", "strokes", "expected"),
    [
        (DE, [("KEY_Q", None, True), ("KEY_E", None, True), ("KEY_8", None, True)], "@€["),
        (DE, [("KEY_7", "KEY_LEFTSHIFT", False), ("KEY_2", "KEY_LEFTSHIFT", False)], '/"'),
        (FR, [("KEY_0", None, True), ("KEY_3", None, True), ("KEY_1", "KEY_LEFTSHIFT", False)], "@#1"),
        (FR, [("KEY_COMMA", "KEY_RIGHTSHIFT", False), ("KEY_DOT", "KEY_LEFTSHIFT", False)], "./"),
    ],
)
def test_altgr_and_shift_on_other_layouts(layout, strokes, expected: str) -> None:
    pairs = [p for key, shift, altgr in strokes for p in tap(key, shift=shift, altgr=altgr)]
    assert decode(ScanDecoder(layout), pairs + ENTER) == [expected]


def test_caps_lock_acts_on_letters_only_and_shift_cancels_it() -> None:
    pairs = tap("KEY_CAPSLOCK") + tap("KEY_A") + tap("KEY_1") + tap("KEY_B", shift="KEY_LEFTSHIFT")
    pairs += tap("KEY_CAPSLOCK") + tap("KEY_C")
    assert decode(ScanDecoder(US), pairs + ENTER) == ["A1bc"]


def test_caps_lock_state_can_be_given() -> None:
    assert decode(ScanDecoder(US, caps_lock=True), tap("KEY_A") + ENTER) == ["A"]


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (["KEY_GRAVE", "KEY_E"], "ê"),  # dead circumflex + e
        (["KEY_GRAVE", "KEY_SPACE"], "^"),  # dead circumflex + space
        (["KEY_EQUAL", "KEY_A"], "á"),  # dead acute + a
        (["KEY_GRAVE", "KEY_X"], "^x"),  # no such letter: both
    ],
)
def test_german_dead_keys(keys: list[str], expected: str) -> None:
    pairs = [p for key in keys for p in tap(key)]
    assert decode(ScanDecoder(DE), pairs + ENTER) == [expected]


def test_scan_ends_on_enter_and_keypad_enter_and_empty_scans_are_ignored() -> None:
    pairs = ENTER + tap("KEY_1") + ENTER + tap("KEY_2") + [(ecodes.KEY_KPENTER, 1), (ecodes.KEY_KPENTER, 0)]
    assert decode(ScanDecoder(US), pairs) == ["1", "2"]


def test_tab_terminator_and_enter_then_means_nothing() -> None:
    decoder = ScanDecoder(US, TERMINATORS["tab"])
    pairs = tap("KEY_A") + ENTER + tap("KEY_B") + tap("KEY_TAB")
    assert decode(decoder, pairs) == ["ab"]


def test_partial_scan_is_dropped_after_an_idle_gap() -> None:
    decoder = ScanDecoder(US, timeout_s=0.1)
    assert decode(decoder, tap("KEY_1") + tap("KEY_2"), start=1000.0) == []
    assert decoder.pending == "12"
    # 0.5 s later, a new scan: the partial "12" must not prefix it
    assert decode(decoder, tap("KEY_3") + tap("KEY_4") + ENTER, start=1000.5) == ["34"]
    assert decoder.dropped_count == 1


def test_expire_drops_partial_without_further_events() -> None:
    decoder = ScanDecoder(US, timeout_s=0.1)
    decode(decoder, tap("KEY_9"), start=1000.0)
    assert decoder.expire(1000.05) is None
    assert decoder.pending == "9"
    assert decoder.expire(1000.2) == "9"
    assert decoder.pending == ""


def test_keys_within_timeout_stay_one_scan() -> None:
    decoder = ScanDecoder(US, timeout_s=0.1)
    pairs = tap("KEY_1") + tap("KEY_2") + ENTER
    assert decode(decoder, pairs, step=0.03) == ["12"]  # 60 ms between presses


def test_syn_dropped_discards_the_partial_scan() -> None:
    decoder = ScanDecoder(US)
    decode(decoder, tap("KEY_1", shift="KEY_LEFTSHIFT")[:2])  # shift held, "!" typed
    decoder.feed(InputEvent(1000, 0, EV_SYN, ecodes.SYN_DROPPED, 0))
    assert decoder.pending == ""
    assert decode(decoder, tap("KEY_1") + ENTER) == ["1"]  # shift state forgotten too


def test_alt_combinations_and_autorepeat_type_nothing() -> None:
    pairs = [(ecodes.KEY_LEFTALT, 1), (ecodes.KEY_C, 1), (ecodes.KEY_C, 0), (ecodes.KEY_LEFTALT, 0)]
    pairs += [(ecodes.KEY_D, 1), (ecodes.KEY_D, 2), (ecodes.KEY_D, 2), (ecodes.KEY_D, 0)]
    assert decode(ScanDecoder(US), pairs + ENTER) == ["d"]


# --- what scanners send besides plain keys (issue 13) -------------------------------------------


def chord(*mods: str, key: str) -> list[tuple[int, int]]:
    """Modifiers down in order, the key, modifiers up in reverse: as a scanner sends a combination."""
    codes = [K[m] for m in mods]
    return [(m, 1) for m in codes] + [(K[key], 1), (K[key], 0)] + [(m, 0) for m in reversed(codes)]


def alt_code(digits: str) -> list[tuple[int, int]]:
    keys = [(K[f"KEY_KP{d}"], v) for d in digits for v in (1, 0)]
    return [(ecodes.KEY_LEFTALT, 1), *keys, (ecodes.KEY_LEFTALT, 0)]


STX_ = chord("KEY_LEFTCTRL", key="KEY_B")  # Ctrl+B
ETX_ = chord("KEY_LEFTCTRL", key="KEY_C")  # Ctrl+C
T, F, A, B = (tap(f"KEY_{c}") for c in "TFAB")
SHIFT_A = tap("KEY_A", shift="KEY_LEFTSHIFT")


@pytest.mark.parametrize(
    ("layout", "pairs", "scans"),
    [
        # AltGr sent as Ctrl+Alt (German layout, "@" is AltGr+Q): was lost
        (DE, chord("KEY_LEFTCTRL", "KEY_LEFTALT", key="KEY_Q") + ENTER, ["@"]),
        (DE, chord("KEY_RIGHTCTRL", "KEY_LEFTALT", key="KEY_E") + ENTER, ["€"]),
        (DE, chord("KEY_LEFTALT", "KEY_LEFTCTRL", key="KEY_8") + ENTER, ["["]),  # either order
        (DE, tap("KEY_Q", altgr=True) + ENTER, ["@"]),  # the real AltGr still works
        (US, chord("KEY_LEFTCTRL", "KEY_LEFTALT", key="KEY_Q") + ENTER, []),  # no AltGr level: nothing
        # Alt + keypad digits: Windows-1252 with a leading 0, code page 437 without, Unicode above 255
        (US, alt_code("0064") + alt_code("64") + ENTER, ["@@"]),
        (US, alt_code("0128") + alt_code("0233") + ENTER, ["€é"]),
        (US, alt_code("130") + alt_code("08364") + ENTER, ["é€"]),
        (DE, tap("KEY_A") + alt_code("045") + tap("KEY_4") + tap("KEY_2") + ENTER, ["a-42"]),
        # STX/ETX framing typed as Ctrl+B and Ctrl+C: the ETX ends the scan, a terminator after it nothing
        (US, STX_ + T + F + ETX_ + ENTER, ["\x02tf\x03"]),
        (US, STX_ + T + F + ETX_ + STX_ + A + B + ETX_, ["\x02tf\x03", "\x02ab\x03"]),
        (FR, STX_ + chord("KEY_LEFTCTRL", key="KEY_Q") + ENTER, ["\x02\x01"]),  # Ctrl+A is the A key: Q on AZERTY
        (US, alt_code("002") + T + alt_code("003"), ["\x02t\x03"]),  # framing as Alt codes
        # Caps Lock as the layout does it: letters only, Shift cancels it; the scanner's own key turns it on
        (US, tap("KEY_CAPSLOCK") + SHIFT_A + A + tap("KEY_1") + ENTER, ["aA1"]),
        (DE, tap("KEY_CAPSLOCK") + tap("KEY_SEMICOLON") + tap("KEY_SEMICOLON", shift="KEY_LEFTSHIFT") + ENTER, ["Öö"]),
        (DE, tap("KEY_CAPSLOCK") + tap("KEY_MINUS") + tap("KEY_Q", altgr=True) + ENTER, ["ß@"]),  # no letter case
        (FR, tap("KEY_CAPSLOCK") + tap("KEY_2") + tap("KEY_Q") + ENTER, ["éA"]),  # é is no letter key on AZERTY
        (US, SHIFT_A + A + ENTER, ["Aa"]),  # a badge's case as sent, whatever the host's Caps Lock LED says
    ],
)
def test_what_scanners_send_besides_plain_keys(layout, pairs: list[tuple[int, int]], scans: list[str]) -> None:
    assert decode(ScanDecoder(layout), pairs) == scans


def test_encode_refuses_characters_the_layout_lacks() -> None:
    with pytest.raises(ValueError, match="cannot be typed"):
        encode("ö", US)


@pytest.mark.parametrize("layout", list(LAYOUTS.values()), ids=list(LAYOUTS))
@given(text=st.text(alphabet=st.sampled_from(string.printable[:95]), min_size=1, max_size=40))
def test_any_ascii_scan_round_trips_through_each_layout(layout, text: str) -> None:
    pairs = key_events(encode(text, layout)) + ENTER
    assert decode(ScanDecoder(layout), pairs) == [text]

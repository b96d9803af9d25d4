"""Keyboard layouts and the scan decoder: evdev key events in, scanned strings out.

A barcode scanner in keyboard mode "types" the code as the key presses a person would make on a
keyboard with the layout the scanner is set to. The appliances run Wayland (cage) without an X
server to ask, so the key codes are decoded here, from tables of what each key gives on the Linux
console/xkb layouts "us", "de" and "fr". No I/O in this module.

A combining character in a table marks a dead key (``^`` on a German keyboard): it combines with
the next character (``^`` + ``e`` → ``ê``) or, followed by space, gives the spacing form (``^``).

What scanners send besides plain keys, decoded as Windows does it (what scanners are made for):

- AltGr as Ctrl+Alt (how some scanners type "@" on a German layout: Ctrl+Alt+Q);
- Ctrl+letter as the control character (Ctrl+B is STX, Ctrl+C is ETX: a scan's framing);
- Alt+keypad digits as a character code: with a leading 0 in Windows-1252 ("Alt+0064" is "@",
  above 255 a Unicode code point), without one in code page 437 ("Alt+64" is "@");
- an ETX ends a scan as the terminator does (``framing.py`` takes the framing off);
- Caps Lock as the layout does it (xkb's tables for us, de and fr, which Windows follows for
  letters): it acts on letter keys only (ä, ö, ü too; not ß, not é on the French digit row), and
  Shift cancels it. Its state is the
  scanner's own: the decoder starts with it off (the driver switches the device's LED off to
  match), and only the scanner's own Caps Lock key turns it on. The host's LED said nothing about
  the scanner: taking it as the starting state inverted the case of every scan, which broke
  case-sensitive staff badges.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from evdev import InputEvent, ecodes

logger = logging.getLogger(__name__)

_K = ecodes.ecodes  # name -> code


def _codes(names: str) -> list[int]:
    return [_K[f"KEY_{name}"] for name in names.split()]


_ROW1 = _codes("GRAVE 1 2 3 4 5 6 7 8 9 0 MINUS EQUAL")
_ROW2 = _codes("Q W E R T Y U I O P LEFTBRACE RIGHTBRACE")
_ROW3 = _codes("A S D F G H J K L SEMICOLON APOSTROPHE BACKSLASH")
_ROW4 = _codes("102ND Z X C V B N M COMMA DOT SLASH")

# Spacing forms of the dead keys (what dead key + space gives).
_DEAD_SPACING = {
    "\u0300": "`",
    "\u0301": "´",
    "\u0302": "^",
    "\u0303": "~",
    "\u0308": "¨",
}

_NONE = "\0"  # no character on this level


@dataclass(frozen=True)
class Layout:
    """Characters per key code on the levels base, shift and AltGr (``None``: nothing)."""

    name: str
    keys: dict[int, tuple[str | None, str | None, str | None]]

    def char(self, code: int, *, shift: bool, altgr: bool, caps_lock: bool) -> str | None:
        levels = self.keys.get(code)
        if levels is None:
            return None
        base, shifted, alt = levels
        if altgr:
            return alt
        if caps_lock and base is not None and shifted is not None and base.isalpha() and base.upper() == shifted:
            shift = not shift  # caps lock acts on letters only; shift cancels it
        return shifted if shift else base


def _build(
    name: str,
    rows: Sequence[tuple[Sequence[int], str, str]],
    altgr: dict[str, str],
    extra: dict[int, tuple[str | None, str | None, str | None]] | None = None,
) -> Layout:
    keys: dict[int, tuple[str | None, str | None, str | None]] = {}
    for codes, base, shifted in rows:
        assert len(codes) == len(base) == len(shifted), (name, base)
        for code, b, s in zip(codes, base, shifted, strict=True):
            keys[code] = (None if b == _NONE else b, None if s == _NONE else s, None)
    for key_name, char in altgr.items():
        code = _K[f"KEY_{key_name}"]
        plain, shifted_char, _ = keys.get(code, (None, None, None))
        keys[code] = (plain, shifted_char, char)
    keys[_K["KEY_SPACE"]] = (" ", " ", None)
    keypad = {
        "KP0": "0", "KP1": "1", "KP2": "2", "KP3": "3", "KP4": "4", "KP5": "5", "KP6": "6",
        "KP7": "7", "KP8": "8", "KP9": "9", "KPPLUS": "+", "KPMINUS": "-", "KPASTERISK": "*",
        "KPSLASH": "/", "KPDOT": ".",
    }  # fmt: skip
    for key_name, char in keypad.items():
        keys[_K[f"KEY_{key_name}"]] = (char, char, None)  # num lock on, as scanners assume
    keys.update(extra or {})
    return Layout(name, keys)


US = _build(
    "us",
    [
        (_ROW1, "`1234567890-=", "~!@#$%^&*()_+"),
        (_ROW2 + [_K["KEY_BACKSLASH"]], "qwertyuiop[]\\", "QWERTYUIOP{}|"),
        (_ROW3[:-1], "asdfghjkl;'", 'ASDFGHJKL:"'),
        (_ROW4[1:], "zxcvbnm,./", "ZXCVBNM<>?"),
    ],
    altgr={},
)

DE = _build(
    "de",
    [
        (_ROW1, "\u03021234567890ß\u0301", '°!"§$%&/()=?\u0300'),
        (_ROW2, "qwertzuiopü+", "QWERTZUIOPÜ*"),
        (_ROW3, "asdfghjklöä#", "ASDFGHJKLÖÄ'"),
        (_ROW4, "<yxcvbnm,.-", ">YXCVBNM;:_"),
    ],
    altgr={"2": "²", "3": "³", "7": "{", "8": "[", "9": "]", "0": "}", "MINUS": "\\",
           "Q": "@", "E": "€", "RIGHTBRACE": "~", "102ND": "|", "M": "µ"},
    extra={_K["KEY_KPDOT"]: (",", ",", None)},  # the German keypad has a decimal comma
)  # fmt: skip

FR = _build(
    "fr",
    [
        (_ROW1, "²&é\"'(-è_çà)=", _NONE + "1234567890°+"),
        (_ROW2, "azertyuiop\u0302$", "AZERTYUIOP\u0308£"),
        (_ROW3, "qsdfghjklmù*", "QSDFGHJKLM%µ"),
        (_ROW4, "<wxcvbn,;:!", ">WXCVBN?./§"),
    ],
    altgr={"2": "\u0303", "3": "#", "4": "{", "5": "[", "6": "|", "7": "\u0300", "8": "\\",
           "9": "^", "0": "@", "MINUS": "]", "EQUAL": "}", "E": "€", "RIGHTBRACE": "¤"},
)  # fmt: skip

LAYOUTS: dict[str, Layout] = {layout.name: layout for layout in (US, DE, FR)}

TERMINATORS: dict[str, frozenset[int]] = {
    "enter": frozenset({ecodes.KEY_ENTER, ecodes.KEY_KPENTER}),
    "tab": frozenset({ecodes.KEY_TAB}),
}

_SHIFT = frozenset({ecodes.KEY_LEFTSHIFT, ecodes.KEY_RIGHTSHIFT})
_ALTGR = frozenset({ecodes.KEY_RIGHTALT})
_CTRL = frozenset({ecodes.KEY_LEFTCTRL, ecodes.KEY_RIGHTCTRL})
_ALT = frozenset({ecodes.KEY_LEFTALT})
_MODIFIERS = _SHIFT | _ALTGR | _CTRL | _ALT
_KEY_DOWN = 1
_KEYPAD_DIGITS = {_K[f"KEY_KP{d}"]: str(d) for d in range(10)}
ETX = "\x03"  # ends a scan, as the terminator does
_CONTROL_KEYS = "@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_"  # Ctrl+these give the C0 control characters 0-31


def alt_code(digits: str) -> str | None:
    """The character Alt + these keypad digits types on Windows; None for none."""
    value = int(digits)
    if digits.startswith("0"):
        if value > 255:
            return chr(value) if value <= 0x10FFFF else None
        return bytes([value]).decode("cp1252", errors="ignore") or None
    value %= 256
    return bytes([value]).decode("cp437") if value else None


def control_character(char: str | None) -> str | None:
    """Ctrl + the key that types ``char``: "b" → STX (0x02)."""
    if char is None or len(char) != 1 or char.upper() not in _CONTROL_KEYS:
        return None
    return chr(_CONTROL_KEYS.index(char.upper()))


def _combine(dead: str, char: str) -> str:
    if char == " ":
        return _DEAD_SPACING[dead]
    composed = unicodedata.normalize("NFC", char + dead)
    if len(composed) == 1:
        return composed
    return _DEAD_SPACING[dead] + char  # no such letter: both, as xkb does


class ScanDecoder:
    """Turns key events of one device into scanned strings.

    A scan ends on the terminator key. A partial scan is dropped when the gap between two key
    presses, or between the last press and ``expire(now)``, is longer than ``timeout_s``: a scanner
    types a code in one quick burst, so a long gap means the terminator got lost.
    Times are event timestamps (the kernel's CLOCK_REALTIME) and ``time.time()`` for ``expire``.
    """

    def __init__(
        self,
        layout: Layout,
        terminators: frozenset[int] = TERMINATORS["enter"],
        timeout_s: float = 0.1,
        *,
        caps_lock: bool = False,
    ) -> None:
        self.layout = layout
        self.terminators = terminators
        self.timeout_s = timeout_s
        self.caps_lock = caps_lock
        self.dropped_count = 0
        self._held: set[int] = set()
        self._text: list[str] = []
        self._dead: str | None = None
        self._last_press_at: float | None = None
        self._alt_digits = ""  # keypad digits typed while Alt is held

    @property
    def pending(self) -> str:
        return "".join(self._text) + (self._dead or "")

    def reset(self) -> None:
        """Forget the partial scan and which modifiers are held (after SYN_DROPPED or a reopen)."""
        self._held.clear()
        self._text.clear()
        self._dead = None
        self._last_press_at = None
        self._alt_digits = ""

    def expire(self, now: float) -> str | None:
        """Drop the partial scan if it has been idle too long; return what was dropped."""
        if self._last_press_at is None or now - self._last_press_at <= self.timeout_s:
            return None
        dropped = self.pending
        self._text.clear()
        self._dead = None
        self._last_press_at = None
        if dropped:
            self.dropped_count += 1
            logger.debug("dropped partial scan %r after %.3f s idle", dropped, self.timeout_s)
            return dropped
        return None

    def feed(self, event: InputEvent) -> str | None:
        """Take one event; return the scanned text when this event completes a scan."""
        if event.type == ecodes.EV_SYN and event.code == ecodes.SYN_DROPPED:
            logger.warning("input events were dropped by the kernel; partial scan %r discarded", self.pending)
            self.reset()
            return None
        if event.type != ecodes.EV_KEY:
            return None
        code, value = event.code, event.value
        if code in _MODIFIERS:
            if value == _KEY_DOWN:
                self._held.add(code)
            elif value == 0:
                self._held.discard(code)
                if code in _ALT and self._alt_digits:  # Alt released: the code typed is one character
                    digits, self._alt_digits = self._alt_digits, ""
                    return self._type(alt_code(digits))
            return None
        if value != _KEY_DOWN:  # releases, and autorepeat which a scanner never sends
            return None
        at = event.timestamp()
        self.expire(at)
        self._last_press_at = at
        if code == ecodes.KEY_CAPSLOCK:
            self.caps_lock = not self.caps_lock
            return None
        if code in self.terminators:
            return self._complete()
        ctrl, alt = bool(self._held & _CTRL), bool(self._held & _ALT)
        if alt and not ctrl:
            if code in _KEYPAD_DIGITS:
                self._alt_digits += _KEYPAD_DIGITS[code]
            return None  # other Alt combinations type nothing
        if ctrl and not alt:
            return self._type(control_character(self.layout.char(code, shift=False, altgr=False, caps_lock=False)))
        char = self.layout.char(
            code,
            shift=bool(self._held & _SHIFT),
            altgr=bool(self._held & _ALTGR) or (ctrl and alt),  # Ctrl+Alt is AltGr, as on Windows
            caps_lock=self.caps_lock,
        )
        return self._type(char)

    def _type(self, char: str | None) -> str | None:
        """One character typed; the scan's text when it ends the scan (ETX)."""
        if char is None:
            return None
        if char in _DEAD_SPACING:
            if self._dead is not None:
                self._text.append(_DEAD_SPACING[self._dead])
            self._dead = char
            return None
        if self._dead is not None:
            char = _combine(self._dead, char)
            self._dead = None
        self._text.append(char)
        return self._complete() if char == ETX else None

    def _complete(self) -> str | None:
        text = "".join(self._text) + (_DEAD_SPACING[self._dead] if self._dead else "")
        self._text.clear()
        self._dead = None
        self._last_press_at = None
        return text or None


@dataclass(frozen=True)
class KeyStroke:
    code: int
    shift: bool = False
    altgr: bool = False


def _find(layout: Layout, char: str) -> KeyStroke | None:
    for level, (shift, altgr) in enumerate(((False, False), (True, False), (False, True))):
        for code, levels in layout.keys.items():
            if levels[level] == char and code not in _KEYPAD_CODES:
                return KeyStroke(code, shift, altgr)
    return None


_KEYPAD_CODES = frozenset(
    _K[f"KEY_{n}"] for n in "KP0 KP1 KP2 KP3 KP4 KP5 KP6 KP7 KP8 KP9 KPPLUS KPMINUS KPASTERISK KPSLASH KPDOT".split()
)


def encode(text: str, layout: Layout) -> list[KeyStroke]:
    """The key strokes that type ``text`` on ``layout`` (what a scanner set to that layout sends).

    Used by the virtual keyboards; raises ``ValueError`` for a character the layout cannot type.
    """
    strokes: list[KeyStroke] = []
    space = KeyStroke(ecodes.KEY_SPACE)
    for char in text:
        direct = _find(layout, char)
        if direct is not None:
            strokes.append(direct)
            continue
        dead_for_spacing = next((d for d, s in _DEAD_SPACING.items() if s == char), None)
        if dead_for_spacing is not None and (dead := _find(layout, dead_for_spacing)) is not None:
            strokes += [dead, space]
            continue
        decomposed = unicodedata.normalize("NFD", char)
        if len(decomposed) == 2:
            dead = _find(layout, decomposed[1])
            base = _find(layout, decomposed[0])
            if dead is not None and base is not None:
                strokes += [dead, base]
                continue
        raise ValueError(f"character {char!r} cannot be typed on layout {layout.name!r}")
    return strokes


def key_events(strokes: Iterable[KeyStroke]) -> list[tuple[int, int]]:
    """(code, value) pairs for strokes: modifiers down, key down, key up, modifiers up."""
    out: list[tuple[int, int]] = []
    for stroke in strokes:
        mods = ([ecodes.KEY_LEFTSHIFT] if stroke.shift else []) + ([ecodes.KEY_RIGHTALT] if stroke.altgr else [])
        out += [(m, 1) for m in mods]
        out += [(stroke.code, 1), (stroke.code, 0)]
        out += [(m, 0) for m in reversed(mods)]
    return out

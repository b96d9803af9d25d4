"""Debounce and short/long press detection for key-like buttons. Pure: no I/O, times passed in.

Debounce is leading-edge: a change of a key's state is taken at once, then further changes of that
key are ignored for ``debounce_s`` (contact bounce). If the key ends the lock-out in a different
state than the one taken (a tap shorter than the lock-out), that state is taken when the lock-out
ends, so no release is ever lost.

A press held for ``long_press_s`` is reported as a long press as soon as the time is reached
(the person holding the button sees the effect without letting go); releasing it afterwards reports
nothing more. A release before that time reports a short press.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Press:
    code: int
    long_press: bool
    at: float


@dataclass
class _Key:
    raw_down: bool = False
    down: bool = False
    changed_at: float = float("-inf")  # when the current state was taken
    long_reported: bool = False


class PressTracker:
    def __init__(self, debounce_s: float, long_press_s: float) -> None:
        if debounce_s < 0 or long_press_s <= debounce_s:
            raise ValueError("need 0 <= debounce_s < long_press_s")
        self.debounce_s = debounce_s
        self.long_press_s = long_press_s
        self._keys: dict[int, _Key] = {}

    def reset(self) -> None:
        self._keys.clear()

    def feed(self, code: int, value: int, at: float) -> list[Press]:
        """A key event: value 1 down, 0 up, 2 autorepeat (ignored)."""
        presses = self.poll(at)
        if value not in (0, 1):
            return presses
        key = self._keys.setdefault(code, _Key())
        key.raw_down = value == 1
        if key.raw_down != key.down and at - key.changed_at >= self.debounce_s:
            presses += self._take(code, key, key.raw_down, at)
        return presses

    def poll(self, now: float) -> list[Press]:
        """Presses that became due by ``now`` without a new event (long presses, settled bounces)."""
        presses: list[Press] = []
        for code, key in self._keys.items():
            settle_at = key.changed_at + self.debounce_s
            if key.raw_down != key.down and now >= settle_at:
                presses += self._take(code, key, key.raw_down, settle_at)
            if key.down and not key.long_reported and now >= key.changed_at + self.long_press_s:
                key.long_reported = True
                presses.append(Press(code, True, key.changed_at + self.long_press_s))
        presses.sort(key=lambda p: p.at)
        return presses

    def next_deadline(self) -> float | None:
        """The earliest time at which ``poll`` may report something."""
        deadlines = []
        for key in self._keys.values():
            if key.raw_down != key.down:
                deadlines.append(key.changed_at + self.debounce_s)
            if key.down and not key.long_reported:
                deadlines.append(key.changed_at + self.long_press_s)
        return min(deadlines, default=None)

    def _take(self, code: int, key: _Key, down: bool, at: float) -> list[Press]:
        pressed_at = key.changed_at
        key.down, key.changed_at = down, at
        if down:
            key.long_reported = False
            return []
        if key.long_reported:
            return []
        if at - pressed_at >= self.long_press_s:  # events came in late: it was long all the same
            return [Press(code, True, pressed_at + self.long_press_s)]
        return [Press(code, False, at)]

"""What a scanner puts around a code: taken off, so that the code is what the server looks up. Pure.

Scanners are often set to frame each scan: STX (0x02) before and ETX (0x03) after it (serial
scanners by default on many models; keyboard-mode ones type them as Ctrl+B and Ctrl+C), or a
configured prefix and suffix (an AIM symbology identifier such as "]C1", a "#"). STX and ETX are
never part of a code: an STX starts a scan afresh (what came before it was noise), an ETX ends it
(a terminator after it ends nothing more). ``prefix`` and ``suffix`` are removed when present.
"""

from __future__ import annotations

from dataclasses import dataclass

from devices.config import SettingsReader

STX = "\x02"
ETX = "\x03"


@dataclass(frozen=True)
class Framing:
    prefix: str = ""
    suffix: str = ""

    def unframe(self, text: str) -> str:
        if STX in text:
            text = text[text.rindex(STX) + 1 :]
        if ETX in text:
            text = text[: text.index(ETX)]
        if self.prefix and text.startswith(self.prefix):
            text = text[len(self.prefix) :]
        if self.suffix and text.endswith(self.suffix):
            text = text[: -len(self.suffix)]
        return text


def read_framing(reader: SettingsReader) -> Framing:
    """``prefix`` and ``suffix`` from a scanner's settings: at most 16 characters each."""
    values = []
    for key in ("prefix", "suffix"):
        value: str = reader.get_str(key, "", allow_empty=True)
        if len(value) > 16:
            raise reader.error(key, "must be at most 16 characters")
        values.append(value)
    return Framing(*values)

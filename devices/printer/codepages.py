"""Text → ESC/POS bytes in the code pages the printer's profile says it has. Pure.

python-escpos's automatic encoding picks the lowest-numbered page that has a character: "€" went
through the Greek page (ESC t 15, ISO 8859-7), which clone printers often lack, and CJK text was
sent as GB18030 bytes that print as garbage elsewhere. Here:

- pages are tried in a fixed order of preference, the ones every ESC/POS printer has first:
  PC437 (page 0 on almost all), then PC858 and WPC1252 (both with "€"), then the Western pages,
  then the rest of the profile in page order; the page in use is kept while it can print;
- a character no page of the profile has is printed as its unaccented letter when that is one
  printable character ("ő" → "o"), otherwise as "?": never as the bytes of some other encoding;
- one character is always one byte, so the layout's column widths hold.

The page is selected with ESC t n before the first character that needs it; after ESC @ (which
starts every part of a job) nothing is assumed about the page in use.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from escpos.capabilities import CAPABILITIES

SELECT_PAGE = b"\x1bt"  # ESC t n
UNPRINTABLE = "?"
# By encoding name, as escpos-printer-db names them. "PC858" and "WPC1252" in Epson's manuals.
PREFERRED = ("CP437", "CP858", "CP1252", "CP850", "ISO_8859-15", "ISO_8859-1", "CP852", "CP1250", "ISO_8859-2")


@dataclass(frozen=True)
class CodePage:
    number: int  # n of ESC t n on this printer
    name: str  # the encoding, e.g. "CP858"
    chars: Mapping[str, int]  # the characters of bytes 0x80-0xFF, and their byte


def _upper_half(encoding: Mapping[str, object]) -> dict[str, int]:
    if "data" in encoding:
        table = "".join(str(line) for line in encoding["data"])  # type: ignore[attr-defined]
        return {ch: 0x80 + i for i, ch in enumerate(table) if ch.isprintable() and ch != " "}
    python_name = encoding.get("python_encode")
    if not isinstance(python_name, str):
        return {}
    chars: dict[str, int] = {}
    for byte in range(0x80, 0x100):
        try:
            ch = bytes([byte]).decode(python_name)
        except UnicodeDecodeError:
            continue
        if len(ch) == 1 and ch.isprintable() and ch != " " and ch not in chars:
            chars[ch] = byte
    return chars


@functools.cache
def code_pages(profile: str) -> tuple[CodePage, ...]:
    """The profile's pages that can be encoded, in the order they are tried."""
    encodings = CAPABILITIES["encodings"]
    pages = []
    for number, name in CAPABILITIES["profiles"][profile]["codePages"].items():
        chars = _upper_half(encodings.get(name, {}))
        if chars:
            pages.append(CodePage(int(number), name, chars))
    rank = {name: i for i, name in enumerate(PREFERRED)}
    return tuple(sorted(pages, key=lambda p: (rank.get(p.name, len(PREFERRED)), p.number)))


def printable(ch: str) -> bool:
    """Printed as itself in every page: ASCII from space to tilde."""
    return " " <= ch <= "~"


def _fallback(ch: str, pages: tuple[CodePage, ...]) -> str:
    """One character that can be printed in its place: its letter without the accent, or "?"."""
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if len(base) == 1 and base != ch and (printable(base) or any(base in p.chars for p in pages)):
        return base
    return UNPRINTABLE


class TextEncoder:
    """Encodes the lines of one part of a job, keeping track of the page in use."""

    def __init__(self, profile: str) -> None:
        self.pages = code_pages(profile)
        self.page: CodePage | None = None  # unknown after ESC @

    def reset(self) -> None:
        self.page = None

    def encode(self, text: str) -> bytes:
        out = bytearray()
        for ch in unicodedata.normalize("NFC", text):
            out += self._char(ch)
        return bytes(out)

    def _char(self, ch: str) -> bytes:
        if printable(ch):
            return ch.encode("ascii")
        if self.page is not None and ch in self.page.chars:
            return bytes([self.page.chars[ch]])
        page = next((p for p in self.pages if ch in p.chars), None)
        if page is None:  # the fallback is "?" or a character some page has: this ends
            return self._char(_fallback(ch, self.pages))
        self.page = page
        return SELECT_PAGE + bytes([page.number, page.chars[ch]])

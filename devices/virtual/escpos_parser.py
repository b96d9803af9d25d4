"""An incremental ESC/POS byte-stream tokenizer, the front half of the virtual printer. Pure.

It knows the length of every command python-escpos sends (and the common others), so a stream
cut anywhere by TCP or a serial line tokenizes the same; the printer model gives the tokens meaning.
Bytes it cannot place become ``Command("unknown", ...)`` so tests notice them.
"""

from __future__ import annotations

from dataclasses import dataclass

ESC, GS, DLE, FS = 0x1B, 0x1D, 0x10, 0x1C
LF, CR, HT, FF = 0x0A, 0x0D, 0x09, 0x0C


@dataclass(frozen=True)
class Text:
    data: bytes


@dataclass(frozen=True)
class Control:
    code: int  # LF, CR, HT, FF, or another C0 byte


@dataclass(frozen=True)
class Command:
    name: str  # "ESC a", "GS ( k", "DLE EOT", ... or "unknown"
    params: bytes = b""
    data: bytes = b""


Token = Text | Control | Command

# Commands with a fixed number of parameter bytes after the command letter.
_ESC_FIXED = {
    "@": 0, "!": 1, "-": 1, "E": 1, "G": 1, "M": 1, "a": 1, "d": 1, "J": 1, "t": 1, "2": 0,
    "3": 1, "{": 1, "=": 1, "V": 1, "R": 1, " ": 1, "%": 1, "r": 1, "A": 1, "+": 1, "p": 3,
    "B": 2, "K": 1, "i": 0, "m": 0, "$": 2, "\\": 2, "U": 1, "c": 2, "?": 2, "e": 1, "S": 0,
    "L": 0, "T": 1, "W": 8, "<": 0,
}  # fmt: skip
_GS_FIXED = {
    "!": 1, "B": 1, "b": 1, "h": 1, "w": 1, "f": 1, "H": 1, "|": 1, "a": 1, "r": 1, "I": 1,
    "L": 2, "W": 2, "P": 2, "$": 2, "\\": 2, "^": 3, ":": 0, "T": 1,
}  # fmt: skip
_FS_FIXED = {".": 0, "&": 0, "!": 1, "-": 1, "C": 1, "S": 2, "W": 1, "p": 2}
_DLE_DC4_LENGTHS = {1: 2, 2: 2, 7: 1, 8: 7}

_INCOMPLETE = None


class EscposTokenizer:
    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        """Bytes held back because the command they start is not complete yet."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Token]:
        self._buffer += data
        tokens: list[Token] = []
        pos = 0
        buf = self._buffer
        while pos < len(buf):
            parsed = self._one(buf, pos)
            if parsed is _INCOMPLETE:
                break
            token, pos = parsed
            tokens.append(token)
        del buf[:pos]
        return tokens

    def _one(self, buf: bytearray, pos: int) -> tuple[Token, int] | None:
        byte = buf[pos]
        if byte == ESC:
            return self._esc(buf, pos)
        if byte == GS:
            return self._gs(buf, pos)
        if byte == DLE:
            return self._dle(buf, pos)
        if byte == FS:
            return self._fs(buf, pos)
        if byte < 0x20 or byte == 0x7F:
            return Control(byte), pos + 1
        end = pos
        while end < len(buf) and buf[end] >= 0x20 and buf[end] != 0x7F and buf[end] not in (ESC, GS, DLE, FS):
            end += 1
        return Text(bytes(buf[pos:end])), end

    @staticmethod
    def _fixed(buf: bytearray, pos: int, name: str, count: int) -> tuple[Token, int] | None:
        end = pos + 2 + count
        if end > len(buf):
            return _INCOMPLETE
        return Command(name, bytes(buf[pos + 2 : end])), end

    def _esc(self, buf: bytearray, pos: int) -> tuple[Token, int] | None:
        if pos + 1 >= len(buf):
            return _INCOMPLETE
        letter = chr(buf[pos + 1])
        name = f"ESC {letter}"
        if letter in _ESC_FIXED:
            return self._fixed(buf, pos, name, _ESC_FIXED[letter])
        if letter == "D":  # tab positions, ended by NUL (at most 32)
            end = buf.find(b"\x00", pos + 2)
            if end < 0:
                return _INCOMPLETE if len(buf) - pos < 35 else (Command("unknown", bytes(buf[pos : pos + 2])), pos + 2)
            return Command(name, bytes(buf[pos + 2 : end])), end + 1
        if letter == "*":  # bit image: m nL nH, then columns of 1 or 3 bytes
            if pos + 5 > len(buf):
                return _INCOMPLETE
            m, n = buf[pos + 2], buf[pos + 3] + 256 * buf[pos + 4]
            end = pos + 5 + n * (1 if m in (0, 1) else 3)
            if end > len(buf):
                return _INCOMPLETE
            return Command(name, bytes(buf[pos + 2 : pos + 5]), bytes(buf[pos + 5 : end])), end
        return Command("unknown", bytes(buf[pos : pos + 2])), pos + 2

    def _gs(self, buf: bytearray, pos: int) -> tuple[Token, int] | None:
        if pos + 1 >= len(buf):
            return _INCOMPLETE
        letter = chr(buf[pos + 1])
        if letter in _GS_FIXED:
            return self._fixed(buf, pos, f"GS {letter}", _GS_FIXED[letter])
        if letter == "V":  # cut: m, and a feed amount n for m = 65, 66, 97, 98, 103, 104
            if pos + 3 > len(buf):
                return _INCOMPLETE
            return self._fixed(buf, pos, "GS V", 2 if buf[pos + 2] in (65, 66, 97, 98, 103, 104) else 1)
        if letter == "k":  # barcode: function A (m 0-6) ends with NUL, function B (m 65-79) has a length
            if pos + 3 > len(buf):
                return _INCOMPLETE
            m = buf[pos + 2]
            if m <= 6:
                end = buf.find(b"\x00", pos + 3)
                if end < 0:
                    return _INCOMPLETE
                return Command("GS k", bytes([m]), bytes(buf[pos + 3 : end])), end + 1
            if pos + 4 > len(buf):
                return _INCOMPLETE
            end = pos + 4 + buf[pos + 3]
            if end > len(buf):
                return _INCOMPLETE
            return Command("GS k", bytes([m]), bytes(buf[pos + 4 : end])), end
        if letter == "(":  # GS ( fn pL pH data: QR codes ("( k"), graphics ("( L"), ...
            if pos + 5 > len(buf):
                return _INCOMPLETE
            fn = chr(buf[pos + 2])
            end = pos + 5 + buf[pos + 3] + 256 * buf[pos + 4]
            if end > len(buf):
                return _INCOMPLETE
            return Command(f"GS ( {fn}", b"", bytes(buf[pos + 5 : end])), end
        if letter == "8" and pos + 2 < len(buf) and chr(buf[pos + 2]) == "L":  # GS 8 L p1-p4 data
            if pos + 7 > len(buf):
                return _INCOMPLETE
            size = int.from_bytes(buf[pos + 3 : pos + 7], "little")
            end = pos + 7 + size
            if end > len(buf):
                return _INCOMPLETE
            return Command("GS 8 L", b"", bytes(buf[pos + 7 : end])), end
        if letter == "v":  # raster image: GS v 0 m xL xH yL yH, then x*y bytes
            if pos + 8 > len(buf):
                return _INCOMPLETE
            width, height = buf[pos + 4] + 256 * buf[pos + 5], buf[pos + 6] + 256 * buf[pos + 7]
            end = pos + 8 + width * height
            if end > len(buf):
                return _INCOMPLETE
            return Command("GS v 0", bytes(buf[pos + 3 : pos + 8]), bytes(buf[pos + 8 : end])), end
        return Command("unknown", bytes(buf[pos : pos + 2])), pos + 2

    def _dle(self, buf: bytearray, pos: int) -> tuple[Token, int] | None:
        if pos + 1 >= len(buf):
            return _INCOMPLETE
        second = buf[pos + 1]
        if second in (0x04, 0x05):  # DLE EOT n (status), DLE ENQ n (real-time request)
            return self._fixed(buf, pos, "DLE EOT" if second == 0x04 else "DLE ENQ", 1)
        if second == 0x14:  # DLE DC4 fn ...
            if pos + 3 > len(buf):
                return _INCOMPLETE
            count = 1 + _DLE_DC4_LENGTHS.get(buf[pos + 2], 2)
            return self._fixed(buf, pos, "DLE DC4", count)
        return Control(DLE), pos + 1

    def _fs(self, buf: bytearray, pos: int) -> tuple[Token, int] | None:
        if pos + 1 >= len(buf):
            return _INCOMPLETE
        letter = chr(buf[pos + 1])
        if letter in _FS_FIXED:
            return self._fixed(buf, pos, f"FS {letter}", _FS_FIXED[letter])
        return Control(FS), pos + 1  # python-escpos's "select slip station" is FS alone

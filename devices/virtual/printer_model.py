"""What a thermal receipt printer does with ESC/POS tokens: the paper it produces, its drawer
pulses and its real-time status replies. Pure; the transports (TCP, pty) live in ``printer.py``.

Like a real printer it answers DLE EOT status requests at once, even while offline, and prints
nothing while offline or out of paper (the data is discarded). ``GS r`` (transmit status) is an
ordinary command: it is answered when the data before it has been processed, and not at all while
the printer cannot print. Text is decoded with the code page selected by ESC t, using the code page
table of the python-escpos printer profile.

``fail_after(n, failure)`` makes the printer fail after the next ``n`` bytes it receives (status
requests included), so a test can break a job at every byte boundary.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field

from escpos.capabilities import CAPABILITIES

from devices.virtual.escpos_parser import CR, FF, HT, LF, Command, Control, EscposTokenizer, Text, Token


class PaperState(enum.Enum):
    OK = "ok"
    LOW = "low"
    OUT = "out"


class StatusMode(enum.Enum):
    ANSWER = "answer"  # a working printer
    SILENT = "silent"  # never answers status requests (a dumb printer; it still prints)
    HANG_UP = "hang_up"  # closes the connection when asked (python-escpos then says "paper OK")


class Failure(enum.Enum):
    """How a printer fails in the middle of a job (``fail_after``)."""

    PAPER_OUT = "paper_out"  # the roll ends: the piece printed so far is torn off, the rest is dropped
    COVER_OPEN = "cover_open"  # opened while printing: the piece is torn off, nothing prints until closed
    SILENT = "silent"  # wedged: answers nothing and prints nothing until recovered
    HANG_UP = "hang_up"  # drops the connection (a network module reset): the rest of this connection is lost


@dataclass(frozen=True)
class PrintedLine:
    text: str
    align: str = "left"
    bold: bool = False
    double: bool = False


@dataclass(frozen=True)
class PrintedCode:
    kind: str  # "qr", or a barcode symbology such as "CODE128"
    data: str


@dataclass(frozen=True)
class DrawerPulse:
    pin: int  # 2 or 5
    on_ms: int
    off_ms: int


@dataclass
class Paper:
    """One piece of paper: everything between two cuts (``cut`` None: torn off, paper ran out)."""

    items: list[PrintedLine | PrintedCode] = field(default_factory=list)
    cut: str | None = None  # "full" or "partial"

    @property
    def lines(self) -> list[str]:
        return [item.text for item in self.items if isinstance(item, PrintedLine)]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def qr_codes(self) -> list[str]:
        return [item.data for item in self.items if isinstance(item, PrintedCode) and item.kind == "qr"]

    @property
    def barcodes(self) -> list[PrintedCode]:
        return [item for item in self.items if isinstance(item, PrintedCode) and item.kind != "qr"]

    def render(self) -> str:
        out = []
        for item in self.items:
            if isinstance(item, PrintedLine):
                out.append(item.text)
            else:
                out.append(f"[{item.kind} {item.data}]")
        out.append({"full": "--- cut ---", "partial": "--- partial cut ---"}.get(self.cut or "", "--- torn ---"))
        return "\n".join(out)


_BARCODE_NAMES = {
    0: "UPC-A", 1: "UPC-E", 2: "EAN13", 3: "EAN8", 4: "CODE39", 5: "ITF", 6: "CODABAR",
    65: "UPC-A", 66: "UPC-E", 67: "EAN13", 68: "EAN8", 69: "CODE39", 70: "ITF", 71: "CODABAR",
    72: "CODE93", 73: "CODE128", 74: "GS1-128",
}  # fmt: skip
_REAL_TIME = {"DLE EOT", "DLE ENQ", "DLE DC4"}


@functools.cache  # a pure function of the profile; building it takes milliseconds
def _code_page_tables(profile: str) -> dict[int, list[str]]:
    """Characters 0x80-0xFF of each code page the profile's printer has, by ESC t number."""
    pages = CAPABILITIES["profiles"][profile]["codePages"]
    encodings = CAPABILITIES["encodings"]
    tables: dict[int, list[str]] = {}
    for number, name in pages.items():
        encoding = encodings.get(name, {})
        if "data" in encoding:
            tables[int(number)] = list("".join(encoding["data"]))
        elif "python_encode" in encoding:
            tables[int(number)] = [
                bytes([b]).decode(encoding["python_encode"], errors="replace") for b in range(128, 256)
            ]
    return tables


def _code128_text(data: bytes) -> str:
    """CODE128 data as python-escpos sends it: code set selections "{A"/"{B"/"{C", "{{" for "{"."""
    out, i = [], 0
    while i < len(data):
        if data[i : i + 1] == b"{" and i + 1 < len(data):
            if data[i + 1 : i + 2] == b"{":
                out.append("{")
            i += 2
            continue
        out.append(chr(data[i]))
        i += 1
    return "".join(out)


class PrinterModel:
    def __init__(self, profile: str = "default") -> None:
        self._tokenizer = EscposTokenizer()
        self._tables = _code_page_tables(profile)
        self.paper_state = PaperState.OK
        self.cover_open = False
        self.status_mode = StatusMode.ANSWER
        self.paper_out_after_lines: int | None = None  # run out of paper after this many more lines
        self.papers: list[Paper] = []  # finished pieces: cut, or torn when the paper ran out
        self.current = Paper()
        self.drawer_pulses: list[DrawerPulse] = []
        self.status_requests: list[int] = []
        self.unknown: list[bytes] = []
        self.discarded_commands = 0
        self.wedged = False  # Failure.SILENT: no replies, no printing
        self.answers_gs_r = True  # False: a printer that ignores GS r (some clones)
        self.bytes_received = 0
        self._fail_after: tuple[int, Failure] | None = None
        self._reset_modes()

    def _reset_modes(self) -> None:
        self.align = "left"
        self.bold = False
        self.double = False
        self.code_page = 0
        self._line: list[str] = []
        self._qr_data = ""

    @property
    def printing(self) -> bool:
        return self.paper_state is not PaperState.OUT and not self.cover_open and not self.wedged

    def fail_after(self, nbytes: int, failure: Failure) -> None:
        """Fail once ``nbytes`` more bytes have arrived (0: before the next one)."""
        self._fail_after = (nbytes, failure)

    def recover(self) -> None:
        """Paper loaded, cover closed, unwedged: working again."""
        self.paper_state = PaperState.OK
        self.cover_open = False
        self.wedged = False
        self.status_mode = StatusMode.ANSWER

    def _fail(self, failure: Failure) -> None:
        if failure is Failure.PAPER_OUT:
            self.run_out_of_paper()
        elif failure is Failure.COVER_OPEN:
            self.cover_open = True
            self._tear_off()
        elif failure is Failure.SILENT:
            self.wedged = True

    def status_byte(self, n: int) -> int | None:
        out = self.paper_state is PaperState.OUT
        if n == 1:
            return 0x12 | (0x08 if out or self.cover_open else 0)
        if n == 2:
            return 0x12 | (0x04 if self.cover_open else 0) | (0x20 if out else 0)
        if n == 3:
            return 0x12
        if n == 4:
            return 0x12 | (0x0C if self.paper_state is PaperState.LOW else 0) | (0x60 if out else 0)
        return None

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        """Process bytes from the host; return (reply bytes, whether to hang up now)."""
        self.bytes_received += len(data)
        if self._fail_after is None:
            return self._process(data)
        nbytes, failure = self._fail_after
        if len(data) < nbytes:
            self._fail_after = (nbytes - len(data), failure)
            return self._process(data)
        self._fail_after = None
        reply, hang_up = self._process(data[:nbytes])
        if hang_up:
            return reply, True
        self._fail(failure)
        if failure is Failure.HANG_UP:
            self._tokenizer = EscposTokenizer()  # a half-received command dies with its connection
            return reply, True
        more, hang_up = self._process(data[nbytes:])
        return reply + more, hang_up

    def _process(self, data: bytes) -> tuple[bytes, bool]:
        replies = bytearray()
        for token in self._tokenizer.feed(data):
            if isinstance(token, Command) and token.name == "DLE EOT":
                n = token.params[0]
                self.status_requests.append(n)
                if self.status_mode is StatusMode.HANG_UP:
                    return bytes(replies), True
                reply = self.status_byte(n)
                if self.status_mode is StatusMode.ANSWER and not self.wedged and reply is not None:
                    replies.append(reply)
                continue
            if isinstance(token, Command) and token.name in _REAL_TIME:
                continue
            if not self.printing:
                self.discarded_commands += 1
                continue
            if isinstance(token, Command) and token.name == "GS r":
                if self.answers_gs_r and (reply := self.transmit_status(token.params[0])) is not None:
                    replies.append(reply)
                continue
            self._apply(token)
        return bytes(replies), False

    def transmit_status(self, n: int) -> int | None:
        """GS r n's reply: paper sensor (n = 1 or 49) or drawer connector (2 or 50); bit 4 is 0,
        which tells it from a DLE EOT reply (bit 4 is 1)."""
        if n in (1, 49):
            return 0x03 if self.paper_state is PaperState.LOW else 0x00
        if n in (2, 50):
            return 0x00
        return None

    def _decode(self, data: bytes) -> str:
        table = self._tables.get(self.code_page)
        return "".join(chr(b) if b < 0x80 else (table[b - 0x80] if table else "?") for b in data)

    def _end_line(self, *, blank_ok: bool) -> None:
        if not self._line and not blank_ok:
            return
        self.current.items.append(PrintedLine("".join(self._line), self.align, self.bold, self.double))
        self._line = []
        if self.paper_out_after_lines is not None:
            self.paper_out_after_lines -= 1
            if self.paper_out_after_lines <= 0:
                self.paper_out_after_lines = None
                self.run_out_of_paper()

    def run_out_of_paper(self) -> None:
        self.paper_state = PaperState.OUT
        self._tear_off()

    def _tear_off(self) -> None:
        self._line = []
        if self.current.items:
            self.papers.append(self.current)  # torn off: no cut
        self.current = Paper()

    def _apply(self, token: Token) -> None:
        match token:
            case Text(data=data):
                self._line.append(self._decode(data))
            case Control(code=code):
                if code in (LF, FF):
                    self._end_line(blank_ok=True)
                elif code == HT:
                    self._line.append(" ")
                elif code == CR:
                    pass
            case Command(name="ESC @"):
                self._reset_modes()
            case Command(name="ESC a", params=p):
                self.align = {0: "left", 48: "left", 1: "center", 49: "center", 2: "right", 50: "right"}.get(
                    p[0], self.align
                )
            case Command(name="ESC E", params=p):
                self.bold = bool(p[0] & 1)
            case Command(name="ESC !", params=p):
                self.bold = bool(p[0] & 0x08)
                self.double = bool(p[0] & 0x30)
            case Command(name="GS !", params=p):
                self.double = p[0] != 0
            case Command(name="ESC t", params=p):
                self.code_page = p[0]
            case Command(name="ESC d" | "ESC J"):
                self._end_line(blank_ok=False)
            case Command(name="GS V", params=p):
                self._end_line(blank_ok=False)
                if self.printing:
                    self.current.cut = "partial" if p[0] in (1, 49, 66, 98, 104) else "full"
                    self.papers.append(self.current)
                    self.current = Paper()
            case Command(name="ESC p", params=p):
                pin = 2 if p[0] in (0, 48) else 5
                self.drawer_pulses.append(DrawerPulse(pin, p[1] * 2, p[2] * 2))
            case Command(name="GS ( k", data=d):
                self._qr(d)
            case Command(name="GS k", params=p, data=d):
                self._end_line(blank_ok=False)
                kind = _BARCODE_NAMES.get(p[0], f"barcode-{p[0]}")
                text = _code128_text(d) if kind == "CODE128" else d.decode("ascii", errors="replace")
                self.current.items.append(PrintedCode(kind, text))
            case Command(name="GS v 0" | "ESC *" | "GS ( L" | "GS 8 L", data=d):
                self._end_line(blank_ok=False)
                self.current.items.append(PrintedCode("image", f"{len(d)} bytes"))
            case Command(name="unknown", params=p):
                self.unknown.append(p)
            case Command():
                pass  # modes the text view does not show: underline, font, density, barcode size, ...

    def _qr(self, data: bytes) -> None:
        if len(data) < 2 or data[0] != 0x31:  # cn = "1": QR code
            return
        fn = data[1]
        if fn == 0x50 and len(data) >= 3:  # store data (m = "0")
            self._qr_data = data[3:].decode("utf-8", errors="replace")
        elif fn == 0x51:  # print the stored symbol
            self._end_line(blank_ok=False)
            self.current.items.append(PrintedCode("qr", self._qr_data))

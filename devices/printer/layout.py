"""The receipt layout: a receipt in, a list of print operations out. Pure, table-tested, no I/O.

The operations are rendered to ESC/POS bytes by ``devices.printer.render``; the transports only
move those bytes.
"""

from __future__ import annotations

import enum
import textwrap
from dataclasses import dataclass

from devices.print_jobs import Receipt, ReceiptLine

PREFIX_CURRENCIES = frozenset({"$", "£", "US$", "A$", "C$"})
CLOCK_NOT_SET = "clock not set"  # a copy printed before the till's clock was synchronised


class Align(enum.Enum):
    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


class CodeSymbol(enum.Enum):
    QR = "qr"
    CODE128 = "code128"
    NONE = "none"


@dataclass(frozen=True)
class TextLine:
    text: str
    align: Align = Align.LEFT
    bold: bool = False
    double: bool = False  # double width and height


@dataclass(frozen=True)
class Feed:
    lines: int = 1


@dataclass(frozen=True)
class QrCode:
    data: str
    size: int = 6  # module size in dots, 1-16


@dataclass(frozen=True)
class Barcode:
    data: str  # printed as CODE128


@dataclass(frozen=True)
class Cut:
    pass


@dataclass(frozen=True)
class KickDrawer:
    pin: int = 2  # 2 or 5: the drawer connector pin


PrintOp = TextLine | Feed | QrCode | Barcode | Cut | KickDrawer


@dataclass(frozen=True)
class LayoutSettings:
    width_chars: int = 42  # 80 mm paper, font A; 58 mm paper takes 32
    code_symbol: CodeSymbol = CodeSymbol.QR
    decimal_separator: str = "."
    thank_you: str = "Thank you for your visit!"
    date_format: str = "%Y-%m-%d %H:%M"


def clean(text: str) -> str:
    """Text safe to print: control characters would be ESC/POS commands, so they become spaces."""
    return "".join(" " if (ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0) else ch for ch in text)


def format_money(cents: int, currency: str, decimal_separator: str = ".") -> str:
    whole, frac = divmod(cents, 100)
    amount = f"{whole}{decimal_separator}{frac:02d}"
    if currency in PREFIX_CURRENCIES:
        return f"{currency}{amount}"
    return f"{amount} {currency}"


def two_columns(left: str, right: str, width: int) -> list[str]:
    """``left`` wrapped to leave room for ``right``, which ends the first line."""
    room = max(1, width - len(right) - 1)
    lines = textwrap.wrap(left, room) or [""]
    first = lines[0].ljust(width - len(right)) + right
    return [first] + lines[1:]


def _item_lines(item: ReceiptLine, currency: str, settings: LayoutSettings) -> list[str]:
    w = settings.width_chars
    total = format_money(item.total_cents, currency, settings.decimal_separator)
    if item.quantity == 1:
        return two_columns(clean(item.name), total, w)
    unit = format_money(item.unit_price_cents, currency, settings.decimal_separator)
    lines = textwrap.wrap(clean(item.name), w) or [""]
    return lines + two_columns(f"  {item.quantity} x {unit}", total, w)


def layout_receipt(receipt: Receipt, settings: LayoutSettings) -> list[PrintOp]:
    w = settings.width_chars

    def money(cents: int) -> str:
        return format_money(cents, receipt.currency, settings.decimal_separator)

    rule = TextLine("-" * w)
    ops: list[PrintOp] = [TextLine(clean(receipt.spa_name), Align.CENTER, bold=True, double=True)]
    for line in receipt.spa_address.splitlines():
        if line.strip():
            ops.append(TextLine(clean(line.strip()), Align.CENTER))
    if receipt.copy:
        ops.append(TextLine("*** COPY ***", Align.CENTER, bold=True))
    ops += [
        rule,
        *[TextLine(t) for t in two_columns("Receipt", clean(receipt.code), w)],
        *[TextLine(t) for t in two_columns("Date", receipt.created_at.strftime(settings.date_format), w)],
    ]
    if receipt.copy:
        printed = receipt.printed_at.strftime(settings.date_format) if receipt.printed_at else CLOCK_NOT_SET
        ops += [TextLine(t) for t in two_columns("Printed", printed, w)]
    ops += [
        *[TextLine(t) for t in two_columns("Cashier", clean(receipt.cashier), w)],
        rule,
    ]
    for item in receipt.items:
        ops += [TextLine(t) for t in _item_lines(item, receipt.currency, settings)]
    method = "Cash" if receipt.method == "cash" else "Card"
    ops += [
        rule,
        *[TextLine(t, bold=True) for t in two_columns("TOTAL", money(receipt.total_cents), w)],
        *[TextLine(t) for t in two_columns(f"Paid ({method})", money(receipt.paid_cents), w)],
        *[TextLine(t) for t in two_columns("Change", money(receipt.change_cents), w)],
        Feed(1),
    ]
    if settings.code_symbol is CodeSymbol.QR:
        ops.append(QrCode(receipt.code))
    elif settings.code_symbol is CodeSymbol.CODE128:
        ops.append(Barcode(receipt.code))
    if settings.thank_you:
        ops += [TextLine(t, Align.CENTER) for t in textwrap.wrap(clean(settings.thank_you), w)]
    ops.append(Cut())
    return ops

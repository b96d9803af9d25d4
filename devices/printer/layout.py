"""The receipt layout: a receipt (or a till's slip or report) in, a list of print operations out.
Pure, table-tested, no I/O.

Every line fits ``width_chars`` (32 on 58 mm paper, 42 or 48 on 80 mm): a label and its amount
share a line where both fit, else the amount goes right-aligned on the next; the taxes are a table
where it fits, a line per figure where it does not.

The operations are rendered to ESC/POS bytes by ``devices.printer.render``; the transports only
move those bytes.
"""

from __future__ import annotations

import enum
import textwrap
from dataclasses import dataclass
from datetime import datetime

from devices.print_jobs import Document, Receipt, ReceiptLine, TaxLine

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


MIN_LABEL = 8  # a label squeezed narrower than this reads badly: its value goes below instead


def label_value(label: str, value: str, width: int) -> list[str]:
    """A label and its value on one line where they fit (``two_columns``); a value too wide for
    that (a range of receipt numbers on 58 mm paper) goes below the label, right-aligned."""
    if len(value) + 1 + min(len(label), MIN_LABEL) <= width:
        return two_columns(label, value, width)
    below = textwrap.wrap(value, width) or [""]
    return (textwrap.wrap(label, width) or [""]) + [line.rjust(width) for line in below]


def format_rate(rate_bp: int) -> str:
    """1900 → "19%", 550 → "5.5%"."""
    whole, frac = divmod(rate_bp, 100)
    return f"{whole}.{frac:02d}".rstrip("0").rstrip(".") + "%"


def _with_reason(label: str, reason: str) -> str:
    return f"{label} ({clean(reason.strip())})" if reason.strip() else label


def _item_lines(item: ReceiptLine, currency: str, settings: LayoutSettings) -> list[str]:
    w = settings.width_chars
    sep = settings.decimal_separator
    gross = format_money(item.gross_cents, currency, sep)
    if item.quantity == 1:
        lines = two_columns(clean(item.name), gross, w)
    else:
        unit = format_money(item.unit_price_cents, currency, sep)
        lines = (textwrap.wrap(clean(item.name), w) or [""]) + two_columns(f"  {item.quantity} x {unit}", gross, w)
    if item.discount_cents:
        off = "-" + format_money(item.discount_cents, currency, sep)
        lines += label_value(_with_reason("  Discount", item.discount_reason), off, w)
    return lines


def _tax_lines(taxes: tuple[TaxLine, ...], currency: str, settings: LayoutSettings) -> list[str]:
    """Net, tax and gross per rate: a table of four columns where the paper is wide enough."""
    w, sep = settings.width_chars, settings.decimal_separator

    def amount(cents: int) -> str:
        return f"{cents // 100}{sep}{cents % 100:02d}"

    header = ("Rate", "Net", "Tax", "Gross")
    rows = [(format_rate(t.rate_bp), amount(t.net_cents), amount(t.tax_cents), amount(t.gross_cents)) for t in taxes]
    first = max(len(r[0]) for r in [header, *rows])
    rest = max(len(c) for r in [header, *rows] for c in r[1:]) + 2
    if first + 3 * rest <= w:
        pad = w - first - 3 * rest  # the spare room after the rate, so the amounts end the line
        title = [f"Taxes ({currency.strip()})"]
        return title + [r[0].ljust(first + pad) + "".join(c.rjust(rest) for c in r[1:]) for r in [header, *rows]]
    lines = []
    for t in taxes:
        rate = format_rate(t.rate_bp)
        for label, cents in (("net", t.net_cents), ("tax", t.tax_cents), ("gross", t.gross_cents)):
            lines += label_value(f"{rate} {label}", format_money(cents, currency, sep), w)
    return lines


def _rows(label: str, value: str, width: int, *, bold: bool = False) -> list[PrintOp]:
    return [TextLine(t, bold=bold) for t in label_value(label, value, width)]


def _header(spa_name: str, spa_address: str) -> list[PrintOp]:
    ops: list[PrintOp] = [TextLine(clean(spa_name), Align.CENTER, bold=True, double=True)]
    for line in spa_address.splitlines():
        if line.strip():
            ops.append(TextLine(clean(line.strip()), Align.CENTER))
    return ops


METHOD_NAMES = {"cash": "Cash", "card": "Card"}


def layout_receipt(receipt: Receipt, settings: LayoutSettings) -> list[PrintOp]:
    w = settings.width_chars

    def money(cents: int) -> str:
        return format_money(cents, receipt.currency, settings.decimal_separator)

    rule = TextLine("-" * w)
    ops = _header(receipt.spa_name, receipt.spa_address)
    if receipt.copy:
        ops.append(TextLine("*** COPY ***", Align.CENTER, bold=True))
    ops.append(rule)
    if receipt.receipt_number:
        ops += _rows("Receipt no.", receipt.receipt_number, w) + _rows("Ticket", clean(receipt.code), w)
    else:  # the daily ticket code was the only number before issue 12
        ops += _rows("Receipt", clean(receipt.code), w)
    ops += _rows("Date", receipt.created_at.strftime(settings.date_format), w)
    if receipt.copy:
        printed = receipt.printed_at.strftime(settings.date_format) if receipt.printed_at else CLOCK_NOT_SET
        ops += _rows("Printed", printed, w)
    ops += [*_rows("Cashier", clean(receipt.cashier), w), rule]
    for item in receipt.items:
        ops += [TextLine(t) for t in _item_lines(item, receipt.currency, settings)]
    ops.append(rule)
    tax_on_top = bool(receipt.taxes) and not receipt.prices_include_tax
    if receipt.order_discount_cents or tax_on_top:
        ops += _rows("Subtotal", money(receipt.lines_cents), w)
    if receipt.order_discount_cents:
        ops += _rows(
            _with_reason("Discount", receipt.order_discount_reason), "-" + money(receipt.order_discount_cents), w
        )
    if tax_on_top:
        ops += _rows("Tax", money(sum(t.tax_cents for t in receipt.taxes)), w)
    ops += _rows("TOTAL", money(receipt.total_cents), w, bold=True)
    if receipt.tip_cents:
        ops += _rows("Tip", money(receipt.tip_cents), w)
        ops += _rows("Total with tip", money(receipt.total_cents + receipt.tip_cents), w, bold=True)
    if receipt.method == "split":
        for tender in receipt.tenders:
            ops += _rows(f"Paid ({METHOD_NAMES[tender.method]})", money(tender.amount_cents), w)
    else:
        ops += _rows(f"Paid ({METHOD_NAMES[receipt.method]})", money(receipt.paid_cents), w)
    ops += _rows("Change", money(receipt.change_cents), w)
    if receipt.taxes:
        ops += [rule, *[TextLine(t) for t in _tax_lines(receipt.taxes, receipt.currency, settings)]]
    ops.append(Feed(1))
    if settings.code_symbol is CodeSymbol.QR:
        ops.append(QrCode(receipt.code))
    elif settings.code_symbol is CodeSymbol.CODE128:
        ops.append(Barcode(receipt.code))
    if settings.thank_you:
        ops += [TextLine(t, Align.CENTER) for t in textwrap.wrap(clean(settings.thank_you), w)]
    ops.append(Cut())
    return ops


def layout_document(document: Document, settings: LayoutSettings) -> list[PrintOp]:
    """A slip or report: the spa, the title, the number, till and time, then its labelled lines
    as the server worded and formatted them. A kiosk's ticket has a layout of its own."""
    if document.kind == "ticket":
        return layout_ticket(document, settings)
    w = settings.width_chars
    rule = TextLine("-" * w)
    ops = _header(document.spa_name, document.spa_address)
    ops += [Feed(1), *[TextLine(t, Align.CENTER, bold=True) for t in textwrap.wrap(clean(document.title), w)], rule]
    if document.number:
        ops += _rows("Number", document.number, w)
    ops += _rows("Till", clean(document.till), w)
    ops += [*_rows("Date", document.at.strftime(settings.date_format), w), rule]
    for line in document.lines:
        value = line.value.strftime(settings.date_format) if isinstance(line.value, datetime) else line.value
        ops += _rows(clean(line.label), clean(value), w)
    ops += [rule, Feed(1), Cut()]
    return ops


def layout_ticket(document: Document, settings: LayoutSettings) -> list[PrintOp]:
    """A kiosk's ticket: the spa, the code as big as the printer prints text, when the customer is
    likely called, and the phone page as a QR code with its address beneath (for a phone that
    cannot scan). Always a QR code, whatever ``code_symbol`` says: a barcode would not open a page."""
    w = settings.width_chars
    ops = _header(document.spa_name, document.spa_address)
    ops += [Feed(1), *[TextLine(t, Align.CENTER, bold=True) for t in textwrap.wrap(clean(document.title), w)]]
    if document.code:
        ops += [Feed(1), TextLine(clean(document.code), Align.CENTER, bold=True, double=True), Feed(1)]
    ops.append(TextLine("-" * w))
    for line in document.lines:
        value = line.value.strftime(settings.date_format) if isinstance(line.value, datetime) else line.value
        ops += _rows(clean(line.label), clean(value), w)
    ops += _rows("Date", document.at.strftime(settings.date_format), w)
    if document.url:
        # Cut into lines of the paper's width, not at '-' or '/': the address must read back whole.
        url = clean(document.url)
        ops += [Feed(1), QrCode(url), *[TextLine(url[i : i + w], Align.CENTER) for i in range(0, len(url), w)]]
    ops += [Feed(1), Cut()]
    return ops

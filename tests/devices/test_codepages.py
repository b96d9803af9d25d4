"""Code pages from the printer's profile: "€" through PC858 or WPC1252 where the profile has them, a
character no page has printed as "?" (or its unaccented letter), never as another encoding's bytes.
One test per profile of python-escpos's printer database: a receipt with accents, "€" and CJK is
rendered for that profile and read back by the virtual printer with that profile's own pages."""

from __future__ import annotations

import unicodedata

import pytest
from escpos.capabilities import CAPABILITIES

from devices.base import ReceiptLine
from devices.printer.codepages import SELECT_PAGE, TextEncoder, code_pages
from devices.printer.layout import LayoutSettings, TextLine, layout_receipt
from devices.printer.render import render
from devices.virtual.escpos_parser import Command, EscposTokenizer
from devices.virtual.printer_model import PrinterModel
from tests.devices.helpers import make_receipt

PROFILES = sorted(CAPABILITIES["profiles"])
EURO_PAGES = {"CP858", "CP1252"}


def page_number(profile: str, name: str) -> int:
    return next(p.number for p in code_pages(profile) if p.name == name)


@pytest.mark.parametrize(
    ("profile", "text", "expected"),
    [
        # "€": PC858 (page 19) where the profile has it, not the Greek page 15 python-escpos chose
        ("default", "45.00 €", b"45.00 " + SELECT_PAGE + bytes([19, 0xD5])),
        ("TM-T88V", "45.00 €", b"45.00 " + SELECT_PAGE + bytes([19, 0xD5])),
        ("TM-T88II", "45.00 €", b"45.00 " + SELECT_PAGE + bytes([16, 0x80])),  # no PC858: WPC1252
        ("ZJ-5870", "45.00 €", b"45.00 " + SELECT_PAGE + bytes([16, 0x80])),
        ("TM-U220", "45.00 €", b"45.00 ?"),  # one page, no "€" in it
        # PC437 (page 0) first for what it has: every ESC/POS printer has it
        ("default", "Hauptstraße", b"Hauptstra" + SELECT_PAGE + bytes([0, 0xE1]) + b"e"),
        # …and the page in use is kept while it can print: one switch for "€", none back
        ("default", "ä € ö", SELECT_PAGE + bytes([0, 0x84]) + b" " + SELECT_PAGE + bytes([19, 0xD5, 0x20, 0x94])),
        ("default", "山田 Hanako", b"?? Hanako"),  # CJK: a placeholder, not GB18030 bytes
        ("simple", "Łódź", b"?" + SELECT_PAGE + bytes([0, 0xA2]) + b"dz"),  # no page with Ł or ź: ź → z
        ("default", "Łódź", SELECT_PAGE + bytes([18, 0x9D, 0xA2, 0x64, 0xAB])),  # PC852 has them all
        ("default", "e\u0301", SELECT_PAGE + bytes([0, 0x82])),  # é written as e + combining accent
        ("default", "😀 ok", b"? ok"),
    ],
)
def test_text_in_the_profiles_pages(profile: str, text: str, expected: bytes) -> None:
    assert TextEncoder(profile).encode(text) == expected


def test_the_first_pages_tried_are_the_ones_every_printer_has() -> None:
    assert [p.name for p in code_pages("default")][:3] == ["CP437", "CP858", "CP1252"]
    assert page_number("default", "CP858") == 19 and page_number("default", "CP1252") == 16


RECEIPT = make_receipt(
    spa_name="Spa Zoë Ødegård",
    spa_address="Hauptstraße 1\n75001 Paris — Île-de-France",
    cashier="Łukasz Żółć",
    items=(ReceiptLine("Café crème", 1, 450), ReceiptLine("Massage 足裏", 2, 4500), ReceiptLine("Sauna ½ h", 1, 1500)),
    total_cents=10950,
    paid_cents=11000,
    change_cents=50,
    currency="€",
)


def printed_instead(ch: str, profile: str) -> set[str]:
    """What may stand on the paper for ``ch``: itself if a page of the profile has it, else "?" or
    its letter without the accent."""
    if " " <= ch <= "~" or any(ch in p.chars for p in code_pages(profile)):
        return {ch}
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return {"?", base} if len(base) == 1 else {"?"}


@pytest.mark.parametrize("profile", PROFILES)
def test_a_receipt_prints_in_each_profiles_own_pages(profile: str) -> None:
    settings = LayoutSettings()
    ops = layout_receipt(RECEIPT, settings)
    expected = [op.text for op in ops if isinstance(op, TextLine)]
    data = render(ops, profile)

    model = PrinterModel(profile)  # decodes with this profile's pages, as such a printer would
    model.feed(data)
    assert model.unknown == []
    # (a profile without a cutter leaves the receipt on the roll; the feeds make blank lines)
    printed = [line for paper in [*model.papers, model.current] for line in paper.lines if line]
    assert len(printed) == len(expected)
    for want, got in zip(expected, printed, strict=True):
        assert len(got) == len(want), (want, got)  # one character, one byte: the columns hold
        for ch, out in zip(want, got, strict=True):
            assert out in printed_instead(ch, profile), (profile, want, got, ch, out)

    euro_line = next(line for line in printed if line.startswith("TOTAL"))
    has_euro = any("€" in p.chars for p in code_pages(profile))
    assert euro_line.endswith("109.50 €" if has_euro else "109.50 ?")
    assert "Massage ??" in printed  # CJK: "?", never another encoding's bytes

    selected = [t.params[0] for t in EscposTokenizer().feed(data) if isinstance(t, Command) and t.name == "ESC t"]
    pages = {p.number: p.name for p in code_pages(profile)}
    if has_euro and {p.name for p in code_pages(profile)} & EURO_PAGES:
        euro_page = next(n for n in selected if "€" in next(p.chars for p in code_pages(profile) if p.number == n))
        assert pages[euro_page] in EURO_PAGES, f"{profile}: € through {pages[euro_page]}"
    assert all(n in pages for n in selected)  # only pages the profile has

"""The virtual printer's tokenizer and model on bytes produced by python-escpos itself."""

from __future__ import annotations

import pytest
from escpos.printer import Dummy
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.printer.layout import LayoutSettings, layout_receipt
from devices.printer.render import render
from devices.virtual.escpos_parser import Command, Control, EscposTokenizer, Text
from devices.virtual.printer_model import DrawerPulse, PaperState, PrintedCode, PrinterModel, StatusMode
from tests.devices.helpers import make_receipt


def escpos_bytes(build) -> bytes:
    printer = Dummy()
    build(printer)
    return printer.output


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda p: p.hw("INIT"), [Command("ESC @")]),
        (lambda p: p.set(align="center"), [Command("ESC a", b"\x01")]),
        (lambda p: p.cut(), [Command("ESC d", b"\x06"), Command("GS V", b"\x00")]),
        (lambda p: p.cut(mode="PART"), [Command("ESC d", b"\x06"), Command("GS V", b"\x01")]),
        (lambda p: p.cut(feed=False), [Command("GS V", b"\x42\x00")]),
        (lambda p: p.cashdraw(2), [Command("ESC p", b"\x00\x32\x32")]),
        (lambda p: p.cashdraw(5), [Command("ESC p", b"\x01\x32\x32")]),
        (lambda p: p._raw(b"\x10\x04\x04"), [Command("DLE EOT", b"\x04")]),
        (lambda p: p.textln("Hi"), [Command("ESC t", b"\x00"), Text(b"Hi"), Control(0x0A)]),
        (lambda p: p.control("HT"), [Command("ESC D", bytes(range(8, 40, 8)))]),
        (lambda p: p.buzzer(), [Command("ESC B", b"\x02\x04")]),
        (lambda p: p.line_spacing(30), [Command("ESC 3", b"\x1e")]),
        (lambda p: p.panel_buttons(False), [Command("ESC c", b"5\x01")]),
    ],
)
def test_tokenizer_on_python_escpos_commands(build, expected) -> None:
    assert EscposTokenizer().feed(escpos_bytes(build)) == expected


def test_qr_and_barcode_commands() -> None:
    data = escpos_bytes(lambda p: (p.qr("T-0042", native=True), p.barcode("{BT-42", "CODE128", function_type="B")))
    tokens = EscposTokenizer().feed(data)
    qr = [t for t in tokens if isinstance(t, Command) and t.name == "GS ( k"]
    assert [t.data[:2] for t in qr] == [b"1A", b"1C", b"1E", b"1P", b"1Q"]
    assert qr[3].data == b"1P0T-0042"
    assert Command("GS k", b"\x49", b"{BT-42") in tokens


@given(cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=12))
@settings(max_examples=60, deadline=None)
def test_stream_cut_anywhere_tokenizes_the_same(cuts: list[int]) -> None:
    data = render(layout_receipt(make_receipt(), LayoutSettings()))
    whole = EscposTokenizer().feed(data)
    tokenizer = EscposTokenizer()
    pieces, last = [], 0
    for cut in sorted({min(c, len(data)) for c in cuts}) + [len(data)]:
        pieces.append(data[last:cut])
        last = cut
    tokens = [token for piece in pieces for token in tokenizer.feed(piece)]
    # text may be split into several Text tokens; everything else is identical
    assert _merge_text(tokens) == _merge_text(whole)
    assert tokenizer.pending == 0


def _merge_text(tokens):
    merged = []
    for token in tokens:
        if isinstance(token, Text) and merged and isinstance(merged[-1], Text):
            merged[-1] = Text(merged[-1].data + token.data)
        else:
            merged.append(token)
    return merged


def test_model_prints_text_in_the_selected_code_page() -> None:
    model = PrinterModel()
    reply, hang_up = model.feed(escpos_bytes(lambda p: (p.textln("Zürich 12 € Straße"), p.cut())))
    assert (reply, hang_up) == (b"", False)
    assert model.papers[0].lines == ["Zürich 12 € Straße"]
    assert model.papers[0].cut == "full"
    assert model.unknown == []


@pytest.mark.parametrize(
    ("paper", "cover_open", "replies"),
    [
        (PaperState.OK, False, bytes([0x12, 0x12, 0x12, 0x12])),
        (PaperState.LOW, False, bytes([0x12, 0x12, 0x12, 0x1E])),
        (PaperState.OUT, False, bytes([0x1A, 0x32, 0x12, 0x72])),
        (PaperState.OK, True, bytes([0x1A, 0x16, 0x12, 0x12])),
    ],
)
def test_model_status_replies(paper: PaperState, cover_open: bool, replies: bytes) -> None:
    model = PrinterModel()
    model.paper_state, model.cover_open = paper, cover_open
    reply, _ = model.feed(b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04")
    assert reply == replies


def test_model_offline_discards_print_data_but_answers_status() -> None:
    model = PrinterModel()
    model.cover_open = True
    reply, _ = model.feed(escpos_bytes(lambda p: (p.textln("lost"), p.cashdraw(2), p.cut())) + b"\x10\x04\x01")
    assert reply == b"\x1a"
    assert model.papers == [] and model.drawer_pulses == []
    assert model.discarded_commands > 0


@pytest.mark.parametrize(("mode", "expected"), [(StatusMode.SILENT, (b"", False)), (StatusMode.HANG_UP, (b"", True))])
def test_model_mute_modes(mode: StatusMode, expected) -> None:
    model = PrinterModel()
    model.status_mode = mode
    assert model.feed(b"\x10\x04\x04") == expected


def test_model_records_codes_and_pulses() -> None:
    model = PrinterModel()
    data = escpos_bytes(
        lambda p: (p.qr("T-1", native=True), p.barcode("{BA{{B", "CODE128", function_type="B"), p.cashdraw(5), p.cut())
    )
    model.feed(data)
    assert model.papers[0].qr_codes == ["T-1"]
    assert model.papers[0].barcodes == [PrintedCode("CODE128", "A{B")]
    assert model.drawer_pulses == [DrawerPulse(5, 100, 100)]


def test_paper_running_out_mid_job_tears_the_paper() -> None:
    model = PrinterModel()
    model.paper_out_after_lines = 2
    model.feed(escpos_bytes(lambda p: (p.textln("one"), p.textln("two"), p.textln("three"), p.cut())))
    assert [(paper.lines, paper.cut) for paper in model.papers] == [(["one", "two"], None)]
    assert model.paper_state is PaperState.OUT

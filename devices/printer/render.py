"""Print operations → ESC/POS bytes, by python-escpos into its ``Dummy`` printer (no I/O).

Rendering a whole job before sending anything means a job that cannot be rendered fails when it is
submitted, not halfway through the paper, and the transport sends one block of bytes. Text goes
through ``codepages.TextEncoder`` (the profile's pages, "?" for what none has), not python-escpos's
automatic encoding.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Sequence

from escpos.exceptions import Error as EscposError
from escpos.printer import Dummy

from devices.printer.codepages import TextEncoder
from devices.printer.layout import Barcode, Cut, Feed, KickDrawer, PrintOp, QrCode, TextLine

logger = logging.getLogger(__name__)


def render(ops: Sequence[PrintOp], profile: str = "default") -> bytes:
    """The bytes for one job; starts with ESC @ so the printer's modes are known."""
    printer = Dummy(profile=profile)
    printer.hw("INIT")
    text = TextEncoder(profile)  # ESC @ leaves the code page unknown: the first need selects one
    try:
        for op in ops:
            _render_one(printer, text, op)
    except (EscposError, ValueError) as exc:
        raise ValueError(f"cannot render {op!r}: {exc}") from exc
    return bytes(printer.output)


def _render_one(printer: Dummy, text: TextEncoder, op: PrintOp) -> None:
    match op:
        case TextLine(text=line, align=align, bold=bold, double=double):
            printer.set(
                align=align.value,
                bold=bold,
                normal_textsize=not double,
                double_width=double,
                double_height=double,
            )
            printer._raw(text.encode(line) + b"\n")
        case Feed(lines=lines):
            printer.ln(lines)
        case QrCode(data=data, size=size):
            printer.set(align="center")
            printer.qr(data, size=size, native=True)
            printer.ln()
        case Barcode(data=data):
            # python-escpos announces its renderer with print(); keep that off the daemon's stdout.
            with contextlib.redirect_stdout(io.StringIO()) as said:
                printer.barcode(
                    "{B" + data.replace("{", "{{"), "CODE128", function_type="B", pos="BELOW", align_ct=True
                )
            logger.debug("python-escpos: %s", said.getvalue().strip())
            printer.ln()
        case Cut():
            printer.cut()
        case KickDrawer(pin=pin):
            printer.cashdraw(pin)
        case _:
            raise ValueError(f"unknown print operation {op!r}")

"""The kiosk's printed ticket (issue 11) on paper: the code big, when the customer is likely called,
and the phone page as a QR code with its address beneath, as the virtual printer parses the
rendered ESC/POS bytes (GS ( k for the QR code); and the payload the server sends, checked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from appliance.protocol import document_job, ticket_url
from devices.print_jobs import Document, DocumentLine
from devices.printer.layout import CodeSymbol, LayoutSettings, layout_document
from devices.printer.render import render
from devices.virtual.printer_model import PrintedLine, PrinterModel

URL = "https://spa.example.lan/t/Xq3v9TbLk2mN8pR4sW7yZa"


def ticket(**changes: Any) -> Document:
    values: dict[str, Any] = dict(
        kind="ticket",
        title="YOUR TICKET",
        spa_name="Lotus Spa",
        spa_address="Main St 1",
        at=datetime(2026, 12, 6, 14, 5),
        till="kiosk-1",
        lines=(DocumentLine("Called about", "14:35 (~30 min)"),),
        code="A-042",
        url=URL,
    )
    values.update(changes)
    return Document(**values)


def paper(document: Document, settings: LayoutSettings) -> Any:
    model = PrinterModel()
    model.feed(render(layout_document(document, settings)))
    assert model.unknown == []
    [printed] = model.papers
    assert printed.cut == "full"
    return printed


@pytest.mark.parametrize("width", [32, 42, 48])
def test_a_ticket_prints_the_code_big_and_the_phone_page_as_a_qr_code(width: int) -> None:
    # Even where the till's receipts carry a barcode: a barcode would open no page on a phone.
    printed = paper(ticket(), LayoutSettings(width_chars=width, code_symbol=CodeSymbol.CODE128))
    assert printed.qr_codes == [URL] and printed.barcodes == []
    [code] = [i for i in printed.items if isinstance(i, PrintedLine) and i.text == "A-042"]
    assert code.double and code.bold and code.align == "center"
    lines = printed.lines
    assert all(len(line) <= width for line in lines)
    assert "".join(lines[lines.index("Date" + " " * (width - 20) + "2026-12-06 14:05") + 1 :]) == URL
    assert "Called about" + " " * (width - 27) + "14:35 (~30 min)" in lines
    assert lines[0] == "Lotus Spa" and "YOUR TICKET" in lines
    assert not any(line.startswith("Till") for line in lines)  # the kiosk's name is nobody's business
    # The address printed beneath the code reads back whole, after the code.
    kinds = ["qr" if not isinstance(i, PrintedLine) else i.text for i in printed.items]
    assert kinds.index("qr") < kinds.index(URL[:width])


def test_a_ticket_without_an_address_prints_no_qr_code() -> None:
    printed = paper(ticket(url=None), LayoutSettings())
    assert printed.qr_codes == [] and "A-042" in printed.lines


def payload(**document: Any) -> dict[str, Any]:
    body = {
        "kind": "ticket", "title": "YOUR TICKET", "number": None, "spa_name": "Lotus Spa", "spa_address": "",
        "timezone": "Europe/Berlin", "at": "2026-12-06T13:05:00.000Z", "till": "kiosk-1",
        "lines": [{"label": "Called about", "value": "14:35 (~30 min)"}], "code": "A-042", "url": URL,
    }  # fmt: skip
    body.update(document)
    return {"job_id": "tkt-7", "transaction_id": 7, "open_drawer": False, "document": body}


def test_the_server_s_ticket_becomes_a_document_job_with_a_drawer_never_opened() -> None:
    job = document_job(payload(), drawer=False)
    assert job.document.code == "A-042" and job.document.url == URL and not job.open_drawer
    assert job.document.at.strftime("%H:%M") == "14:05"  # the spa's wall clock, not UTC
    # No SPA_PUBLIC_URL on the server: the path goes after the address the appliance reaches it at.
    relative = document_job(
        payload(url="/t/Xq3v9TbLk2mN8pR4sW7yZa"), drawer=False, server_url="https://spa.example.lan/"
    )
    assert relative.document.url == URL


@pytest.mark.parametrize(
    ("url", "server_url", "expected"),
    [
        (URL, "http://10.0.0.2:8000", URL),
        ("/t/abc", "http://10.0.0.2:8000", "http://10.0.0.2:8000/t/abc"),
        ("//evil.example/t/abc", "http://10.0.0.2:8000", "//evil.example/t/abc"),  # refused by the Document
    ],
)
def test_ticket_urls(url: str, server_url: str, expected: str) -> None:
    assert ticket_url(url, server_url) == expected


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"url": "/t/abc"}, "document.url = '/t/abc': must be an http(s) address"),
        ({"url": "javascript:alert(1)"}, "document.url = 'javascript:alert(1)': must be an http(s) address"),
        ({"url": URL + " x"}, "must be an http(s) address of printable ASCII"),
        ({"url": "https://x/" + "a" * 300}, "at most 300"),
        ({"code": "A 042"}, "document.code = 'A 042': must be printable ASCII without spaces"),
    ],
)
def test_a_ticket_that_could_not_print_right_is_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        document_job(payload(**changes), drawer=False)

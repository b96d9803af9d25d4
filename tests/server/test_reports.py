"""The day's figures (/office/reports, issue 12) against a simulated day whose answers are known
by construction, on SQLite and MariaDB: six customers through the real queue, front desk, roster
and till services on a clock the test moves, then every figure checked to the second and the
cent; then the HTTP side — admins only, clear 400s, every CSV parsing back, the SVG chart.

The day, Monday 2 March 2026 in Berlin (UTC+1), local times:

    shifts   Anna 09:00-13:00, Ben 09:00-12:00 (both ended the evening before)
    C1 09:00 Swedish massage        Anna called 09:05, 09:07-10:07  paid 10:15 cash 50.00, tip 2.00
    C2 09:10 Foot reflexology       Ben  called 09:20, 09:22-09:52  paid 09:55 card 25.00
    C3 09:30 Head and shoulders     Ben  called 10:00, 10:02-10:52  paid 10:55 cash 20.00 + card
             + Foot reflexology                                    30.00, tip 5.00 (2.00 back)
    C4 09:40 Swedish massage        Anna called 10:10, 10:12-11:12  10 % off, paid 11:15 card 40.50,
                                                                   refunded 11:30
    C5 09:50 Facial                 Ben  called 11:00, no-show 11:05
    C6 09:55 Aromatherapy           cancelled 10:30, "left"
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from common.wire import PaymentMethod
from server.app import create_app
from server.db.engine import Database
from server.protocol import schema
from server.service import commands
from server.service.front_desk import FrontDesk
from server.service.principals import Principal
from server.service.queue import QueueService
from server.service.reports import TABLES, Report, Reports
from server.service.roster import RosterService
from server.service.spa_settings import Defaults, SpaSettings
from server.service.till import TillService
from server.web.reports import safe_cell, table_csv

from .conftest import Clock

BERLIN = ZoneInfo("Europe/Berlin")
DAY = date(2026, 3, 2)
SWEDISH, AROMA, FOOT, FACIAL, HEAD = 1, 3, 5, 6, 7  # the demo catalog's ids


def utc(hhmm: str, day: date = DAY) -> datetime:
    """A Berlin wall-clock time of the day, as the naive UTC the clock gives."""
    h, m = map(int, hhmm.split(":"))
    local = datetime(day.year, day.month, day.day, h, m, tzinfo=BERLIN)
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


@pytest.fixture
def clock() -> Clock:
    return Clock(utc("20:00", DAY - timedelta(days=1)))


@pytest.fixture
def settings(db: Database) -> SpaSettings:
    return SpaSettings(db, Defaults(max_wait_min=None), ttl_s=0)


@pytest.fixture
def service(db: Database, published: list[Any], clock: Clock, settings: SpaSettings) -> QueueService:
    return QueueService(db, zone=BERLIN, publish=published.append, clock=clock, settings=settings)


@pytest.fixture
def reports(db: Database, clock: Clock, settings: SpaSettings) -> Reports:
    return Reports(db, BERLIN, clock, settings)


def pay(tid: int, cash: int = 0, card: int = 0, tip: int = 0) -> commands.Pay:
    tenders = tuple((m, c) for m, c in (("cash", cash), ("card", card)) if c)
    return commands.Pay(tid, cash + card, PaymentMethod.CASH, None, None, tenders, tip)


@pytest.fixture
def day(
    service: QueueService,
    till: TillService,
    db: Database,
    actors: dict[str, Principal],
    people: dict[str, Any],
    clock: Clock,
) -> dict[str, Any]:
    """Plays the day above; returns the codes (C1…C6) and the refund's receipt number."""
    desk = FrontDesk(service)
    roster = RosterService(db, service, lambda view: None)
    anna, ben, erik, till_1, kiosk = (actors[n] for n in ("Anna", "Ben", "Erik", "cashier-1", "kiosk-1"))
    dana = commands.ManagerPin(people["Dana"]["id"], people["Dana"]["pin"])
    codes: dict[str, str] = {}
    ids: dict[str, int] = {}

    def when(hhmm: str) -> None:
        clock.now = utc(hhmm)

    def order(name: str, *services: int) -> None:
        items = tuple(schema.ItemRequest(s, 1) for s in services)
        made = service.confirm_selection(kiosk, schema.ConfirmSelection(name, items, None))
        codes[name], ids[name] = made["code"], made["transaction_id"]

    def call(who: Principal, name: str) -> None:
        claimed = service.claim_for_therapist(who, schema.TherapistClaim(None, None))
        assert claimed["transaction"]["id"] == ids[name]

    def at_till(name: str) -> None:
        service.lookup_for_cashier(till_1, commands.Lookup(codes[name], None))

    def shift(who: Principal, on: bool) -> None:
        roster.shift(who, commands.Shift(), on)

    def act(step: Any, who: Principal, name: str) -> None:
        step(who, schema.TxnAction(ids[name]))

    def paid(name: str, change: str, **tender: int) -> None:
        at_till(name)
        assert till.pay(till_1, pay(ids[name], **tender))["change"] == change

    ten_off = ("percent", 1000, "regular", None, dana)  # kind, value, reason, item (the order), manager
    unhappy = ("unhappy", dana)  # reason, manager: every item
    done: dict[str, Any] = {}
    timetable: list[tuple[str, Callable[[], Any]]] = [
        # The demo puts therapists on shift without a word in the log; the evening before, they leave.
        ("", lambda: (shift(anna, False), shift(ben, False))),
        ("09:00", lambda: (shift(anna, True), shift(ben, True), order("C1", SWEDISH))),
        ("09:05", lambda: call(anna, "C1")),
        ("09:07", lambda: act(service.start_service, anna, "C1")),
        ("09:10", lambda: order("C2", FOOT)),
        ("09:20", lambda: call(ben, "C2")),
        ("09:22", lambda: act(service.start_service, ben, "C2")),
        ("09:30", lambda: order("C3", HEAD, FOOT)),
        ("09:40", lambda: order("C4", SWEDISH)),
        ("09:50", lambda: order("C5", FACIAL)),
        ("09:52", lambda: act(service.finish_service, ben, "C2")),
        ("09:55", lambda: (order("C6", AROMA), paid("C2", "0.00", card=2500))),
        ("10:00", lambda: call(ben, "C3")),
        ("10:02", lambda: act(service.start_service, ben, "C3")),
        ("10:07", lambda: act(service.finish_service, anna, "C1")),
        ("10:10", lambda: call(anna, "C4")),
        ("10:12", lambda: act(service.start_service, anna, "C4")),
        ("10:15", lambda: paid("C1", "3.00", cash=5000, tip=200)),
        ("10:30", lambda: service.cancel(erik, commands.Cancel(ids["C6"], "left"))),
        ("10:52", lambda: act(service.finish_service, ben, "C3")),
        ("10:55", lambda: paid("C3", "2.00", cash=2000, card=3000, tip=500)),
        ("11:00", lambda: call(ben, "C5")),
        ("11:05", lambda: desk.no_show(erik, commands.DeskAction(ids["C5"]))),
        ("11:12", lambda: act(service.finish_service, anna, "C4")),
        ("11:14", lambda: (at_till("C4"), till.discount(till_1, commands.SetDiscount(ids["C4"], *ten_off)))),
        ("11:15", lambda: paid("C4", "0.00", card=4050)),
        ("11:30", lambda: done.update(refund=till.refund(till_1, commands.RefundRequest(ids["C4"], *unhappy)))),
        ("12:00", lambda: shift(ben, False)),
        ("13:00", lambda: shift(anna, False)),
        ("14:00", lambda: None),  # the owner looks at the figures
    ]
    for hhmm, step in timetable:
        if hhmm:
            when(hhmm)
        step()
    return {"codes": codes, "refund_receipt": done["refund"]["refund"]["receipt_number"]}


def rows(report: Report, table: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in report.tables[table].rows]


def test_every_figure_of_a_known_day(reports: Reports, day: dict[str, Any]) -> None:
    report = reports.build(DAY, DAY)
    c = day["codes"]
    assert report.summary == {
        "customers": 6,
        "served": 4,
        "paid": 4,
        "no_shows": 1,
        "cancelled": 1,
        # Waits to the first call: C1 5, C2 10, C3 30, C4 30, C5 70 min (C6 was never called).
        "waits_counted": 5,
        "wait_median_min": "30.0",
        "wait_p90_min": "70.0",  # nearest rank: the 5th of 5
        # Started → finished: 60, 30, 50, 60 min.
        "service_median_min": "55.0",
        "service_p90_min": "60.0",
        "payments": 4,
        "revenue": "153.50",  # 45.00 + 25.00 + 43.00 + 40.50
        "discounts": "4.50",
        "tips": "7.00",
        "refunds": "40.50",
        "takings_net": "120.00",  # 153.50 + 7.00 tips − 40.50 back
        "queue_peak": 4,
        "queue_peak_at": "2026-03-02 09:55:00",
    }
    assert rows(report, "durations") == [
        ("", 4, "55.0", "60.0"),
        ("Foot reflexology", 1, "30.0", "30.0"),
        ("Foot reflexology + Head and shoulders", 1, "50.0", "50.0"),
        ("Swedish massage", 2, "60.0", "60.0"),
    ]
    assert rows(report, "not_served") == [("cancelled", "left", 1), ("no_show", "", 1)]
    assert rows(report, "revenue_by_service") == [
        ("Swedish massage", 2, "85.50"),
        ("Foot reflexology", 2, "50.00"),
        ("Head and shoulders", 1, "18.00"),
    ]
    assert rows(report, "revenue_by_therapist") == [("Anna", 2, "85.50"), ("Ben", 2, "68.00")]
    # The split payment counts once for cash (20.00 − 2.00 change) and once for the card.
    assert rows(report, "revenue_by_method") == [
        ("card", 3, "95.50", "40.50", "55.00"),
        ("cash", 2, "65.00", "0.00", "65.00"),
    ]
    # Per bill as its receipt: 7 % — 25.00 twice, 23.36 + 1.64 each; 19 % — 45.00 (37.82 + 7.18),
    # 18.00 (15.13 + 2.87), 40.50 (34.03 + 6.47).
    assert rows(report, "revenue_by_tax_rate") == [
        ("7.00", "46.72", "3.28", "50.00"),
        ("19.00", "86.98", "16.52", "103.50"),
    ]
    assert rows(report, "discounts") == [(c["C4"], "order", "", "10.00%", "regular", "4.50")]
    assert rows(report, "tips") == [("Ben", 1, "5.00"), ("Anna", 1, "2.00")]
    assert rows(report, "refunds") == [
        ("2026-03-02 11:30:00", c["C4"], day["refund_receipt"], "card", "40.50", "unhappy")
    ]
    # Anna: 240 min on shift, 60 + 60 serving; Ben: 180 min, 30 + 50.
    assert rows(report, "utilisation") == [("Anna", "240.0", "120.0", "50.0"), ("Ben", "180.0", "80.0", "44.4")]
    assert rows(report, "queue") == [
        ("2026-03-02 00:00:00", 0),
        *(
            (f"2026-03-02 {t}:00", n)
            for t, n in [
                ("09:00", 1),
                ("09:05", 0),
                ("09:10", 1),
                ("09:20", 0),
                ("09:30", 1),
                ("09:40", 2),
                ("09:50", 3),
                ("09:55", 4),
                ("10:00", 3),
                ("10:10", 2),
                ("10:30", 1),
                ("11:00", 0),
            ]
        ),
    ]
    assert rows(report, "visits")[0] == (
        c["C1"],
        "2026-03-02 09:00:00",
        "2026-03-02 09:05:00",
        "2026-03-02 09:07:00",
        "2026-03-02 10:07:00",
        "5.0",
        "60.0",
        "paid",
        "",
        "Anna",
    )
    assert [r[7] for r in rows(report, "visits")] == ["paid", "paid", "paid", "paid", "no_show", "cancelled"]
    assert (report.start_local, report.end_local) == (datetime(2026, 3, 2), datetime(2026, 3, 3))
    assert report.until_local == datetime(2026, 3, 2, 14, 0)


def test_another_day_and_a_range_around_it(reports: Reports, day: dict[str, Any], clock: Clock) -> None:
    after = reports.build(DAY + timedelta(days=1), DAY + timedelta(days=1))
    assert after.summary["customers"] == 0 and after.summary["revenue"] == "0.00"
    assert after.summary["wait_median_min"] == "" and rows(after, "queue") == [("2026-03-03 00:00:00", 0)]
    assert rows(after, "utilisation") == []  # both left the day before; nothing yet (now is the 2nd)
    week = reports.build(DAY - timedelta(days=3), DAY + timedelta(days=3))
    one = reports.build(DAY, DAY)
    for table in (
        "durations",
        "not_served",
        "revenue_by_service",
        "revenue_by_method",
        "revenue_by_tax_rate",
        "tips",
        "refunds",
        "utilisation",
        "visits",
    ):
        assert week.tables[table] == one.tables[table], table


# ---- over HTTP -----------------------------------------------------------------------------------------


@pytest.fixture
def web(db_url: str, people: dict[str, Any], clock: Clock) -> Iterator[tuple[Any, dict[str, str]]]:
    """The app on the day's database with the day's clock; Dana signed in (before the clock is set:
    sessions expire by the real time)."""
    app: Flask = create_app(
        {"database_url": db_url, "testing": True, "timezone": "Europe/Berlin", "start_background": False}
    )
    client = app.test_client()
    rt = app.extensions["spa"]
    headers = {}
    for name, pin in (("Dana", "999999"), ("Carla", "3333")):
        staff_id = next(s["id"] for s in client.get("/api/staff").get_json()["staff"] if s["name"] == name)
        signed = client.post("/api/sign-in", json={"staff_id": staff_id, "pin": pin}).get_json()
        headers[name] = f"Bearer {signed['token']}"
    rt.service.clock = clock
    yield client, headers
    rt.stop()


def test_the_report_is_for_admins_only(web: tuple[Any, dict[str, str]]) -> None:
    client, headers = web
    paths = ["/api/office/reports?from=2026-03-02", "/api/office/reports/summary.csv", "/api/office/reports/queue.svg"]
    for path in paths:
        for auth in (None, "Bearer nonsense", headers["Carla"]):
            response = client.get(path, headers={"Authorization": auth} if auth else {})
            assert response.status_code == 401, (path, auth)
            assert response.get_json()["error"]["code"] == "forbidden"
        assert client.get(path, headers={"Authorization": headers["Dana"]}).status_code == 200, path
    page = client.get("/office/reports")
    assert page.status_code == 200 and b"reports.js" in page.data
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_the_json_carries_every_table(web: tuple[Any, dict[str, str]], day: dict[str, Any]) -> None:
    client, headers = web
    body = client.get("/api/office/reports?from=2026-03-02&to=2026-03-02", headers={"Authorization": headers["Dana"]})
    data = body.get_json()
    assert data["ok"] is True and (data["from"], data["to"], data["timezone"]) == (
        "2026-03-02",
        "2026-03-02",
        "Europe/Berlin",
    )
    assert data["order"] == list(TABLES) and set(data["tables"]) == set(TABLES)
    assert data["summary"]["revenue"] == "153.50" and data["summary"]["wait_p90_min"] == "70.0"
    assert data["tables"]["revenue_by_method"]["columns"] == ["method", "payments", "taken", "refunded", "net"]
    assert data["queue"]["peak"] == 4 and data["queue"]["points"][7] == {"at": "2026-03-02T09:55:00", "waiting": 4}
    # Without a range: today in Berlin, which the clock says is the 2nd.
    today = client.get("/api/office/reports", headers={"Authorization": headers["Dana"]}).get_json()
    assert today["from"] == today["to"] == "2026-03-02" and today["summary"]["customers"] == 6


BAD_RANGES = [
    ("from=2026-02-30", "from: 2026-02-30 is not a day of the calendar"),
    ("from=02.03.2026", "from: '02.03.2026' is not a day like 2026-03-01"),
    ("from=2026-03-02&to=2026-03-01", "to: 2026-03-01 is before from (2026-03-02)"),
    ("from=2025-01-01&to=2026-03-02", "to: at most 366 days at once, not 426"),
    ("to=2026-03-02", "from: the first day is needed with to"),
]


def test_bad_ranges_are_clear_400s(web: tuple[Any, dict[str, str]]) -> None:
    client, headers = web
    for query, message in BAD_RANGES:
        for path in ("/api/office/reports", "/api/office/reports/visits.csv", "/api/office/reports/queue.svg"):
            response = client.get(f"{path}?{query}", headers={"Authorization": headers["Dana"]})
            assert response.status_code == 400, (path, query)
            assert response.get_json()["error"] == {"code": "invalid_payload", "message": message}


def test_every_table_downloads_as_csv_that_parses_back(web: tuple[Any, dict[str, str]], day: dict[str, Any]) -> None:
    client, headers = web
    data = client.get("/api/office/reports?from=2026-03-02", headers={"Authorization": headers["Dana"]}).get_json()
    for name in TABLES:
        response = client.get(
            f"/api/office/reports/{name}.csv?from=2026-03-02", headers={"Authorization": headers["Dana"]}
        )
        assert response.status_code == 200, name
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert response.headers["Content-Disposition"] == f'attachment; filename="spa-{name}-2026-03-02_2026-03-02.csv"'
        parsed = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
        table = data["tables"][name]
        assert parsed[0] == table["columns"], name
        assert parsed[1:] == [[str(v) for v in row] for row in table["rows"]], name
    method = client.get(
        "/api/office/reports/revenue_by_method.csv?from=2026-03-02", headers={"Authorization": headers["Dana"]}
    )
    assert "card,3,95.50,40.50,55.00" in method.data.decode()
    missing = client.get("/api/office/reports/secrets.csv", headers={"Authorization": headers["Dana"]})
    assert missing.status_code == 404


def test_the_queue_chart_is_an_svg_step_line(web: tuple[Any, dict[str, str]], day: dict[str, Any]) -> None:
    client, headers = web
    response = client.get("/api/office/reports/queue.svg?from=2026-03-02", headers={"Authorization": headers["Dana"]})
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/svg+xml"
    svg = ET.fromstring(response.data)
    ns = {"s": "http://www.w3.org/2000/svg"}
    path = svg.find("s:path", ns)
    assert path is not None
    d = path.attrib["d"]
    assert d.startswith("M") and d.count("V") == 12  # one step per change of the day
    labels = [t.text for t in svg.findall("s:text", ns)]
    assert "0" in labels and "4" in labels  # the y axis up to the peak
    assert "09:00" in labels and "11:00" in labels  # the x axis: the hours that had any change
    assert "style=" not in response.data.decode()  # the page's CSP allows no inline styles


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+49 30 123", "'+49 30 123"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("regular", "regular"),
        ("45.00", "45.00"),
        (3, 3),
    ],
)
def test_csv_cells_never_start_a_formula(cell: str | int, written: str | int) -> None:
    assert safe_cell(cell) == written


def test_a_reason_typed_as_a_formula_is_written_as_text() -> None:
    from server.service.reports import Table

    text = table_csv(Table(("code", "reason"), (("A-001", "=1+2"), ("A-002", 'said "no", left'))))
    assert list(csv.reader(io.StringIO(text.lstrip("\ufeff")))) == [
        ["code", "reason"],
        ["A-001", "'=1+2"],
        ["A-002", 'said "no", left'],
    ]

"""The day's figures: GET /office/reports (the page), GET /api/office/reports (JSON),
GET /api/office/reports/<table>.csv (each table) and GET /api/office/reports/queue.svg (the queue's
length through the day, drawn here). Admins only: a staff session's Bearer token with the office
capability, as every /api/office call; the page itself holds nothing and signs in on its own.

Every route takes ?from=YYYY-MM-DD&to=YYYY-MM-DD (the spa's days, both included; today when
absent); a bad or too long range is a 400 naming the parameter.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import datetime, timedelta
from typing import Any
from xml.sax.saxutils import quoteattr

from flask import Blueprint, Response, current_app, jsonify, make_response, request

from ..domain.actors import Capability
from ..domain.errors import CommandError, ErrorCode
from ..service.reports import TABLES, Report, Reports, Table
from .api import _caller, command_error
from .pages import page_response

bp = Blueprint("reports", __name__)
bp.register_error_handler(CommandError, command_error)

# Spreadsheets run a cell that starts with one of these as a formula (CSV injection, OWASP):
# such a cell is written with an apostrophe before it, which they show as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _reports() -> Reports:
    rt = current_app.extensions["spa"]
    return Reports(rt.db, rt.settings.zone, rt.service.clock, rt.spa_settings)


def _report() -> Report:
    _caller(Capability.OFFICE)
    reports = _reports()
    first, last = reports.range_of(request.args.get("from"), request.args.get("to"))
    return reports.build(first, last)


@bp.get("/office/reports")
def page() -> Response:
    return page_response("reports")


@bp.get("/api/office/reports")
def report_json() -> Response:
    response = jsonify({"ok": True, **report_view(_report())})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/office/reports/<name>.csv")
def report_csv(name: str) -> Response:
    if name not in TABLES:
        raise CommandError(ErrorCode.NOT_FOUND, f"no table {name[:40]!r}: one of {', '.join(TABLES)}")
    report = _report()
    response = make_response(table_csv(report.tables[name]))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    filename = f"spa-{name}-{report.first.isoformat()}_{report.last.isoformat()}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/api/office/reports/queue.svg")
def queue_svg() -> Response:
    response = make_response(queue_chart(_report()))
    response.headers["Content-Type"] = "image/svg+xml"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# ---- views -------------------------------------------------------------------------------------


def report_view(report: Report) -> dict[str, Any]:
    return {
        "from": report.first.isoformat(),
        "to": report.last.isoformat(),
        "timezone": report.timezone,
        "start": report.start_local.isoformat(timespec="seconds"),
        "end": report.end_local.isoformat(timespec="seconds"),
        "until": report.until_local.isoformat(timespec="seconds"),
        "summary": report.summary,
        "order": list(report.tables),  # the tables' order (JSON objects have none)
        "tables": {
            name: {"columns": list(t.columns), "rows": [list(r) for r in t.rows]} for name, t in report.tables.items()
        },
        "queue": {
            "initial": report.queue_initial,
            "peak": max([report.queue_initial, *(n for _, n in report.queue_points)]),
            "points": [{"at": at.isoformat(timespec="seconds"), "waiting": n} for at, n in report.queue_points],
        },
    }


def safe_cell(value: str | int) -> str | int:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def table_csv(table: Table) -> str:
    """The table as CSV (RFC 4180 quoting by the csv module), with a BOM so that spreadsheets
    read the names' accents as UTF-8."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()


# ---- the chart ------------------------------------------------------------------------------------

WIDTH, HEIGHT = 960, 230
LEFT, RIGHT, TOP, BOTTOM = 44, 30, 14, 30


def queue_chart(report: Report) -> str:
    """A step line of how many waited for a therapist, over the range's hours (a single day is
    cropped to the hours that had any change, give or take an hour). Numbers and times only:
    the page around it says what it is, in its own language."""
    points = list(report.queue_points)
    x0, x1 = _x_range(report, points)
    peak = max([report.queue_initial, *(n for _, n in points), 1])
    span = (x1 - x0).total_seconds() or 1.0

    def x(at: datetime) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * (min(max(at, x0), x1) - x0).total_seconds() / span

    def y(n: int) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (1 - n / peak)

    level = report.queue_initial
    for at, n in points:
        if at <= x0:
            level = n
    path = [f"M{x(x0):.1f},{y(level):.1f}"]
    for at, n in points:
        if x0 < at <= x1:
            path.append(f"H{x(at):.1f}V{y(n):.1f}")
            level = n
    path.append(f"H{x(min(report.until_local, x1)):.1f}")

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}"'
        ' class="queue-chart" font-family="sans-serif" font-size="12">',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#fffdf8"/>',
    ]
    for n in _y_ticks(peak):
        parts.append(_line(LEFT, WIDTH - RIGHT, y(n), y(n), "#d9cfbf"))
        parts.append(f'<text x="{LEFT - 6}" y="{y(n) + 4:.1f}" text-anchor="end" fill="#56645f">{n}</text>')
    for at, label in _x_ticks(x0, x1):
        parts.append(_line(x(at), x(at), TOP, HEIGHT - BOTTOM, "#ece5d8"))
        parts.append(
            f'<text x="{x(at):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" fill="#56645f">{label}</text>'
        )
    parts.append(
        f'<path d={quoteattr("".join(path))} fill="none" stroke="#2f6f62" stroke-width="2.5" stroke-linejoin="round"/>'
    )
    parts.append(_line(LEFT, WIDTH - RIGHT, y(0), y(0), "#1f2a2e"))
    parts.append("</svg>")
    return "\n".join(parts)


def _line(x1: float, x2: float, y1: float, y2: float, colour: str) -> str:
    return f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y1:.1f}" y2="{y2:.1f}" stroke="{colour}" stroke-width="1"/>'


def _x_range(report: Report, points: list[tuple[datetime, int]]) -> tuple[datetime, datetime]:
    start, end = report.start_local, report.end_local
    if end - start > timedelta(days=1) or not points:
        return start, end
    first = points[0][0].replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    last = max(points[-1][0], min(report.until_local, end))
    last = last.replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
    return max(start, first), min(end, last)


def _y_ticks(peak: int) -> list[int]:
    step = max(1, math.ceil(peak / 5))
    return list(range(0, peak + 1, step))


def _x_ticks(x0: datetime, x1: datetime) -> list[tuple[datetime, str]]:
    span_h = (x1 - x0).total_seconds() / 3600
    if span_h <= 48:
        step = max(1, math.ceil(span_h / 12))
        at = x0.replace(minute=0, second=0, microsecond=0)
        if at < x0:
            at += timedelta(hours=1)
        ticks = []
        while at <= x1:
            if at.hour % step == 0:
                ticks.append((at, at.strftime("%H:%M")))
            at += timedelta(hours=1)
        return ticks
    days = math.ceil(span_h / 24)
    step = max(1, math.ceil(days / 12))
    day = x0.replace(hour=0, minute=0, second=0, microsecond=0)
    ticks = []
    i = 0
    while day <= x1:
        if i % step == 0 and day >= x0:
            ticks.append((day, day.strftime("%m-%d")))
        day += timedelta(days=1)
        i += 1
    return ticks

"""The day's figures (/office/reports, 1280×800) in Chromium against a real server: a small day
made by real clients (two customers, one served and paid with a tip, one still waiting), then the
owner signs in, picks the day, reads the figures and the chart, and downloads a CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Screens, Spa, sign_in

pytestmark = pytest.mark.browser

OFFICE = (1280, 800)


def play_a_small_day(spa: Spa) -> str:
    """C1 (Swedish massage) served by Anna and paid by card with a 3.00 tip; C2 waits. C1's code."""
    kiosk, anna, till = spa.client("kiosk-1"), spa.client("Anna"), spa.client("cashier-1")
    try:
        # The demo puts Anna on shift outside the log: she signs off and on, so her shift counts.
        assert anna.call("shift_end")["ok"] and anna.call("shift_start")["ok"]
        made = []
        for name in ("Maria", "Liam"):
            ack = kiosk.call("customer_confirm_selection", {"customer_name": name, "items": [{"service_id": 1}]})
            assert ack["ok"], ack
            made.append(ack)
        first = anna.call("therapist_confirm_next")["transaction"]
        assert first["id"] == made[0]["transaction_id"]
        for event in ("therapist_start_service", "therapist_finish_service"):
            assert anna.call(event, {"transaction_id": first["id"]})["ok"]
        assert till.call("cashier_lookup", {"code": made[0]["code"]})["ok"]
        paid = till.call(
            "cashier_pay",
            {"transaction_id": first["id"], "tenders": [{"method": "card", "amount": "48.00"}], "tip": "3.00"},
        )
        assert paid["ok"], paid
        return str(made[0]["code"])
    finally:
        for client in (kiosk, anna, till):
            client.close()


def figure(tab: Any, name: str) -> Any:
    return tab.locator(f'.figure[data-figure="{name}"] dd')


def test_the_owner_reads_the_days_figures_and_downloads_a_csv(spa: Spa, screens: Screens, shot: Any) -> None:
    code = play_a_small_day(spa)
    today = datetime.now(UTC).date()  # the test server's zone is UTC
    tab = screens.open("office/reports", size=OFFICE, online=False)
    expect(tab.locator(".signin-person")).to_have_count(1)  # admins only: Dana
    sign_in(tab, "Dana", "999999")
    expect(tab.locator("#reports-who")).to_have_text("Dana")
    assert tab.evaluate("sessionStorage.getItem('spa.office.token')").startswith("ss_")

    # Picked explicitly: yesterday first (nothing), then today.
    tab.locator("#yesterday").click()
    expect(tab.locator("#from")).to_have_value((today - timedelta(days=1)).isoformat())
    expect(figure(tab, "customers")).to_have_text("0")
    tab.locator("#from").fill(today.isoformat())
    tab.locator("#to").fill(today.isoformat())
    tab.locator("#show").click()
    expect(figure(tab, "customers")).to_have_text("2")
    expect(figure(tab, "served")).to_have_text("1")
    expect(figure(tab, "revenue")).to_have_text("€45.00")
    expect(figure(tab, "tips")).to_have_text("€3.00")
    expect(figure(tab, "queue_peak")).to_have_text("2")
    assert f"from={today.isoformat()}" in tab.url

    # The chart: the server's SVG inline, a step line up to two waiting.
    chart = tab.locator("#chart svg")
    expect(chart).to_have_attribute("role", "img")
    assert chart.locator("path").count() == 1
    assert tab.locator("#chart svg text", has_text="2").count() >= 1
    box = chart.bounding_box()
    assert box is not None and box["width"] > 900 and box["height"] > 200

    by_service = tab.locator("#table-revenue_by_service")
    expect(by_service.locator("tbody tr")).to_have_count(1)
    expect(by_service.locator("tbody td")).to_have_text(["Swedish massage", "1", "€45.00"])
    expect(tab.locator("#table-tips tbody td")).to_have_text(["Anna", "1", "€3.00"])
    expect(tab.locator("#table-revenue_by_method tbody td").first).to_have_text("Card")
    expect(tab.locator("#table-utilisation tbody td").first).to_have_text("Anna")
    expect(tab.locator("#table-visits tbody tr")).to_have_count(2)
    expect(tab.locator("#table-visits tbody tr").first.locator("td").first).to_have_text(code)
    shot(tab, "reports-day")
    tab.locator("#table-utilisation").scroll_into_view_if_needed()
    shot(tab, "reports-tables")

    with tab.expect_download() as download_info:
        by_service.locator("button.csv").click()
    download = download_info.value
    assert download.suggested_filename == f"spa-revenue_by_service-{today.isoformat()}_{today.isoformat()}.csv"
    with open(download.path(), encoding="utf-8-sig") as handle:
        assert list(csv.reader(io.StringIO(handle.read()))) == [
            ["service", "quantity", "revenue"],
            ["Swedish massage", "1", "45.00"],
        ]

    # A range the other way round is refused in plain words; the figures shown stay.
    tab.locator("#from").fill(today.isoformat())
    tab.locator("#to").fill((today - timedelta(days=2)).isoformat())
    tab.locator("#show").click()
    expect(tab.locator("#reports-error")).to_contain_text("is before from")
    expect(figure(tab, "customers")).to_have_text("2")

    tab.locator("#back-office").click()
    tab.wait_for_url("**/office")


def test_a_page_without_a_sign_in_asks_for_one_and_a_stale_one_is_forgotten(spa: Spa, screens: Screens) -> None:
    tab = screens.open("office/reports", size=OFFICE, online=False)
    expect(tab.locator("#signin")).to_be_visible()
    expect(tab.locator("#reports-main")).to_be_hidden()
    tab.evaluate("sessionStorage.setItem('spa.office.token', 'ss_1_stale')")
    tab.reload()
    expect(tab.locator("#reports-error")).to_have_text("Your sign-in has ended. Please sign in again.")
    expect(tab.locator(".signin-person")).to_have_count(1)
    assert tab.evaluate("sessionStorage.getItem('spa.office.token')") is None

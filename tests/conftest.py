"""Fixtures shared by the server tests: migrated databases (SQLite and a real MariaDB), tokens,
the app factory with Flask-SocketIO's test client, and a live server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.db.engine import Database
from server.service import admin
from tests.support import IN_CI, LiveServer, migrated_mysql_database, sqlite_database

CHROMIUM = Path("/usr/bin/chromium")
# Debian's Chromium, headless, with nothing that reaches for the internet (never a downloaded browser).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "shared_server: the test may run on its module's one server (the browser tests' `spa`): it only"
        " reads, or leaves nothing that the module's other shared_server tests look at",
    )


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One Playwright and one Chromium for the whole run: Playwright's sync API allows one at a time."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium (make test does)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        yield sqlite_database(tmp_path)
    else:
        with migrated_mysql_database() as url:
            yield url


@pytest.fixture
def mysql_url() -> Iterator[str]:
    with migrated_mysql_database() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return sqlite_database(tmp_path)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url, pool_size=40, max_overflow=10)
    yield database
    database.dispose()


@pytest.fixture
def people(db: Database) -> dict[str, Any]:
    """The demo catalog, staff and devices, with fresh tokens, keyed by name."""
    return {row["name"]: row for row in admin.load_demo(db)}


def start_server(db_url: str, tmp_path: Path, **env: str) -> LiveServer:
    return LiveServer(db_url, tmp_path, **env).start()


@pytest.fixture
def live(request: pytest.FixtureRequest, db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """`python -m server run` on each backend; `@pytest.mark.server_env(SPA_X="…")` adds settings."""
    marker = request.node.get_closest_marker("server_env")
    extra: dict[str, str] = dict(marker.kwargs) if marker else {}
    server = start_server(db_url, tmp_path, SPA_CLAIM_GRACE_S="2", SPA_PRESENCE_HEARTBEAT_S="0.5", **extra)
    yield server
    server.stop()

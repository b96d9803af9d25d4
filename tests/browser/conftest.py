"""The screens in Debian's Chromium, driven by Playwright, against the production server on
loopback (tests.support.LiveServer) with the demo data on SQLite.

Screenshots of each page in a known state go to test-artifacts/screenshots/ (printed at the
end of the run) for a person to look at.

Each test gets a server of its own, unless it is marked ``shared_server``: then it runs on its
module's one server, which it shares with the module's other shared_server tests, in any order. Mark
only a test that reads, or that leaves nothing those others look at (no waiting customer, no
customer to pay, no claim, no changed catalog)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import socketio

from tests.support import ROOT, Client, LiveServer, load_demo, sqlite_database

SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
# Console messages a page may log while its server is away (the reconnect test stops it).
EXPECTED_CONSOLE = re.compile(r"WebSocket connection to .* failed|Failed to load resource|net::ERR_")

_saved: list[Path] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _saved:
        terminalreporter.write_line(f"browser screenshots ({len(_saved)}): {SCREENSHOTS}")


@pytest.fixture(scope="session")
def browser(chromium: Any) -> Any:
    return chromium


@dataclass
class Spa:
    """A live server with the demo catalog, staff and devices."""

    server: LiveServer
    people: dict[str, dict[str, Any]]

    @property
    def url(self) -> str:
        return self.server.url

    def token(self, name: str) -> str:
        return str(self.people[name]["token"])

    def page_url(self, page: str, token: str | None = None, **query: Any) -> str:
        url = f"{self.url}/{page}"
        if query:
            url += "?" + urlencode(query)
        if token:
            url += f"#token={self.token(token)}"
        return url

    def client(self, name: str, **kw: Any) -> Client:
        return Client(self.url, self.token(name), **kw).connect()


@contextmanager
def running_spa(workdir: Path) -> Iterator[Spa]:
    url = sqlite_database(workdir)
    people = load_demo(url)
    server = LiveServer(url, workdir, SPA_NAME="Serenity Spa", SPA_CURRENCY="€").start()
    try:
        yield Spa(server, people)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def module_spa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Spa]:
    """One server for a module's shared_server tests."""
    with running_spa(tmp_path_factory.mktemp("spa")) as spa:
        yield spa


@pytest.fixture
def spa(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Spa]:
    """A fresh server with the demo data; the module's shared one for a test marked shared_server."""
    if request.node.get_closest_marker("shared_server") is not None:
        yield request.getfixturevalue("module_spa")
        return
    with running_spa(tmp_path) as spa:
        yield spa


@dataclass
class Screens:
    """Opens pages, each in a browser context of its own (own storage, own viewport), and checks
    at the end that none threw an uncaught error."""

    browser: Any
    spa: Spa
    contexts: list[Any] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def open(
        self,
        page: str,
        token: str | None = None,
        *,
        size: tuple[int, int] = (800, 480),
        touch: bool = False,
        online: bool = True,
        **query: Any,
    ) -> Any:
        context = self.browser.new_context(
            viewport={"width": size[0], "height": size[1]}, has_touch=touch, locale="en-GB"
        )
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        tab = context.new_page()
        tab.on("pageerror", lambda exc, name=page: self.problems.append(f"{name}: uncaught {exc}"))
        tab.on("console", lambda msg, name=page: self._console(name, msg))
        tab.on("request", lambda request: self.requests.append(request.url))
        tab.goto(self.spa.page_url(page, token, **query))
        if online:
            wait_online(tab)
        return tab

    def _console(self, name: str, message: Any) -> None:
        if message.type == "error" and not EXPECTED_CONSOLE.search(message.text):
            self.problems.append(f"{name}: console error {message.text}")

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def screens(browser: Any, spa: Spa) -> Iterator[Screens]:
    opened = Screens(browser, spa)
    yield opened
    opened.close()
    assert not opened.problems, "\n".join(opened.problems)
    outside = [u for u in opened.requests if not u.startswith((spa.url, "data:"))]
    assert not outside, f"pages reached beyond the spa server: {outside[:5]}"


def wait_online(tab: Any, timeout_ms: int = 15_000) -> None:
    tab.wait_for_selector('html[data-connection="online"]', state="attached", timeout=timeout_ms)


@pytest.fixture(scope="session")
def shot() -> Callable[[Any, str], Path]:
    """shot(page, "kiosk-ticket") saves test-artifacts/screenshots/kiosk-ticket.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(tab: Any, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        tab.screenshot(path=str(path))
        _saved.append(path)
        return path

    return save


class FakeTill:
    """The cashier appliance of the till cashier-1: it "prints" every receipt it is sent and
    reports back with receipt_status, as the real appliance does."""

    def __init__(self, spa: Spa, ok: bool = True) -> None:
        self.client = Client(spa.url, spa.token("cashier-1"), reconnection=True)
        self.ok = ok
        self.unknown = False  # not ok: the paper ran out halfway, whether it printed is unknown
        self.closing = False
        self.jobs: list[dict[str, Any]] = []
        self.client.sio.on("print_receipt", self._print)
        self.client.connect()

    def _print(self, job: dict[str, Any]) -> None:
        self.jobs.append(job)
        status = {"transaction_id": job["transaction_id"], "job_id": job["job_id"], "ok": self.ok}
        status.update(state="printed" if self.ok else "paper_out", detail="" if self.ok else "out of paper")
        if not self.ok and self.unknown:
            status["unknown"] = True
        try:
            self.client.sio.emit("receipt_status", status)
        except socketio.exceptions.BadNamespaceError:
            # A job re-sent just as the test ends: the real appliance keeps it for its next connection.
            if not self.closing:
                raise

    def close(self) -> None:
        self.closing = True
        self.client.close()


@pytest.fixture
def fake_till(spa: Spa) -> Iterator[FakeTill]:
    till = FakeTill(spa)
    yield till
    till.close()


# ---- what a person does on the screens ------------------------------------------------------


def kiosk_type(kiosk: Any, text: str) -> None:
    """Types on the kiosk's on-screen keyboard, one tap per key."""
    for char in text:
        key = " " if char == " " else char.lower()
        kiosk.locator(f'#keyboard [data-key="{key}"]').tap()


def sign_in(tab: Any, name: str, pin: str) -> None:
    tab.locator(".signin-person", has_text=name).click()
    for digit in pin:
        tab.locator(f'.signin-keys [data-key="{digit}"]').click()
    tab.locator('.signin-keys [data-key="ok"]').click()


def keypad(tab: Any, keys: str) -> None:
    """Taps the cashier's keypad: digits, '.', 'C' for clear."""
    tab.locator('#keypad [data-key="clear"]').click()
    for key in keys:
        tab.locator(f'#keypad [data-key="{key}"]').click()


# Measured in the page: its scroll size, visible controls under 48 px, controls outside the screen
# (other than in the lists that scroll inside themselves), and the touch-first CSS.
FITS_JS = """() => {
  const scroller = document.scrollingElement;
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== "hidden";
  };
  const label = (el) => el.id || el.dataset.key || el.textContent.trim();
  const small = [...document.querySelectorAll("button, input, [data-key]")]
    .filter(visible)
    .filter((el) => {
      const r = el.getBoundingClientRect();
      return r.width < 47.5 || r.height < 47.5;
    })
    .map((el) => `${label(el)} ${el.getBoundingClientRect().width}x${el.getBoundingClientRect().height}`);
  const scrolling = ".catalog, .cart-lines, .pay-queue, .queue-list, .items, .add-list";
  const offscreen = [...document.querySelectorAll("button")]
    .filter(visible)
    .filter((el) => !el.closest(scrolling))
    .filter((el) => {
      const r = el.getBoundingClientRect();
      return r.right > innerWidth + 0.5 || r.bottom > innerHeight + 0.5 || r.left < -0.5 || r.top < -0.5;
    })
    .map(label);
  const body = getComputedStyle(document.body);
  return {
    scroll: [scroller.scrollWidth, scroller.scrollHeight],
    viewport: [innerWidth, innerHeight],
    small,
    offscreen,
    userSelect: body.userSelect,
    touchAction: body.touchAction,
    viewportMeta: document.querySelector('meta[name="viewport"]').content,
  };
}"""


def fits(tab: Any) -> dict[str, Any]:
    """The page's scroll size against its viewport, and any visible control under 48 px."""
    return dict(tab.evaluate(FITS_JS))


def assert_fits(tab: Any, what: str) -> None:
    result = fits(tab)
    width, height = result["viewport"]
    assert result["scroll"][0] <= width and result["scroll"][1] <= height, f"{what} overflows: {result}"
    assert not result["small"], f"{what}: touch targets under 48 px: {result['small']}"
    assert not result["offscreen"], f"{what}: controls outside the screen: {result['offscreen']}"
    assert result["userSelect"] == "none" and result["touchAction"] == "manipulation", f"{what}: {result}"
    assert "user-scalable=no" in result["viewportMeta"], f"{what}: pinch zoom is on"

"""The kiosk browser's local "connecting..." page, in Debian's Chromium: it keeps polling
while the server is down and moves on to the page once the server answers."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from .conftest import REPO

PAGE = REPO / "provisioning/files/connecting.html"
DEADLINE_MS = 20_000

pytestmark = pytest.mark.browser


class _SpaServer(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        body = b'{"status": "ok"}' if self.path == "/healthz" else b"<html><body><h1 id=page>KIOSK</h1></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "application/json" if self.path == "/healthz" else "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextmanager
def spa_server(port: int) -> Iterator[None]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _SpaServer)
    thread = threading.Thread(target=server.serve_forever, name="spa.fake", daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        yield b
        b.close()


def test_waits_for_the_server_then_opens_the_page(browser: object) -> None:
    port = free_port()  # nothing listens there yet: the spa server is still booting
    target = f"http://127.0.0.1:{port}/kiosk"
    page = browser.new_page()  # type: ignore[attr-defined]
    try:
        page.goto(f"{PAGE.as_uri()}#{target}")
        page.wait_for_function("window.spaConnect.attempts >= 2", timeout=DEADLINE_MS)
        assert page.url.startswith("file://")
        assert page.text_content("#server") == f"127.0.0.1:{port}"
        assert "attempt" in (page.text_content("#status") or "")
        with spa_server(port):
            page.wait_for_url(target, timeout=DEADLINE_MS)
            assert page.text_content("#page") == "KIOSK"
    finally:
        page.close()


def test_says_so_when_not_configured(browser: object) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    try:
        page.goto(f"{PAGE.as_uri()}#")
        assert page.text_content("#title") == "Not configured"
        assert "SPA_KIOSK_URL" in (page.text_content("#status") or "")
    finally:
        page.close()

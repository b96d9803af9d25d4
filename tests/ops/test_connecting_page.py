"""The kiosk browser's first page, in Debian's Chromium: the local "connecting..." page keeps
polling while the server is down and moves on to the page once the server answers. The screen's
device token gets there from a provisioned box, after "#" (never sent to the server), is taken by
the pages' own `deviceToken()` (server/web/static/js/lib/config.js) and survives nginx's
"starting" page."""

from __future__ import annotations

import http.server
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .conftest import REPO, TOKEN, Provisioned, kiosk_url, provision
from .nginx_harness import localise, running_nginx

PAGE = REPO / "provisioning/files/connecting.html"
CONFIG_JS = REPO / "server/web/static/js/lib/config.js"
DEADLINE_MS = 20_000

pytestmark = pytest.mark.browser

# A role's page as far as the token goes: the real config.js reads it from the address.
SCREEN_PAGE = b"""<!DOCTYPE html>
<html><body><h1 id=page>KIOSK</h1><p id=token></p>
<script type="module">
import { deviceToken } from "/static/js/lib/config.js";
const out = document.getElementById("token");
out.textContent = deviceToken(location.pathname.slice(1)) || "none";
out.dataset.done = "1";
</script></body></html>"""


class _SpaServer(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        if self.path == "/healthz":
            body, kind = b'{"status": "ok"}', "application/json"
        elif self.path == "/static/js/lib/config.js":
            body, kind = CONFIG_JS.read_bytes(), "text/javascript"
        else:
            body, kind = SCREEN_PAGE, "text/html"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextmanager
def spa_server(port: int) -> Iterator[list[str]]:
    """A fake spa server on loopback; yields the paths (with query) of the requests it got."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _SpaServer)
    server.paths = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, name="spa.fake", daemon=True)
    thread.start()
    try:
        yield server.paths  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def browser(chromium: object) -> object:
    return chromium  # the run's one Chromium (tests/conftest.py)


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


# The device token's way to the page -------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "extra", "path"),
    [
        ("kiosk", [], "/kiosk"),
        ("lobby", ["--announce"], "/lobby?announce=1"),
        ("room", ["--room-number", "3", "--screen"], "/therapist?room=3"),
    ],
)
def test_a_provisioned_screen_opens_its_page_with_its_token(
    browser: object, tmp_path: Path, role: str, extra: list[str], path: str
) -> None:
    """As spa-kiosk-browser.service does it: with-start-page from the provisioned tree writes the
    start page, Chromium opens it without any address of its own, and the role's page ends up
    with the box's token in its storage (the browser's storage is empty at every start)."""
    port = free_port()
    server = f"http://127.0.0.1:{port}"
    root, run = tmp_path / "root", tmp_path / "run"
    provision("appliance", "--role", role, "--server", server, "--token", TOKEN, *extra, root=root)
    run.mkdir(mode=0o700)
    env = {"PATH": "/usr/bin:/bin", "RUNTIME_DIRECTORY": str(run), "SPA_KIOSK_URL": kiosk_url(root)}
    subprocess.run([root / "opt/spa/kiosk/with-start-page"], env=env, check=True, timeout=30)
    page = browser.new_page()  # type: ignore[attr-defined]
    try:
        with spa_server(port) as paths:
            page.goto((run / "connecting.html").as_uri())
            page.wait_for_selector("#token[data-done]", timeout=DEADLINE_MS)
            assert page.text_content("#token") == TOKEN
            name = path[1:].split("?")[0]
            assert page.evaluate(f"localStorage.getItem('spa.{name}.token')") == TOKEN
            assert page.url == server + path  # the page took the token out of the address bar
    finally:
        page.close()
    assert path in paths
    assert not [p for p in paths if TOKEN in p or "token" in p], paths  # the fragment stays in the browser


def test_a_start_page_without_an_address_says_so(browser: object, tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    env = {"PATH": "/usr/bin:/bin", "RUNTIME_DIRECTORY": str(run)}  # kiosk.env without SPA_KIOSK_URL
    subprocess.run([REPO / "provisioning/files/with-start-page.sh"], env=env, check=True, timeout=30)
    page = browser.new_page()  # type: ignore[attr-defined]
    try:
        page.goto((run / "connecting.html").as_uri())
        assert page.text_content("#title") == "Not configured"
        assert page.evaluate("window.spaConnect.attempts") == 0
    finally:
        page.close()


def test_the_token_survives_nginxs_starting_page(
    browser: object, tmp_path: Path, provisioned: dict[str, Provisioned]
) -> None:
    """The screen reaches its page while the server processes are down: nginx answers with its
    page that reloads itself, and the reload keeps the "#token=..." (it is never sent)."""
    root = provisioned["server"].root
    https_port, backend_port = free_port(), free_port()
    site = localise((root / "etc/nginx/sites-available/spa").read_text(), root, free_port(), https_port, [backend_port])
    context = browser.new_context(ignore_https_errors=True)  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        with running_nginx(tmp_path / "nginx", site, https_port):
            response = page.goto(f"https://127.0.0.1:{https_port}/cashier#token={TOKEN}")
            assert response is not None and response.status == 502
            assert page.text_content("h1") == "The spa server is starting"
            with spa_server(backend_port) as paths:
                page.wait_for_selector("#token[data-done]", timeout=DEADLINE_MS)
                assert page.text_content("#token") == TOKEN
        assert "/cashier" in paths
        assert not [p for p in paths if TOKEN in p or "token" in p], paths
    finally:
        context.close()

"""HTTP under attack, against the real server over loopback: bad bodies, the sign-in list, headers."""

from __future__ import annotations

import pytest
import requests

from tests.support import LiveServer

JSON_ENDPOINTS = ["/healthz", "/api/staff", "/api/queue", "/api/services", "/api/transactions/1"]
PAGES = ["/kiosk", "/therapist", "/cashier", "/lobby"]


def is_json_error(answer: requests.Response) -> bool:
    if not answer.headers.get("Content-Type", "").startswith("application/json"):
        return False
    body = answer.json()
    return body.get("ok") is False and isinstance(body.get("error", {}).get("code"), str)


@pytest.mark.parametrize(
    ("what", "data", "content_type"),
    [
        ("a huge staff_id", '{"staff_id": ' + "9" * 40 + ', "pin": "1234"}', "application/json"),
        ("staff_id past 2^31-1", '{"staff_id": 2147483648, "pin": "1234"}', "application/json"),
        ("deeply nested JSON", "[" * 100_000 + "]" * 100_000, "application/json"),
        ("nesting under the size limit", "[" * 1000, "application/json"),
        ("not JSON", "staff_id=1&pin=1234", "application/x-www-form-urlencoded"),
        ("broken JSON", '{"staff_id": 1, "pin": ', "application/json"),
        ("a list", "[1, 2]", "application/json"),
        ("a float id", '{"staff_id": 1.0, "pin": "1234"}', "application/json"),
        ("a true id", '{"staff_id": true, "pin": "1234"}', "application/json"),
        ("a number as PIN", '{"staff_id": 1, "pin": 1234}', "application/json"),
        ("letters as PIN", '{"staff_id": 1, "pin": "12ab"}', "application/json"),
        ("an extra field", '{"staff_id": 1, "pin": "1234", "x": 1}', "application/json"),
        ("a body of 2 MB", '{"staff_id": 1, "pin": "' + "1" * 2_000_000 + '"}', "application/json"),
        ("invalid UTF-8", b'{"staff_id": 1, "pin": "\xff\xfe"}', "application/json"),
    ],
)
def test_sign_in_answers_a_bad_body_with_4xx_and_a_json_error(
    shared_live: LiveServer, what: str, data: str | bytes, content_type: str
) -> None:
    """Was: 500 (an HTML page) to a huge staff_id or deeply nested JSON."""
    answer = requests.post(
        f"{shared_live.url}/api/sign-in", data=data, headers={"Content-Type": content_type}, timeout=10
    )
    assert 400 <= answer.status_code < 500, (what, answer.status_code, answer.text[:200])
    assert is_json_error(answer), (what, answer.text[:200])


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/queue", 401),
        ("GET", "/api/transactions/abc", 404),
        ("GET", "/api/transactions/" + "9" * 40, 401),
        ("GET", "/api/nothing-here", 404),
        ("PUT", "/api/sign-in", 405),
        ("GET", "/api/sign-in", 405),
        ("DELETE", "/healthz", 405),
        ("POST", "/api/sign-out", 200),
    ],
)
def test_every_endpoint_answers_json(shared_live: LiveServer, method: str, path: str, status: int) -> None:
    answer = requests.request(method, f"{shared_live.url}{path}", data="[" * 5000, timeout=10)
    assert answer.status_code == status, answer.text[:200]
    assert answer.headers.get("Content-Type", "").startswith("application/json"), answer.text[:200]


def test_the_sign_in_list_holds_ids_and_first_names_only(
    shared_live: LiveServer, shared_tokens: dict[str, str]
) -> None:
    """Was: every staff member's id, full name and role, to anyone."""
    from server.db.engine import Database
    from server.service import admin

    db = Database(shared_live.database_url, pool_size=1, max_overflow=0)
    try:
        admin.add_staff(db, "therapist", "Eve Miller-Sánchez", "4321")
    finally:
        db.dispose()
    url = f"{shared_live.url}/api/staff"
    kiosk = {"Authorization": f"Bearer {shared_tokens['kiosk-1']}"}
    listed = requests.get(url, headers=kiosk, timeout=5).json()["staff"]
    assert all(set(person) == {"id", "name"} for person in listed), listed
    assert "Eve" in [p["name"] for p in listed] and not [p for p in listed if " " in p["name"]]
    rooms = requests.get(url, params={"roles": "therapist,admin"}, headers=kiosk, timeout=5).json()["staff"]
    assert sorted(p["name"] for p in rooms) == ["Anna", "Ben", "Dana", "Eve"]
    # A therapist's own tablet opens /therapist without any token, and must still sign in.
    assert requests.get(url, params={"roles": "therapist,admin"}, timeout=5).json()["staff"] == rooms
    forged = requests.get(url, headers={"Authorization": "Bearer dv_1_" + "x" * 32}, timeout=5)
    assert forged.status_code == 401 and is_json_error(forged)
    assert requests.get(url, params={"roles": "boss"}, headers=kiosk, timeout=5).status_code == 400


def _headers_of(server: LiveServer, path: str, **headers: str) -> requests.structures.CaseInsensitiveDict[str]:
    return requests.get(f"{server.url}{path}", headers=headers, timeout=10).headers


@pytest.mark.parametrize(
    "path",
    [*JSON_ENDPOINTS, *PAGES, "/static/js/lib/signin.js", "/no-such-page", "/socket.io/?EIO=4&transport=polling"],
)
def test_security_headers_on_every_response(shared_live: LiveServer, path: str) -> None:
    """Was: nosniff only on pages, no HSTS."""
    headers = _headers_of(shared_live, path)
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("Referrer-Policy") == "no-referrer"
    csp = headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp
    if path in PAGES:
        assert "script-src 'self'" in csp  # the page policy the screens are built for
    else:
        assert "default-src 'none'" in csp
    assert "Strict-Transport-Security" not in headers  # plain HTTP: HSTS would mean nothing
    for cookie in headers.get("Set-Cookie", "").split(","):
        if cookie.strip():
            assert "HttpOnly" in cookie and "SameSite" in cookie, cookie


@pytest.mark.parametrize("path", ["/healthz", "/kiosk", "/api/staff"])
def test_hsts_when_the_request_came_over_tls_through_nginx(shared_live: LiveServer, path: str) -> None:
    headers = _headers_of(shared_live, path, **{"X-Forwarded-Proto": "https"})
    assert headers.get("Strict-Transport-Security", "").startswith("max-age=")


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("127.0.0.1", "192.168.1.7", "192.168.1.7"),  # through the local nginx
        ("127.0.0.1", "", "127.0.0.1"),
        ("127.0.0.1", "not an address", "127.0.0.1"),
        ("192.168.1.9", "10.0.0.1", "192.168.1.9"),  # a guest cannot choose its address
        ("::1", "fe80::1", "fe80::1"),
    ],
)
def test_the_client_address_is_believed_only_from_the_trusted_proxy(remote: str, forwarded: str, expected: str) -> None:
    from server.web.security import client_address

    environ = {"REMOTE_ADDR": remote, "HTTP_X_REAL_IP": forwarded}
    assert client_address(environ, frozenset({"127.0.0.1", "::1"})) == expected


@pytest.mark.parametrize(
    ("cookie", "secure", "expected"),
    [
        ("io=abc; Path=/", False, "io=abc; Path=/; HttpOnly; SameSite=Strict"),
        ("io=abc; Path=/; HttpOnly; SameSite=Lax", False, "io=abc; Path=/; HttpOnly; SameSite=Lax"),
        ("io=abc", True, "io=abc; HttpOnly; SameSite=Strict; Secure"),
    ],
)
def test_cookies_are_made_httponly_and_samesite(cookie: str, secure: bool, expected: str) -> None:
    from server.web.security import security_headers

    assert dict(security_headers([("Set-Cookie", cookie)], secure=secure))["Set-Cookie"] == expected


def test_one_sender_cannot_take_every_http_thread(shared_live: LiveServer) -> None:
    """Requests of one sender waiting for or on Flask's threads are bounded (12 at once): past
    that it is told `busy` (429) at once, and another sender's pages are served meanwhile."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    start = threading.Barrier(40)

    def sign_in(_: int) -> requests.Response:
        start.wait(10)
        body = {"staff_id": 99, "pin": "0000"}
        return requests.post(f"{shared_live.url}/api/sign-in", json=body, headers={"X-Real-IP": "10.9.9.9"}, timeout=20)

    with ThreadPoolExecutor(40) as pool:
        answers = list(pool.map(sign_in, range(40)))
        page = requests.get(f"{shared_live.url}/kiosk", headers={"X-Real-IP": "10.9.9.10"}, timeout=10)
    assert page.status_code == 200
    busy = [a for a in answers if a.status_code == 429 and a.json()["error"]["code"] == "busy"]
    assert busy and all(a.headers.get("Retry-After") for a in busy)
    assert all(a.status_code in (401, 429) for a in answers), {a.status_code for a in answers}

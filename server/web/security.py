"""Security headers on every HTTP response, and who sent a request (behind the trusted nginx).

A WSGI middleware around the whole app (Flask and the Socket.IO long-polling transport alike):
headers a view set itself (a page's Content-Security-Policy) are kept, the rest are added.
WebSocket upgrades pass through untouched.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from typing import Any

# JSON, static files, errors: nothing on them may load, run or be framed.
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# A year, as browsers' preload lists ask; only sent on a request that came over TLS.
HSTS = "max-age=31536000"

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _trusted(environ: Mapping[str, Any], trusted_proxies: frozenset[str]) -> bool:
    return str(environ.get("REMOTE_ADDR", "")) in trusted_proxies


def is_secure(environ: Mapping[str, Any], trusted_proxies: frozenset[str]) -> bool:
    """Came over TLS: directly, or to the local nginx, which says so in X-Forwarded-Proto."""
    if environ.get("wsgi.url_scheme") == "https":
        return True
    return _trusted(environ, trusted_proxies) and environ.get("HTTP_X_FORWARDED_PROTO", "").lower() == "https"


def client_address(environ: Mapping[str, Any], trusted_proxies: frozenset[str]) -> str:
    """The sender's address: X-Real-IP when the request came through the trusted nginx (which
    sets it from the connection, overwriting whatever the client sent), else the peer."""
    peer = str(environ.get("REMOTE_ADDR") or "unknown")
    if _trusted(environ, trusted_proxies):
        forwarded = str(environ.get("HTTP_X_REAL_IP", "")).strip()
        try:
            return str(ipaddress.ip_address(forwarded))
        except ValueError:
            pass
    return peer


def security_headers(headers: list[tuple[str, str]], *, secure: bool) -> list[tuple[str, str]]:
    """The response's headers with ours added (pure: table-tested in tests/security/test_http.py)."""
    have = {name.lower() for name, _ in headers}
    out: list[tuple[str, str]] = []
    for name, value in headers:
        if name.lower() == "set-cookie":
            value = _harden_cookie(value, secure)
        out.append((name, value))
    extra = [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Content-Security-Policy", DEFAULT_CSP),
        ("X-Frame-Options", "DENY"),
    ]
    if secure:
        extra.append(("Strict-Transport-Security", HSTS))
    out.extend((name, value) for name, value in extra if name.lower() not in have)
    return out


def _harden_cookie(value: str, secure: bool) -> str:
    attributes = {part.strip().split("=")[0].lower() for part in value.split(";")[1:]}
    if "httponly" not in attributes:
        value += "; HttpOnly"
    if "samesite" not in attributes:
        value += "; SameSite=Strict"
    if secure and "secure" not in attributes:
        value += "; Secure"
    return value


class SecurityHeaders:
    def __init__(self, app: WsgiApp, trusted_proxies: Iterable[str]) -> None:
        self.app = app
        self.trusted_proxies = frozenset(trusted_proxies)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            return self.app(environ, start_response)
        secure = is_secure(environ, self.trusted_proxies)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, security_headers(headers, secure=secure), exc_info)

        return self.app(environ, start)


def install(app: Any, trusted_proxies: Iterable[str]) -> None:
    """Wraps the app's WSGI callable (already wrapped by Socket.IO) once."""
    if not isinstance(app.wsgi_app, SecurityHeaders):
        app.wsgi_app = SecurityHeaders(app.wsgi_app, trusted_proxies)

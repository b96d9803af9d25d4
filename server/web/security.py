"""Security headers on every HTTP response, and who sent a request (behind the trusted nginx).

An ASGI middleware at the top of the process's application (server/asgi.py), so Flask's pages
and JSON, engine.io's HTTP answers and the request limits' own refusals all carry them: headers
a view set itself (a page's Content-Security-Policy) are kept, the rest are added. WebSocket
upgrades pass through untouched.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

# JSON, static files, errors: nothing on them may load, run or be framed.
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# A year, as browsers' preload lists ask; only sent on a request that came over TLS.
HSTS = "max-age=31536000"

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]


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


def scope_environ(scope: Scope) -> dict[str, str]:
    """The few WSGI environ keys `is_secure` and `client_address` read, from an ASGI scope
    (engine.io's own environ names every peer 127.0.0.1)."""
    client = scope.get("client")
    environ = {"REMOTE_ADDR": str(client[0]) if client else "unknown", "wsgi.url_scheme": str(scope.get("scheme", ""))}
    for name, value in scope.get("headers", ()):
        if name in (b"x-real-ip", b"x-forwarded-proto"):
            environ["HTTP_" + name.decode("latin-1").upper().replace("-", "_")] = value.decode("latin-1")
    if environ["wsgi.url_scheme"] == "wss":
        environ["wsgi.url_scheme"] = "https"
    return environ


class SecurityHeaders:
    def __init__(self, app: AsgiApp, trusted_proxies: Iterable[str]) -> None:
        self.app = app
        self.trusted_proxies = frozenset(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = is_secure(scope_environ(scope), self.trusted_proxies)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                have = [(bytes(k).decode("latin-1"), bytes(v).decode("latin-1")) for k, v in message.get("headers", ())]
                headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in security_headers(have, secure=secure)]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)

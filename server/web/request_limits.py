"""Before an HTTP request costs one of the HTTP threads: counted and bounded on the event loop.

At most `per_address` requests of one sender and `backlog` in all may be waiting for or running on
Flask's threads; past them the answer is `busy` at once (429 for the sender, 503 for
the server), so one guest cannot queue enough
slow requests to keep the screens' pages and the sign-in from everyone else. The body is read on
the loop before Flask sees it, at most `max_body_bytes` (413 past that): a sender trickling a body
holds no thread, and the connection's deadline (server/transport.py) ends it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

from ..domain.errors import ErrorCode
from .security import AsgiApp, Message, Receive, Scope, Send

# The largest body any endpoint takes is a sign-in's 42 bytes; room for what comes later.
MAX_BODY_BYTES = 64 * 1024


class RequestLimits:
    def __init__(
        self,
        app: AsgiApp,
        *,
        address_of: Callable[[Scope], str],
        per_address: int,
        backlog: int,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.app = app
        self._address_of = address_of
        self._per_address = per_address
        self._backlog = backlog
        self._max_body = max_body_bytes
        self._in_flight: Counter[str] = Counter()
        self._total = 0
        self.refused = 0

    @property
    def in_flight(self) -> int:
        return self._total

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        address = self._address_of(scope)
        if self._in_flight[address] >= self._per_address:
            self.refused += 1
            await answer(send, 429, ErrorCode.BUSY, "too many requests from this address at once", retry_after_s=1)
            return
        if self._total >= self._backlog:
            self.refused += 1
            await answer(send, 503, ErrorCode.BUSY, "the server is busy; try again", retry_after_s=1)
            return
        self._total += 1
        self._in_flight[address] += 1
        try:
            try:
                body = await read_body(receive, self._max_body)
            except ClientGone:
                return  # nobody to answer
            if body is None:
                await answer(send, 413, ErrorCode.INVALID_PAYLOAD, f"the body is larger than {self._max_body} bytes")
                return
            await self.app(scope, replay(body, receive), send)
        finally:
            self._total -= 1
            self._in_flight[address] -= 1
            if self._in_flight[address] <= 0:
                del self._in_flight[address]


class ClientGone(Exception):
    """The client disconnected before its request's body was in."""


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None once it passes `limit` (the rest is never read)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientGone()
        chunk = bytes(message.get("body", b""))
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the app the body already read, then whatever the client does next."""
    sent = False

    async def receive_again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return receive_again


async def answer(send: Send, status: int, code: ErrorCode, message: str, retry_after_s: int | None = None) -> None:
    body = json.dumps({"ok": False, "error": {"code": code.value, "message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if retry_after_s is not None:
        headers.append((b"retry-after", str(retry_after_s).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

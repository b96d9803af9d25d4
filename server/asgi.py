"""The process's ASGI application: one event loop holds every connection; threads do the work.

    SecurityHeaders                          every HTTP answer (server/web/security.py)
      └─ /socket.io/  python-socketio's asyncio server: sockets on the loop, commands on the
                      command threads (server/protocol/socketio_adapter.py)
         /healthz     Flask on a thread of its own (`http.health`): never queued behind pages
         otherwise    RequestLimits → Flask on the HTTP threads (`http_*`)

The lifespan attaches the runtime to the loop and runs the loop's own tasks: the outbound queue's
drain, the sweep of sockets past their connect deadline, and the beat that tells the watchdog the
loop is not stuck.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import socketio
from a2wsgi import WSGIMiddleware
from flask import Flask

from .web.request_limits import RequestLimits
from .web.security import Receive, Scope, SecurityHeaders, Send, client_address, scope_environ

logger = logging.getLogger(__name__)

# Requests of one sender waiting for or on the HTTP threads at once; a screen loads a page and a
# few static files in parallel.
HTTP_PER_ADDRESS = 12
# In all, waiting or running, per HTTP thread.
HTTP_BACKLOG_PER_THREAD = 4


def flask_on_threads(app: Flask, threads: int, name: str) -> WSGIMiddleware:
    """a2wsgi's bridge, on a pool of named threads of the given size."""
    bridge = WSGIMiddleware(app.wsgi_app, workers=threads)
    bridge.executor = ThreadPoolExecutor(threads, thread_name_prefix=name)  # its own has no thread yet
    return bridge


class Application:
    def __init__(self, app: Flask) -> None:
        self.flask = app
        rt = app.extensions["spa"]
        self.runtime = rt
        trusted = frozenset(rt.settings.trusted_proxies)
        self.sockets = socketio.ASGIApp(rt.sio, socketio_path="socket.io")
        self.health = flask_on_threads(app, 1, "http.health")
        self.pages = RequestLimits(
            flask_on_threads(app, rt.settings.http_threads, "http"),
            address_of=lambda scope: client_address(scope_environ(scope), trusted),
            per_address=HTTP_PER_ADDRESS,
            backlog=rt.settings.http_threads * HTTP_BACKLOG_PER_THREAD,
        )
        self._routes = SecurityHeaders(self._route, trusted)
        self._tasks: list[asyncio.Task[Any]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        else:
            await self._routes(scope, receive, send)

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if path.startswith("/socket.io/") or path == "/socket.io":
            await self.sockets(scope, receive, send)
        elif scope["type"] != "http":
            await send({"type": "websocket.close", "code": 1008})  # no other WebSocket lives here
        elif path == "/healthz":
            await self.health(scope, receive, send)
        else:
            await self.pages(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self.start()
                except Exception:
                    logger.exception("the runtime did not start")
                    await send({"type": "lifespan.startup.failed"})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        rt = self.runtime
        rt.start()
        rt.outbound.attach(loop)
        self._tasks = [
            loop.create_task(rt.outbound.run(), name="loop.outbound"),
            loop.create_task(rt.protocol.sweep(), name="loop.sweep"),
            loop.create_task(rt.loop_beat.run(), name="loop.beat"),
        ]

    async def stop(self) -> None:
        self.runtime.outbound.detach()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

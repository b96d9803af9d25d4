"""The production server: uvicorn, one process, one event loop holding every connection.

Why not a thread per connection (Flask-SocketIO's threading mode, as before): each WebSocket held
a server thread and three more of engine.io's, so a guest's idle sockets took the threads the
screens needed, and when a thousand screens dropped at once the process stalled for many seconds
(docs/PERFORMANCE.md, "Connections"). On the loop an open WebSocket is ~50 KiB and no thread;
the work still runs on threads: commands on `socketio.command_*`, pages on `http_*`.

One process, because Socket.IO sessions live in its memory; more capacity means more processes
behind nginx with SPA_MESSAGE_QUEUE (docs/OPERATIONS.md).

systemd (``Type=notify``): ``READY=1`` once the loop serves and the runtime's threads run, then
``WATCHDOG=1`` every ``WATCHDOG_USEC/2`` while every one of them, and the loop, is alive (thread
``server.watchdog``); ``STOPPING=1`` on the way out.
"""

from __future__ import annotations

import gc
import logging
import resource
import signal
import threading
from typing import Any

import uvicorn

from common.sdnotify import Notifier

from .config import Settings
from .transport import TcpGuard, guarded_protocols

logger = logging.getLogger(__name__)

# How often the watchdog thread looks at the runtime's threads; it pings only every WATCHDOG_USEC/2
# (15 s with WatchdogSec=30s), so a thread that died withholds the next ping within a second.
HEALTH_TICK_S = 1.0
# Connections held for long get file descriptors beyond the usual soft limit of 1,024.
WANTED_OPEN_FILES = 65536
# A connect has this long to finish when the process stops; then sockets are closed (1012).
GRACEFUL_SHUTDOWN_S = 5


def runtime_health(runtime: Any) -> dict[str, bool]:
    """Thread name → alive, from ``Runtime.health()``; a runtime not started yet is not healthy."""
    if not getattr(runtime, "started", True):
        return {"runtime": False}
    health = getattr(runtime, "health", None)
    return {} if health is None else dict(health())


class ServerWatchdog:
    """In the worker: ``READY=1`` once the runtime is healthy, then ``WATCHDOG=1`` while it stays so."""

    thread_name = "server.watchdog"

    def __init__(self, runtime: Any, notifier: Notifier, status: str) -> None:
        self._runtime = runtime
        self._notifier = notifier
        self._status = status
        interval = notifier.watchdog_interval_s
        self._tick_s = HEALTH_TICK_S if interval is None else min(HEALTH_TICK_S, interval / 2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._ready = False
        self._dead: tuple[str, ...] = ()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            self.check()
            if self._stop.wait(self._tick_s):
                return

    def check(self) -> None:
        if not self._ready and not getattr(self._runtime, "started", True):
            return  # still starting: nothing to report, no READY yet
        try:
            health = runtime_health(self._runtime)
        except Exception:  # noqa: BLE001 - a health check that fails is an unhealthy runtime, not a dead watchdog
            logger.exception("runtime health check failed")
            health = {"runtime.health": False}
        dead = tuple(sorted(name for name, alive in health.items() if not alive))
        if dead != self._dead:  # once each way, not every tick
            if dead:
                logger.warning("watchdog withheld: %s not alive", ", ".join(dead))
            else:
                logger.info("watchdog resumed: every thread alive")
            self._dead = dead
        if dead:
            return
        if not self._ready:
            settle_heap()
            self._notifier.ready(self._status)
            self._ready = True
        if self._notifier.watchdog_due():
            self._notifier.ping()


def settle_heap() -> None:
    """Once the server is up, what start-up made (modules, the app, the queue's mirror as first
    read) is collected once and then frozen out of the cycle collector's full passes. Those passes
    hold the GIL: with ~150,000 objects alive they took 86-104 ms during `bench.claims`, every
    command and broadcast waiting behind them; with start-up's frozen they scan ~8,000 in 4-9 ms
    (docs/PERFORMANCE.md). Frozen objects are still freed when their last reference goes."""
    gc.collect()
    gc.freeze()


def raise_open_files_limit(wanted: int = WANTED_OPEN_FILES) -> int:
    """The soft limit on open files raised towards `wanted` (at most the hard limit); the result."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (OSError, ValueError):  # the unit's seccomp filter forbids it; its LimitNOFILE= holds
            logger.warning("could not raise the open files limit from %d to %d", soft, target)
    return int(soft)


def uvicorn_config(settings: Settings, asgi: Any) -> uvicorn.Config:
    guard = TcpGuard(
        max_total=settings.max_tcp_connections,
        per_address=settings.max_connections_per_address,
        trusted_proxies=frozenset(settings.trusted_proxies),
    )
    http, ws = guarded_protocols(guard, settings.request_header_timeout_s)
    config = uvicorn.Config(
        asgi,
        host=settings.host,
        port=settings.port,
        http=http,
        ws=ws,
        # Each WebSocket message is bounded while it is read: the frame's header announces its
        # length, and a longer one is refused (1009) before its payload is buffered.
        ws_max_size=settings.max_payload_bytes,
        ws_ping_interval=None,  # engine.io pings its own sockets
        ws_per_message_deflate=False,  # a compressed frame could inflate past the bound
        lifespan="on",
        log_config=None,  # uvicorn's loggers propagate to ours (common/logs.py)
        access_log=False,
        server_header=False,
        backlog=2048,  # a thousand screens reconnecting at once
        timeout_keep_alive=5,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    config.tcp_guard = guard  # type: ignore[attr-defined]  # for /healthz and the tests
    return config


def serve(settings: Settings) -> int:
    from .app import create_app
    from .asgi import Application

    open_files = raise_open_files_limit()
    notifier = Notifier.from_env()
    app = create_app({"host": settings.host, "port": settings.port})
    runtime = app.extensions["spa"]
    asgi = Application(app)
    server = uvicorn.Server(uvicorn_config(settings, asgi))
    watchdog = ServerWatchdog(_Serving(server, runtime), notifier, f"serving on {settings.host}:{settings.port}")
    logger.info(
        "serving on http://%s:%d: up to %d screens and appliances, %d command threads, %d HTTP threads, %d files",
        settings.host,
        settings.port,
        settings.max_connections,
        settings.command_threads,
        settings.http_threads,
        open_files,
    )
    watchdog.start()
    _keep_signals_for_the_way_out()
    try:
        server.run()
    finally:
        notifier.stopping()
        watchdog.stop()
        runtime.stop()
        notifier.close()
    return 0 if server.started else 1


def _keep_signals_for_the_way_out() -> None:
    """uvicorn shuts down gracefully on SIGTERM/SIGINT, then raises the signal again for the
    handler that was there before it: with the default one the process ended right there, before
    the runtime stopped and systemd heard STOPPING=1. A handler that does nothing lets `serve`
    finish its way out."""
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda received, frame: None)


class _Serving:
    """The runtime as the watchdog sees it: started once uvicorn serves (its lifespan has run)."""

    def __init__(self, server: uvicorn.Server, runtime: Any) -> None:
        self._server = server
        self._runtime = runtime

    @property
    def started(self) -> bool:
        return bool(self._server.started) and bool(self._runtime.started)

    def health(self) -> dict[str, bool]:
        return dict(self._runtime.health())

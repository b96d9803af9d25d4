"""The production server: gunicorn, one worker process, a pool of threads (Flask-SocketIO threading mode).

One worker, because Socket.IO sessions live in that process's memory; more capacity means more
processes behind nginx with sticky sessions and SPA_MESSAGE_QUEUE (see docs/OPERATIONS.md).

systemd (``Type=notify``, ``NotifyAccess=all``): the app and its background threads live in the
worker, so the worker tells systemd ``READY=1`` once the runtime's threads run and ``WATCHDOG=1``
every ``WATCHDOG_USEC/2`` while every one of them is alive (thread ``server.watchdog``); the master
says ``STOPPING=1`` when it shuts down. gunicorn's own ``READY=1``, sent by the master as soon as
it has bound its socket, before any app is loaded, is silenced by taking ``NOTIFY_SOCKET`` out of
the environment: the notifier is made from it first and reaches the worker through the fork.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger as GunicornLogger

from common.sdnotify import Notifier

from .config import Settings

logger = logging.getLogger(__name__)

# How often the watchdog thread looks at the runtime's threads; it pings only every WATCHDOG_USEC/2
# (15 s with WatchdogSec=30s), so a thread that died withholds the next ping within a second.
HEALTH_TICK_S = 1.0
NOTIFY_ENV = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")


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
            self._notifier.ready(self._status)
            self._ready = True
        if self._notifier.watchdog_due():
            self._notifier.ping()


class _HouseLogger(GunicornLogger):  # type: ignore[misc]
    """gunicorn's own lines (booting, signals, a worker timeout) go through the root logger, so they
    come out in the house format (``common/logs.py``) like every other line, not as gunicorn's text
    that ``journalctl -o cat | jq`` would stumble over."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in [h for h in log.handlers if getattr(h, "_gunicorn", False)]:
                log.removeHandler(handler)
            log.propagate = True


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, notifier: Notifier) -> None:
        self.settings = settings
        self.notifier = notifier
        self.watchdog: ServerWatchdog | None = None  # in the worker, once its app is loaded
        super().__init__()

    def load_config(self) -> None:
        s = self.settings
        options: dict[str, Any] = {
            "bind": f"{s.host}:{s.port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": s.threads,
            # A WebSocket holds its thread for hours; gunicorn's worker timeout watches the
            # worker's main loop, not requests, so it stays sensible.
            "timeout": 30,
            "graceful_timeout": 10,
            "keepalive": 5,
            "worker_connections": s.threads * 2,
            "accesslog": None,
            "errorlog": "-",
            "logger_class": _HouseLogger,
            "loglevel": s.log_level.lower(),
            "proc_name": "spa-server",
            # gunicorn's runtime control socket would need a writable home; systemd units have none.
            "control_socket_disable": True,
            "post_worker_init": self._post_worker_init,
            "worker_exit": self._worker_exit,
            "on_exit": self._on_exit,
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from .app import create_app

        # Built in the worker (after fork), so its threads and connections belong to it.
        return create_app({"host": self.settings.host, "port": self.settings.port})

    def _post_worker_init(self, worker: Any) -> None:
        """In the worker, its app loaded: start telling systemd how the runtime is."""
        runtime = _runtime(worker)
        if runtime is None or not self.notifier.enabled:
            return
        status = f"serving on {self.settings.host}:{self.settings.port}"
        self.watchdog = ServerWatchdog(runtime, self.notifier, status)
        self.watchdog.start()

    def _worker_exit(self, server: Any, worker: Any) -> None:
        """Called in the worker as it exits (and in the master, which holds no runtime)."""
        if self.watchdog is not None:
            self.watchdog.stop()
            self.watchdog = None
        runtime = _runtime(worker)
        if runtime is not None:
            runtime.stop()

    def _on_exit(self, server: Any) -> None:
        """The master, shutting down. Never sent from the worker: a worker gunicorn merely
        replaces must not make systemd believe the whole service is stopping."""
        self.notifier.stopping()


def _runtime(worker: Any) -> Any:
    app = getattr(worker, "wsgi", None)
    return getattr(app, "extensions", {}).get("spa") if app is not None else None


def serve(settings: Settings) -> int:
    logger.info(
        "serving on http://%s:%d with %d threads (up to %d screens and appliances)",
        settings.host,
        settings.port,
        settings.threads,
        settings.max_sockets,
    )
    notifier = Notifier.from_env()
    for name in NOTIFY_ENV:
        os.environ.pop(name, None)
    try:
        _Gunicorn(settings, notifier).run()
    finally:
        notifier.close()
    return 0

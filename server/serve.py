"""The production server: gunicorn, one worker process, a pool of threads (Flask-SocketIO threading mode).

One worker, because Socket.IO sessions live in that process's memory; more capacity means more
processes behind nginx with sticky sessions and SPA_MESSAGE_QUEUE (see docs/OPERATIONS.md).
"""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.app.base import BaseApplication

from .config import Settings

logger = logging.getLogger(__name__)


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
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
            "loglevel": s.log_level.lower(),
            "proc_name": "spa-server",
            # gunicorn's runtime control socket would need a writable home; systemd units have none.
            "control_socket_disable": True,
            "worker_exit": _worker_exit,
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from .app import create_app

        # Built in the worker (after fork), so its threads and connections belong to it.
        return create_app({"host": self.settings.host, "port": self.settings.port})


def _worker_exit(server: Any, worker: Any) -> None:
    app = getattr(worker, "wsgi", None)
    rt = getattr(app, "extensions", {}).get("spa") if app is not None else None
    if rt is not None:
        rt.stop()


def serve(settings: Settings) -> int:
    logger.info(
        "serving on http://%s:%d with %d threads (up to %d screens and appliances)",
        settings.host,
        settings.port,
        settings.threads,
        settings.max_sockets,
    )
    _Gunicorn(settings).run()
    return 0

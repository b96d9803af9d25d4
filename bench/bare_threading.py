"""The baseline of `bench.connections`: bare Flask-SocketIO in threading mode (how this server held
its connections before issue 10), with nothing of the spa in it: a connect handler that accepts
any token, and a /healthz that counts the connections.

    python -m bench.bare_threading --port 5001

Served by gunicorn with one gthread worker and `--threads` threads, as `python -m server run`
served the app before: each WebSocket holds one of them (and three more of engine.io's).
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

from flask import Flask, jsonify
from flask_socketio import SocketIO
from gunicorn.app.base import BaseApplication


def make_app() -> Flask:
    app = Flask(__name__)
    socketio = SocketIO(app, async_mode="threading", transports=["websocket"], logger=False, engineio_logger=False)
    connections: set[str] = set()
    lock = threading.Lock()

    @socketio.on("connect")
    def connect(auth: Any = None) -> bool:
        from flask import request

        with lock:
            connections.add(request.sid)  # type: ignore[attr-defined]
        return True

    @socketio.on("disconnect")
    def disconnect(reason: Any = None) -> None:
        from flask import request

        with lock:
            connections.discard(request.sid)  # type: ignore[attr-defined]

    # bench.fanout's two baselines: the same payload re-broadcast to every subscribed screen
    # ("confirm"), and the original design's way: an empty "queue_changed", after which each
    # screen asks for the queue again ("queue_snapshot" answers with the payload).
    latest: dict[str, Any] = {}

    @socketio.on("therapist_subscribe")
    def subscribe(_: Any = None) -> dict[str, bool]:
        from flask import request
        from flask_socketio import join_room

        join_room("therapists", sid=request.sid)  # type: ignore[attr-defined]
        return {"ok": True}

    @socketio.on("confirm")
    def confirm(data: dict[str, Any]) -> dict[str, bool]:
        if data.get("refetch"):
            latest["payload"] = data["payload"]
            socketio.emit("queue_changed", {}, to="therapists")
        else:
            socketio.emit("therapist_queue_updated", data["payload"], to="therapists")
        return {"ok": True}

    @socketio.on("queue_snapshot")
    def snapshot(_: Any = None) -> Any:
        return latest.get("payload", {})

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify({"status": "ok", "connections": len(connections), "threads": threading.active_count()})

    return app


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, port: int, threads: int) -> None:
        self.port = port
        self.threads = threads
        super().__init__()

    def load_config(self) -> None:
        for key, value in {
            "bind": f"127.0.0.1:{self.port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": self.threads,
            "worker_connections": self.threads * 2,
            "backlog": 2048,
            "timeout": 120,
            "accesslog": None,
            "loglevel": "warning",
            "control_socket_disable": True,
        }.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return make_app()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.bare_threading")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=1100)
    args = parser.parse_args(sys.argv[1:])
    _Gunicorn(args.port, args.threads).run()

"""A ``conflict`` acknowledgement is retried, never dropped: the appliance's network thread and its
durable outbox against a real python-socketio server on loopback (threading mode, served by
werkzeug's threaded server, WebSocket transport as the appliance uses it) that answers a room's
"next" with ``{"ok": false, "error": {"code": "conflict"}}`` until the test lets it land.

Before the wire contract was shared the appliance kept its own list of final codes with
``conflict`` among them, and deleted such a command from its outbox: a room's press was lost.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import socketio
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from appliance import network
from appliance.commands import Command
from appliance.config import ApplianceConfig, parse_config
from appliance.messages import NetMessage
from appliance.network import NetWorker
from appliance.outbox import Outbox
from appliance.store import Store, prepare
from appliance.supervisor import Pulse
from common.wire import ErrorCode
from tests.support import free_port, wait_until

TOKEN = "dv_1_loopbacktoken"
CONFLICTS_BEFORE_CHECK = 3
TRANSACTION_ID = 42


class _QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        pass  # werkzeug reads the WebSocket's closing frame as a bad HTTP request and says so


class ConflictingServer:
    """Answers ``therapist_confirm_next`` with ``conflict`` until ``land`` is set, then with the claim."""

    def __init__(self) -> None:
        self.sio = socketio.Server(async_mode="threading", logger=False, engineio_logger=False)
        self.sends: list[dict[str, Any]] = []
        self.sids: set[str] = set()
        self.land = threading.Event()
        self._lock = threading.Lock()
        self.sio.on("connect", self._connect)
        self.sio.on("therapist_confirm_next", self._confirm_next)
        self.sio.on("appliance_heartbeat", lambda sid, data=None: {"ok": True})
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._httpd: BaseWSGIServer = make_server(
            "127.0.0.1", self.port, socketio.WSGIApp(self.sio), threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="test.sio-server", daemon=True)

    def _connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        if not (isinstance(auth, dict) and auth.get("token") == TOKEN):
            return False
        with self._lock:
            self.sids.add(sid)
        return True

    def hang_up(self) -> None:
        """Close the connections from this side: werkzeug's server does not answer a client's
        WebSocket close, which would leave the appliance waiting out its close timeout."""
        with self._lock:
            sids, self.sids = self.sids, set()
        for sid in sids:
            self.sio.disconnect(sid)

    def _confirm_next(self, sid: str, data: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.sends.append(dict(data))
        if not self.land.is_set():
            return {"ok": False, "error": {"code": ErrorCode.CONFLICT.value, "message": "the row changed meanwhile"}}
        return {"ok": True, "transaction": {"id": TRANSACTION_ID, "status": "claimed"}}

    def sent(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.sends)

    def start(self) -> ConflictingServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._thread.join(5)
        self._httpd.server_close()


@pytest.fixture
def server() -> Iterator[ConflictingServer]:
    running = ConflictingServer().start()
    yield running
    running.stop()


def room_config(url: str, state_dir: Path) -> ApplianceConfig:
    data = {"role": "room", "server_url": url, "token": TOKEN, "state_dir": str(state_dir), "room": {"number": "3"}}
    return parse_config(data, state_dir / "appliance.toml")


def outbox_rows(path: Path) -> list[tuple[int, str, int, str | None]]:
    with closing(sqlite3.connect(path, timeout=10)) as conn:
        return conn.execute("SELECT seq, event, attempts, last_error FROM outbox ORDER BY seq").fetchall()


def test_a_conflict_is_sent_again_with_the_same_key_until_it_lands(
    server: ConflictingServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The production backoff (0.5 s, 1 s, 2 s …) would make this test wait seconds for nothing.
    monkeypatch.setattr(network, "RETRY_FIRST_S", 0.05)
    monkeypatch.setattr(network, "RETRY_MAX_S", 0.2)
    config = room_config(server.url, tmp_path)
    epoch = prepare(config.state_dir, config.outbox_path)
    store = Store(config.outbox_path)
    outbox = Outbox(config.outbox_path, epoch, store)
    entry = outbox.add(Command("therapist_confirm_next", {"room": "3"}, "buttons", time.time()))

    inbox: queue.Queue[NetMessage] = queue.Queue(100)
    worker = NetWorker(config, lambda: Outbox(config.outbox_path, epoch, store), None, inbox, None)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop, Pulse()), name="net.socketio", daemon=True)
    thread.start()
    try:
        # Refused with conflict three times (each refusal recorded on the entry), and still in the
        # outbox, waiting for the next try.
        def refused_thrice() -> list[tuple[int, str, int, str | None]] | None:
            rows = outbox_rows(config.outbox_path)
            return rows if rows and rows[0][2] >= CONFLICTS_BEFORE_CHECK else None

        rows = wait_until(refused_thrice, 10, what="three conflicting acknowledgements")
        assert [(seq, event) for seq, event, _, _ in rows] == [(entry.seq, "therapist_confirm_next")]
        last_error = rows[0][3]
        assert last_error is not None and last_error.startswith("conflict: ")

        server.land.set()
        wait_until(lambda: outbox_rows(config.outbox_path) == [], 10, what="the command to land")
        assert outbox.current_claim() == TRANSACTION_ID  # the landing acknowledgement was applied
    finally:
        stop.set()
        server.hang_up()
        thread.join(15)
        outbox.close()
    assert not thread.is_alive()
    sends = server.sent()
    assert len(sends) > CONFLICTS_BEFORE_CHECK
    # Every try is the same command with the same idempotency key, so the server applies it once.
    assert {s["idempotency_key"] for s in sends} == {entry.key}
    assert all(s == {"room": "3", "idempotency_key": entry.key} for s in sends)

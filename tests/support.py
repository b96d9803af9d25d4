"""Shared test helpers: databases (with the demo data), a live server process, Socket.IO clients
with deadlines, FIFOs for the virtual input devices."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pymysql
import pytest
import requests
import socketio

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
MYSQL_HOST = os.environ.get("SPA_TEST_MYSQL_HOST", "127.0.0.1")
MYSQL_PORT = int(os.environ.get("SPA_TEST_MYSQL_PORT", "3306"))
REDIS_URL = os.environ.get("SPA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def mysql_available() -> str | None:
    """None when MariaDB answers, else why not."""
    try:
        conn = pymysql.connect(host=MYSQL_HOST, port=MYSQL_PORT, user="root", password="", connect_timeout=3)
        conn.close()
        return None
    except pymysql.err.MySQLError as exc:
        return str(exc)


def require_mysql() -> None:
    problem = mysql_available()
    if problem is None:
        return
    message = f"MariaDB on {MYSQL_HOST}:{MYSQL_PORT} is not reachable ({problem})"
    if IN_CI:
        pytest.fail(f"{message}; CI needs it (scripts/ensure-services.sh starts it)")
    pytest.skip(f"{message}; start it to run the MySQL tests")


@contextmanager
def mysql_database() -> Iterator[str]:
    """A fresh, empty database for one test (or module), dropped afterwards."""
    require_mysql()
    name = f"spa_test_{uuid.uuid4().hex[:12]}"
    admin = pymysql.connect(host=MYSQL_HOST, port=MYSQL_PORT, user="root", password="", autocommit=True)
    try:
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        yield f"mysql+pymysql://root@{MYSQL_HOST}:{MYSQL_PORT}/{name}?charset=utf8mb4"
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


# Each test that wants a migrated database gets a copy of one migrated once per run: running the
# migrations takes ~0.35 s on SQLite and ~0.8 s on MariaDB; a copy takes a few ms and ~0.13 s.
# The migrations themselves are tested on their own (tests/server/test_cli_and_migrations.py).
_TEMPLATES: dict[str, str] = {}


def _template_dir() -> Path:
    import atexit
    import shutil
    import tempfile

    if "dir" not in _TEMPLATES:
        _TEMPLATES["dir"] = tempfile.mkdtemp(prefix="spa-test-templates-")
        atexit.register(shutil.rmtree, _TEMPLATES["dir"], True)
    return Path(_TEMPLATES["dir"])


def sqlite_database(workdir: Path) -> str:
    """A migrated, empty SQLite database in ``workdir``; its URL."""
    import shutil
    import sqlite3

    from server.db.migrate import upgrade

    if "sqlite" not in _TEMPLATES:
        template = _template_dir() / "spa.db"
        upgrade(f"sqlite:///{template}")
        # Everything in the main file (it is in WAL mode), so that the file alone is the database.
        conn = sqlite3.connect(template)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        _TEMPLATES["sqlite"] = str(template)
    shutil.copyfile(_TEMPLATES["sqlite"], workdir / "spa.db")
    return f"sqlite:///{workdir / 'spa.db'}"


@contextmanager
def migrated_mysql_database() -> Iterator[str]:
    """A fresh MariaDB database migrated to head, dropped afterwards: the tables (their exact DDL,
    foreign keys included) and rows of a database migrated once per run."""
    with mysql_database() as url:
        if "mysql" not in _TEMPLATES:
            from server.db.migrate import upgrade

            name = f"spa_template_{uuid.uuid4().hex[:12]}"
            _admin_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
            import atexit

            atexit.register(_admin_sql, f"DROP DATABASE IF EXISTS `{name}`")
            upgrade(url.replace(_database_name(url), name))
            _TEMPLATES["mysql"] = name
        _copy_tables(_TEMPLATES["mysql"], _database_name(url))
        yield url


def _database_name(url: str) -> str:
    return url.rsplit("/", 1)[1].split("?")[0]


def _admin_sql(sql: str) -> None:
    conn = pymysql.connect(host=MYSQL_HOST, port=MYSQL_PORT, user="root", password="", autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def _copy_tables(source: str, target: str) -> None:
    conn = pymysql.connect(host=MYSQL_HOST, port=MYSQL_PORT, user="root", password="", database=target, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SHOW FULL TABLES FROM `{source}` WHERE Table_type = 'BASE TABLE'")
            tables = [row[0] for row in cur.fetchall()]
            cur.execute("SET FOREIGN_KEY_CHECKS = 0")  # tables arrive in any order
            for table in tables:
                cur.execute(f"SHOW CREATE TABLE `{source}`.`{table}`")
                cur.execute(cur.fetchone()[1])
                cur.execute(f"INSERT INTO `{table}` SELECT * FROM `{source}`.`{table}`")
    finally:
        conn.close()


def load_demo(database_url: str) -> dict[str, dict[str, Any]]:
    """The demo catalog, staff and devices loaded into a migrated database: each row by name, people
    and devices with a fresh token (shown once, as ``python -m server demo`` prints them)."""
    from server.db.engine import Database
    from server.service import admin

    db = Database(database_url, pool_size=1, max_overflow=0)
    try:
        return {row["name"]: row for row in admin.load_demo(db)}
    finally:
        db.dispose()


def demo_tokens(database_url: str) -> dict[str, str]:
    """``load_demo``, keeping only each name's token."""
    return {name: row["token"] for name, row in load_demo(database_url).items()}


@contextmanager
def writable_fifo(path: Path) -> Iterator[int]:
    """A FIFO at ``path`` for a ``buttons_fifo``/``touch_fifo`` device, and the test's write end:
    opened read-write, so writes never block on a missing reader and nothing is lost meanwhile."""
    os.mkfifo(path)
    fd = os.open(path, os.O_RDWR)
    try:
        yield fd
    finally:
        os.close(fd)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], Any], timeout_s: float = 10.0, interval_s: float = 0.02, what: str = "") -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what or predicate}")
        time.sleep(interval_s)


class LiveServer:
    """`python -m server run` in a subprocess: the production server, on loopback."""

    def __init__(self, database_url: str, workdir: Path, **env: str) -> None:
        self.database_url = database_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SPA_LOG_FORMAT": "text",
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"server-{self.port}.log"

    def start(self, timeout_s: float = 20.0) -> LiveServer:
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child process
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server", "run", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code in (200, 503):
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer within {timeout_s}s:\n{self.log()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:] if self.log_path.exists() else ""

    def healthz(self, **params: str) -> requests.Response:
        return requests.get(f"{self.url}/healthz", params=params, timeout=5)


class Client:
    """A python-socketio client over WebSocket that records every event it receives."""

    def __init__(self, url: str, token: str | None, *, reconnection: bool = False) -> None:
        self.sio = socketio.Client(reconnection=reconnection)
        self.events: dict[str, list[Any]] = defaultdict(list)
        self._lock = threading.Lock()
        self.sio.on("*", self._record)
        self.url = url
        self.token = token

    def _record(self, event: str, data: Any = None) -> None:
        with self._lock:
            self.events[event].append(data)

    def connect(self) -> Client:
        auth = {"token": self.token} if self.token is not None else None
        self.sio.connect(self.url, auth=auth, transports=["websocket"], wait_timeout=10)
        return self

    def call(self, event: str, data: Any = None, timeout_s: float = 15.0) -> Any:
        if data is None:
            return self.sio.call(event, timeout=timeout_s)
        return self.sio.call(event, data, timeout=timeout_s)

    def wait_for(self, event: str, predicate: Callable[[Any], bool] = lambda d: True, timeout_s: float = 10.0) -> Any:
        def found() -> Any:
            with self._lock:
                return next((d for d in self.events[event] if predicate(d)), None)

        return wait_until(found, timeout_s, what=f"{event} on {self.token and self.token[:8]}")

    def received(self, event: str) -> list[Any]:
        with self._lock:
            return list(self.events[event])

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()
        _close_transport(self.sio)


def serve_next(therapist: Client) -> int:
    """The therapist claims the next waiting customer, starts and finishes: the customer now waits to
    pay. Returns the transaction's id."""
    tid = int(therapist.call("therapist_confirm_next")["transaction"]["id"])
    therapist.call("therapist_start_service", {"transaction_id": tid})
    therapist.call("therapist_finish_service", {"transaction_id": tid})
    return tid


class TcpProxy:
    """A loopback TCP forwarder the test can cut and restore: a database that goes away for real."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        self._thread = threading.Thread(target=self._accept, args=(listener,), name="test.proxy", daemon=True)
        self._thread.start()
        return self

    def cut(self) -> None:
        """Stop listening and drop every open connection."""
        with self._lock:
            listener, self._listener = self._listener, None
            conns, self._conns = self._conns, []
        if listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would leave it listening.
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        if self._thread is not None:
            self._thread.join(5)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), name="test.proxy.pump", daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def refused_connect(url: str, auth: Any) -> str:
    """Try to connect and expect a refusal; returns the server's reason. Cleans up the
    engine.io transport the refused Socket.IO handshake leaves open."""
    client = socketio.Client(reconnection=False)
    reasons: list[Any] = []
    client.on("connect_error", lambda data=None: reasons.append(data))
    try:
        client.connect(url, auth=auth, transports=["websocket"], wait_timeout=10)
    except socketio.exceptions.ConnectionError as exc:
        return f"{exc}: {reasons}"
    else:
        raise AssertionError("the connection was accepted")
    finally:
        _close_transport(client)


def _close_transport(client: socketio.Client) -> None:
    """python-engineio leaves the WebSocket open when the server dropped or refused it."""
    client.eio.disconnect(abort=True)
    ws = getattr(client.eio, "ws", None)
    if ws is not None:
        ws.close()
        ws.shutdown()  # close() returns early on an already-dead socket without closing it


def fill_waiting(db: Any, n: int, status: str = "pending_therapist", *, clear: bool = False) -> list[int]:
    """n transactions in `status`, inserted in one statement (the kiosk path is tested elsewhere),
    an hour old and a millisecond apart; their ids in queue order. `clear` first empties the queue."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert, select, text

    from server.db.models import Transaction

    start = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)
    rows = [
        {
            "business_day": start.date(),
            "code": f"Q-{i:05d}",
            "customer_name": f"Guest {i}",
            "status": status,
            "queue_key": start + timedelta(milliseconds=i),
            "total_cents": 4500,
            "total_minutes": 60,
            "row_version": 1,
            "created_at": start,
        }
        for i in range(n)
    ]
    with db.write() as s:
        if clear:
            for table in ("audit_log", "idempotency_keys", "transaction_items", "transactions"):
                s.execute(text(f"DELETE FROM {table}"))
        s.execute(insert(Transaction), rows)
        return list(s.scalars(select(Transaction.id).order_by(Transaction.queue_key)))


class InProcessServer:
    """An app from `create_app`, served by uvicorn on a thread of the test's own process exactly as
    `python -m server run` serves it (server/serve.py's config, server/asgi.py's application): real
    sockets on loopback, with the runtime at hand for the test to look into or break."""

    def __init__(self, app: Any) -> None:
        from dataclasses import replace

        import uvicorn

        from server.asgi import Application
        from server.serve import uvicorn_config

        self.app = app
        self.runtime = app.extensions["spa"]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        settings = replace(self.runtime.settings, host="127.0.0.1", port=self.port)
        self.server = uvicorn.Server(uvicorn_config(settings, Application(app)))
        self._thread = threading.Thread(target=self.server.run, name="test.uvicorn", daemon=True)
        self._clients: list[SocketTestClient] = []

    def start(self) -> InProcessServer:
        self._thread.start()
        wait_until(lambda: self.server.started, 10, what="uvicorn to start")
        return self

    def stop(self) -> None:
        for client in self._clients:
            client.disconnect()
        self.server.should_exit = True
        self._thread.join(15)

    def client(self, token: str | None = None) -> SocketTestClient:
        client = SocketTestClient(self.url, {"token": token} if token is not None else None)
        self._clients.append(client)
        return client

    def healthz(self) -> Any:
        return requests.get(f"{self.url}/healthz", timeout=5).json()


class SocketTestClient:
    """A real python-socketio client with the shape of Flask-SocketIO's test client: `emit(…,
    callback=True)` returns the acknowledgement, `get_received()` what arrived since last asked."""

    def __init__(self, url: str, auth: Any) -> None:
        self.sio = socketio.Client(reconnection=False)
        self._received: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.sio.on("*", self._record)
        reasons: list[Any] = []
        self.sio.on("connect_error", lambda data=None: reasons.append(data))
        self.refusal: str | None = None
        try:
            self.sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=10)
        except socketio.exceptions.ConnectionError as exc:
            self.refusal = f"{exc}: {reasons}"
            _close_transport(self.sio)

    def _record(self, event: str, *args: Any) -> None:
        with self._lock:
            self._received.append({"name": event, "args": list(args), "namespace": "/"})

    def is_connected(self) -> bool:
        return bool(self.sio.connected)

    def emit(self, event: str, *args: Any, callback: bool = False) -> Any:
        data = args[0] if len(args) == 1 else (tuple(args) if args else None)
        if callback:
            return self.sio.call(event, data, timeout=15)
        self.sio.emit(event, data)
        return None

    def get_received(self) -> list[dict[str, Any]]:
        with self._lock:
            received, self._received = self._received, []
        return received

    def disconnect(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()
        _close_transport(self.sio)

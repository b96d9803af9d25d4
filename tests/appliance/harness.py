"""Running the appliance daemon as a real process against the real server, on loopback.

Shared by the tests and ``bench/appliance.py``: the spa (a ``LiveServer`` on SQLite with the demo
data), the daemon as ``python -m appliance --config …`` with its JSON log lines parsed, and small
TOML writing for its config.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from server.db.engine import Database
from server.db.migrate import upgrade
from server.service import admin
from tests.support import ROOT, Client, LiveServer, wait_until

LogLine = dict[str, Any]


# --- TOML ------------------------------------------------------------------------------------------


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def to_toml(data: Mapping[str, Any]) -> str:
    """Top-level keys, then ``[table]`` and ``[devices.name]`` tables (nested maps inline)."""
    lines = [f"{k} = {_value(v)}" for k, v in data.items() if not isinstance(v, Mapping)]
    for key, table in data.items():
        if not isinstance(table, Mapping):
            continue
        if key == "devices":
            for name, settings in table.items():
                lines += ["", f"[devices.{name}]", *(f"{k} = {_value(v)}" for k, v in settings.items())]
        else:
            lines += ["", f"[{key}]", *(f"{k} = {_value(v)}" for k, v in table.items())]
    return "\n".join(lines) + "\n"


# --- the spa: server, tokens, database ---------------------------------------------------------------


class Spa:
    """The production server on loopback with the demo data; ``client(name)`` connects as that
    demo device or staff member."""

    def __init__(self, workdir: Path, **env: str) -> None:
        self.workdir = workdir
        self.db_path = workdir / "spa.db"
        self.database_url = f"sqlite:///{self.db_path}"
        upgrade(self.database_url)
        db = Database(self.database_url, pool_size=1, max_overflow=0)
        try:
            self.tokens = {row["name"]: row["token"] for row in admin.load_demo(db)}
        finally:
            db.dispose()
        self.live = LiveServer(self.database_url, workdir, SPA_CLAIM_GRACE_S="600", **env)
        self.url = self.live.url
        self._clients: list[Client] = []

    def start(self) -> Spa:
        self.live.start()
        return self

    def stop(self) -> None:
        self.live.stop()

    def crash(self) -> None:
        """SIGKILL the server's master and workers: a power cut, no goodbye to the connections."""
        proc = self.live.proc
        assert proc is not None
        for pid in [*_children(proc.pid), proc.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(10)

    def close_clients(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()

    def close(self) -> None:
        self.close_clients()
        self.stop()

    def client(self, name: str) -> Client:
        client = Client(self.url, self.tokens[name]).connect()
        self._clients.append(client)
        return client

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(self.db_path, timeout=10)) as conn:
            return conn.execute(sql, params).fetchall()

    def device_id(self, name: str) -> int:
        return int(self.query("SELECT id FROM devices WHERE name = ?", (name,))[0][0])

    def waiting_customers(self, count: int, name: str = "Guest") -> list[dict[str, Any]]:
        """``count`` customers waiting for a therapist, oldest first."""
        kiosk = self.client("kiosk-1")
        return [
            kiosk.call("customer_confirm_selection", {"customer_name": f"{name} {i}", "items": [{"service_id": 1}]})
            for i in range(count)
        ]

    def awaiting_payment(self, count: int = 1) -> list[dict[str, Any]]:
        orders = self.waiting_customers(count)
        ben = self.client("Ben")
        for _ in orders:
            tid = ben.call("therapist_confirm_next")["transaction"]["id"]
            ben.call("therapist_start_service", {"transaction_id": tid})
            ben.call("therapist_finish_service", {"transaction_id": tid})
        return orders


def _children(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        children += [int(c) for c in text]
    return children


def print_receipt(**changes: Any) -> dict[str, Any]:
    """A print_receipt payload as the server builds it (server/service/printing.py)."""
    receipt = {
        "spa_name": "Lotus Spa", "spa_address": "Main St 1", "currency": "€", "code": "A-042",
        "paid_at": "2026-11-29T07:21:37.212Z", "cashier": "Carla",
        "items": [{"name": "Swedish massage", "quantity": 1, "unit_price": "45.00"},
                  {"name": "Hot stones", "quantity": 2, "unit_price": "12.35"}],
        "total": "69.70", "paid": "70.00", "change": "0.30", "method": "cash",
    }  # fmt: skip
    receipt.update(changes)
    return {"job_id": "rcpt-7", "transaction_id": 7, "open_drawer": True, "receipt": receipt}


# --- the daemon ---------------------------------------------------------------------------------------


def appliance_config(spa: Spa, device: str, role: str, state_dir: Path, **tables: Any) -> dict[str, Any]:
    return {
        "role": role,
        "server_url": spa.url,
        "token": spa.tokens[device],
        "state_dir": str(state_dir),
        "heartbeat_s": 1,
        **tables,
    }


class ApplianceProcess:
    """``python -m appliance --config …`` with its stdout (JSON lines) in a file."""

    def __init__(self, workdir: Path, name: str, config: Mapping[str, Any], env: Mapping[str, str] | None = None):
        self.name = name
        self.config = dict(config)
        self.config_path = workdir / f"{name}.toml"
        self.config_path.write_text(to_toml(config))
        self.log_path = workdir / f"{name}.log"
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self._starts = 0

    @property
    def outbox_path(self) -> Path:
        return Path(self.config["state_dir"]) / "outbox.sqlite3"

    def start(self, timeout_s: float = 20.0) -> ApplianceProcess:
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child process
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "appliance", "--config", str(self.config_path)],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self._starts += 1
        starts = self._starts
        self.wait_log(lambda line: line.get("msg", "").startswith("started"), timeout_s, "start", nth=starts)
        return self

    def lines(self) -> list[LogLine]:
        if not self.log_path.exists():
            return []
        out = []
        for raw in self.log_path.read_text(errors="replace").splitlines():
            try:
                out.append(json.loads(raw))
            except json.JSONDecodeError:
                out.append({"msg": raw, "level": "raw"})
        return out

    def find(self, predicate: Callable[[LogLine], bool]) -> list[LogLine]:
        return [line for line in self.lines() if predicate(line)]

    def wait_log(
        self, predicate: Callable[[LogLine], bool], timeout_s: float = 15.0, what: str = "", *, nth: int = 1
    ) -> LogLine:
        def found() -> LogLine | None:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")
            hits = self.find(predicate)
            return hits[nth - 1] if len(hits) >= nth else None

        try:
            return wait_until(found, timeout_s, what=f"{self.name}: {what}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.tail()}") from None

    def acked(self, event: str | None = None) -> list[LogLine]:
        return self.find(lambda line: line.get("msg", "").startswith("acked") and event in (None, line["msg"][6:]))

    def wait_connected(self, nth: int = 1, timeout_s: float = 20.0) -> None:
        self.wait_log(lambda line: line.get("msg", "").startswith("connected to"), timeout_s, "connected", nth=nth)

    def outbox_size(self) -> int:
        if not self.outbox_path.exists():
            return 0
        with closing(sqlite3.connect(self.outbox_path, timeout=10)) as conn:
            return int(conn.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def terminate(self, timeout_s: float = 25.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout_s)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@contextmanager
def running(process: ApplianceProcess) -> Iterator[ApplianceProcess]:
    try:
        yield process.start()
    finally:
        process.close()


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile: the smallest value with at least p % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]

"""Running the appliance daemon as a real process against the real server, on loopback.

Shared by the tests and ``bench/appliance.py``: the spa (a ``LiveServer`` on SQLite with the demo
data), the daemon as ``python -m appliance --config …`` with its JSON log lines parsed, small TOML
writing for its config, and ``Appliances``: a till and a room box with their virtual devices, set
up in one call each (the ``appliances`` fixture in ``conftest.py``).
"""

from __future__ import annotations

import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path
from typing import Any

from devices.virtual.evdev_devices import with_syn
from devices.virtual.fifo_input import pack_events
from devices.virtual.printer import VirtualNetworkPrinter
from devices.virtual.serial_scanner import VirtualSerialScanner
from tests.appliance.service_manager import ServiceManager
from tests.support import ROOT, Client, LiveServer, demo_tokens, serve_next, sqlite_database, wait_until, writable_fifo

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
        self.database_url = sqlite_database(workdir)
        self.db_path = workdir / "spa.db"
        self.tokens = demo_tokens(self.database_url)
        # A queue of dozens waits for the scenarios: the kiosk's limit on the wait (a policy of its
        # own, tested in tests/server/test_front_desk.py) is off here.
        self.live = LiveServer(self.database_url, workdir, SPA_CLAIM_GRACE_S="600", SPA_MAX_WAIT_MIN="0", **env)
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
            serve_next(ben)
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


# --- the daemon's config ------------------------------------------------------------------------------


def appliance_config(spa: Spa, device: str, role: str, state_dir: Path, **tables: Any) -> dict[str, Any]:
    return {
        "role": role,
        "server_url": spa.url,
        "token": spa.tokens[device],
        "state_dir": str(state_dir),
        "heartbeat_s": 1,
        **tables,
    }


def printer_settings(printer: VirtualNetworkPrinter, **extra: Any) -> dict[str, Any]:
    return {"kind": "printer_network", "host": printer.host, "port": printer.port, **extra}


def scanner_settings(scanner: VirtualSerialScanner) -> dict[str, Any]:
    return {"kind": "scanner_serial", "port": scanner.port}


def buttons_settings(path: Path) -> dict[str, Any]:
    return {"kind": "buttons_fifo", "path": str(path), "keymap": dict(KEYMAP)}


def till_config(
    spa: Spa,
    state_dir: Path,
    *,
    device: str = "cashier-1",
    scanner: VirtualSerialScanner | None = None,
    printer: VirtualNetworkPrinter | None = None,
    printer_options: Mapping[str, Any] | None = None,
    drawer: bool | None = None,
    **tables: Any,
) -> dict[str, Any]:
    """A cashier appliance: the scanner and the receipt printer it is given (the printer's driver
    settings in ``printer_options``), ``drawer`` written only when given (the daemon's default is
    true); other top-level keys and tables (``heartbeat_s``, ``daemon``) as they are."""
    cashier: dict[str, Any] = {}
    devices: dict[str, Any] = {}
    if scanner is not None:
        devices["scanner"] = scanner_settings(scanner)
    if printer is not None:
        devices["printer"] = printer_settings(printer, **(printer_options or {}))
        cashier["printer"] = "printer"
    if drawer is not None:
        cashier["drawer"] = drawer
    return appliance_config(spa, device, "cashier", state_dir, cashier=cashier, devices=devices, **tables)


def room_config(
    spa: Spa,
    state_dir: Path,
    buttons: Path,
    *,
    device: str = "room-1",
    number: str = "3",
    therapist_token: str | None = None,
    **tables: Any,
) -> dict[str, Any]:
    """A room box: its key pad on the FIFO ``buttons``, acting for ``therapist_token`` when given."""
    room: dict[str, Any] = {"number": number}
    if therapist_token is not None:
        room["therapist_token"] = therapist_token
    devices = {"buttons": buttons_settings(buttons)}
    return appliance_config(spa, device, "room", state_dir, room=room, devices=devices, **tables)


KEYMAP = {"KEY_F1": "next", "KEY_F2": "start", "KEY_F3": "finish"}
KEY_CODES = {"next": 59, "start": 60, "finish": 61}  # evdev KEY_F1, KEY_F2, KEY_F3


class Buttons:
    """The room's key pad behind a FIFO. Presses are stamped on a timeline of their own that starts
    in the past and only moves forward, as the kernel stamps a key's events: each press is key down,
    key up ``held_s`` later, as input_event records in one write (a reader never gets half a press)."""

    GAP_S = 0.05  # between one press's release and the next press: longer than the 30 ms debounce

    def __init__(self, fd: int, presses_ahead: int = 1000) -> None:
        self.fd = fd
        self.clock = time.time() - presses_ahead * 0.2 - 2.0

    def press(self, action: str, held_s: float = 0.05) -> None:
        code = KEY_CODES[action]
        os.write(self.fd, pack_events(with_syn([(code, 1), (code, 0)]), at=self.clock, step_s=held_s / 2))
        self.clock += 1.5 * held_s + self.GAP_S


# --- the daemon ---------------------------------------------------------------------------------------

# The daemon accepts the virtual device kinds (the FIFO-backed buttons and touchscreen) only when told.
VIRTUAL_DEVICES_ENV = {"SPA_ALLOW_VIRTUAL_DEVICES": "1"}


class ApplianceProcess:
    """``python -m appliance --config …`` with its stdout (JSON lines) in a file."""

    def __init__(self, workdir: Path, name: str, config: Mapping[str, Any], env: Mapping[str, str] | None = None):
        self.name = name
        self.config = dict(config)
        self.config_path = workdir / f"{name}.toml"
        self.config_path.write_text(to_toml(config))
        self.log_path = workdir / f"{name}.log"
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **VIRTUAL_DEVICES_ENV, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self._starts = 0
        self.launcher: list[str] = []  # a command the daemon runs under (the benchmark's strace)
        self.cwd = ROOT  # the code it runs (python -m puts the working directory first on the path)

    @property
    def outbox_path(self) -> Path:
        return Path(self.config["state_dir"]) / "outbox.sqlite3"

    def start(self, timeout_s: float = 20.0, manager: ServiceManager | None = None) -> ApplianceProcess:
        """``manager``: start it as systemd would (notify socket, descriptors kept across restarts)."""
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child process
        launcher, fds = manager.launcher() if manager is not None else ([], ())
        self.proc = subprocess.Popen(
            [*self.launcher, *launcher, sys.executable, "-m", "appliance", "--config", str(self.config_path)],
            cwd=self.cwd,
            env={**self.env, **(manager.env() if manager is not None else {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=fds,
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


class Appliances:
    """The daemons of one test (or benchmark) against its spa, each in ``workdir`` under its name
    (config ``NAME.toml``, log ``NAME.log``, state directory ``NAME/``); ``close()`` kills whatever
    still runs and closes the room boxes' FIFOs.

    ``till(…)`` and ``room(…)`` set up the two appliances most scenarios need, started and (unless
    ``connected=False``) connected; ``appliances(name, config)`` any other, not yet started."""

    def __init__(self, spa: Spa, workdir: Path) -> None:
        self.spa = spa
        self.workdir = workdir
        self.made: list[ApplianceProcess] = []
        self._fifos = ExitStack()

    def __call__(self, name: str, config: Mapping[str, Any], env: Mapping[str, str] | None = None) -> ApplianceProcess:
        process = ApplianceProcess(self.workdir, name, config, env)
        self.made.append(process)
        return process

    def till(
        self,
        *,
        name: str = "till",
        env: Mapping[str, str] | None = None,
        connected: bool = True,
        **config: Any,
    ) -> ApplianceProcess:
        """The till cashier-1 (``till_config``'s keywords: ``scanner``, ``printer``, ``drawer`` …)."""
        till = self(name, till_config(self.spa, self.workdir / name, **config), env).start()
        if connected:
            till.wait_connected()
        return till

    def room(
        self,
        *,
        name: str = "room",
        presses_ahead: int = 1000,
        env: Mapping[str, str] | None = None,
        connected: bool = True,
        **config: Any,
    ) -> tuple[ApplianceProcess, Buttons]:
        """The room box room-1 (``room_config``'s keywords: ``number``, ``device`` …) and its key pad."""
        path = self.workdir / f"{name}-buttons"
        buttons = Buttons(self._fifos.enter_context(writable_fifo(path)), presses_ahead=presses_ahead)
        room = self(name, room_config(self.spa, self.workdir / name, path, **config), env).start()
        if connected:
            room.wait_connected()
        return room, buttons

    def close(self) -> None:
        for process in self.made:
            process.close()
        self._fifos.close()


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

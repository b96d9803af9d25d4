"""The stage a simulated day plays on: its own server (`python -m server run` on SQLite in a
temporary directory, with the demo data and as many kiosks, rooms, therapists and tills as asked)
or a running one named by `--url` with a tokens file; and, with `--printers`, each till's real
appliance daemon printing on a virtual network printer."""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..db.engine import Database
from ..service import admin
from .driver import Cast, Room, Till
from .link import SimulationError

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30.0
# The simulation's own server: no intake limit (its wait estimates are in real minutes while the
# day runs at many times real speed) and room for every simulated connection from loopback.
OWN_SERVER_ENV = {
    "SPA_MAX_WAIT_MIN": "0",
    "SPA_LOG_FORMAT": "text",
    "SPA_LOG_LEVEL": "WARNING",
    "SPA_MAX_CONNECTIONS_PER_ADDRESS": "512",
    "SPA_MAX_PENDING_PER_ADDRESS": "64",
}


@dataclass(frozen=True)
class Sizes:
    kiosks: int
    rooms: int
    tills: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_own_server(stack: ExitStack, workdir: Path) -> tuple[str, str]:
    """A fresh server on SQLite in ``workdir``: its URL and its database's URL."""
    from ..db.migrate import upgrade

    database_url = f"sqlite:///{workdir / 'spa.db'}"
    upgrade(database_url)
    port = free_port()
    log = open(workdir / "server.log", "ab")  # noqa: SIM115 - handed to the child, closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "run", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, **OWN_SERVER_ENV},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    stack.callback(_stop, proc)
    url = f"http://127.0.0.1:{port}"
    _wait_healthy(url, proc, workdir / "server.log")
    return url, database_url


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SimulationError(f"the server exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                return
        except OSError as exc:
            if getattr(exc, "code", None) == 503:
                return
        time.sleep(0.1)  # polling a starting process: there is nothing to wait on
    raise SimulationError(f"the server did not answer within {START_TIMEOUT_S:.0f} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def cast_own(database_url: str, sizes: Sizes) -> Cast:
    """The demo's people and devices, and as many more as the day needs."""
    db = Database(database_url, pool_size=1, max_overflow=0)
    try:
        rows = {r["name"]: r for r in admin.load_demo(db)}
        kiosks = [rows["kiosk-1"]["token"]]
        for i in range(2, sizes.kiosks + 1):
            kiosks.append(admin.add_device(db, "kiosk", f"kiosk-{i}")["token"])
        therapists = [rows["Anna"]["token"], rows["Ben"]["token"]]
        for i in range(len(therapists) + 1, sizes.rooms + 1):
            therapists.append(admin.add_staff(db, "therapist", f"Therapist {i}")["token"])
        existing_rooms = {r["name"] for r in admin.list_rooms(db)}
        rooms = []
        for i in range(1, sizes.rooms + 1):
            name = f"Room {i}"
            if name not in existing_rooms:
                admin.add_room(db, name)
            device = (
                rows[f"room-{i}"]["token"]
                if f"room-{i}" in rows
                else admin.add_device(db, "room", f"room-{i}")["token"]
            )
            rooms.append(Room(device, therapists[i - 1], name))
        tills = [Till(rows["cashier-1"]["id"], rows["cashier-1"]["token"], "cashier-1")]
        for i in range(2, sizes.tills + 1):
            made = admin.add_device(db, "cashier", f"cashier-{i}")
            tills.append(Till(made["id"], made["token"], made["name"]))
        return Cast(kiosks[: sizes.kiosks], rooms, tills[: sizes.tills], rows["Erik"]["token"])
    finally:
        db.dispose()


def cast_from_tokens(path: Path, sizes: Sizes) -> Cast:
    """From a tokens file as `python -m server demo --tokens-file` writes it (a list of rows with
    kind, role, name, id and token): the first kiosks, rooms, therapists and tills by name."""
    rows: list[dict[str, Any]] = json.loads(path.read_text())

    def of(kind: str, role: str) -> list[dict[str, Any]]:
        found = [r for r in rows if r.get("kind") == kind and r.get("role") == role]
        return sorted(found, key=lambda r: (_number(str(r["name"])), str(r["name"])))

    kiosks, boxes, tills = of("device", "kiosk"), of("device", "room"), of("device", "cashier")
    therapists = of("staff", "therapist")
    desk = of("staff", "desk") or of("staff", "cashier") or of("staff", "admin")
    short = [
        f"{n} {what} (have {len(have)})"
        for n, what, have in (
            (sizes.kiosks, "kiosks", kiosks),
            (sizes.rooms, "room devices", boxes),
            (sizes.rooms, "therapists", therapists),
            (sizes.tills, "tills", tills),
            (1, "desk, cashier or admin staff", desk),
        )
        if len(have) < n
    ]
    if short:
        raise SimulationError(f"{path} has too few tokens: needs {', '.join(short)}")
    return Cast(
        [r["token"] for r in kiosks[: sizes.kiosks]],
        [
            Room(b["token"], t["token"], f"Room {i + 1}")
            for i, (b, t) in enumerate(zip(boxes, therapists, strict=False))
        ][: sizes.rooms],
        [Till(int(t["id"]), t["token"], t["name"]) for t in tills[: sizes.tills]],
        desk[0]["token"],
    )


def _number(name: str) -> int:
    found = re.findall(r"\d+", name)
    return int(found[-1]) if found else 0


def minutes_of_catalog(database_url: str) -> dict[int, int]:
    db = Database(database_url, pool_size=1, max_overflow=0)
    try:
        return {int(r["id"]): int(r["minutes"]) for r in admin.list_catalog(db) if r["active"]}
    finally:
        db.dispose()

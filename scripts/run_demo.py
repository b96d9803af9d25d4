"""`make run`: the server on SQLite with demo data, plus a simulated cashier till (the appliance
daemon with a virtual ESC/POS printer and a virtual serial barcode scanner), so a newcomer can
pay at /cashier and watch the receipt print as text below.

One supervisor owns every process it starts: when any of them ends, the others are stopped and
`make run` ends with a non-zero status, rather than leaving a till printing for a server that is
gone. Ctrl+C stops them all. Settings come from the environment (PORT, HOST, PRINTER_PORT, VAR,
DATABASE_URL, SPA_NAME, SPA_ADDRESS); a port that is taken stops the demo before anything starts.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

PY = os.environ.get("PY") or sys.executable
HOST = os.environ.get("HOST", "127.0.0.1")
STOP_GRACE_S = 5.0


def port_setting(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    if not raw.isdigit() or not 0 <= int(raw) <= 65535:
        sys.exit(f"make run: {name}={raw!r} is not a port number (0-65535)")
    return int(raw)


def free_or_exit(name: str, host: str, port: int) -> int:
    """The port itself when free; 0 asks the system for any free one. A taken port ends the demo
    with the setting to change, before anything has started."""
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError as exc:
            sys.exit(
                f"make run: port {port} on {host} is taken ({exc.strerror}); "
                f"another program is using it. Stop it, or choose another: make run {name}=<port>"
            )
        return int(s.getsockname()[1])


class Supervisor:
    """Starts the demo's processes, copies their output to the console with a prefix, and stops
    all of them as soon as one ends."""

    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.stopping = threading.Event()

    def start(self, name: str, argv: list[str], *, stdin: IO[bytes] | int | None = None, quiet: bool = False) -> None:
        child = subprocess.Popen(
            argv,
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.DEVNULL if quiet else subprocess.PIPE,
            stderr=subprocess.DEVNULL if quiet else subprocess.STDOUT,
        )
        self.children.append((name, child))
        if child.stdout is not None:
            threading.Thread(
                target=self._copy, args=(name, child.stdout), name=f"demo-{name}-output", daemon=True
            ).start()

    @staticmethod
    def _copy(name: str, stream: IO[bytes]) -> None:
        for line in iter(stream.readline, b""):
            sys.stdout.write(f"[{name}] {line.decode(errors='replace')}")
            sys.stdout.flush()

    def watch(self) -> int:
        """Until one process ends (its status, or 1 if it was 0: the demo never ends by itself)
        or the supervisor is told to stop (0)."""
        while not self.stopping.is_set():
            for name, child in self.children:
                code = child.poll()
                if code is not None:
                    print(f"make run: {name} ended (status {code}); stopping the others", file=sys.stderr, flush=True)
                    return code or 1
            self.stopping.wait(0.2)
        return 0

    def stop_all(self) -> None:
        for _, child in self.children:
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + STOP_GRACE_S
        for _, child in self.children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def wait_for_port(host: str, port: int, supervisor: Supervisor, timeout_s: float = 30.0) -> None:
    """Until the server listens (so the till's first connect is not a refused one), or gives up
    quietly: the till retries by itself, and a server that died is the supervisor's to report."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not supervisor.stopping.is_set():
        if any(child.poll() is not None for _, child in supervisor.children):
            return
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)


def run(argv: list[str], log: Path) -> None:
    """A set-up step, its output kept in ``log``; on failure the log is shown and the demo ends."""
    with open(log, "ab") as out:
        result = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        sys.stderr.write(log.read_text(errors="replace")[-4000:])
        sys.exit(f"make run: {' '.join(argv[1:4])} failed (status {result.returncode}); the log is {log}")


def appliance_config(var: Path, base: str, token: str, printer_port: int) -> Path:
    path = var / "cashier-appliance.toml"
    path.write_text(
        f"""# Written by scripts/run_demo.py for the simulated till.
role = "cashier"
server_url = "{base}"
token = "{token}"
state_dir = "{var / "appliance-state"}"
heartbeat_s = 15

[cashier]
printer = "printer"
drawer = true

[daemon]
time_sync_flag = ""  # this machine's clock is trusted as it is (a Pi asks systemd-timesyncd)

[devices.scanner]
kind = "scanner_serial"
port = "{var / "scanner"}"

[devices.printer]
kind = "printer_network"
host = "127.0.0.1"
port = {printer_port}
"""
    )
    path.chmod(0o600)
    return path


def banner(base: str, var: Path, people: dict[str, dict[str, object]]) -> str:
    def token(name: str) -> str:
        return str(people[name]["token"])

    pins = ", ".join(f"{row['name']} {row['pin']}" for row in people.values() if row.get("pin"))
    try:
        scanner_input = var.relative_to(Path.cwd()) / "scanner-input"
    except ValueError:
        scanner_input = var / "scanner-input"
    return f"""
== {os.environ.get("SPA_NAME", "the spa")} is at {base}/  (staff PINs: {pins})
== open these pages (each device's token is in the #fragment; the same tokens next time)
  kiosk      {base}/kiosk#token={token("kiosk-1")}
  lobby      {base}/lobby#token={token("lobby-1")}
  cashier    {base}/cashier#token={token("cashier-1")}
  room 1     {base}/therapist#token={token("room-1")}
  room 2     {base}/therapist#token={token("room-2")}
  therapist  {base}/therapist            (sign in as Anna, PIN 1111)
  desk       {base}/desk                 (sign in as Erik, PIN 4444)
  office     {base}/office               (sign in as Dana, PIN 999999)
== the simulated till: receipts print below as [printer] lines; scan a code with
  echo A-001 > {scanner_input}
== logs of the set-up: {var / "setup.log"}; Ctrl+C stops everything
"""


def main() -> int:
    port = port_setting("PORT", 5000)
    printer_port = port_setting("PRINTER_PORT", 0)
    port = free_or_exit("PORT", HOST, port)
    printer_port = free_or_exit("PRINTER_PORT", "127.0.0.1", printer_port)
    var = Path(os.environ.get("VAR", "var")).resolve()
    var.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{var / 'spa.db'}")
    os.environ.setdefault("SPA_LOG_FORMAT", "text")
    os.environ.setdefault("SPA_NAME", "Serenity Spa")
    os.environ.setdefault("SPA_ADDRESS", "1 Example Street\\nSpringfield")
    log = var / "setup.log"
    log.write_bytes(b"")
    tokens_file = var / "demo-tokens.json"
    run([PY, "-m", "server", "db", "upgrade"], log)
    run([PY, "-m", "server", "demo", "--tokens-file", str(tokens_file)], log)
    people = {str(r["name"]): r for r in json.loads(tokens_file.read_text())}
    base = f"http://{HOST}:{port}"
    print(banner(base, var, people), flush=True)

    supervisor = Supervisor()

    def stop(signum: int, _frame: object) -> None:
        supervisor.stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        supervisor.start(
            "printer", [PY, "-m", "devices.virtual", "printer", "--host", "127.0.0.1", "--port", str(printer_port)]
        )
        # The virtual scanner turns each line written to the FIFO into a scan on a pseudo-terminal.
        fifo, link = var / "scanner-input", var / "scanner"
        for stale in (fifo, link):
            stale.unlink(missing_ok=True)
        os.mkfifo(fifo)
        # Read-write, so the scanner never sees end-of-file between two writers.
        fifo_fd = os.open(fifo, os.O_RDWR)
        supervisor.start(
            "scanner", [PY, "-m", "devices.virtual", "scanner", "--link", str(link)], stdin=fifo_fd, quiet=True
        )
        deadline = time.monotonic() + 5
        while not link.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        (var / "appliance-state").mkdir(exist_ok=True)
        config = appliance_config(var, base, str(people["cashier-1"]["token"]), printer_port)
        supervisor.start("server", [PY, "-m", "server", "run", "--host", HOST, "--port", str(port)])
        wait_for_port(HOST, port, supervisor)
        supervisor.start("till", [PY, "-m", "appliance", "--config", str(config)])
        return supervisor.watch()
    finally:
        supervisor.stop_all()


if __name__ == "__main__":
    sys.exit(main())

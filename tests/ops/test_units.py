"""The systemd units: watchdog, restart and hardening settings as written, `systemd-analyze
verify` on every unit as provisioned for every role, and `systemd-analyze security` exposure."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from server.db.migrate import upgrade
from tests.support import LiveServer

from .conftest import (
    REPO,
    SYSTEMD_DIR,
    Provisioned,
    analyze,
    exposure,
    make_analyze_root,
    merged,
    parse_unit,
    value,
    values,
)

UNITS = ("spa-server.service", "spa-server@.service", "spa-appliance.service", "spa-kiosk-browser.service")
EXPOSURE_LIMIT = 3.0


def unit(name: str) -> dict[str, list[tuple[str, str]]]:
    return parse_unit((SYSTEMD_DIR / name).read_text())


def test_systemd_dir_holds_exactly_the_units() -> None:
    assert sorted(p.name for p in SYSTEMD_DIR.iterdir()) == sorted(UNITS)


@pytest.mark.parametrize("name", UNITS)
def test_every_unit_is_hardened(name: str) -> None:
    u = unit(name)
    expected = {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "DevicePolicy": "closed",
        "CapabilityBoundingSet": "",
        "AmbientCapabilities": "",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "ProtectControlGroups": "yes",
        "RestrictSUIDSGID": "yes",
    }
    for key, want in expected.items():
        assert value(u, "Service", key) == want, f"{name}: {key}"
    user = value(u, "Service", "User")
    assert user and user != "root"
    # Writable: only the unit's own state/runtime directories (and, for the browser, the
    # logind session's runtime directory holding the Wayland socket).
    assert values(u, "Service", "ReadWritePaths") in ([], ["-/run/user"])
    assert values(u, "Service", "StateDirectory") == [
        {
            "spa-server.service": "spa-server",
            "spa-server@.service": "spa-server",
            "spa-appliance.service": "spa-appliance",
            "spa-kiosk-browser.service": "spa-kiosk",
        }[name]
    ]
    assert value(u, "Install", "WantedBy") == "multi-user.target"


@pytest.mark.parametrize("name", ["spa-server.service", "spa-server@.service"])
def test_server_unit(name: str) -> None:
    u = unit(name)
    assert value(u, "Service", "User") == "spa"
    assert value(u, "Service", "EnvironmentFile") == "/etc/spa/server.env"
    assert value(u, "Service", "Restart") == "on-failure"
    exec_start = value(u, "Service", "ExecStart")
    assert exec_start.startswith("/opt/spa/venv/bin/python -m server run --host ${SPA_HOST} --port ")
    assert exec_start.endswith("%i" if "@" in name else "${SPA_PORT}")
    after = value(u, "Unit", "After").split()
    assert {"network-online.target", "mariadb.service", "redis-server.service"} <= set(after)
    assert value(u, "Service", "PrivateDevices") == "yes"
    assert value(u, "Service", "RestrictAddressFamilies") == "AF_INET AF_INET6 AF_UNIX"
    assert value(u, "Service", "MemoryDenyWriteExecute") == "yes"


@pytest.mark.parametrize("name", ["spa-server.service", "spa-server@.service"])
def test_server_unit_watchdog(name: str) -> None:
    u = unit(name)
    assert value(u, "Service", "Type") == "notify"
    # The app, its threads and its event loop live in the main process.
    assert value(u, "Service", "NotifyAccess") == "main"
    assert int(value(u, "Service", "LimitNOFILE")) >= 4096  # a socket is a file; a thousand screens
    assert value(u, "Service", "WatchdogSec") == "30s"
    assert value(u, "Service", "Restart") == "on-failure"  # a watchdog timeout counts as a failure


def test_every_daemon_unit_has_a_watchdog() -> None:
    """README: every unit of ours that runs our code has one; the browser is Chromium's."""
    for name in UNITS:
        if name != "spa-kiosk-browser.service":
            assert value(unit(name), "Service", "WatchdogSec") == "30s", name


class NotifySocket:
    """What systemd would receive from a service: one datagram per message, read with a deadline."""

    def __init__(self) -> None:
        self.address = f"@spa-test-{uuid.uuid4().hex[:12]}"  # Linux abstract namespace: no file
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + self.address[1:])

    def next_message(self, timeout_s: float) -> str:
        self.sock.settimeout(timeout_s)
        return self.sock.recv(4096).decode()

    def until(self, line: str, timeout_s: float) -> list[str]:
        """The messages received up to and including the first holding ``line``."""
        deadline = time.monotonic() + timeout_s
        seen: list[str] = []
        while line not in (seen[-1].splitlines() if seen else []):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {line} within {timeout_s} s; received {seen}")
            try:
                seen.append(self.next_message(left))
            except TimeoutError:
                continue
        return seen

    def close(self) -> None:
        self.sock.close()


def test_the_server_process_tells_systemd_ready_then_alive_then_stopping(tmp_path: Path) -> None:
    """`python -m server run` as the unit starts it, with systemd's notify socket and watchdog."""
    url = f"sqlite:///{tmp_path / 'spa.db'}"
    upgrade(url)
    notify = NotifySocket()
    # WATCHDOG_USEC as systemd sets it from WatchdogSec (here 1 s, so a ping every 0.5 s); JSON logs as the unit has.
    env = {"NOTIFY_SOCKET": notify.address, "WATCHDOG_USEC": "1000000", "SPA_LOG_FORMAT": "json"}
    server = LiveServer(url, tmp_path, **env)
    try:
        server.start()
        first = notify.until("READY=1", 20)
        # The first message is READY=1, once the loop serves and the runtime's threads run.
        assert len(first) == 1 and first[0].startswith("READY=1\nSTATUS=serving on 127.0.0.1:")
        assert server.healthz().status_code == 200
        pings = [notify.next_message(5) for _ in range(3)]
        assert pings == ["WATCHDOG=1"] * 3
        server.stop()
        assert notify.until("STOPPING=1", 20)[-1] == "STOPPING=1"
        assert server.proc is not None and server.proc.returncode == 0
    finally:
        server.stop()
        notify.close()
    # Every line the unit would send to the journal is a JSON line in the house format, uvicorn's own too.
    lines = [json.loads(line) for line in server.log_path.read_text().splitlines()]
    assert {"server.serve", "uvicorn.error"} <= {line["logger"] for line in lines}
    assert not [line for line in lines if line["level"] not in ("debug", "info")], lines


def test_appliance_unit_watchdog_and_restart() -> None:
    u = unit("spa-appliance.service")
    assert value(u, "Service", "Type") == "notify"
    assert value(u, "Service", "NotifyAccess") == "main"
    assert value(u, "Service", "WatchdogSec") == "30s"
    assert value(u, "Service", "Restart") == "always"
    assert value(u, "Service", "RestartSec") == "5s"
    assert value(u, "Service", "RestartPreventExitStatus") == "2"  # a bad config: see below
    assert value(u, "Unit", "StartLimitIntervalSec") == "10min"
    assert value(u, "Unit", "StartLimitBurst") == "20"
    assert value(u, "Service", "ExecStart") == "/opt/spa/venv/bin/python -m appliance --config /etc/spa/appliance.toml"
    assert value(u, "Service", "StateDirectory") == "spa-appliance"
    # No devices and no groups in the unit itself: the role drop-in opens exactly its own.
    assert value(u, "Service", "PrivateDevices") == "yes"
    assert values(u, "Service", "DeviceAllow") == []
    assert values(u, "Service", "SupplementaryGroups") == []


def test_appliance_is_not_restarted_on_the_exit_status_of_a_bad_config(tmp_path: Path) -> None:
    """RestartPreventExitStatus= names the status the daemon really exits with on a bad config,
    after one line saying what is wrong (what `journalctl -u spa-appliance` then shows)."""
    config = tmp_path / "appliance.toml"
    config.write_text('role = "sauna"\n')
    result = subprocess.run(
        [sys.executable, "-m", "appliance", "--config", str(config)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert str(result.returncode) == value(unit("spa-appliance.service"), "Service", "RestartPreventExitStatus")
    assert result.stderr.startswith("appliance: config error: ") and len(result.stderr.splitlines()) == 1
    # Anything else (a crash: status 1) is still restarted.
    assert "1" not in value(unit("spa-appliance.service"), "Service", "RestartPreventExitStatus").split()


def test_kiosk_browser_unit() -> None:
    u = unit("spa-kiosk-browser.service")
    exec_start = value(u, "Service", "ExecStart").split()
    assert exec_start[:4] == ["/opt/spa/kiosk/with-start-page", "/usr/bin/cage", "--", "/usr/bin/chromium"]
    assert {"--kiosk", "--ozone-platform=wayland", "--noerrdialogs"} <= set(exec_start)
    # The address holds the device token: it reaches the page through a file in the private
    # runtime directory, never on the command line (which `ps` shows every local user).
    assert exec_start[-1] == "file:///run/spa-kiosk/connecting.html"
    assert not [arg for arg in exec_start if "SPA_KIOSK_URL" in arg or "token" in arg]
    assert value(u, "Service", "RuntimeDirectoryMode") == "0700"
    assert value(u, "Service", "EnvironmentFile") == "/etc/spa/kiosk.env"
    assert value(u, "Service", "User") == "spa-kiosk"
    assert value(u, "Service", "TTYPath") == "/dev/tty1"
    assert value(u, "Service", "PAMName") == "spa-kiosk"
    assert value(u, "Service", "Restart") == "always"
    assert value(u, "Unit", "Conflicts") == "getty@tty1.service"
    assert "--user-data-dir=/run/spa-kiosk/chromium" in exec_start
    assert value(u, "Service", "RuntimeDirectory") == "spa-kiosk"
    assert set(values(u, "Service", "DeviceAllow")) == {"char-drm rw", "char-input rw", "char-alsa rw", "/dev/tty1 rw"}


ROLE_DEVICES = {
    "kiosk": ({"char-input rw"}, "input"),
    "cashier": ({"char-input rw", "char-usb_device rw"}, "input lp"),
    "room": ({"char-input rw"}, "input"),
    "lobby": (set(), None),
}


@pytest.mark.parametrize("role", ROLE_DEVICES)
def test_role_dropin_opens_only_the_roles_devices(provisioned: dict[str, Provisioned], role: str) -> None:
    p = provisioned[role]
    dropin = parse_unit(p.read("/etc/systemd/system/spa-appliance.service.d/10-role.conf"))
    effective = merged(unit("spa-appliance.service"), dropin)
    classes, groups = ROLE_DEVICES[role]
    assert set(values(effective, "Service", "DeviceAllow")) == classes
    assert value(effective, "Service", "DevicePolicy") == "closed"
    if groups is None:
        assert values(effective, "Service", "SupplementaryGroups") == []
        assert value(effective, "Service", "PrivateDevices") == "yes"
    else:
        assert value(effective, "Service", "SupplementaryGroups") == groups
        assert value(effective, "Service", "PrivateDevices") == "no"


# systemd-analyze verify ------------------------------------------------------------


def installed_units(root: Path) -> list[str]:
    names = sorted(p.name for p in (root / "etc/systemd/system").glob("*.service"))
    return [n.replace("@.service", "@5001.service") for n in names]


@pytest.mark.parametrize("role", ["kiosk", "cashier", "room", "lobby", "server"])
def test_systemd_analyze_verify_provisioned_units(
    provisioned: dict[str, Provisioned], role: str, tmp_path: Path
) -> None:
    root = make_analyze_root(provisioned[role].root, tmp_path / "root")
    units = installed_units(root)
    expected = {
        "server": ["spa-server.service", "spa-server@5001.service"],
        "room": ["spa-appliance.service"],
    }.get(role, ["spa-appliance.service", "spa-kiosk-browser.service"])
    assert units == expected
    result = analyze("verify", f"--root={root}", "--man=no", *units)
    assert result.returncode == 0, result.stderr
    # verify only warns (exit 0) about unknown keys and the like: none allowed.
    assert result.stderr == ""


def test_systemd_analyze_verify_catches_a_missing_program(tmp_path: Path) -> None:
    """The check above is real: without the program a unit starts, verify fails."""
    root = make_analyze_root(None, tmp_path / "root")
    (root / "etc/systemd/system").mkdir(parents=True)
    for name in UNITS:
        (root / "etc/systemd/system" / name).write_text((SYSTEMD_DIR / name).read_text())
    (root / "opt/spa/venv/bin/python").unlink()
    result = analyze("verify", f"--root={root}", "--man=no", "spa-appliance.service")
    assert result.returncode != 0
    assert "/opt/spa/venv/bin/python is not executable" in result.stderr


# systemd-analyze security ----------------------------------------------------------


def measured_exposures(provisioned: dict[str, Provisioned], tmp_path: Path) -> dict[tuple[str, str], float]:
    """(unit, machine) -> exposure, for the units as provisioned (with their drop-ins)."""
    figures: dict[tuple[str, str], float] = {}
    server = make_analyze_root(provisioned["server"].root, tmp_path / "server")
    figures["spa-server.service", "server"] = exposure(server, "spa-server.service")
    figures["spa-server@5001.service", "server"] = exposure(server, "spa-server@5001.service")
    for role in ("kiosk", "cashier", "room", "lobby"):
        root = make_analyze_root(provisioned[role].root, tmp_path / role)
        figures["spa-appliance.service", role] = exposure(root, "spa-appliance.service")
        if role == "kiosk":
            figures["spa-kiosk-browser.service", role] = exposure(root, "spa-kiosk-browser.service")
    return figures


def test_exposure_of_server_and_appliance_at_most_3_and_recorded_in_docs(
    provisioned: dict[str, Provisioned], tmp_path: Path
) -> None:
    figures = measured_exposures(provisioned, tmp_path)
    for (name, machine), figure in figures.items():
        if name != "spa-kiosk-browser.service":
            assert figure <= EXPOSURE_LIMIT, f"{name} on {machine}: exposure {figure}"
    docs = (REPO / "docs/OPERATIONS.md").read_text()
    rows = re.findall(r"^\| `([^`]+)` \| ([a-z]+) \| (\d+\.\d) \|", docs, flags=re.M)
    recorded = {(name, machine): figure for name, machine, figure in rows}
    assert recorded == {key: f"{figure:.1f}" for key, figure in figures.items()}, (
        "docs/OPERATIONS.md's exposure table is out of date; measured: " + repr(figures)
    )


def test_exposure_of_the_cashier_with_serial_devices(tmp_path: Path) -> None:
    from .conftest import SERVER_URL, TOKEN, provision

    root = tmp_path / "serial"
    provision(
        "appliance",
        "--role",
        "cashier",
        "--server",
        SERVER_URL,
        "--token",
        TOKEN,
        "--scanner-serial",
        "067b:2303",
        "--printer-serial",
        "0403:6001",
        root=root,
    )
    analyze_root = make_analyze_root(root, tmp_path / "analyze")
    assert exposure(analyze_root, "spa-appliance.service") <= EXPOSURE_LIMIT

"""provision.sh appliance into temporary roots: the files for every role, their modes and
contents, what it would run, idempotency, and argument checks."""

from __future__ import annotations

import base64
import stat
import subprocess
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support import LiveServer, sqlite_database

from .conftest import (
    APPLIANCE_ARGS,
    REPO,
    SERVER_URL,
    TOKEN,
    Provisioned,
    kiosk_url,
    parse_unit,
    provision,
    snapshot,
    value,
)

ROLES = ("kiosk", "cashier", "room", "lobby", "server")
CHANGE_WORDS = ("wrote ", "created ", "removed ", "linked ", "generated ")
APPLY_COMMANDS = (
    "systemctl restart",
    "systemctl daemon-reload",
    "systemctl daemon-reexec",
    "udevadm",
    "nginx -t",
    "reload-or-restart",
    "update-ca-certificates",
    "systemd-tmpfiles",
)

COMMON_FILES = {
    "/etc/spa/appliance.toml": 0o640,
    "/etc/spa/provision.args": 0o600,
    "/etc/systemd/system/spa-appliance.service": 0o644,
    "/etc/systemd/system/spa-appliance.service.d/10-role.conf": 0o644,
    "/etc/udev/rules.d/70-spa-appliance.rules": 0o644,
    "/etc/modules-load.d/spa-appliance.conf": 0o644,
    "/etc/systemd/system.conf.d/50-spa-watchdog.conf": 0o644,
    "/etc/systemd/journald.conf.d/50-spa.conf": 0o644,
    "/etc/systemd/system/systemd-time-wait-sync.service.d/50-spa.conf": 0o644,
    "/opt/spa/doc/OPERATIONS.md": 0o644,
}
SCREEN_FILES = {
    "/etc/systemd/system/spa-kiosk-browser.service": 0o644,
    "/etc/spa/kiosk.env": 0o640,  # the screen's address holds the device token
    "/opt/spa/kiosk/connecting.html": 0o644,
    "/opt/spa/kiosk/with-start-page": 0o755,
    "/etc/pam.d/spa-kiosk": 0o644,
    "/etc/tmpfiles.d/spa-kiosk.conf": 0o644,
}


@contextmanager
def running_server(workdir: Path, **env: str) -> Iterator[str]:
    server = LiveServer(sqlite_database(workdir), workdir, **env).start()
    try:
        yield server.url
    finally:
        server.stop()


def files_of(root: Path) -> set[str]:
    return {"/" + str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir()}


@pytest.mark.parametrize("role", ["kiosk", "cashier", "room", "lobby"])
def test_appliance_files_and_modes(provisioned: dict[str, Provisioned], role: str) -> None:
    p = provisioned[role]
    expected = dict(COMMON_FILES)
    if role != "room":
        expected |= SCREEN_FILES
    assert files_of(p.root) == set(expected)
    for path, mode in expected.items():
        assert p.mode(path) == mode, path
    assert p.mode("/etc/spa") == 0o755
    # The config holds the device token: readable by root and the daemon's group only; so does
    # the screen's address, readable by root and the browser's group only.
    assert "chown root:spa-appliance /etc/spa/appliance.toml" in p.would_run()
    assert ("chown root:spa-kiosk /etc/spa/kiosk.env" in p.would_run()) == (role != "room")
    # The users exist before the files are given to them.
    cmds = p.would_run()
    for user in ("spa-appliance", "spa-kiosk") if role != "room" else ("spa-appliance",):
        useradd = next(i for i, c in enumerate(cmds) if c.startswith("useradd") and c.endswith(f" {user}"))
        assert useradd < next(i for i, c in enumerate(cmds) if c.startswith(f"chown root:{user} "))


@pytest.mark.parametrize("role", ["kiosk", "cashier", "room", "lobby"])
def test_appliance_would_run(provisioned: dict[str, Provisioned], role: str) -> None:
    cmds = provisioned[role].would_run()
    apt = next(c for c in cmds if c.startswith("apt-get install"))
    assert {"python3-venv", "libusb-1.0-0"} <= set(apt.split())
    assert ("cage" in apt.split()) == (role != "room")
    assert ("chromium" in apt.split()) == (role != "room")
    assert any(c.startswith("useradd --system") and c.endswith(" spa-appliance") for c in cmds)
    assert any(c.endswith(" spa-kiosk") for c in cmds if c.startswith("useradd")) == (role != "room")
    assert "python3 -m venv /opt/spa/venv" in cmds
    assert f"/opt/spa/venv/bin/pip install --quiet --upgrade {REPO}" in cmds
    assert "systemctl enable spa-appliance.service" in cmds
    assert "systemctl restart spa-appliance.service" in cmds
    assert ("systemctl enable spa-kiosk-browser.service" in cmds) == (role != "room")
    assert ("systemctl disable getty@tty1.service" in cmds) == (role != "room")
    assert "udevadm control --reload" in cmds
    # The daemon waits for the clock (a Pi has no real-time clock), a minute at most.
    assert "systemctl enable systemd-time-wait-sync.service" in cmds
    unit = parse_unit(provisioned[role].read("/etc/systemd/system/spa-appliance.service"))
    assert "time-sync.target" in value(unit, "Unit", "After").split()
    wait = parse_unit(provisioned[role].read("/etc/systemd/system/systemd-time-wait-sync.service.d/50-spa.conf"))
    assert value(wait, "Service", "TimeoutStartSec") == "60s"
    # The spa's zone comes from the server (unreachable here: left as it is in --root mode).
    assert not any(c.startswith("timedatectl") for c in cmds)
    assert f"cannot read the spa's time zone from {SERVER_URL}/healthz" in provisioned[role].first.stdout
    # Nothing is installed, created or started for real in --root mode.
    assert not (provisioned[role].root / "opt/spa/venv").exists()


def test_appliance_config_per_role(provisioned: dict[str, Provisioned]) -> None:
    configs = {role: tomllib.loads(provisioned[role].read("/etc/spa/appliance.toml")) for role in APPLIANCE_ARGS}
    for role, config in configs.items():
        assert config["role"] == role
        assert config["server_url"] == SERVER_URL
        assert config["token"] == TOKEN
        assert config["state_dir"] == "/var/lib/spa-appliance"
        assert config["heartbeat_s"] == 15
    assert configs["kiosk"]["devices"] == {"touch": {"kind": "touch_evdev", "path": "/dev/input/spa-touch"}}
    assert configs["cashier"]["cashier"] == {"printer": "printer", "drawer": True}
    assert configs["cashier"]["devices"] == {
        "scanner": {"kind": "scanner_evdev", "path": "/dev/input/spa-scanner", "layout": "us"},
        "printer": {"kind": "printer_usb", "vendor_id": "0x04b8", "product_id": "0x0202"},
    }
    assert configs["room"]["room"] == {"number": "3"}
    assert configs["room"]["devices"] == {
        "buttons": {
            "kind": "buttons_evdev",
            "path": "/dev/input/spa-buttons",
            "keymap": {"KEY_F1": "next", "KEY_F2": "start", "KEY_F3": "finish"},
        }
    }
    assert configs["lobby"]["lobby"] == {"announce": False}
    assert "devices" not in configs["lobby"]


def test_udev_rules_give_stable_names(provisioned: dict[str, Provisioned]) -> None:
    def rules(role: str) -> list[str]:
        text = provisioned[role].read("/etc/udev/rules.d/70-spa-appliance.rules")
        return [line for line in text.splitlines() if line and not line.startswith("#")]

    (touch,) = rules("kiosk")
    assert 'ENV{ID_INPUT_TOUCHSCREEN}=="1"' in touch and 'SYMLINK+="input/spa-touch"' in touch
    assert "LIBINPUT_IGNORE_DEVICE" not in touch  # the browser needs the touchscreen too
    every_node, scanner, printer = rules("cashier")
    # Every event node of the scanner: the daemon's group, hidden from the browser; no name.
    assert 'ATTRS{idVendor}=="05e0", ATTRS{idProduct}=="1200"' in every_node
    assert 'GROUP="input", MODE="0660", ENV{LIBINPUT_IGNORE_DEVICE}="1"' in every_node
    assert "SYMLINK" not in every_node and "ID_INPUT_KEYBOARD" not in every_node
    # The name: one node only, the keyboard of the configured interface (a scanner may have several
    # keyboard nodes; the symlink landed on whichever udev handled last).
    assert 'ATTRS{idVendor}=="05e0", ATTRS{idProduct}=="1200"' in scanner
    assert 'ENV{ID_INPUT_KEYBOARD}=="1"' in scanner and 'ATTRS{bInterfaceNumber}=="00"' in scanner
    assert 'ATTRS{name}!="* Control"' in scanner and scanner.endswith('SYMLINK+="input/spa-scanner"')
    assert 'SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device"' in printer
    assert 'ATTR{idVendor}=="04b8", ATTR{idProduct}=="0202"' in printer
    assert 'SYMLINK+="spa-printer", GROUP="lp", MODE="0660"' in printer
    (buttons,) = rules("room")
    assert 'SYMLINK+="input/spa-buttons"' in buttons and 'ATTRS{idVendor}=="1189"' in buttons
    assert rules("lobby") == []
    assert provisioned["cashier"].read("/etc/modules-load.d/spa-appliance.conf").splitlines()[-1] == "evdev"


def test_watchdog_and_journald_spare_the_sd_card(provisioned: dict[str, Provisioned]) -> None:
    p = provisioned["room"]
    manager = parse_unit(p.read("/etc/systemd/system.conf.d/50-spa-watchdog.conf"))
    assert value(manager, "Manager", "RuntimeWatchdogSec") == "15s"
    assert value(manager, "Manager", "RebootWatchdogSec") == "2min"
    journal = parse_unit(p.read("/etc/systemd/journald.conf.d/50-spa.conf"))
    assert value(journal, "Journal", "Storage") == "volatile"
    assert value(journal, "Journal", "RuntimeMaxUse") == "32M"


@pytest.mark.parametrize(("role", "page"), [("kiosk", "/kiosk"), ("cashier", "/cashier"), ("lobby", "/lobby")])
def test_kiosk_browser_opens_the_roles_page_with_the_device_token(
    provisioned: dict[str, Provisioned], role: str, page: str
) -> None:
    # The browser's storage is empty at every start: the address itself carries the token,
    # after "#" (never sent to the server), and it is the appliance's own device token.
    p = provisioned[role]
    assert kiosk_url(p.root) == f"{SERVER_URL}{page}#token={TOKEN}"
    assert tomllib.loads(p.read("/etc/spa/appliance.toml"))["token"] == TOKEN
    assert "pam_systemd.so" in p.read("/etc/pam.d/spa-kiosk")
    assert "w /sys/module/kernel/parameters/consoleblank - - - - 0" in p.read("/etc/tmpfiles.d/spa-kiosk.conf")
    assert p.read("/opt/spa/kiosk/connecting.html") == (REPO / "provisioning/files/connecting.html").read_text()
    assert p.read("/opt/spa/kiosk/with-start-page") == (REPO / "provisioning/files/with-start-page.sh").read_text()


def test_lobby_with_announcements_says_so_in_its_address(tmp_path: Path) -> None:
    provision(*APPLIANCE_ARGS["lobby"], "--announce", root=tmp_path)
    assert kiosk_url(tmp_path) == f"{SERVER_URL}/lobby?announce=1#token={TOKEN}"
    assert tomllib.loads((tmp_path / "etc/spa/appliance.toml").read_text())["lobby"] == {"announce": True}


def test_start_page_gets_the_address_through_a_private_file(tmp_path: Path) -> None:
    """with-start-page as the unit runs it: it writes the start page and the address into the
    runtime directory (owner only) and runs the browser without the address in its environment."""
    root, run = tmp_path / "root", tmp_path / "run"
    provision(*APPLIANCE_ARGS["cashier"], root=root)
    run.mkdir(mode=0o700)
    url = kiosk_url(root)
    env = {"PATH": "/usr/bin:/bin", "RUNTIME_DIRECTORY": str(run), "SPA_KIOSK_URL": url}
    result = subprocess.run(
        [root / "opt/spa/kiosk/with-start-page", "env"], env=env, capture_output=True, text=True, timeout=30, check=True
    )
    assert "SPA_KIOSK_URL" not in result.stdout and TOKEN not in result.stdout
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in run.iterdir()} == {
        "connecting.html": 0o600,
        "kiosk-url.js": 0o600,
    }
    assert (run / "connecting.html").read_text() == (root / "opt/spa/kiosk/connecting.html").read_text()
    script = (run / "kiosk-url.js").read_text()
    assert script == f'window.spaKioskUrlBase64 = "{base64.b64encode(url.encode()).decode()}";\n'


# Idempotency -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_second_run_changes_nothing(provisioned: dict[str, Provisioned], role: str) -> None:
    p = provisioned[role]
    assert p.before == p.after  # same files, modes, owners, mtimes and contents
    second = p.second.stdout
    assert not [line for line in second.splitlines() if line.strip().startswith(CHANGE_WORDS)], second
    assert not [line for line in second.splitlines() if any(c in line for c in APPLY_COMMANDS)], second
    assert second.rstrip().endswith("provision: done (0 paths changed)")


def test_a_new_token_rewrites_config_and_address_and_restarts_daemon_and_browser(tmp_path: Path) -> None:
    args = APPLIANCE_ARGS["kiosk"]
    provision(*args, root=tmp_path)
    before = snapshot(tmp_path)
    new_args = [*args[:-1], "dv_9_new"]
    result = provision(*new_args, root=tmp_path)
    after = snapshot(tmp_path)
    # (etc/spa itself changes too: the new file replaced the old one in it.)
    assert {k for k in before if before[k] != after[k] and before[k][0] != "dir"} == {
        "etc/spa/appliance.toml",
        "etc/spa/kiosk.env",
        "etc/spa/provision.args",
    }
    assert kiosk_url(tmp_path) == f"{SERVER_URL}/kiosk#token=dv_9_new"
    assert "systemctl restart spa-appliance.service" in result.stdout
    assert "systemctl restart spa-kiosk-browser.service" in result.stdout
    assert "udevadm" not in result.stdout


def test_reprovisioning_a_kiosk_as_a_room_box_removes_the_browser(tmp_path: Path) -> None:
    provision(*APPLIANCE_ARGS["kiosk"], root=tmp_path)
    result = provision(*APPLIANCE_ARGS["room"], root=tmp_path)
    assert "removed /etc/systemd/system/spa-kiosk-browser.service" in result.stdout
    assert not (tmp_path / "etc/systemd/system/spa-kiosk-browser.service").exists()
    # The screen's address held the token: it does not stay behind.
    assert not (tmp_path / "etc/spa/kiosk.env").exists()
    assert "spa-buttons" in (tmp_path / "etc/udev/rules.d/70-spa-appliance.rules").read_text()


# Time ------------------------------------------------------------------------------


def test_the_boxs_time_zone_is_the_spas_as_the_server_says(tmp_path: Path) -> None:
    """Issue 13: a Pi left at UTC printed 17:28 for an 18:28 Berlin payment."""
    with running_server(tmp_path, SPA_TIMEZONE="Europe/Berlin") as url:
        result = provision("appliance", "--role", "lobby", "--server", url, "--token", TOKEN, root=tmp_path / "root")
    assert f"the spa's time zone is Europe/Berlin ({url}/healthz)" in result.stdout
    assert "would run: timedatectl set-timezone Europe/Berlin" in result.stdout


def test_a_time_zone_given_wins_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    result = provision(*APPLIANCE_ARGS["lobby"], "--timezone", "America/New_York", root=tmp_path / "a")
    assert "would run: timedatectl set-timezone America/New_York" in result.stdout
    bad = provision(*APPLIANCE_ARGS["lobby"], "--timezone", "Europe/../etc", root=tmp_path / "b", check=False)
    assert bad.returncode == 2 and "--timezone 'Europe/../etc': expected an IANA name" in bad.stderr


# Hardware variants ------------------------------------------------------------------


def test_cashier_with_serial_scanner_and_network_printer(tmp_path: Path) -> None:
    provision(
        "appliance",
        "--role",
        "cashier",
        "--server",
        SERVER_URL,
        "--token",
        TOKEN,
        "--scanner-serial",
        "0x067B:0x2303",
        "--scanner-baud",
        "115200",
        "--printer-host",
        "10.0.0.9:9101",
        "--no-drawer",
        root=tmp_path,
    )
    config = tomllib.loads((tmp_path / "etc/spa/appliance.toml").read_text())
    assert config["cashier"] == {"printer": "printer", "drawer": False}
    assert config["devices"] == {
        "scanner": {"kind": "scanner_serial", "port": "/dev/spa-scanner", "baudrate": 115200},
        "printer": {"kind": "printer_network", "host": "10.0.0.9", "port": 9101},
    }
    dropin = parse_unit((tmp_path / "etc/systemd/system/spa-appliance.service.d/10-role.conf").read_text())
    assert value(dropin, "Service", "SupplementaryGroups") == "dialout"
    # USB-serial, CDC-ACM and the Pi's own UARTs (ttyAMA: PL011, ttyS: mini UART)
    assert [v for k, v in dropin["Service"] if k == "DeviceAllow"] == [
        "char-ttyACM rw",
        "char-ttyAMA rw",
        "char-ttyS rw",
        "char-ttyUSB rw",
    ]
    rules = (tmp_path / "etc/udev/rules.d/70-spa-appliance.rules").read_text()
    assert (
        'SUBSYSTEM=="tty", ATTRS{idVendor}=="067b", ATTRS{idProduct}=="2303", SYMLINK+="spa-scanner", GROUP="dialout"'
        in rules
    )
    modules = (tmp_path / "etc/modules-load.d/spa-appliance.conf").read_text().splitlines()
    assert modules[-2:] == ["cdc_acm", "usbserial"]


def test_cashier_with_serial_printer_and_usb_scanner(tmp_path: Path) -> None:
    provision(
        "appliance",
        "--role",
        "cashier",
        "--server",
        SERVER_URL,
        "--token",
        TOKEN,
        "--scanner-usb",
        "0c2e:0b61",
        "--printer-serial",
        "0403:6001",
        "--printer-baud",
        "38400",
        root=tmp_path,
    )
    config = tomllib.loads((tmp_path / "etc/spa/appliance.toml").read_text())
    assert config["devices"]["printer"] == {"kind": "printer_serial", "port": "/dev/spa-printer", "baudrate": 38400}
    dropin = parse_unit((tmp_path / "etc/systemd/system/spa-appliance.service.d/10-role.conf").read_text())
    assert value(dropin, "Service", "SupplementaryGroups") == "dialout input"


def test_cashier_with_a_printer_on_the_pis_uart_and_a_scanners_second_interface(tmp_path: Path) -> None:
    """The unit's device allow-list had no class for the Pi's own UART (ttyAMA*, ttyS*)."""
    result = provision(
        *APPLIANCE_ARGS["cashier"],
        "--printer-serial",
        "/dev/serial0",
        "--printer-baud",
        "19200",
        "--scanner-usb",
        "0c2e:0b61",
        "--scanner-interface",
        "02",
        root=tmp_path,
    )
    config = tomllib.loads((tmp_path / "etc/spa/appliance.toml").read_text())
    assert config["devices"]["printer"] == {"kind": "printer_serial", "port": "/dev/serial0", "baudrate": 19200}
    dropin = parse_unit((tmp_path / "etc/systemd/system/spa-appliance.service.d/10-role.conf").read_text())
    allowed = [v for k, v in dropin["Service"] if k == "DeviceAllow"]
    assert {"char-ttyAMA rw", "char-ttyS rw", "char-input rw"} <= set(allowed)
    assert value(dropin, "Service", "SupplementaryGroups") == "dialout input"
    rules = (tmp_path / "etc/udev/rules.d/70-spa-appliance.rules").read_text()
    assert 'ATTRS{bInterfaceNumber}=="02"' in rules and "spa-printer" not in rules
    assert "would run: raspi-config nonint do_serial_cons 1" in result.stdout  # no login console on it
    assert "would run: raspi-config nonint do_serial_hw 0" in result.stdout


def test_room_with_screen_therapist_token_and_keymap(tmp_path: Path) -> None:
    provision(
        "appliance",
        "--role",
        "room",
        "--server",
        "http://10.0.0.2:8080/",
        "--token",
        TOKEN,
        "--room-number",
        "12",
        "--therapist-token",
        "st_abc",
        "--screen",
        "--buttons-keymap",
        "KEY_A=next,KEY_B=finish",
        root=tmp_path,
    )
    config = tomllib.loads((tmp_path / "etc/spa/appliance.toml").read_text())
    assert config["server_url"] == "http://10.0.0.2:8080"
    assert config["room"] == {"number": "12", "therapist_token": "st_abc"}
    assert config["devices"]["buttons"]["keymap"] == {"KEY_A": "next", "KEY_B": "finish"}
    # The room's page, for this room, with the box's device token.
    assert kiosk_url(tmp_path) == f"http://10.0.0.2:8080/therapist?room=12#token={TOKEN}"


def test_server_ca_is_trusted_by_daemon_and_browser(tmp_path: Path) -> None:
    ca = tmp_path / "server.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    root = tmp_path / "root"
    result = provision(*APPLIANCE_ARGS["lobby"], "--server-ca", ca, root=root)
    assert (root / "usr/local/share/ca-certificates/spa-server.crt").read_text() == ca.read_text()
    assert "would run: update-ca-certificates" in result.stdout
    assert "certutil -A -t C,, -n spa-server" in result.stdout
    assert "libnss3-tools" in result.stdout
    unit = parse_unit((root / "etc/systemd/system/spa-appliance.service").read_text())
    assert "REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt" in [
        v for k, v in unit["Service"] if k == "Environment"
    ]


# Argument checks -------------------------------------------------------------------

BASE = ["appliance", "--server", SERVER_URL, "--token", TOKEN]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "missing command"),
        (["desktop"], "unknown command 'desktop'"),
        (BASE, "--role is required"),
        ([*BASE, "--role", "sauna"], "--role sauna: unknown role"),
        (["appliance", "--role", "kiosk", "--token", TOKEN], "--server URL is required"),
        (["appliance", "--role", "kiosk", "--server", "spa.lan", "--token", TOKEN], "expected http(s)://HOST"),
        (["appliance", "--role", "kiosk", "--server", SERVER_URL], "--token is required"),
        ([*BASE, "--role", "kiosk", "--token"], "--token needs a value"),
        # The token goes into the screen's address, where "+" would read as a space.
        ([*BASE[:-1], "dv_3_a+b/c=", "--role", "kiosk"], "--token 'dv_3_a+b/c=': expected a token"),
        ([*BASE, "--role", "room", "--room-number", "3", "--therapist-token", "st_1_x&y"], "--therapist-token"),
        ([*BASE, "--role", "cashier", "--printer-usb", "04b8"], "--printer-usb 04b8: expected VID:PID"),
        ([*BASE, "--role", "cashier", "--scanner-usb", "zzzz:0001"], "--scanner-usb zzzz:0001: expected VID:PID"),
        ([*BASE, "--role", "cashier", "--printer-usb", "04b8:0202", "--printer-host", "p"], "give one of"),
        (
            [*BASE, "--role", "cashier", "--printer-serial", "0403:6001", "--printer-baud", "1200"],
            "--printer-baud 1200: must be one of 9600, 19200, 38400, 115200",
        ),
        ([*BASE, "--role", "kiosk", "--printer-usb", "04b8:0202"], "are for --role cashier"),
        ([*BASE, "--role", "cashier", "--printer-serial", "/dev/../etc/x"], "expected a port such as /dev/serial0"),
        ([*BASE, "--role", "cashier", "--scanner-interface", "1"], "expected a two-digit interface number"),
        ([*BASE, "--role", "room"], "--room-number is required"),
        ([*BASE, "--role", "room", "--room-number", "3", "--buttons-keymap", "KEY_F1=jump"], "action must be"),
        ([*BASE, "--role", "lobby", "--server-ca", "/nonexistent.crt"], "no such file"),
        ([*BASE, "--role", "lobby", "--colour", "red"], "unknown option '--colour'"),
        (["server", "--processes", "40"], "--processes '40': expected 1..16"),
        (["server", "--tls-cert", "/etc/hostname"], "give both --tls-cert and --tls-key"),
        (["server", "--currency", "a b"], "--currency 'a b'"),
        (["server", "--spa-name", 'A "quoted" spa'], "--spa-name"),
    ],
)
def test_bad_arguments_fail_clearly_and_write_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    root = tmp_path / "root"
    # --root right after the command, so that a trailing option misses its value.
    result = provision(*args[:1], "--root", root, *args[1:], check=False) if args else provision(check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert not root.exists() or not any(root.iterdir())


def test_again_repeats_the_recorded_command(tmp_path: Path) -> None:
    args = [*APPLIANCE_ARGS["cashier"], "--printer-host", "10.0.0.9"]
    provision(*args, root=tmp_path)
    assert (tmp_path / "etc/spa/provision.args").read_text() == " ".join(args)
    before = snapshot(tmp_path)
    result = provision("again", root=tmp_path)
    assert "provision: appliance, role cashier" in result.stdout
    assert result.stdout.rstrip().endswith("provision: done (0 paths changed)")
    assert snapshot(tmp_path) == before


def test_again_without_a_first_run_says_what_to_do(tmp_path: Path) -> None:
    result = provision("again", root=tmp_path, check=False)
    assert result.returncode == 2
    assert "provision this machine once with its full command first" in result.stderr


def test_help_lists_the_options() -> None:
    result = provision("appliance", "--help")
    assert "--role kiosk|cashier|room|lobby" in result.stdout
    assert "--printer-usb VID:PID" in result.stdout

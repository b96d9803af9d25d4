"""The config file: what provisioning writes for every role passes ``python -m appliance check``,
the issue's example parses, and every mistake stops the daemon with one line naming the key and
what was expected (exit code 2, no traceback)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from appliance.config import ALLOW_VIRTUAL_ENV, Role, load_config, parse_config
from appliance.errors import ConfigError
from devices.virtual.fifo_input import fifo_buttons
from tests.support import ROOT

TOKEN = "dv_1_abcdefghijklmnopqrstuvwxyz"
PROVISION_ARGS = {
    "kiosk": [],
    "cashier": [],
    "room": ["--room-number", "3", "--therapist-token", "st_2_abcdefghijklmnopqrstuvwxyz"],
    "lobby": ["--announce"],
}
ISSUE_EXAMPLE = """
role = "cashier"                       # kiosk | cashier | room | lobby
server_url = "https://spa.example.lan"
token = "dv_3_…"                       # device token from `python -m server device add`
state_dir = "/var/lib/spa-appliance"   # the outbox lives here
heartbeat_s = 15
[room]                                 # role = "room"
number = "3"
therapist_token = "st_…"               # optional
[cashier]                              # role = "cashier"
printer = "printer"                    # a device name below
drawer = true
[lobby]
announce = false
[devices.scanner]
kind = "scanner_evdev"                 # the kinds and keys devices/registry.py accepts (see docs/HARDWARE.md)
path = "/dev/input/spa-scanner"
layout = "us"
[devices.printer]
kind = "printer_usb"
vendor_id = "0x04b8"
product_id = "0x0202"
[devices.buttons]                      # room role; keymap maps key names to actions next/start/finish
kind = "buttons_evdev"
path = "/dev/input/spa-buttons"
keymap = { KEY_F1 = "next", KEY_F2 = "start", KEY_F3 = "finish" }
[devices.touch]                        # kiosk role
kind = "touch_evdev"
path = "/dev/input/spa-touch"
"""


def run_appliance(*args: str, allow_virtual: bool = False) -> subprocess.CompletedProcess[str]:
    """``python -m appliance …`` as production runs it: without the virtual kinds' opt-in, whatever
    the environment of the test run says, unless ``allow_virtual``."""
    env = {k: v for k, v in os.environ.items() if k != ALLOW_VIRTUAL_ENV}
    if allow_virtual:
        env[ALLOW_VIRTUAL_ENV] = "1"
    return subprocess.run(
        [sys.executable, "-m", "appliance", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture(scope="module")
def provisioned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    paths = {}
    for role, extra in PROVISION_ARGS.items():
        root = tmp_path_factory.mktemp(f"provision-{role}")
        subprocess.run(
            ["bash", "provisioning/provision.sh", "appliance", "--role", role, "--server", "https://x",
             "--token", TOKEN, "--root", str(root), *extra],
            cwd=ROOT, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        paths[role] = root / "etc/spa/appliance.toml"
    return paths


@pytest.mark.parametrize("role", sorted(PROVISION_ARGS))
def test_check_accepts_what_provisioning_writes(provisioned: dict[str, Path], role: str) -> None:
    result = run_appliance("check", "--config", str(provisioned[role]))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"config {provisioned[role]}: valid ({role} appliance for https://x)"
    config = load_config(provisioned[role])
    for device in config.devices:  # no hardware here: each one reported, none fatal
        assert any(line.startswith(f"  device {device.name} ({device.kind}): cannot open: ") for line in lines)
    assert "Traceback" not in result.stdout + result.stderr
    assert config.role is Role(role) and config.token == TOKEN and config.heartbeat_s == 15


def test_provisioned_settings_per_role(provisioned: dict[str, Path]) -> None:
    room = load_config(provisioned["room"])
    assert room.room is not None and (room.room.number, room.room.therapist_token) == (
        "3",
        "st_2_abcdefghijklmnopqrstuvwxyz",
    )
    assert [d.name for d in room.devices] == ["buttons"]
    cashier = load_config(provisioned["cashier"])
    assert cashier.cashier is not None and (cashier.cashier.printer, cashier.cashier.drawer) == ("printer", True)
    assert [d.name for d in cashier.devices] == ["scanner", "printer"]
    lobby = load_config(provisioned["lobby"])
    assert lobby.lobby is not None and lobby.lobby.announce is True and lobby.devices == ()
    assert [d.kind for d in load_config(provisioned["kiosk"]).devices] == ["touch_evdev"]


def test_the_issue_example_parses_with_warnings_for_other_roles() -> None:
    config = parse_config(tomllib.loads(ISSUE_EXAMPLE), Path("example.toml"))
    assert config.role is Role.CASHIER and config.server_url == "https://spa.example.lan"
    assert [d.name for d in config.devices] == ["scanner", "printer"]
    assert [d.name for d in config.ignored_devices] == ["buttons", "touch"]
    assert config.room is None and config.lobby is None
    assert config.warnings == (
        "[room]: ignored, this appliance's role is cashier",
        "[lobby]: ignored, this appliance's role is cashier",
        "devices.buttons (buttons_evdev): not used by a cashier appliance; not opened",
        "devices.touch (touch_evdev): not used by a cashier appliance; not opened",
    )
    assert config.daemon.ack_timeout_s == 10.0 and config.outbox_path == Path("/var/lib/spa-appliance/outbox.sqlite3")


def base(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "role": "cashier",
        "server_url": "http://127.0.0.1:5000",
        "token": TOKEN,
        "state_dir": "/tmp/spa",
        "cashier": {"printer": "printer"},
        "devices": {
            "scanner": {"kind": "scanner_serial", "port": "/dev/ttyACM0"},
            "printer": {"kind": "printer_network", "host": "192.0.2.1"},
        },
    }
    for key, value in changes.items():
        section, _, name = key.partition("__")
        if not name:
            data[section] = value
        elif section == "devices":
            device, _, setting = name.partition("__")
            data["devices"][device][setting] = value
        else:
            data.setdefault(section, {})[name] = value
    return data


ROOM = {"role": "room", "room": {"number": "3"}, "devices": {
    "buttons": {"kind": "buttons_evdev", "path": "/dev/input/b", "keymap": {"KEY_F1": "next"}},
}}  # fmt: skip
KIOSK = {"role": "kiosk", "cashier": None, "kiosk": {"printer": "printer"}, "devices": {
    "touch": {"kind": "touch_evdev", "path": "/dev/input/t"},
    "printer": {"kind": "printer_network", "host": "192.0.2.1"},
}}  # fmt: skip


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({k: v for k, v in base().items() if k != "role"}, "role: missing; one of kiosk, cashier, room, lobby"),
        (base(role="till"), 'role = "till": must be one of kiosk, cashier, room, lobby'),
        (base(server_url="ftp://x"), 'server_url = "ftp://x": must be an http:// or https:// address'),
        (base(server_url="https://x:99999"), 'server_url = "https://x:99999": has a port that is not a number'),
        (base(token="st_1_secretsecretsecret"), 'token = "st_1_…": must be a device token (dv_<id>_<secret>)'),
        (base(token=""), 'token = "": must not be empty'),
        (base(heartbeat_s=0), "heartbeat_s = 0: must be between 1 and 9999"),
        (base(heartbeat_s="15"), 'heartbeat_s = "15": must be a number of seconds'),
        (base(heartbeat=15), "heartbeat: unknown key (known keys: "),
        (base(state_dir="var/spa"), 'state_dir = "var/spa": must be an absolute path'),
        (base(devices__printer__port=0), "devices.printer.port = 0: must be at least 1"),
        (base(devices__printer__port=70000), "devices.printer.port = 70000: must be at most 65535"),
        (base(devices__printer__kind="laser"), "devices.printer.kind = 'laser': must be one of scanner_evdev"),
        (base(devices__scanner__baud=9600), "devices.scanner.baud: unknown key for kind 'scanner_serial'"),
        (base(cashier__printer="nope"), 'cashier.printer = "nope": no [devices.nope] table in this file'),
        (base(cashier__printer="scanner"), 'cashier.printer = "scanner": devices.scanner is a scanner_serial'),
        (base(cashier__drawer="yes"), 'cashier.drawer = "yes": must be true or false'),
        (base(cashier__paper="80mm"), "cashier.paper: unknown key (known keys: drawer, printer)"),
        (base(daemon__ack_timeout_s=0), "daemon.ack_timeout_s = 0: must be between 0.5 and 120"),
        (base(devices={"outbox": {"kind": "scanner_serial", "port": "/x"}}), "devices.outbox: the name is reserved"),
        (base(devices={"my scanner": {}}), "devices.my scanner: a device name is 1-40 letters"),
        (base(**{**KIOSK, "kiosk": {"printer": "nope"}}), 'kiosk.printer = "nope": no [devices.nope] table'),
        (base(**{**KIOSK, "kiosk": {"printer": "touch"}}), 'kiosk.printer = "touch": devices.touch is a touch_evdev'),
        (base(**{**KIOSK, "kiosk": {"drawer": True}}), "kiosk.drawer: unknown key (known keys: printer)"),
        (base(**{**ROOM, "room": None}), "room: missing; a room appliance needs [room]"),
        (base(**{**ROOM, "room": {"number": 3}}), "room.number = 3: must be a string of 1-16 letters"),
        (base(**{**ROOM, "room": {"number": "3", "floor": 1}}), "room.floor: unknown key (known keys: number,"),
        (base(**{**ROOM, "room": {"number": "3", "therapist_token": "dv_1_x"}}), 'room.therapist_token = "dv_1_…"'),
        (
            base(**{**ROOM, "devices": {"buttons": {**ROOM["devices"]["buttons"], "keymap": {"KEY_F1": "jump"}}}}),
            'devices.buttons.keymap.KEY_F1 = "jump": must be one of next, start, finish, release',
        ),
    ],
)
def test_mistakes_name_the_key_and_what_was_expected(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({k: v for k, v in data.items() if v is not None}, Path("appliance.toml"))
    assert str(caught.value).startswith(message), str(caught.value)


def test_a_kiosk_prints_its_tickets_on_the_printer_its_table_names() -> None:
    config = parse_config(base(**KIOSK) | {"cashier": {"printer": "printer"}}, Path("kiosk.toml"))
    assert [d.name for d in config.devices] == ["touch", "printer"] and config.ignored_devices == ()
    assert config.kiosk is not None and config.kiosk.printer == "printer" and config.cashier is None
    assert config.printing is not None and (config.printing.printer, config.printing.drawer) == ("printer", False)
    assert config.warnings == ("[cashier]: ignored, this appliance's role is kiosk",)


def test_a_kiosk_without_a_printer_named_opens_none_and_takes_no_print_jobs() -> None:
    data = {k: v for k, v in base(**KIOSK).items() if k not in ("cashier", "kiosk")}
    config = parse_config(data, Path("kiosk.toml"))
    assert [d.name for d in config.devices] == ["touch"] and [d.name for d in config.ignored_devices] == ["printer"]
    assert config.kiosk is not None and config.kiosk.printer is None and config.printing is None
    assert config.warnings == ("devices.printer (printer_network): not used by a kiosk appliance; not opened",)
    till = parse_config(base(kiosk={"printer": "printer"}), Path("till.toml"))  # another role's table
    assert till.printing == till.cashier and till.kiosk is None
    assert till.warnings == ("[kiosk]: ignored, this appliance's role is cashier",)


@pytest.mark.parametrize("command", [[], ["check"]])
def test_a_bad_config_stops_with_one_line_and_exit_code_2(tmp_path: Path, command: list[str]) -> None:
    path = tmp_path / "appliance.toml"
    path.write_text(
        'role = "cashier"\nserver_url = "http://127.0.0.1:1"\ntoken = "dv_1_x"\nstate_dir = "/tmp/x"\n'
        '[devices.printer]\nkind = "printer_network"\nhost = "127.0.0.1"\nport = 0\n'
    )
    result = run_appliance(*command, "--config", str(path))
    assert result.returncode == 2
    assert result.stderr == "appliance: config error: devices.printer.port = 0: must be at least 1\n"
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "cannot read {path}: No such file or directory"),
        ("role = cashier\n", "{path}: not valid TOML: Invalid value (at line 1, column 8)"),
    ],
)
def test_unreadable_configs(tmp_path: Path, text: str | None, message: str) -> None:
    path = tmp_path / "appliance.toml"
    if text is not None:
        path.write_text(text)
    result = run_appliance("--config", str(path))
    assert (result.returncode, result.stderr) == (2, f"appliance: config error: {message.format(path=path)}\n")


def test_an_unusable_state_dir_stops_with_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    path = tmp_path / "appliance.toml"
    path.write_text(f'role = "lobby"\nserver_url = "http://127.0.0.1:1"\ntoken = "dv_1_x"\nstate_dir = "{blocker}/x"\n')
    result = run_appliance("--config", str(path))
    assert result.returncode == 1
    assert result.stderr.startswith(f"appliance: cannot start: state_dir = '{blocker}/x': cannot create it")
    assert "Traceback" not in result.stdout + result.stderr


# --- the virtual device kinds: tests and demos opt in, production configs cannot name them -------------

FIFO_ROOM = {
    **ROOM,
    "devices": {"buttons": {"kind": "buttons_fifo", "path": "/tmp/spa-buttons", "keymap": {"KEY_F1": "next"}}},
}
VIRTUAL_REFUSED = (
    'devices.buttons.kind = "buttons_fifo": a virtual device, for tests and the demo only; '
    "a production config takes one of scanner_evdev, scanner_serial, buttons_evdev, touch_evdev, "
    f"printer_usb, printer_serial, printer_network (to run it anyway: {ALLOW_VIRTUAL_ENV}=1)"
)


def test_a_virtual_kind_is_refused_naming_the_key() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(base(**FIFO_ROOM), Path("appliance.toml"))
    assert str(caught.value) == VIRTUAL_REFUSED


def test_a_virtual_kind_is_accepted_when_the_caller_opts_in() -> None:
    config = parse_config(base(**FIFO_ROOM), Path("appliance.toml"), allow_virtual=True)
    (spec,) = config.devices
    assert (spec.name, spec.kind, spec.factory) == ("buttons", "buttons_fifo", fifo_buttons)
    with pytest.raises(ConfigError, match=r"^devices\.buttons\.kind = 'buttons_pipe': must be one of scanner_evdev"):
        parse_config(
            base(**{**FIFO_ROOM, "devices": {"buttons": {"kind": "buttons_pipe"}}}), Path("a"), allow_virtual=True
        )


def fifo_room_file(tmp_path: Path) -> Path:
    path = tmp_path / "appliance.toml"
    fifo = tmp_path / "buttons"
    os.mkfifo(fifo)
    path.write_text(
        f'role = "room"\nserver_url = "http://127.0.0.1:1"\ntoken = "{TOKEN}"\nstate_dir = "{tmp_path}/state"\n'
        '[room]\nnumber = "3"\n'
        f'[devices.buttons]\nkind = "buttons_fifo"\npath = "{fifo}"\nkeymap = {{ KEY_F1 = "next" }}\n'
    )
    return path


@pytest.mark.parametrize("command", [[], ["check"]])
def test_production_refuses_a_virtual_kind_with_one_line_and_exit_code_2(tmp_path: Path, command: list[str]) -> None:
    result = run_appliance(*command, "--config", str(fifo_room_file(tmp_path)))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"appliance: config error: {VIRTUAL_REFUSED}\n"


def test_the_opt_in_lets_tests_and_demos_run_a_virtual_kind(tmp_path: Path) -> None:
    path = fifo_room_file(tmp_path)
    result = run_appliance("check", "--config", str(path), allow_virtual=True)
    assert result.returncode == 0, result.stderr
    assert any(line.startswith("  device buttons (buttons_fifo): ok") for line in result.stdout.splitlines())
    assert result.stdout.endswith("1 of 1 devices opened\n")

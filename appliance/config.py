"""The appliance's TOML config, read once at start into one frozen, typed object.

Every problem is reported as one ``ConfigError`` naming the key and what was expected, e.g.
``devices.printer.port = 0: must be at least 1``. Unknown keys are refused (they are usually typos);
the tables and devices of other roles are accepted and ignored with a warning, so one file can
describe a box that changes role.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from devices.base import DeviceMisconfigured
from devices.registry import build_device

from .errors import ConfigError

DEFAULT_STATE_DIR = "/var/lib/spa-appliance"
DEVICE_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")  # what the server accepts in heartbeats
MAX_DEVICES = 15  # the server's heartbeat limit is 16, one of which reports the outbox
RESERVED_NAMES = frozenset({"outbox"})
ROOM_NUMBER = re.compile(r"^[A-Za-z0-9\-]{1,16}$")  # as provisioning checks it; the server takes up to 32
ROOM_ACTIONS = ("next", "start", "finish", "release")


class Role(StrEnum):
    KIOSK = "kiosk"
    CASHIER = "cashier"
    ROOM = "room"
    LOBBY = "lobby"


# Which device kinds each role runs; the others in the file are checked, then ignored.
ROLE_KINDS: dict[Role, frozenset[str]] = {
    Role.KIOSK: frozenset({"touch_evdev", "touch_fifo"}),
    Role.CASHIER: frozenset({"scanner_evdev", "scanner_serial", "printer_usb", "printer_serial", "printer_network"}),
    Role.ROOM: frozenset({"buttons_evdev", "buttons_fifo"}),
    Role.LOBBY: frozenset(),
}
PRINTER_KINDS = frozenset({"printer_usb", "printer_serial", "printer_network"})


@dataclass(frozen=True)
class DeviceSpec:
    name: str
    kind: str
    settings: Mapping[str, Any]  # the device's TOML table, read-only; built again for each thread

    @property
    def is_printer(self) -> bool:
        return self.kind in PRINTER_KINDS


@dataclass(frozen=True)
class RoomSettings:
    number: str
    therapist_token: str | None = None


@dataclass(frozen=True)
class CashierSettings:
    printer: str | None  # a device name; None: this till prints no receipts
    drawer: bool = True


@dataclass(frozen=True)
class LobbySettings:
    announce: bool = False


@dataclass(frozen=True)
class DaemonSettings:
    """The optional ``[daemon]`` table. Provisioning writes none of it; the defaults suit a spa."""

    # A command the server has not acknowledged in this time is sent again (same key). The server
    # answers in milliseconds; 10 s rides out a busy database without piling up retries.
    ack_timeout_s: float = 10.0
    # A thread silent this long counts as wedged. Longer than the slowest bounded device call
    # (a printer job with its connect, write and three status timeouts), shorter than WatchdogSec.
    stall_after_s: float = 25.0
    # Reopening a missing device backs off up to this; a replugged device is found within it.
    reopen_max_s: float = 5.0
    # On SIGTERM, how long the outbox may keep sending before what is left stays for next start.
    stop_flush_s: float = 5.0


@dataclass(frozen=True)
class ApplianceConfig:
    path: Path
    role: Role
    server_url: str
    token: str
    state_dir: Path
    heartbeat_s: float
    devices: tuple[DeviceSpec, ...]  # the ones this role runs, in file order
    ignored_devices: tuple[DeviceSpec, ...]  # valid, but not used by this role
    room: RoomSettings | None = None
    cashier: CashierSettings | None = None
    lobby: LobbySettings | None = None
    daemon: DaemonSettings = field(default_factory=DaemonSettings)
    warnings: tuple[str, ...] = ()

    @property
    def outbox_path(self) -> Path:
        return self.state_dir / "outbox.sqlite3"

    def device(self, name: str) -> DeviceSpec:
        return next(d for d in self.devices if d.name == name)


# --- reading values, naming the key ---------------------------------------------------------------


def _show(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "{…}"
    return repr(value)


def _redact(token: str) -> str:
    return token[:5] + "…" if len(token) > 5 else token


class _Table:
    """One TOML table, read key by key; ``finish()`` refuses the keys nobody asked for."""

    def __init__(self, prefix: str, data: Mapping[str, Any]) -> None:
        self.prefix = prefix
        self.data = data
        self.read: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def error(self, name: str, message: str, *, shown: str | None = None) -> ConfigError:
        value = shown if shown is not None else _show(self.data.get(name))
        return ConfigError(f"{self.key(name)} = {value}: {message}")

    def missing(self, name: str, message: str) -> ConfigError:
        return ConfigError(f"{self.key(name)}: missing; {message}")

    def get(self, name: str) -> Any:
        self.read.add(name)
        return self.data.get(name)

    def string(self, name: str, *, required: str | None = None, default: str | None = None) -> str | None:
        value = self.get(name)
        if value is None:
            if required is not None:
                raise self.missing(name, required)
            return default
        if not isinstance(value, str):
            raise self.error(name, "must be a string")
        if not value.strip():
            raise self.error(name, "must not be empty")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(name, "must be true or false")
        return value

    def seconds(self, name: str, default: float, lo: float, hi: float) -> float:
        value = self.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.error(name, "must be a number of seconds")
        if not lo <= value <= hi:
            raise self.error(name, f"must be between {lo:g} and {hi:g}")
        return float(value)

    def table(self, name: str) -> Mapping[str, Any] | None:
        value = self.get(name)
        if value is not None and not isinstance(value, Mapping):
            raise self.error(name, "must be a table")
        return value

    def finish(self, known: str = "") -> None:
        unknown = sorted(set(self.data) - self.read)
        if unknown:
            names = ", ".join(sorted(self.read))
            raise ConfigError(f"{self.key(unknown[0])}: unknown key{known} (known keys: {names})")


# --- the sections -----------------------------------------------------------------------------------


def _server_url(top: _Table) -> str:
    url = top.string("server_url", required="the server's address, e.g. https://spa.example.lan")
    assert url is not None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise top.error("server_url", "must be an http:// or https:// address like https://spa.example.lan")
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise top.error("server_url", "has a port that is not a number 1-65535") from None
    return url.rstrip("/")


def _token(top: _Table) -> str:
    token = top.string("token", required="the device token from `python -m server device add`")
    assert token is not None
    shown = _show(_redact(token))
    if any(ch.isspace() for ch in token) or len(token) > 200:
        raise top.error("token", "must be one word of at most 200 characters", shown=shown)
    if not token.startswith("dv_"):
        raise top.error(
            "token", "must be a device token (dv_<id>_<secret>) from `python -m server device add`", shown=shown
        )
    return token


def _state_dir(top: _Table) -> Path:
    value = top.string("state_dir", default=DEFAULT_STATE_DIR)
    assert value is not None
    if not value.startswith("/"):
        raise top.error("state_dir", "must be an absolute path such as /var/lib/spa-appliance")
    return Path(value)


def _room(data: Mapping[str, Any]) -> RoomSettings:
    t = _Table("room.", data)
    number = t.get("number")
    if number is None:
        raise t.missing("number", 'the room number the therapist works in, e.g. "3"')
    if not isinstance(number, str) or not ROOM_NUMBER.match(number):
        raise t.error("number", "must be a string of 1-16 letters, digits or '-', e.g. \"3\"")
    token = t.string("therapist_token")
    if token is not None and (not token.startswith("st_") or any(ch.isspace() for ch in token)):
        raise t.error("therapist_token", "must be a staff token (st_<id>_<secret>)", shown=_show(_redact(token)))
    t.finish()
    return RoomSettings(number, token)


def _cashier(data: Mapping[str, Any], devices: Mapping[str, DeviceSpec]) -> CashierSettings:
    t = _Table("cashier.", data)
    printer = t.string("printer")
    if printer is not None:
        spec = devices.get(printer)
        if spec is None:
            raise t.error("printer", f"no [devices.{printer}] table in this file")
        if not spec.is_printer:
            raise t.error("printer", f"devices.{printer} is a {spec.kind}, not a printer")
    drawer = t.boolean("drawer", True)
    t.finish()
    return CashierSettings(printer, drawer)


def _lobby(data: Mapping[str, Any]) -> LobbySettings:
    t = _Table("lobby.", data)
    announce = t.boolean("announce", False)
    t.finish()
    return LobbySettings(announce)


def _daemon(data: Mapping[str, Any] | None) -> DaemonSettings:
    if data is None:
        return DaemonSettings()
    t = _Table("daemon.", data)
    settings = DaemonSettings(
        ack_timeout_s=t.seconds("ack_timeout_s", DaemonSettings.ack_timeout_s, 0.5, 120),
        stall_after_s=t.seconds("stall_after_s", DaemonSettings.stall_after_s, 1, 600),
        reopen_max_s=t.seconds("reopen_max_s", DaemonSettings.reopen_max_s, 0.5, 300),
        stop_flush_s=t.seconds("stop_flush_s", DaemonSettings.stop_flush_s, 0, 15),
    )
    t.finish()
    return settings


def _device_specs(data: Mapping[str, Any] | None) -> dict[str, DeviceSpec]:
    specs: dict[str, DeviceSpec] = {}
    for name, settings in (data or {}).items():
        if not DEVICE_NAME.match(name):
            raise ConfigError(f"devices.{name}: a device name is 1-40 letters, digits, '_', '.' or '-'")
        if name in RESERVED_NAMES:
            raise ConfigError(f"devices.{name}: the name is reserved (the heartbeat reports the outbox under it)")
        try:
            build_device(name, settings)  # checks kind and keys; opens nothing
        except DeviceMisconfigured as exc:
            raise ConfigError(f"devices.{exc}") from None
        specs[name] = DeviceSpec(name, settings["kind"], MappingProxyType(dict(settings)))
    if len(specs) > MAX_DEVICES:
        raise ConfigError(f"devices: {len(specs)} devices; at most {MAX_DEVICES}")
    return specs


def _check_keymap(spec: DeviceSpec) -> None:
    for key, action in spec.settings.get("keymap", {}).items():
        if action not in ROOM_ACTIONS:
            raise ConfigError(
                f"devices.{spec.name}.keymap.{key} = {_show(action)}: must be one of {', '.join(ROOM_ACTIONS)}"
            )


def parse_config(data: Mapping[str, Any], path: Path) -> ApplianceConfig:
    """The config from a parsed TOML document. Raises ``ConfigError``."""
    top = _Table("", data)
    role_value = top.get("role")
    if role_value is None:
        raise top.missing("role", "one of kiosk, cashier, room, lobby")
    if role_value not in {r.value for r in Role}:
        raise top.error("role", "must be one of kiosk, cashier, room, lobby")
    role = Role(role_value)
    server_url = _server_url(top)
    token = _token(top)
    state_dir = _state_dir(top)
    heartbeat_s = top.seconds("heartbeat_s", 15.0, 1, 9999)
    specs = _device_specs(top.table("devices"))
    warnings: list[str] = []
    sections = {r: top.table(r.value) for r in (Role.ROOM, Role.CASHIER, Role.LOBBY)}
    for other, section in sections.items():
        if section is not None and other is not role:
            warnings.append(f"[{other.value}]: ignored, this appliance's role is {role.value}")
    room = cashier = lobby = None
    if role is Role.ROOM:
        if sections[Role.ROOM] is None:
            raise ConfigError('room: missing; a room appliance needs [room] with number = "…"')
        room = _room(sections[Role.ROOM] or {})
    elif role is Role.CASHIER:
        cashier = _cashier(sections[Role.CASHIER] or {}, specs)
    elif role is Role.LOBBY:
        lobby = _lobby(sections[Role.LOBBY] or {})
    daemon = _daemon(top.table("daemon"))
    top.finish()

    used: list[DeviceSpec] = []
    ignored: list[DeviceSpec] = []
    for spec in specs.values():
        runs = spec.kind in ROLE_KINDS[role]
        if role is Role.CASHIER and spec.is_printer:
            runs = cashier is not None and spec.name == cashier.printer
        (used if runs else ignored).append(spec)
        if not runs:
            warnings.append(f"devices.{spec.name} ({spec.kind}): not used by a {role.value} appliance; not opened")
    if role is Role.ROOM:
        for spec in used:
            _check_keymap(spec)
    if role is Role.CASHIER and cashier is not None and cashier.printer is None:
        warnings.append("cashier.printer: not set; receipts sent to this till are reported as not printed")
    return ApplianceConfig(
        path=path,
        role=role,
        server_url=server_url,
        token=token,
        state_dir=state_dir,
        heartbeat_s=heartbeat_s,
        devices=tuple(used),
        ignored_devices=tuple(ignored),
        room=room,
        cashier=cashier,
        lobby=lobby,
        daemon=daemon,
        warnings=tuple(warnings),
    )


def load_config(path: Path) -> ApplianceConfig:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data, path)

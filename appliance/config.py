"""The appliance's TOML config, read once at start into one frozen, typed object.

Every problem is reported as one ``ConfigError`` naming the key and what was expected, e.g.
``devices.printer.port = 0: must be at least 1``. Unknown keys are refused (they are usually typos);
the tables and devices of other roles are accepted and ignored with a warning, so one file can
describe a box that changes role. The keys are read with the house's one table reader
(``devices/config.py``); names and limits the server checks too come from ``common/wire.py``.

The virtual device kinds (``devices/virtual/kinds.py``) are refused unless the caller opts in
(``allow_virtual``): ``python -m appliance`` does with ``SPA_ALLOW_VIRTUAL_DEVICES=1``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from common.wire import DEVICE_NAME_RE, Limits
from devices.base import DeviceMisconfigured
from devices.config import TableReader
from devices.registry import KINDS, DeviceFactory, build_device
from devices.virtual.kinds import VIRTUAL_KINDS, with_virtual_kinds

from .clock import TIMESYNCD_FLAG
from .errors import ConfigError

DEFAULT_STATE_DIR = "/var/lib/spa-appliance"
ALLOW_VIRTUAL_ENV = "SPA_ALLOW_VIRTUAL_DEVICES"  # "1": accept the virtual kinds (tests, demos)
MAX_DEVICES = Limits.MAX_DEVICES - 1  # a heartbeat's entries, one of which reports the outbox
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
    Role.KIOSK: frozenset({"touch_evdev", "touch_fifo", "printer_usb", "printer_serial", "printer_network"}),
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
    # Builds the device from (name, settings): the kind's driver from the registry the config was
    # read with, so a thread never builds a kind the config would have refused.
    factory: DeviceFactory = build_device

    @property
    def is_printer(self) -> bool:
        return self.kind in PRINTER_KINDS


@dataclass(frozen=True)
class RoomSettings:
    number: str
    therapist_token: str | None = None


@dataclass(frozen=True)
class CashierSettings:
    """A till's printing; the printer worker and the receipts take a kiosk's in the same shape."""

    printer: str | None  # a device name; None: this till prints no receipts
    drawer: bool = True


@dataclass(frozen=True)
class KioskSettings:
    printer: str | None = None  # a device name: prints each new order's ticket; None: prints nothing


@dataclass(frozen=True)
class LobbySettings:
    announce: bool = False


@dataclass(frozen=True)
class DaemonSettings:
    """The optional ``[daemon]`` table. Provisioning writes none of it; the defaults suit a spa."""

    # A command the server has not acknowledged in this time is sent again (same key). The server
    # answers in milliseconds; 10 s rides out a busy database without piling up retries.
    ack_timeout_s: float = 10.0
    # A thread silent this long counts as wedged. Longer than the slowest bounded device call (one
    # part of a printer job: connect 5 s, status 3 × 1 s, write 5 s, confirmation up to
    # print_timeout_s 10 s: 23 s with the defaults; the driver returns between parts), shorter than
    # WatchdogSec. Raise it with the printer's timeouts.
    stall_after_s: float = 25.0
    # A device that is there but will not open is retried with backoff up to this. A missing one is
    # looked for every 50 ms (reader.py) and opened when back; it is tried at least this often too.
    reopen_max_s: float = 5.0
    # On SIGTERM, how long the outbox may keep sending before what is left stays for next start.
    stop_flush_s: float = 5.0
    # Writes grouped into shared commits, only the ones that must be durable at once fsynced
    # (store.py). false: every write its own fsynced commit, as before; for measuring the difference.
    group_commits: bool = True
    # Present once systemd-timesyncd synchronised the clock (clock.py); "": trust the clock.
    time_sync_flag: str = TIMESYNCD_FLAG


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
    kiosk: KioskSettings | None = None
    lobby: LobbySettings | None = None
    daemon: DaemonSettings = field(default_factory=DaemonSettings)
    warnings: tuple[str, ...] = ()

    @property
    def outbox_path(self) -> Path:
        return self.state_dir / "outbox.sqlite3"

    @property
    def printing(self) -> CashierSettings | None:
        """How this appliance prints the jobs the server sends: a till's settings (even without a
        printer: its jobs are then reported as not printed), a kiosk's when it has a printer (no
        cash drawer there); None: it takes no print jobs."""
        if self.cashier is not None:
            return self.cashier
        if self.kiosk is not None and self.kiosk.printer is not None:
            return CashierSettings(self.kiosk.printer, drawer=False)
        return None

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


def _reader(name: str, data: Mapping[str, Any]) -> TableReader:
    """A table of this file: errors are ``ConfigError``s, values shown as TOML spells them."""
    return TableReader(name, data, error=ConfigError, show=_show)


def _seconds(t: TableReader, key: str, default: float, lo: float, hi: float) -> float:
    value: float = t.get_float(key, default, min=lo, max=hi, noun="a number of seconds")
    return value


# --- the sections -----------------------------------------------------------------------------------


def _server_url(top: TableReader) -> str:
    url: str = top.get_str("server_url", missing="the server's address, e.g. https://spa.example.lan")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise top.error("server_url", "must be an http:// or https:// address like https://spa.example.lan")
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise top.error("server_url", "has a port that is not a number 1-65535") from None
    return url.rstrip("/")


def _token(top: TableReader) -> str:
    token: str = top.get_str("token", missing="the device token from `python -m server device add`")
    shown = _show(_redact(token))
    if any(ch.isspace() for ch in token) or len(token) > Limits.MAX_TOKEN:
        raise top.error("token", f"must be one word of at most {Limits.MAX_TOKEN} characters", shown=shown)
    if not token.startswith("dv_"):
        raise top.error(
            "token", "must be a device token (dv_<id>_<secret>) from `python -m server device add`", shown=shown
        )
    return token


def _state_dir(top: TableReader) -> Path:
    value: str = top.get_str("state_dir", DEFAULT_STATE_DIR)
    if not value.startswith("/"):
        raise top.error("state_dir", "must be an absolute path such as /var/lib/spa-appliance")
    return Path(value)


def _room(data: Mapping[str, Any]) -> RoomSettings:
    t = _reader("room", data)
    number = t.get("number")
    if number is None:
        raise t.missing("number", 'the room number the therapist works in, e.g. "3"')
    if not isinstance(number, str) or not ROOM_NUMBER.match(number):
        raise t.error("number", "must be a string of 1-16 letters, digits or '-', e.g. \"3\"")
    token: str | None = t.get_str("therapist_token", None)
    if token is not None and (not token.startswith("st_") or any(ch.isspace() for ch in token)):
        raise t.error("therapist_token", "must be a staff token (st_<id>_<secret>)", shown=_show(_redact(token)))
    t.finish()
    return RoomSettings(number, token)


def _printer(t: TableReader, devices: Mapping[str, DeviceSpec]) -> str | None:
    printer: str | None = t.get_str("printer", None)
    if printer is not None:
        spec = devices.get(printer)
        if spec is None:
            raise t.error("printer", f"no [devices.{printer}] table in this file")
        if not spec.is_printer:
            raise t.error("printer", f"devices.{printer} is a {spec.kind}, not a printer")
    return printer


def _cashier(data: Mapping[str, Any], devices: Mapping[str, DeviceSpec]) -> CashierSettings:
    t = _reader("cashier", data)
    printer = _printer(t, devices)
    drawer: bool = t.get_bool("drawer", True)
    t.finish()
    return CashierSettings(printer, drawer)


def _kiosk(data: Mapping[str, Any], devices: Mapping[str, DeviceSpec]) -> KioskSettings:
    t = _reader("kiosk", data)
    printer = _printer(t, devices)
    t.finish()
    return KioskSettings(printer)


def _lobby(data: Mapping[str, Any]) -> LobbySettings:
    t = _reader("lobby", data)
    announce: bool = t.get_bool("announce", False)
    t.finish()
    return LobbySettings(announce)


def _daemon(data: Mapping[str, Any] | None) -> DaemonSettings:
    if data is None:
        return DaemonSettings()
    t = _reader("daemon", data)
    settings = DaemonSettings(
        ack_timeout_s=_seconds(t, "ack_timeout_s", DaemonSettings.ack_timeout_s, 0.5, 120),
        stall_after_s=_seconds(t, "stall_after_s", DaemonSettings.stall_after_s, 1, 600),
        reopen_max_s=_seconds(t, "reopen_max_s", DaemonSettings.reopen_max_s, 0.5, 300),
        stop_flush_s=_seconds(t, "stop_flush_s", DaemonSettings.stop_flush_s, 0, 15),
        group_commits=t.get_bool("group_commits", DaemonSettings.group_commits),
        time_sync_flag=_flag_path(t),
    )
    t.finish()
    return settings


def _flag_path(t: TableReader) -> str:
    value: str = t.get_str("time_sync_flag", DaemonSettings.time_sync_flag, allow_empty=True)
    if value and not value.startswith("/"):
        raise t.error("time_sync_flag", 'must be an absolute path, or "" to trust the clock')
    return value


def _device_specs(data: Mapping[str, Any] | None, kinds: Mapping[str, DeviceFactory]) -> dict[str, DeviceSpec]:
    specs: dict[str, DeviceSpec] = {}
    for name, settings in (data or {}).items():
        if not DEVICE_NAME_RE.match(name):
            raise ConfigError(f"devices.{name}: a device name is 1-40 letters, digits, '_', '.' or '-'")
        if name in RESERVED_NAMES:
            raise ConfigError(f"devices.{name}: the name is reserved (the heartbeat reports the outbox under it)")
        kind = settings.get("kind") if isinstance(settings, Mapping) else None
        if isinstance(kind, str) and kind in VIRTUAL_KINDS and kind not in kinds:
            raise ConfigError(
                f"devices.{name}.kind = {_show(kind)}: a virtual device, for tests and the demo only; "
                f"a production config takes one of {', '.join(KINDS)} (to run it anyway: {ALLOW_VIRTUAL_ENV}=1)"
            )
        try:
            build_device(name, settings, kinds)  # checks kind and keys; opens nothing
        except DeviceMisconfigured as exc:
            raise ConfigError(f"devices.{exc}") from None
        specs[name] = DeviceSpec(name, settings["kind"], MappingProxyType(dict(settings)), kinds[settings["kind"]])
    if len(specs) > MAX_DEVICES:
        raise ConfigError(f"devices: {len(specs)} devices; at most {MAX_DEVICES}")
    return specs


def _check_keymap(spec: DeviceSpec) -> None:
    for key, action in spec.settings.get("keymap", {}).items():
        if action not in ROOM_ACTIONS:
            raise ConfigError(
                f"devices.{spec.name}.keymap.{key} = {_show(action)}: must be one of {', '.join(ROOM_ACTIONS)}"
            )


def parse_config(data: Mapping[str, Any], path: Path, *, allow_virtual: bool = False) -> ApplianceConfig:
    """The config from a parsed TOML document. Raises ``ConfigError``. ``allow_virtual``: accept
    the virtual device kinds too (tests and demos)."""
    top = _reader("", data)
    role_value = top.get("role")
    if role_value is None:
        raise top.missing("role", "one of kiosk, cashier, room, lobby")
    if role_value not in {r.value for r in Role}:
        raise top.error("role", "must be one of kiosk, cashier, room, lobby")
    role = Role(role_value)
    server_url = _server_url(top)
    token = _token(top)
    state_dir = _state_dir(top)
    heartbeat_s = _seconds(top, "heartbeat_s", 15.0, 1, 9999)
    kinds = with_virtual_kinds() if allow_virtual else KINDS
    specs = _device_specs(top.get_table("devices", None, allow_empty=True), kinds)
    warnings: list[str] = []
    sections = {
        r: top.get_table(r.value, None, allow_empty=True) for r in (Role.KIOSK, Role.ROOM, Role.CASHIER, Role.LOBBY)
    }
    for other, section in sections.items():
        if section is not None and other is not role:
            warnings.append(f"[{other.value}]: ignored, this appliance's role is {role.value}")
    room = cashier = kiosk = lobby = None
    if role is Role.KIOSK:
        kiosk = _kiosk(sections[Role.KIOSK] or {}, specs)
    elif role is Role.ROOM:
        if sections[Role.ROOM] is None:
            raise ConfigError('room: missing; a room appliance needs [room] with number = "…"')
        room = _room(sections[Role.ROOM] or {})
    elif role is Role.CASHIER:
        cashier = _cashier(sections[Role.CASHIER] or {}, specs)
    elif role is Role.LOBBY:
        lobby = _lobby(sections[Role.LOBBY] or {})
    daemon = _daemon(top.get_table("daemon", None, allow_empty=True))
    top.finish()

    used: list[DeviceSpec] = []
    ignored: list[DeviceSpec] = []
    for spec in specs.values():
        runs = spec.kind in ROLE_KINDS[role]
        if spec.is_printer:  # only the one [cashier] or [kiosk] names is opened
            printer = cashier.printer if cashier else kiosk.printer if kiosk else None
            runs = runs and spec.name == printer
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
        kiosk=kiosk,
        lobby=lobby,
        daemon=daemon,
        warnings=tuple(warnings),
    )


def load_config(path: Path, *, allow_virtual: bool = False) -> ApplianceConfig:
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
    return parse_config(data, path, allow_virtual=allow_virtual)

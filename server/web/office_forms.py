"""The back office's JSON bodies → checked values for `OfficeService`. Pure functions, no Flask.

Each form is declared once as a table of fields (name → how to read it); a body with an unknown
field, a missing required one or a wrong value is refused with `invalid_payload` naming the
field, before anything is touched. Money arrives as decimal strings ("45.00") and leaves as
integer cents; tax rates and the discount threshold as percentages ("19.00") → basis points.

Why not server/protocol/schema.py's kinds: they serve the Socket.IO payloads and live in the
protocol layer, which the web layer does not import (tests/unit/test_layers.py); these few
readers are small enough to keep here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

from common.wire import DEVICE_NAME_RE, ROOM_RE, Limits

from ..domain.actors import DeviceRole, StaffRole
from ..domain.errors import CommandError, ErrorCode
from ..domain.money import format_cents, parse_amount
from ..service.spa_settings import CHECKS

Reader = Callable[[object, str], Any]
_REFUSED_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn")
_PIN = re.compile(rf"^[0-9]{{{Limits.MIN_PIN},{Limits.MAX_PIN}}}$")
MAX_LIST = 500  # therapists of a service, services of a therapist: far more than any spa has
MAX_MINUTES = 600
MAX_SORT = 10_000


def invalid(message: str) -> CommandError:
    return CommandError(ErrorCode.INVALID_PAYLOAD, message)


# ---- readers: (value, field name) → value, or invalid naming the field ---------------------


def text(max_len: int) -> Reader:
    def read(value: object, where: str) -> str:
        if not isinstance(value, str):
            raise invalid(f"{where}: text")
        cleaned = unicodedata.normalize("NFC", value).strip()
        if not cleaned:
            raise invalid(f"{where}: must not be empty")
        if len(cleaned) > max_len:
            raise invalid(f"{where}: at most {max_len} characters")
        if any(unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in cleaned):
            raise invalid(f"{where}: no control characters")
        return cleaned

    return read


def optional_text(max_len: int) -> Reader:
    """Text, or null / "" for none."""
    inner = text(max_len)
    return lambda value, where: None if value is None or value == "" else inner(value, where)


def pattern(regex: re.Pattern[str], rule: str) -> Reader:
    def read(value: object, where: str) -> str:
        if not isinstance(value, str) or not regex.fullmatch(value.strip()):
            raise invalid(f"{where}: {rule}")
        return value.strip()

    return read


def integer(lo: int, hi: int) -> Reader:
    def read(value: object, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise invalid(f"{where}: a whole number {lo}-{hi}")
        return value

    return read


def flag(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise invalid(f"{where}: true or false")
    return value


def choice(values: tuple[str, ...]) -> Reader:
    def read(value: object, where: str) -> str:
        if value not in values:
            raise invalid(f"{where}: one of {', '.join(values)}")
        return str(value)

    return read


def amount(value: object, where: str) -> int:
    """Cents from "45.00" (or 45.5): exact, never rounded."""
    try:
        return parse_amount(value, where)
    except CommandError as exc:
        raise invalid(exc.message) from None


def percent(value: object, where: str) -> int:
    """Basis points from "19.00" (per cent, two places at most), 0-100 %."""
    bp = amount(value, where)
    if bp > 10_000:
        raise invalid(f"{where}: a percentage 0-100")
    return bp


def ids(value: object, where: str) -> list[int]:
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise invalid(f"{where}: a list of at most {MAX_LIST} ids")
    read = integer(1, Limits.MAX_ID)
    return sorted({read(v, f"{where}[{i}]") for i, v in enumerate(value)})


def pin(value: object, where: str) -> str:
    if not isinstance(value, str) or not _PIN.fullmatch(value):
        raise invalid(f"{where}: {Limits.MIN_PIN}-{Limits.MAX_PIN} digits")
    return value


NAME = text(80)
DEVICE_NAME = pattern(DEVICE_NAME_RE, "1-40 letters, digits, '_', '.' or '-'")
ROOM_NAME = pattern(ROOM_RE, "1-32 letters, digits, spaces, '.', '#' or '-'")
STAFF_ROLES = tuple(r.value for r in StaffRole)
DEVICE_ROLES = tuple(r.value for r in DeviceRole)


def optional(reader: Reader) -> Reader:
    return lambda value, where: None if value is None else reader(value, where)


# ---- forms ----------------------------------------------------------------------------------


def read_form(
    body: object, fields: Mapping[str, tuple[str, Reader]], required: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """`fields`: wire name → (the service's name for it, reader). Only the fields sent are in
    the result (a change touches what it names); at least one for a change."""
    if not isinstance(body, dict):
        raise invalid("send a JSON object")
    unknown = set(body) - set(fields)
    if unknown:
        raise invalid(f"unknown field {sorted(map(str, unknown))[0]!r}")
    missing = required - set(body)
    if missing:
        raise invalid(f"missing field {sorted(missing)[0]!r}")
    if not body:
        raise invalid("nothing to change")
    return {fields[k][0]: fields[k][1](v, k) for k, v in body.items()}


SERVICE_FIELDS: dict[str, tuple[str, Reader]] = {
    "name": ("name", NAME),
    "price": ("price_cents", amount),
    "duration_min": ("duration_min", integer(1, MAX_MINUTES)),
    "tax_rate": ("tax_rate_bp", percent),
    "category": ("category", optional_text(40)),
    "sort_order": ("sort_order", integer(0, MAX_SORT)),
    "active": ("active", flag),
    "therapists": ("therapists", ids),
}


def service_add(body: object) -> dict[str, Any]:
    return read_form(body, SERVICE_FIELDS, frozenset({"name", "price", "duration_min"}))


def service_change(body: object) -> dict[str, Any]:
    return read_form(body, SERVICE_FIELDS)


STAFF_FIELDS: dict[str, tuple[str, Reader]] = {
    "name": ("name", NAME),
    "role": ("role", choice(STAFF_ROLES)),
    "active": ("active", flag),
    "skills": ("skills", ids),
    "pin": ("pin", optional(pin)),  # new staff, or promoted to admin; else one is made up
}


def staff_add(body: object) -> dict[str, Any]:
    return read_form(body, {k: v for k, v in STAFF_FIELDS.items() if k != "active"}, frozenset({"name", "role"}))


def staff_change(body: object) -> dict[str, Any]:
    return read_form(body, STAFF_FIELDS)


def pin_reset(body: object) -> str | None:
    """{} (or no body) for a PIN made up by the server, {"pin": "…"} for a chosen one."""
    if body is None or body == {}:
        return None
    chosen: str | None = read_form(body, {"pin": ("pin", optional(pin))})["pin"]
    return chosen


DEVICE_FIELDS: dict[str, tuple[str, Reader]] = {
    "name": ("name", DEVICE_NAME),
    "role": ("role", choice(DEVICE_ROLES)),
    "room": ("room", optional(ROOM_NAME)),
}


def device_add(body: object) -> dict[str, Any]:
    return read_form(body, DEVICE_FIELDS, frozenset({"name", "role"}))


def device_change(body: object) -> dict[str, Any]:
    return read_form(body, {k: v for k, v in DEVICE_FIELDS.items() if k != "role"})


ROOM_FIELDS: dict[str, tuple[str, Reader]] = {
    "name": ("name", ROOM_NAME),
    "active": ("active", flag),
    "sort_order": ("sort_order", integer(0, MAX_SORT)),
}


def room_add(body: object) -> dict[str, Any]:
    return read_form(body, {k: v for k, v in ROOM_FIELDS.items() if k != "sort_order"}, frozenset({"name"}))


def room_change(body: object) -> dict[str, Any]:
    return read_form(body, ROOM_FIELDS)


# ---- settings: the stored keys, with money and shares as on the wire --------------------------

# Wire name → (stored key, wire → stored, stored → wire). Others pass as they are; the service
# checks every value (spa_settings.CHECKS) and names the key.
SETTINGS_RENAMED: dict[str, tuple[str, Reader, Callable[[Any], Any]]] = {
    "largest_note": ("largest_note_cents", amount, format_cents),
    "discount_without_manager": ("discount_without_manager_bp", percent, format_cents),
}
_STORED_TO_WIRE = {stored: (wire, out) for wire, (stored, _, out) in SETTINGS_RENAMED.items()}
SETTING_NAMES = tuple(_STORED_TO_WIRE.get(k, (k, None))[0] for k in CHECKS)


def settings_change(body: object) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise invalid("send a JSON object of settings")
    unknown = set(body) - set(SETTING_NAMES)
    if unknown:
        raise invalid(f"unknown setting {sorted(map(str, unknown))[0]!r}")
    if not body:
        raise invalid("nothing to change")
    changes: dict[str, Any] = {}
    for key, value in body.items():
        if key in SETTINGS_RENAMED:
            stored, read, _ = SETTINGS_RENAMED[key]
            changes[stored] = read(value, key)
        else:
            changes[key] = value
    return changes


def settings_view(values: Mapping[str, Any]) -> dict[str, Any]:
    view: dict[str, Any] = {}
    for key, value in values.items():
        wire, out = _STORED_TO_WIRE.get(key, (key, None))
        view[wire] = out(value) if out is not None and value is not None else value
    return view

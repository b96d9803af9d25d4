"""Reading one device's settings (a TOML table) with checks that name the key and what was expected.

Every driver's ``from_config`` reads its keys through a ``SettingsReader`` and calls ``finish()``,
which refuses keys nobody read (they are usually typos) before anything is opened.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from devices.base import DeviceMisconfigured

_REQUIRED: Any = object()


def _choices(values: Iterable[object]) -> str:
    return ", ".join(repr(v) if isinstance(v, str) else str(v) for v in values)


class SettingsReader:
    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        if not isinstance(settings, Mapping):
            raise DeviceMisconfigured(f"{name}: settings must be a table, got {type(settings).__name__}")
        self.name = name
        self._settings = settings
        self._read: set[str] = set()
        kind = settings.get("kind", "")
        self.kind = kind if isinstance(kind, str) else ""
        self._read.add("kind")

    def error(self, key: str, message: str) -> DeviceMisconfigured:
        return DeviceMisconfigured(f"{self.name}.{key} = {self._settings.get(key)!r}: {message}")

    def has(self, key: str) -> bool:
        return key in self._settings

    def _get(self, key: str, default: Any) -> tuple[bool, Any]:
        self._read.add(key)
        if key in self._settings:
            return True, self._settings[key]
        if default is _REQUIRED:
            raise DeviceMisconfigured(f"{self.name}.{key}: missing; required for kind {self.kind!r}")
        return False, default

    def get_str(
        self,
        key: str,
        default: Any = _REQUIRED,
        *,
        choices: Iterable[str] | None = None,
        allow_empty: bool = False,
    ) -> Any:
        present, value = self._get(key, default)
        if not present:
            return value
        if not isinstance(value, str):
            raise self.error(key, "must be a string")
        if choices is not None:
            allowed = tuple(choices)
            if value not in allowed:
                raise self.error(key, f"must be one of {_choices(allowed)}")
        elif not allow_empty and not value.strip():
            raise self.error(key, "must not be empty")
        return value

    def get_int(
        self,
        key: str,
        default: Any = _REQUIRED,
        *,
        min: int | None = None,
        max: int | None = None,
        choices: Iterable[int] | None = None,
    ) -> Any:
        present, value = self._get(key, default)
        if not present:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, "must be a whole number")
        if choices is not None:
            allowed = tuple(choices)
            if value not in allowed:
                raise self.error(key, f"must be one of {_choices(allowed)}")
        if min is not None and value < min:
            raise self.error(key, f"must be at least {min}")
        if max is not None and value > max:
            raise self.error(key, f"must be at most {max}")
        return value

    def get_float(self, key: str, default: Any = _REQUIRED, *, min: float, max: float) -> Any:
        present, value = self._get(key, default)
        if not present:
            return value
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.error(key, "must be a number")
        if not min <= value <= max:
            raise self.error(key, f"must be between {min} and {max}")
        return float(value)

    def get_bool(self, key: str, default: Any = _REQUIRED) -> Any:
        present, value = self._get(key, default)
        if present and not isinstance(value, bool):
            raise self.error(key, "must be true or false")
        return value

    def get_usb_id(self, key: str, default: Any = _REQUIRED) -> Any:
        """A USB vendor or product id written as a hex string like "0x0c2e" (as lsusb shows it)."""
        return self.get_hex(key, default, digits=4)

    def get_hex(self, key: str, default: Any = _REQUIRED, *, digits: int) -> Any:
        """A number written as a hex string ("0x0c2e", "0x82"), as lsusb shows ids and endpoints."""
        present, value = self._get(key, default)
        if not present:
            return value
        example = "0x" + "0c2e"[-digits:]
        expected = f'must be a hex string like "{example}"'
        if not isinstance(value, str) or not value.lower().startswith("0x"):
            raise self.error(key, expected)
        try:
            number = int(value, 16)
        except ValueError:
            raise self.error(key, expected) from None
        if not 0 <= number < 16**digits:
            raise self.error(key, f"must be between 0x{0:0{digits}x} and 0x{16**digits - 1:0{digits}x}")
        return number

    def get_table(self, key: str, default: Any = _REQUIRED) -> Any:
        present, value = self._get(key, default)
        if present and (not isinstance(value, Mapping) or not value):
            raise self.error(key, "must be a non-empty table")
        return value

    def finish(self) -> None:
        unknown = sorted(set(self._settings) - self._read)
        if unknown:
            known = ", ".join(sorted(self._read - {"kind"}))
            raise DeviceMisconfigured(
                f"{self.name}.{unknown[0]}: unknown key for kind {self.kind!r} (known keys: {known})"
            )

"""The house's one typed reader of TOML tables: the appliance's config file and every device's table.

A ``TableReader`` reads its keys one by one with checks that name the key and what was expected
(``printer.baudrate = 0: must be one of 9600, 19200, 38400, 57600, 115200``), and ``finish()``
refuses the keys nobody read (they are usually typos) before anything is opened. Which exception it
raises and how it shows a value are the caller's: ``DeviceMisconfigured`` and ``repr`` for a
device (``SettingsReader``), the appliance's ``ConfigError`` and TOML spelling for its file.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from devices.base import DeviceMisconfigured

_REQUIRED: Any = object()

ErrorFactory = Callable[[str], Exception]


def choices_text(values: Iterable[object]) -> str:
    return ", ".join(repr(v) if isinstance(v, str) else str(v) for v in values)


class TableReader:
    """One table, read key by key. ``name`` prefixes every key in a message ("" at the top level).

    Getters take a ``default``; without one the key is required, and a missing key is reported
    with ``missing`` (what the key is for) or the reader's own hint.
    """

    def __init__(
        self,
        name: str,
        data: Mapping[str, Any],
        *,
        error: ErrorFactory = DeviceMisconfigured,
        show: Callable[[Any], str] = repr,
    ) -> None:
        if not isinstance(data, Mapping):
            raise error(f"{name}: settings must be a table, got {type(data).__name__}")
        self.name = name
        self._data = data
        self._make_error = error
        self._show = show
        self._read: set[str] = set()
        self._implicit: set[str] = set()  # read by the reader itself, not listed as known keys
        self._context = ""  # said after "unknown key"
        self._required_hint = "required"

    # --- messages ---------------------------------------------------------------------------------

    def path(self, key: str) -> str:
        return f"{self.name}.{key}" if self.name else key

    def error(self, key: str, message: str, *, shown: str | None = None) -> Exception:
        value = shown if shown is not None else self._show(self._data.get(key))
        return self._make_error(f"{self.path(key)} = {value}: {message}")

    def missing(self, key: str, message: str) -> Exception:
        return self._make_error(f"{self.path(key)}: missing; {message}")

    # --- reading ----------------------------------------------------------------------------------

    def has(self, key: str) -> bool:
        return key in self._data

    def get(self, key: str) -> Any:
        """The raw value (None when absent), for checks of the caller's own."""
        self._read.add(key)
        return self._data.get(key)

    def _get(self, key: str, default: Any, missing: str | None) -> tuple[bool, Any]:
        self._read.add(key)
        if key in self._data:
            return True, self._data[key]
        if default is _REQUIRED:
            raise self.missing(key, missing or self._required_hint)
        return False, default

    def get_str(
        self,
        key: str,
        default: Any = _REQUIRED,
        *,
        choices: Iterable[str] | None = None,
        allow_empty: bool = False,
        missing: str | None = None,
    ) -> Any:
        present, value = self._get(key, default, missing)
        if not present:
            return value
        if not isinstance(value, str):
            raise self.error(key, "must be a string")
        if choices is not None:
            allowed = tuple(choices)
            if value not in allowed:
                raise self.error(key, f"must be one of {choices_text(allowed)}")
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
        present, value = self._get(key, default, None)
        if not present:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, "must be a whole number")
        if choices is not None:
            allowed = tuple(choices)
            if value not in allowed:
                raise self.error(key, f"must be one of {choices_text(allowed)}")
        if min is not None and value < min:
            raise self.error(key, f"must be at least {min}")
        if max is not None and value > max:
            raise self.error(key, f"must be at most {max}")
        return value

    def get_float(self, key: str, default: Any = _REQUIRED, *, min: float, max: float, noun: str = "a number") -> Any:
        """A number within [min, max]; ``noun`` says what kind ("a number of seconds")."""
        present, value = self._get(key, default, None)
        if not present:
            return value
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.error(key, f"must be {noun}")
        if not min <= value <= max:
            raise self.error(key, f"must be between {min} and {max}")
        return float(value)

    def get_bool(self, key: str, default: Any = _REQUIRED) -> Any:
        present, value = self._get(key, default, None)
        if present and not isinstance(value, bool):
            raise self.error(key, "must be true or false")
        return value

    def get_usb_id(self, key: str, default: Any = _REQUIRED) -> Any:
        """A USB vendor or product id written as a hex string like "0x0c2e" (as lsusb shows it)."""
        return self.get_hex(key, default, digits=4)

    def get_hex(self, key: str, default: Any = _REQUIRED, *, digits: int) -> Any:
        """A number written as a hex string ("0x0c2e", "0x82"), as lsusb shows ids and endpoints."""
        present, value = self._get(key, default, None)
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

    def get_table(self, key: str, default: Any = _REQUIRED, *, allow_empty: bool = False) -> Any:
        present, value = self._get(key, default, None)
        if present and (not isinstance(value, Mapping) or not (value or allow_empty)):
            raise self.error(key, "must be a table" if allow_empty else "must be a non-empty table")
        return value

    def finish(self) -> None:
        """Refuse the first key nobody read, listing the ones that were."""
        unknown = sorted(set(self._data) - self._read)
        if unknown:
            known = ", ".join(sorted(self._read - self._implicit))
            raise self._make_error(f"{self.path(unknown[0])}: unknown key{self._context} (known keys: {known})")


class SettingsReader(TableReader):
    """One device's table: its ``kind`` picks the driver, and the messages name it."""

    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        super().__init__(name, settings)
        kind = settings.get("kind", "")
        self.kind = kind if isinstance(kind, str) else ""
        self._read.add("kind")
        self._implicit = {"kind"}
        self._context = f" for kind {self.kind!r}"
        self._required_hint = f"required for kind {self.kind!r}"

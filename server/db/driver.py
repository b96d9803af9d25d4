"""The claim path's statements in the driver's own SQL, on MariaDB.

Through SQLAlchemy a statement costs 250-500 µs of the server's CPU (building the statement, its
cache key, the compiled parameters, result processing); sent through PyMySQL's cursor on the same
connection, 150-380 µs, most of it the driver reading packets (measured with
`python -m bench.statements`). A claim is half a dozen statements and the server runs its commands
under one GIL, so the statements every queue command runs go straight to the driver on MariaDB.
They run inside the session's own transaction, on its connection. SQLite, the embedded default,
keeps SQLAlchemy's statements: it has no row locks to race for and serves one small spa.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Table
from sqlalchemy.orm import Session

_CURSOR = "driver.cursor"


def mariadb_cursor(session: Session) -> Any | None:
    """The DBAPI cursor of the session's connection (one per session), or None on SQLite."""
    cursor = session.info.get(_CURSOR)
    if cursor is None:
        if session.get_bind().dialect.name not in ("mysql", "mariadb"):
            return None
        cursor = session.connection().connection.cursor()
        session.info[_CURSOR] = cursor
    return cursor


def value(v: Any) -> Any:
    """A Python value as PyMySQL escapes it: enums by their value (PyMySQL would write the str()
    of a plain Enum)."""
    return v.value if isinstance(v, Enum) else v


class RowShape:
    """A whole row of a table as one JSON_OBJECT column, and back into a dict of the types
    SQLAlchemy would give. One column instead of thirty: PyMySQL parses every column's
    descriptor in Python for each result, and for the transactions row that was half of the
    driver's time in a claim (0.38 ms of CPU as columns, 0.16 ms as JSON)."""

    def __init__(self, table: Table, alias: str = "") -> None:
        self.names = tuple(c.key for c in table.c)
        prefix = f"{alias}." if alias else ""
        self.json_object = "JSON_OBJECT(" + ", ".join(f"'{c.key}', {prefix}{c.name}" for c in table.c) + ")"
        self._convert: list[tuple[str, Callable[[Any], Any]]] = []
        for c in table.c:
            if isinstance(c.type, Boolean):
                self._convert.append((c.key, bool))
            elif isinstance(c.type, DateTime):
                self._convert.append((c.key, datetime.fromisoformat))
            elif isinstance(c.type, Date):
                self._convert.append((c.key, date.fromisoformat))

    def from_json(self, text: str | bytes) -> dict[str, Any]:
        return self.typed(json.loads(text))

    def typed(self, row: dict[str, Any]) -> dict[str, Any]:
        for key, convert in self._convert:
            if row[key] is not None:
                row[key] = convert(row[key])
        return row

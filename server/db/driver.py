"""The claim path's statements in the driver's own SQL, on MariaDB.

Through SQLAlchemy a statement costs the server 100-400 µs of CPU more than sent through PyMySQL's
cursor on the same connection (building the statement, its cache key, the compiled parameters,
result processing; `python -m bench.statements` prints both). A claim is half a dozen statements
and the server runs its commands under one GIL, so the statements every queue command runs go
straight to the driver on MariaDB.
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
    SQLAlchemy would give. One column instead of thirty-two: PyMySQL parses every column's
    descriptor in Python for each result. Measured by `python -m bench.statements`, with its
    COMMIT: 782 µs of server CPU for the transactions row as columns, 471 µs as JSON, against
    409 µs for an empty statement."""

    def __init__(self, table: Table) -> None:
        self.names = tuple(c.key for c in table.c)
        self.json_object = "JSON_OBJECT(" + ", ".join(f"'{c.key}', {c.name}" for c in table.c) + ")"
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

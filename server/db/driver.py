"""The claim path's statements in the driver's own SQL, on MariaDB.

Through SQLAlchemy a statement costs the server 100-400 µs of CPU more than sent through PyMySQL's
cursor on the same connection (building the statement, its cache key, the compiled parameters,
result processing; `python -m bench.statements` prints both). A claim is half a dozen statements
and the server runs its commands under one GIL, so the statements every queue command runs go
straight to the driver on MariaDB.
They run inside the session's own transaction, on its connection, and fail with SQLAlchemy's
exceptions (`DriverCursor`), so retries and `busy` work as for any statement. A command's closing
statements go together in one round trip (`run_batch`): a claim is four waits for MariaDB, not
seven. SQLite, the embedded default, keeps SQLAlchemy's statements: it has no row locks to race
for and serves one small spa.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

import pymysql
from sqlalchemy import Boolean, Date, DateTime, Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

_CURSOR = "driver.cursor"


def mariadb_cursor(session: Session) -> DriverCursor | None:
    """The DBAPI cursor of the session's connection (one per session), or None on SQLite."""
    cursor = session.info.get(_CURSOR)
    if cursor is None:
        if session.get_bind().dialect.name not in ("mysql", "mariadb"):
            return None
        cursor = DriverCursor(session, session.connection().connection.cursor())
        session.info[_CURSOR] = cursor
    return cursor


class DriverCursor:
    """PyMySQL's cursor, failing as SQLAlchemy's statements fail: a deadlock is SQLAlchemy's
    OperationalError (which `Database.run_write` retries), a lost connection is that too, with
    the connection invalidated (so the command is answered `busy` and the pool reconnects), a
    duplicate key its IntegrityError. PyMySQL's own exceptions would pass all of those by."""

    __slots__ = ("_session", "_cursor")

    def __init__(self, session: Session, cursor: Any) -> None:
        self._session = session
        self._cursor = cursor

    def execute(self, sql: str, params: tuple[Any, ...] | None = None) -> int:
        try:
            return int(self._cursor.execute(sql, params))
        except pymysql.err.Error as exc:
            raise self._translated(exc, sql, params) from exc

    def nextset(self) -> bool | None:
        try:
            return self._cursor.nextset()  # type: ignore[no-any-return]
        except pymysql.err.Error as exc:
            raise self._translated(exc, "(the next statement of a batch)", None) from exc

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._cursor.fetchone()  # type: ignore[no-any-return]  # buffered: no I/O here

    def fetchall(self) -> tuple[tuple[Any, ...], ...]:
        return self._cursor.fetchall()  # type: ignore[no-any-return]

    def mogrify(self, sql: str, params: tuple[Any, ...] | None) -> str:
        return self._cursor.mogrify(sql, params)  # type: ignore[no-any-return]

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid  # type: ignore[no-any-return]

    @property
    def description(self) -> Any:
        return self._cursor.description

    def _translated(self, exc: pymysql.err.Error, sql: str, params: tuple[Any, ...] | None) -> DBAPIError:
        dialect = self._session.get_bind().dialect
        lost = dialect.is_disconnect(exc, None, self._cursor)
        if lost:
            self._session.connection().invalidate(exc)
        error: DBAPIError = DBAPIError.instance(
            sql, params, exc, pymysql.err.Error, connection_invalidated=lost, dialect=dialect
        )
        return error


@dataclass(frozen=True)
class Result:
    """One statement's outcome in a batch: rows it matched or changed, the id it handed back
    (an INSERT's, or LAST_INSERT_ID(expr)'s), and its rows if it was a query."""

    rowcount: int
    lastrowid: int | None
    rows: tuple[tuple[Any, ...], ...]


def run_batch(cursor: DriverCursor, statements: Sequence[tuple[str, tuple[Any, ...]]]) -> list[Result]:
    """Several statements in one round trip, in order, in the session's transaction: a command's
    closing writes (its row, its audit entry, the queue version, and the items its answer shows)
    cost one wait for MariaDB instead of four. Each is escaped by PyMySQL exactly as `execute`
    would; the connection has CLIENT.MULTI_STATEMENTS (engine.py says why that is safe here). An
    error stops the batch where it happened and is raised; the transaction is then rolled back."""
    cursor.execute(";\n".join(cursor.mogrify(sql, params) for sql, params in statements))
    results = [_result(cursor)]
    while cursor.nextset():
        results.append(_result(cursor))
    if len(results) != len(statements):
        raise RuntimeError(f"a batch of {len(statements)} statements gave {len(results)} results")
    return results


def _result(cursor: DriverCursor) -> Result:
    rows = tuple(cursor.fetchall()) if cursor.description else ()
    return Result(cursor.rowcount, cursor.lastrowid, rows)


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

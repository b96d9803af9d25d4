"""The database adapter: engine, sessions, isolation, and bounded retries of lost races."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from pymysql.constants import CLIENT
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

logger = logging.getLogger(__name__)
T = TypeVar("T")

# MariaDB/MySQL: 1213 deadlock, 1205 lock wait timeout. Both roll the transaction back; a retry is safe.
_MYSQL_RETRYABLE = {1213, 1205}
_MYSQL_UNREACHABLE = {2002, 2003, 2006, 2013, 2055}


class DatabaseUnavailable(Exception):
    """The database cannot be reached; nothing was changed."""


class Database:
    def __init__(self, url: str, *, pool_size: int = 16, max_overflow: int = 32, retry_attempts: int = 5) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.is_mysql = self.url.get_backend_name() in ("mysql", "mariadb")
        self.retry_attempts = retry_attempts
        self.engine = _make_engine(url, self.is_sqlite, self.is_mysql, pool_size, max_overflow)
        # SQLite has no row locks: a writer takes the database's write lock at BEGIN (IMMEDIATE),
        # so two claimers serialise instead of both reading the same "oldest waiting" row.
        writer_bind = self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else self.engine
        self._writer = sessionmaker(bind=writer_bind, expire_on_commit=False, autoflush=False)
        self._reader = sessionmaker(bind=self.engine, expire_on_commit=False, autoflush=False)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction, committed at the end (READ COMMITTED on MariaDB, BEGIN IMMEDIATE on SQLite)."""
        with self._writer() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A consistent read: every statement sees the same committed state. A database that
        cannot be reached is `DatabaseUnavailable` here too (callers answer `busy`), as in
        `run_write`: a token check at the start of a command reads before anything writes."""
        try:
            with self._reader() as session:
                if self.is_mysql:
                    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
                    session.execute(text("START TRANSACTION WITH CONSISTENT SNAPSHOT"))
                else:
                    session.begin()
                # Closing (not rolling back) ends the read and keeps what was loaded usable afterwards.
                yield session
        except DBAPIError as exc:
            if self._unreachable(exc):
                raise DatabaseUnavailable(str(exc)) from exc
            raise

    def run_write(self, work: Callable[[Session], T]) -> T:
        """Run `work` in a write transaction, retrying races the database resolved by rolling back."""
        attempt = 0
        while True:
            attempt += 1
            try:
                with self.write() as session:
                    return work(session)
            except (OperationalError, StaleDataError) as exc:
                if not self._retryable(exc) or attempt >= self.retry_attempts:
                    if self._unreachable(exc):
                        raise DatabaseUnavailable(str(exc)) from exc
                    raise
                # Jittered backoff so the losers of a race do not collide again in step.
                delay = min(0.2, 0.005 * 2**attempt) * random.uniform(0.5, 1.5)
                logger.info("retrying a write after %s (attempt %d)", type(exc).__name__, attempt)
                time.sleep(delay)
            except DBAPIError as exc:
                if self._unreachable(exc):
                    raise DatabaseUnavailable(str(exc)) from exc
                raise

    def ping(self) -> str | None:
        """None when the database answers, else why not."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return None
        except Exception as exc:  # noqa: BLE001 - any failure means "unreachable" to /healthz
            return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"

    def dispose(self) -> None:
        self.engine.dispose()

    def _retryable(self, exc: Exception) -> bool:
        if isinstance(exc, StaleDataError):
            return True
        code = _mysql_code(exc)
        if code is not None:
            return code in _MYSQL_RETRYABLE
        return self.is_sqlite and "database is locked" in str(exc)

    def _unreachable(self, exc: Exception) -> bool:
        code = _mysql_code(exc)
        return code in _MYSQL_UNREACHABLE if code is not None else False


def _mysql_code(exc: Exception) -> int | None:
    orig = getattr(exc, "orig", None)
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int):
        return args[0]
    return None


def _make_engine(url: str, is_sqlite: bool, is_mysql: bool, pool_size: int, max_overflow: int) -> Engine:
    if is_sqlite:
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _sqlite_pragmas(engine)
        return engine
    u = make_url(url)
    if is_mysql and "charset" not in u.query:
        u = u.update_query_dict({"charset": "utf8mb4"})
    engine = create_engine(
        u,
        # Claims at READ COMMITTED: under REPEATABLE READ an empty claim's gap locks block the
        # kiosk's inserts and SKIP LOCKED loops deadlock (measured: ~260 claims/s vs ~1,500).
        isolation_level="READ COMMITTED" if is_mysql else None,
        pool_size=pool_size,
        max_overflow=max_overflow,
        # No ping before every checkout and no second rollback on return: each costs a round trip
        # and ~0.3 ms of CPU per command (a quarter of a claim's). Every session ends in COMMIT or
        # ROLLBACK itself; a connection the server dropped fails its command with `busy`, and the
        # first such failure invalidates the whole pool, so the next command reconnects.
        pool_pre_ping=False,
        pool_reset_on_return=None,
        pool_recycle=1800,  # well under MariaDB's wait_timeout (8 h)
        pool_timeout=10,
        connect_args=_mariadb_flags() if is_mysql else {},
    )
    if is_mysql:
        _mariadb_switches(engine)
    return engine


def _mariadb_flags() -> dict[str, int]:
    """FOUND_ROWS as SQLAlchemy sets it (an UPDATE counts the rows it matched), and
    MULTI_STATEMENTS for `driver.run_batch`: a command's closing statements in one round trip.
    Stacked statements would widen what an injected string could do, so none is ever built from
    input: every value goes through PyMySQL's escaping, and the few names put into SQL come from
    the schema or are integers (queue_repo)."""
    return {"client_flag": CLIENT.FOUND_ROWS | CLIENT.MULTI_STATEMENTS}


def _mariadb_switches(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute("SELECT VERSION()")
            if "mariadb" in str(cursor.fetchone()[0]).lower():
                # The therapist's claim asks NOT EXISTS (an item outside the skills) of each
                # candidate. MariaDB rewrites that into a NOT IN over every transaction_items row
                # of the other services ever sold, materialised per claim (measured: 10-20 ms
                # with 20,000 past visits); left as a per-candidate lookup it costs 0.4 ms.
                cursor.execute("SET SESSION optimizer_switch = 'exists_to_in=off'")
        finally:
            cursor.close()


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        # We issue BEGIN ourselves (below); pysqlite's implicit transactions would defer the write lock.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        # The wait first: switching to WAL itself needs the lock another connection may hold.
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

"""What one statement of the claim path costs, in the server's CPU and in MariaDB's, sent through
SQLAlchemy and straight through PyMySQL (server/db/driver.py says why the claim does the latter);
a command's closing statements one by one and as one batch; and a whole claim through the service
(no Socket.IO), with the round trips it makes.

    python -m bench.statements [--repeat 2000]

Needs MariaDB on 127.0.0.1:3306 (root, no password) on this machine: MariaDB's CPU is read from
/proc for the `mariadbd` process. Makes and drops its own database.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pymysql
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from server.db import queue_repo
from server.db.driver import mariadb_cursor, run_batch
from server.db.engine import Database
from server.db.migrate import upgrade
from server.db.models import Staff, Transaction
from server.db.roster_repo import _FACTS_SQL
from server.domain.actors import Principal
from server.service import admin, commands
from server.service.queue import QueueService
from tests.support import fill_waiting, mysql_database

STAFF = Staff.__table__
TXN = Transaction.__table__


def mariadb_ticks() -> int | None:
    """CPU ticks (user + system) of the local mariadbd so far; None when it is not local."""
    try:
        pid = int(subprocess.check_output(["pgrep", "-x", "mariadbd"]).split()[0])
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except (subprocess.CalledProcessError, OSError, IndexError, ValueError):
        return None
    return int(fields[11]) + int(fields[12])


def measure(db: Database, repeat: int, statement: Callable[[Session], Any]) -> tuple[float, float | None]:
    """(server CPU µs, MariaDB CPU µs) per statement, each in its own committed transaction."""
    with db.write() as s:
        statement(s)  # warm: the compiled cache, the connection
    ticks = mariadb_ticks()
    cpu = time.process_time()
    for _ in range(repeat):
        with db.write() as s:
            statement(s)
    server_us = (time.process_time() - cpu) / repeat * 1e6
    after = mariadb_ticks()
    mariadb_us = (after - ticks) * 10_000 / repeat if ticks is not None and after is not None else None
    return server_us, mariadb_us


class RoundTrips:
    """Counts what PyMySQL sends while active: each query (a batch is one) and each COMMIT or
    ROLLBACK, on any connection."""

    def __init__(self) -> None:
        self.count = 0
        self._saved: dict[str, Any] = {}

    def __enter__(self) -> RoundTrips:
        for name in ("query", "commit", "rollback"):
            original = self._saved[name] = getattr(pymysql.connections.Connection, name)
            setattr(pymysql.connections.Connection, name, self._counting(original))
        return self

    def __exit__(self, *exc: object) -> None:
        for name, original in self._saved.items():
            setattr(pymysql.connections.Connection, name, original)

    def _counting(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def counted(conn: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return original(conn, *args, **kwargs)

        return counted


def claim_cost(db: Database, repeat: int, therapist: Principal) -> tuple[float, float | None, float]:
    """(server CPU µs, MariaDB CPU µs, round trips) per claim: `therapist_confirm_next`'s command
    through QueueService on one thread, `repeat` times, off a queue of `repeat` waiting."""
    fill_waiting(db, repeat + 1, clear=True)
    service = QueueService(db, zone=ZoneInfo("UTC"))
    claim = commands.TherapistClaim(None, None)
    service.claim_for_therapist(therapist, claim)  # warm: caches, the connection
    with RoundTrips() as trips:
        ticks, cpu = mariadb_ticks(), time.process_time()
        for _ in range(repeat):
            service.claim_for_therapist(therapist, claim)
        server_us = (time.process_time() - cpu) / repeat * 1e6
        after = mariadb_ticks()
    mariadb_us = (after - ticks) * 10_000 / repeat if ticks is not None and after is not None else None
    return server_us, mariadb_us, trips.count / repeat


def confirm_ms(db: Database, waiting: int, desk: Principal, repeat: int = 5) -> float:
    """Wall-clock ms of one `customer_confirm_selection` with `waiting` customers ahead (made at
    the desk: a kiosk would refuse to queue behind thousands)."""
    fill_waiting(db, waiting, clear=True)
    service = QueueService(db, zone=ZoneInfo("UTC"))
    order = commands.ConfirmSelection("Newcomer", (commands.ItemRequest(1, 1),))
    service.confirm_selection(desk, order)
    start = time.perf_counter()
    for _ in range(repeat):
        service.confirm_selection(desk, order)
    return (time.perf_counter() - start) / repeat * 1000


def closing(batched: bool) -> Callable[[Session], Any]:
    """A claim's closing statements on transaction 1: its row, its audit entry, its items, the
    queue version; one round trip each, or one for all (`driver.run_batch`)."""
    statements = [
        ("UPDATE transactions SET room = %s WHERE id = %s", ("3", 1)),
        (
            queue_repo._AUDIT_SQL,
            (1, "claimed", "pending_therapist", "therapist_confirmed", "staff:1", 1, None, None, "2026-12-07"),
        ),
        (queue_repo._ITEMS_SQL, (1,)),
        (queue_repo._BUMP_SQL, ()),
    ]

    def run(s: Session) -> Any:
        cursor = mariadb_cursor(s)
        assert cursor is not None
        if batched:
            return run_batch(cursor, statements)
        for sql, params in statements:
            cursor.execute(sql, params)
            cursor.fetchall()
        return None

    return run


def driver(sql: str, params: tuple[Any, ...] = ()) -> Callable[[Session], Any]:
    def run(s: Session) -> Any:
        cursor = s.connection().connection.cursor()
        cursor.execute(sql, params)
        return cursor.fetchall()

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args(argv)
    with mysql_database() as url:
        upgrade(url)
        db = Database(url, pool_size=2, max_overflow=0)
        people = {p["name"]: p for p in admin.load_demo(db)}
        fill_waiting(db, 50, clear=True)
        by_id = select(TXN).where(TXN.c.id == bindparam("i"))
        lock_sql = queue_repo._LOCK_SQL.replace(" FOR UPDATE", "")
        rows = [
            ("an empty statement", "SELECT 1 (driver)", driver("SELECT 1")),
            (
                "a staff member's room and shift",
                "select(...) built each time",
                lambda s: s.execute(select(STAFF.c.room, STAFF.c.on_shift).where(STAFF.c.id == 1)).first(),
            ),
            ("", "the same, driver", driver("SELECT room, on_shift FROM staff WHERE id = %s", (1,))),
            ("", "room, shift, skills, active services: one driver query", driver(_FACTS_SQL, (1, 1))),
            ("a transaction's whole row", "select(TXN) prebuilt", lambda s: s.execute(by_id, {"i": 1}).first()),
            ("", "driver, 32 columns", driver("SELECT * FROM transactions WHERE id = %s", (1,))),
            ("", "driver, one JSON_OBJECT column", driver(lock_sql, (1,))),
            (
                "its items",
                "driver, JSON_ARRAYAGG",
                driver(
                    f"SELECT JSON_ARRAYAGG({queue_repo.ITEM_SHAPE.json_object} ORDER BY id) "
                    "FROM transaction_items WHERE transaction_id = %s",
                    (1,),
                ),
            ),
            ("", "driver, a JSON_OBJECT row per item", driver(queue_repo._ITEMS_SQL, (1,))),
            ("a claim's closing statements", "row, audit, items, version: one round trip each", closing(False)),
            ("", "the same four in one round trip (run_batch)", closing(True)),
        ]
        print(f"each statement in its own transaction (with its COMMIT), {args.repeat} times")
        print()
        print("| what | how | server CPU µs | MariaDB CPU µs |")
        print("|---|---|---:|---:|")
        for what, how, statement in rows:
            server_us, mariadb_us = measure(db, args.repeat, statement)
            shown = f"{mariadb_us:,.0f}" if mariadb_us is not None else "n/a"
            print(f"| {what} | {how} | {server_us:,.0f} | {shown} |")
        anna = people["Anna"]
        server_us, mariadb_us, trips = claim_cost(
            db, args.repeat, Principal(anna["kind"], anna["id"], anna["role"], anna["name"])
        )
        shown = f"{mariadb_us:,.0f}" if mariadb_us is not None else "n/a"
        print()
        print(f"a whole claim through QueueService, one thread, {args.repeat} times (no Socket.IO, no broadcast)")
        print()
        print("| server CPU µs | MariaDB CPU µs | round trips |")
        print("|---:|---:|---:|")
        print(f"| {server_us:,.0f} | {shown} | {trips:.1f} |")
        dana = people["Dana"]
        desk = Principal(dana["kind"], dana["id"], dana["role"], dana["name"])
        print()
        print("a kiosk's confirm (its wait quoted over the whole queue), one thread")
        print()
        print("| waiting | ms per confirm |")
        print("|---:|---:|")
        for waiting in (100, 1000, 5000):
            print(f"| {waiting:,} | {confirm_ms(db, waiting, desk):.1f} |")
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())

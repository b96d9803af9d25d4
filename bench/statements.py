"""What one statement of the claim path costs, in the server's CPU and in MariaDB's, sent through
SQLAlchemy and straight through PyMySQL (server/db/driver.py says why the claim does the latter).

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

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from server.db import queue_repo
from server.db.engine import Database
from server.db.migrate import upgrade
from server.db.models import Staff, Transaction
from server.db.roster_repo import _FACTS_SQL
from server.service import admin
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
        admin.load_demo(db)
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
        ]
        print(f"each statement in its own transaction (with its COMMIT), {args.repeat} times")
        print()
        print("| what | how | server CPU µs | MariaDB CPU µs |")
        print("|---|---|---:|---:|")
        for what, how, statement in rows:
            server_us, mariadb_us = measure(db, args.repeat, statement)
            shown = f"{mariadb_us:,.0f}" if mariadb_us is not None else "n/a"
            print(f"| {what} | {how} | {server_us:,.0f} | {shown} |")
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())

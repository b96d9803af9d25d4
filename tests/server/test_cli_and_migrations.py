"""`python -m server …` as a person or a script uses it, and the migrations on both databases."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlalchemy.pool import NullPool

from server.db.engine import Database
from server.db.migrate import current_revision, downgrade, head_revision, upgrade
from server.db.models import Base
from server.service.principals import lookup_token
from tests.support import ROOT


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "server", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_commands_print_what_scripts_need_on_their_last_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    early = cli(url, "staff", "add", "--role", "therapist", "--name", "Eve")
    assert early.returncode == 1 and "db upgrade" in early.stderr and "Traceback" not in early.stderr
    assert cli(url, "db", "upgrade").returncode == 0
    assert current_revision(url) == head_revision()

    staff = cli(url, "staff", "add", "--role", "therapist", "--name", "Eve", "--pin", "4321")
    token = staff.stdout.strip().splitlines()[-1]
    device = cli(url, "device", "add", "--role", "kiosk", "--name", "kiosk-9").stdout.strip().splitlines()[-1]
    service = cli(url, "service", "add", "--name", "Sauna", "--price", "12.50", "--minutes", "30")
    service_id = service.stdout.strip().splitlines()[-1]
    assert service.returncode == 0 and service_id.isdigit()
    db = Database(url, pool_size=1, max_overflow=0)
    try:
        with db.read() as s:
            eve, kiosk = lookup_token(s, token), lookup_token(s, device)
        assert eve is not None and (eve.kind, eve.role, eve.name) == ("staff", "therapist", "Eve")
        assert kiosk is not None and (kiosk.kind, kiosk.role, kiosk.name) == ("device", "kiosk", "kiosk-9")
    finally:
        db.dispose()
    assert "Sauna" in cli(url, "service", "list").stdout and "12.50" in cli(url, "service", "list").stdout

    for bad, message in (
        (("service", "add", "--name", "Bad", "--price", "12.5.0", "--minutes", "30"), "not an amount"),
        (("service", "add", "--name", "Sauna", "--price", "1.00", "--minutes", "30"), "exists already"),
        (("service", "add", "--name", "Long", "--price", "1.00", "--minutes", "0"), "--minutes"),
        (("device", "add", "--role", "kiosk", "--name", "kiosk-9"), "exists already"),
        (("staff", "add", "--role", "cashier", "--name", "Pat", "--pin", "12"), "PIN"),
    ):
        result = cli(url, *bad)
        assert result.returncode == 1, bad
        assert message in result.stderr and "Traceback" not in result.stderr
    wrong_role = cli(url, "staff", "add", "--role", "boss", "--name", "X")
    assert wrong_role.returncode == 2 and "invalid choice" in wrong_role.stderr


def test_demo_issues_fresh_tokens_each_time(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade(url)
    first = cli(url, "demo", "--tokens-file", str(tmp_path / "t.json"))
    second = cli(url, "demo")
    assert first.returncode == second.returncode == 0
    assert "kiosk-1" in first.stdout and first.stdout != second.stdout
    assert oct((tmp_path / "t.json").stat().st_mode & 0o777) == "0o600"
    db = Database(url, pool_size=1, max_overflow=0)
    try:
        old = first.stdout.split("kiosk-1")[1].split()[0]
        new = second.stdout.split("kiosk-1")[1].split()[0]
        with db.read() as s:
            assert lookup_token(s, old) is None and lookup_token(s, new) is not None
    finally:
        db.dispose()


def test_bad_settings_stop_with_a_clear_message(tmp_path: Path) -> None:
    env = {**os.environ, "SPA_PORT": "99999"}
    result = subprocess.run(
        [sys.executable, "-m", "server", "run"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "SPA_PORT = 99999" in result.stderr and "Traceback" not in result.stderr


DESC_INDEXES = {"ix_transactions_call"}


def test_migrations_match_the_models_and_go_down_and_up_again(db_url: str) -> None:
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            # Alembic cannot compare an index with a DESC column (it reads it as an expression):
            # that one is checked by its columns below.
            opts = {"include_object": lambda obj, name, kind, *_: not (kind == "index" and name in DESC_INDEXES)}
            diffs = compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata)
        assert diffs == []  # the migrations build exactly what the models describe
        call = next(i for i in inspect(engine).get_indexes("transactions") if i["name"] == "ix_transactions_call")
        assert [
            c or e for c, e in zip(call["column_names"], call.get("expressions") or call["column_names"], strict=True)
        ] in (
            ["status", "priority", "queue_key", "id"],
            ["status", "priority DESC", "queue_key", "id"],
        )
        downgrade(db_url, "base")
        assert current_revision(db_url) is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(db_url)
        assert current_revision(db_url) == head_revision()
        assert {"transactions", "print_jobs", "staff_sessions"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize("revision", ["0001", "0002", "0003", "0006", "0007"])
def test_each_migration_upgrades_from_the_one_before(sqlite_url: str, revision: str) -> None:
    downgrade(sqlite_url, revision)
    assert current_revision(sqlite_url) == revision
    upgrade(sqlite_url)
    assert current_revision(sqlite_url) == head_revision()

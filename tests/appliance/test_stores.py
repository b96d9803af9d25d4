"""The durable state: the outbox's order, keys and atomic acknowledgement, the print job memory and
its states, the grouped commits, and the SQLite settings that make a commit survive a kill -9 or a
power cut."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from appliance.commands import Command, Resolve
from appliance.errors import StateError
from appliance.outbox import Outbox
from appliance.printstore import KEEP_PRINTED_S, STOPPED_WHILE_SENDING, PrintJobs, Unprinted
from appliance.store import SCHEMA, Store, connect, prepare
from devices.base import DeviceState, JobPart, JobResult, Outcome


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[Path, str, Store]]:
    path = tmp_path / "state" / "outbox.sqlite3"
    epoch = prepare(path.parent, path)
    store = Store(path)
    yield path, epoch, store
    store.close()


def test_every_commit_is_synced_to_disk(db: tuple[Path, str, Store]) -> None:
    conn = connect(db[0])
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL: the WAL is fsynced on each commit
    assert oct(db[0].parent.stat().st_mode & 0o777) == oct(0o750)


def test_in_order_with_keys_that_are_never_reused(db: tuple[Path, str, Store], tmp_path: Path) -> None:
    path, epoch, store = db
    outbox = Outbox(path, epoch, store)
    first = outbox.add(Command("cashier_lookup", {"code": "A-1"}, "scanner", 1.0))
    second = outbox.add(Command("cashier_lookup", {"code": "A-2"}, "scanner", 2.0))
    assert [first.key, second.key] == [f"{epoch}-1", f"{epoch}-2"]
    assert outbox.head() == first
    outbox.finish(first, None)
    outbox.finish(second, None)
    assert outbox.head() is None
    again = Outbox(path, epoch, store).add(Command("cashier_lookup", {"code": "A-3"}, "scanner", 3.0))
    assert again.key == f"{epoch}-3"  # not 1 again: the server would replay A-1's result
    other = tmp_path / "other.sqlite3"
    assert prepare(tmp_path, other) != epoch  # a new SD card: new keys
    assert prepare(path.parent, path) == epoch  # the same database: the same


def test_acknowledgement_and_the_rooms_claim_change_together(db: tuple[Path, str, Store]) -> None:
    outbox = Outbox(*db)
    claim = outbox.add(Command("therapist_confirm_next", {"room": "3"}, "buttons", 1.0))
    start = outbox.add(Command("therapist_start_service", {}, "buttons", 2.0, resolve=Resolve.CURRENT_CLAIM))
    assert outbox.current_claim() is None
    outbox.finish(claim, 42)
    head = outbox.head()
    assert head == start and head.needs_resolving
    frozen = outbox.freeze(head, {"transaction_id": 42})
    reopened = Outbox(*db)  # as after a restart: the resolved payload is what is sent again
    assert reopened.current_claim() == 42
    assert reopened.head() == frozen and not frozen.needs_resolving
    assert frozen.payload == {"transaction_id": 42} and frozen.key == start.key
    reopened.retry_later(frozen, "busy: try again")
    assert reopened.head().attempts == 1
    assert reopened.backlog()[0] == 1


def test_device_threads_add_concurrently(db: tuple[Path, str, Store]) -> None:
    def add(device: str) -> None:
        outbox = Outbox(*db)
        for i in range(100):
            outbox.add(Command("cashier_lookup", {"code": f"A-{i}"}, device, float(i)))
        outbox.close()

    threads = [threading.Thread(target=add, args=(f"dev{n}",), name=f"dev{n}.reader") for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    entries = Outbox(*db).entries()
    assert len(entries) == 200 and len({e.key for e in entries}) == 200
    for device in ("dev0", "dev1"):  # each device's commands in the order it made them
        assert [e.payload["code"] for e in entries if e.device == device] == [f"A-{i}" for i in range(100)]


def result(job_id: str, ok: bool, state: DeviceState = DeviceState.OK, detail: str = "") -> JobResult:
    return JobResult(job_id, Outcome.PRINTED if ok else Outcome.WAITING, state, detail)


def test_a_printed_job_is_remembered_and_reported_again_never_printed_again(db: tuple[Path, str, Store]) -> None:
    jobs = PrintJobs(db[0], db[2])
    payload = {"job_id": "rcpt-1", "transaction_id": 1}
    assert jobs.receive("rcpt-1", 1, payload, None) == "queued"
    assert jobs.receive("rcpt-1", 1, payload, None) == "queued"  # the server's re-send: still one job
    assert jobs.unprinted() == [("rcpt-1", payload, False)] and jobs.unreported() == []

    jobs.record(result("rcpt-1", False, DeviceState.PAPER_OUT, "paper out"))
    [failed] = jobs.unreported()
    assert failed.result == {"ok": False, "state": "paper_out", "detail": "paper out", "outcome": "waiting"}
    jobs.record(result("rcpt-1", True))  # printed before the failure was reported
    jobs.reported(failed)  # the late acknowledgement of the failure must not hide the success
    [printed] = jobs.unreported()
    assert printed.result["ok"] is True and jobs.unprinted() == []
    jobs.record(result("rcpt-1", False, DeviceState.OFFLINE))  # a late failure never undoes printed
    assert jobs.state("rcpt-1") == "printed"
    jobs.reported(printed)
    assert jobs.unreported() == []

    assert PrintJobs(db[0], db[2]).receive("rcpt-1", 1, payload, None) == "printed"  # sent again after a restart
    assert [r.result["ok"] for r in jobs.unreported()] == [True]  # …so it is reported again
    assert jobs.unprinted() == []


def test_rejected_jobs_are_reported_and_old_ones_forgotten(db: tuple[Path, str, Store]) -> None:
    jobs = PrintJobs(db[0], db[2])
    assert jobs.receive("bad", 2, {}, "receipt.total_cents = 1: the items add up to 2") == "rejected"
    [report] = jobs.unreported()
    assert report.result == {
        "ok": False,
        "state": "error",
        "detail": "receipt.total_cents = 1: the items add up to 2",
        "outcome": "rejected",
    }
    jobs.reported(report)
    jobs.receive("good", 3, {}, None)
    jobs.record(result("good", True))
    jobs.reported(jobs.unreported()[0])
    assert jobs.prune() == 0
    assert jobs.prune(now=time.time() + KEEP_PRINTED_S + 1) == 2
    assert jobs.state("good") is None


def test_a_job_sent_and_not_confirmed_is_unknown_and_never_queued_again(db: tuple[Path, str, Store]) -> None:
    path, _, store = db
    jobs = PrintJobs(path, store)
    payload = {"job_id": "rcpt-2", "transaction_id": 2}
    jobs.receive("rcpt-2", 2, payload, None)
    jobs.sending("rcpt-2", JobPart.DRAWER)
    assert jobs.unprinted() == [Unprinted("rcpt-2", payload, True)]  # the drawer went out: not again
    with pytest.raises(StateError, match="drawer is not waiting"):
        jobs.sending("rcpt-2", JobPart.DRAWER)
    jobs.sending("rcpt-2", JobPart.RECEIPT)
    assert jobs.state("rcpt-2") == "sending" and jobs.unprinted() == []
    with pytest.raises(StateError, match="receipt is not waiting"):
        jobs.sending("rcpt-2", JobPart.RECEIPT)
    jobs.record(JobResult("rcpt-2", Outcome.UNKNOWN, DeviceState.PAPER_OUT, "paper out"))
    [report] = jobs.unreported()
    assert report.result == {"ok": False, "state": "paper_out", "detail": "paper out", "outcome": "unknown"}
    jobs.reported(report)
    assert jobs.receive("rcpt-2", 2, payload, None) == "unknown"  # the server sends it again: reported, not queued
    assert [r.result["outcome"] for r in jobs.unreported()] == ["unknown"] and jobs.unprinted() == []


def test_a_job_found_half_sent_at_start_is_unknown(db: tuple[Path, str, Store]) -> None:
    path, _, store = db
    jobs = PrintJobs(path, store)
    jobs.receive("rcpt-3", 3, {}, None)
    jobs.sending("rcpt-3", JobPart.RECEIPT)  # …and then the power went
    assert PrintJobs(path, store).recover() == ["rcpt-3"]
    assert jobs.state("rcpt-3") == "unknown"
    [report] = jobs.unreported()
    assert report.result == {"ok": False, "state": "error", "detail": STOPPED_WHILE_SENDING, "outcome": "unknown"}
    assert jobs.recover() == []


def test_writes_from_many_threads_share_commits_and_only_durable_ones_sync(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    epoch = prepare(tmp_path, path)
    store = Store(path)
    outbox = Outbox(path, epoch, store)
    entries = outbox.add_all([Command("cashier_lookup", {"code": f"A-{i}"}, "scanner", float(i)) for i in range(5)])
    assert store.commits == 1 and store.durable_commits == 1  # five commands, one fsynced commit
    outbox.finish(entries[0], None)
    assert store.commits == 2 and store.durable_commits == 1  # a lazy write: committed, not fsynced
    assert outbox.head() == entries[1]  # …and visible at once

    gate = threading.Event()
    blocker = threading.Thread(target=lambda: store.write(lambda c: gate.wait(10)), name="dev.blocker")
    blocker.start()
    while not store._committing:  # the blocker's commit is in flight; what arrives now waits for it
        time.sleep(0.001)
    writers = [
        threading.Thread(
            target=lambda i=i: Outbox(path, epoch, store).add(Command("x", {"i": i}, "d", 0.0)), name=f"w{i}"
        )
        for i in range(8)
    ]
    for w in writers:
        w.start()
    while len(store._waiting) < 8:
        time.sleep(0.001)
    gate.set()
    for w in [blocker, *writers]:
        w.join(10)
    assert store.commits == 4  # the blocker's, then all eight together
    assert len(outbox.entries()) == 4 + 8
    store.close()


def test_a_failing_write_rolls_back_alone(db: tuple[Path, str, Store]) -> None:
    path, epoch, store = db
    outbox = Outbox(path, epoch, store)
    outbox.add(Command("cashier_lookup", {"code": "A-1"}, "scanner", 1.0))

    def broken(c: sqlite3.Connection) -> None:
        c.execute("DELETE FROM outbox")
        raise ValueError("half done")

    with pytest.raises(ValueError, match="half done"):
        store.write(broken)
    assert len(outbox.entries()) == 1


def test_without_grouping_every_write_is_its_own_synced_commit(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    epoch = prepare(tmp_path, path)
    store = Store(path, batch=False)
    outbox = Outbox(path, epoch, store)
    entry = outbox.add(Command("cashier_lookup", {"code": "A-1"}, "scanner", 1.0))
    outbox.finish(entry, None)
    assert (store.commits, store.durable_commits) == (2, 2)
    store.close()


def test_an_older_database_is_brought_up_to_date(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    with closing(sqlite3.connect(path)) as conn:  # as the version before issue 13 made it
        for statement in SCHEMA[:4]:
            conn.execute(statement)
        conn.execute("INSERT INTO meta VALUES ('epoch', 'cafe1234')")
        conn.execute(
            "INSERT INTO print_jobs (job_id, transaction_id, payload, state, received_at)"
            " VALUES ('j', 1, '{}', 'queued', 0)"
        )
        conn.execute("PRAGMA user_version = 4")
        conn.commit()
    assert prepare(tmp_path, path) == "cafe1234"
    store = Store(path)
    assert PrintJobs(path, store).unprinted() == [Unprinted("j", {}, False)]
    store.close()
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(f"PRAGMA user_version = {len(SCHEMA) + 1}")
    with pytest.raises(StateError, match="this software knows"):
        prepare(tmp_path, path)

"""The durable state: the outbox's order, keys and atomic acknowledgement, the print job memory,
and the SQLite settings that make a commit survive a kill -9 or a power cut."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from appliance.commands import Command, Resolve
from appliance.outbox import Outbox
from appliance.printstore import KEEP_PRINTED_S, PrintJobs
from appliance.store import connect, prepare
from devices.base import DeviceState, JobResult, Outcome


@pytest.fixture
def db(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "state" / "outbox.sqlite3"
    return path, prepare(path.parent, path)


def test_every_commit_is_synced_to_disk(db: tuple[Path, str]) -> None:
    conn = connect(db[0])
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL: the WAL is fsynced on each commit
    assert oct(db[0].parent.stat().st_mode & 0o777) == oct(0o750)


def test_in_order_with_keys_that_are_never_reused(db: tuple[Path, str], tmp_path: Path) -> None:
    path, epoch = db
    outbox = Outbox(path, epoch)
    first = outbox.add(Command("cashier_lookup", {"code": "A-1"}, "scanner", 1.0))
    second = outbox.add(Command("cashier_lookup", {"code": "A-2"}, "scanner", 2.0))
    assert [first.key, second.key] == [f"{epoch}-1", f"{epoch}-2"]
    assert outbox.head() == first
    outbox.finish(first, None)
    outbox.finish(second, None)
    assert outbox.head() is None
    again = Outbox(path, epoch).add(Command("cashier_lookup", {"code": "A-3"}, "scanner", 3.0))
    assert again.key == f"{epoch}-3"  # not 1 again: the server would replay A-1's result
    other = tmp_path / "other.sqlite3"
    assert prepare(tmp_path, other) != epoch  # a new SD card: new keys
    assert prepare(path.parent, path) == epoch  # the same database: the same


def test_acknowledgement_and_the_rooms_claim_change_together(db: tuple[Path, str]) -> None:
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


def test_device_threads_add_concurrently(db: tuple[Path, str]) -> None:
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


def test_a_printed_job_is_remembered_and_reported_again_never_printed_again(db: tuple[Path, str]) -> None:
    jobs = PrintJobs(db[0])
    payload = {"job_id": "rcpt-1", "transaction_id": 1}
    assert jobs.receive("rcpt-1", 1, payload, None) == "queued"
    assert jobs.receive("rcpt-1", 1, payload, None) == "queued"  # the server's re-send: still one job
    assert jobs.unprinted() == [("rcpt-1", payload)] and jobs.unreported() == []

    jobs.record(result("rcpt-1", False, DeviceState.PAPER_OUT, "paper out"))
    [failed] = jobs.unreported()
    assert failed.result == {"ok": False, "state": "paper_out", "detail": "paper out"}
    jobs.record(result("rcpt-1", True))  # printed before the failure was reported
    jobs.reported(failed)  # the late acknowledgement of the failure must not hide the success
    [printed] = jobs.unreported()
    assert printed.result["ok"] is True and jobs.unprinted() == []
    jobs.record(result("rcpt-1", False, DeviceState.OFFLINE))  # a late failure never undoes printed
    assert jobs.state("rcpt-1") == "printed"
    jobs.reported(printed)
    assert jobs.unreported() == []

    assert PrintJobs(db[0]).receive("rcpt-1", 1, payload, None) == "printed"  # sent again after a restart
    assert [r.result["ok"] for r in jobs.unreported()] == [True]  # …so it is reported again
    assert jobs.unprinted() == []


def test_rejected_jobs_are_reported_and_old_ones_forgotten(db: tuple[Path, str]) -> None:
    jobs = PrintJobs(db[0])
    assert jobs.receive("bad", 2, {}, "receipt.total_cents = 1: the items add up to 2") == "rejected"
    [report] = jobs.unreported()
    assert report.result == {"ok": False, "state": "error", "detail": "receipt.total_cents = 1: the items add up to 2"}
    jobs.reported(report)
    jobs.receive("good", 3, {}, None)
    jobs.record(result("good", True))
    jobs.reported(jobs.unreported()[0])
    assert jobs.prune() == 0
    assert jobs.prune(now=time.time() + KEEP_PRINTED_S + 1) == 2
    assert jobs.state("good") is None

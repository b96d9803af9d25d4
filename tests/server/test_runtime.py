"""The server's background threads have one owner, names, and a place in /healthz; staff views
carry the moves allowed now."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask

from server.workers import Workers
from tests.support import InProcessServer, wait_until


class Once:
    """A worker whose loop ends by itself (as a crashed one would)."""

    def __init__(self, name: str, fail: bool = False) -> None:
        self.name = name
        self.fail = fail
        self.ran = threading.Event()

    def run(self, stop: threading.Event) -> None:
        self.ran.set()
        if self.fail:
            raise RuntimeError("boom")


class Loop:
    name = "loop"

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(0.01):
            pass


def test_workers_are_named_watched_and_joined(caplog: pytest.LogCaptureFixture) -> None:
    workers = Workers()
    crash = Once("crasher", fail=True)
    workers.start(Loop())
    workers.start(crash)
    assert crash.ran.wait(5)
    wait_until(lambda: workers.health() == {"loop": True, "crasher": False}, 5)
    assert "thread crasher died" in caplog.text
    with pytest.raises(ValueError, match="already running"):
        workers.start(Loop())
    names = {t.name for t in threading.enumerate()}
    assert "loop" in names
    workers.stop()
    assert "loop" not in {t.name for t in threading.enumerate()}
    assert workers.health() == {}


def test_healthz_lists_the_threads_and_fails_when_one_died(app: Flask) -> None:
    rt = app.extensions["spa"]
    http = app.test_client()
    body = http.get("/healthz").get_json()
    assert body["workers"] == {"broadcast.emitter": True, "housekeeping": True}
    assert body["status"] == "ok"
    gone = Once("extra")
    rt.workers.start(gone)
    assert gone.ran.wait(5)
    wait_until(lambda: rt.health().get("extra") is False, 5)
    reply = http.get("/healthz")
    assert reply.status_code == 503
    assert reply.get_json()["problem"] == "thread extra is not running"
    assert reply.get_json()["database"] == "ok"


def test_staff_views_carry_the_moves_allowed_now(served: InProcessServer, tokens: dict[str, str]) -> None:
    def connect(name: str) -> Any:
        return served.client(tokens[name])

    kiosk, anna = connect("kiosk-1"), connect("Anna")
    order = {"customer_name": "Maria", "items": [{"service_id": 1}]}
    made = kiosk.emit("customer_confirm_selection", order, callback=True)
    waiting = anna.emit("queue_snapshot", callback=True)["waiting"][0]
    assert waiting["allowed"] == ["claim_for_therapist", "cancel", "assign", "prioritise"]
    claimed = anna.emit("therapist_confirm_next", {}, callback=True)["transaction"]
    assert claimed["allowed"] == [
        "start_service",
        "add_service",
        "give_back",
        "cancel",
        "no_show",
        "transfer",
        "remove_item",
    ]
    started = anna.emit("therapist_start_service", {"transaction_id": made["transaction_id"]}, callback=True)
    assert started["transaction"]["allowed"] == ["add_service", "finish_service", "remove_item", "undo_start"]
    assert claimed["id"] == waiting["id"] and claimed["queue_place"] == waiting["queue_place"]
    finished = anna.emit("therapist_finish_service", {"transaction_id": made["transaction_id"]}, callback=True)
    assert finished["transaction"]["allowed"] == [
        "claim_for_cashier",
        "pay",
        "remove_item",
        "undo_finish",
        "discount",
        "void",
    ]
    assert finished["transaction"]["queue_place"] > claimed["queue_place"]  # its place among those waiting to pay

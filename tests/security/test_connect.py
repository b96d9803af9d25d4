"""Connect is all-or-nothing: a failure anywhere in it leaves no session, no presence row and no
counted slot, and the client is told `busy`.

Before: a database failure while recording presence left the connection counted for good (after
a 6 s MariaDB outage with 40 reconnects, /healthz reported 40 connections with nobody connected,
and only 16 of 56 new connections were accepted until a restart)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from server.app import create_app
from server.db.engine import DatabaseUnavailable
from tests.support import demo_tokens


@pytest.fixture
def app(sqlite_url: str) -> Any:
    application = create_app({"database_url": sqlite_url, "testing": True})
    yield application
    application.extensions["spa"].stop()


def test_a_failure_while_connecting_counts_nothing(
    app: Flask, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = demo_tokens(sqlite_url)
    rt = app.extensions["spa"]
    socketio = rt.socketio

    def database_gone(sid: str, principal: str) -> None:
        raise DatabaseUnavailable("the database went away")

    with monkeypatch.context() as patch:
        patch.setattr(rt.housekeeping, "connected", database_gone)
        anna = {"token": tokens["Anna"]}
        refused = [socketio.test_client(app, auth=anna) for _ in range(rt.settings.max_sockets + 5)]
        assert not any(c.is_connected() for c in refused)
        assert rt.protocol.connection_count == 0
        assert app.test_client().get("/healthz").get_json()["connections"] == 0
    # The database is back: every slot is free again.
    clients = [socketio.test_client(app, auth={"token": tokens["Anna"]}) for _ in range(rt.settings.max_sockets)]
    assert all(c.is_connected() for c in clients)
    assert rt.protocol.connection_count == rt.settings.max_sockets

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from server.app import create_app
from server.db.engine import Database
from server.protocol import schema
from server.service.changes import Change
from server.service.principals import Principal
from server.service.queue import QueueService
from server.service.sessions import SignInLimiter, SignInPolicy
from server.service.till import ManagerCheck, TillService
from tests.support import InProcessServer, demo_tokens


class Clock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC).replace(tzinfo=None, microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self.now += timedelta(seconds=seconds)


@pytest.fixture
def published() -> list[Change]:
    return []


@pytest.fixture
def service(db: Database, published: list[Change]) -> QueueService:
    return QueueService(db, zone=ZoneInfo("UTC"), publish=published.append)


@pytest.fixture
def till(db: Database, service: QueueService) -> Iterator[TillService]:
    limiter = SignInLimiter()
    yield TillService(db, service, ManagerCheck(limiter, SignInPolicy()))
    limiter.close()


def principal(person: dict[str, Any]) -> Principal:
    return Principal(person["kind"], person["id"], person["role"], person["name"])


@pytest.fixture
def actors(people: dict[str, Any]) -> dict[str, Principal]:
    return {name: principal(p) for name, p in people.items()}


@pytest.fixture
def order(service: QueueService, actors: dict[str, Principal]) -> Callable[..., dict[str, Any]]:
    def make(
        name: str = "Maria Lopez", items: list[tuple[int, int]] | None = None, key: str | None = None
    ) -> dict[str, Any]:
        wanted = tuple(schema.ItemRequest(s, q) for s, q in (items or [(1, 1)]))
        return service.confirm_selection(actors["kiosk-1"], schema.ConfirmSelection(name, wanted, key))

    return make


@pytest.fixture
def app(sqlite_url: str) -> Iterator[Flask]:
    """The app on a fresh SQLite file, threads running (Flask's test client for its HTTP)."""
    application = create_app({"database_url": sqlite_url, "testing": True})
    yield application
    application.extensions["spa"].stop()


@pytest.fixture
def served(app: Flask) -> Iterator[InProcessServer]:
    """The app served on loopback in this process, for real Socket.IO clients (`served.client`)."""
    server = InProcessServer(app).start()
    yield server
    server.stop()


@pytest.fixture
def tokens(sqlite_url: str) -> dict[str, str]:
    """The demo data in the app's database: name → token."""
    return demo_tokens(sqlite_url)

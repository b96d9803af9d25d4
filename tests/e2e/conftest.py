from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support import Client, LiveServer, demo_tokens, sqlite_database


def connector(server: LiveServer, tokens: dict[str, str]) -> tuple[Callable[..., Client], list[Client]]:
    clients: list[Client] = []

    def make(name: str | None, **kw: Any) -> Client:
        client = Client(server.url, tokens[name] if name else None, **kw).connect()
        clients.append(client)
        return client

    return make, clients


@pytest.fixture
def tokens(live: LiveServer) -> dict[str, str]:
    return demo_tokens(live.database_url)


@pytest.fixture
def connect(live: LiveServer, tokens: dict[str, str]) -> Iterator[Callable[..., Client]]:
    make, clients = connector(live, tokens)
    yield make
    for client in clients:
        client.close()


@pytest.fixture(scope="module")
def shared_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server on SQLite for a module of tests that only need a running server."""
    workdir = tmp_path_factory.mktemp("shared")
    server = LiveServer(sqlite_database(workdir), workdir).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def shared_tokens(shared_live: LiveServer) -> dict[str, str]:
    return demo_tokens(shared_live.database_url)


@pytest.fixture
def shared_connect(shared_live: LiveServer, shared_tokens: dict[str, str]) -> Iterator[Callable[..., Client]]:
    make, clients = connector(shared_live, shared_tokens)
    yield make
    for client in clients:
        client.close()

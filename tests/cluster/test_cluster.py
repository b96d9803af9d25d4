"""Three server processes on a Redis of the test's own, sharing a MariaDB database, behind a real
nginx (bench/cluster.py, what `make run-cluster` starts): broadcasts cross processes, claims stay
exclusive, clients from one address spread, a killed process's clients move to the others, and
a Redis restart is survived with every screen converging on the versioned state (issue 14)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from bench.cluster import Cluster, OwnRedis
from server.db.engine import Database
from server.db.migrate import upgrade
from server.db.models import Transaction
from tests.support import Client, demo_tokens, fill_waiting, mysql_database, wait_until

pytestmark = [pytest.mark.mysql, pytest.mark.slow]

# The tests' clients all come from 127.0.0.1 and share a few tokens: room for them.
ENV = {
    "SPA_MAX_CONNECTIONS_PER_ADDRESS": "200",
    "SPA_MAX_CONNECTIONS_PER_PRINCIPAL": "64",
    "SPA_MAX_WAIT_MIN": "0",
    "SPA_LOG_LEVEL": "WARNING",
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cluster")


@pytest.fixture(scope="module")
def redis(workdir: Path) -> Iterator[OwnRedis]:
    own = OwnRedis(workdir / "redis").start()
    yield own
    own.stop()


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    with mysql_database() as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="module")
def tokens(database: str) -> dict[str, str]:
    return demo_tokens(database)


@pytest.fixture(scope="module")
def cluster(database: str, redis: OwnRedis, workdir: Path, tokens: dict[str, str]) -> Iterator[Cluster]:
    running = Cluster(database, redis.url, workdir, channel=f"spa-test-{uuid.uuid4().hex[:8]}", env=ENV).start()
    yield running
    running.stop()


@pytest.fixture
def clients() -> Iterator[list[Client]]:
    opened: list[Client] = []
    yield opened
    for c in opened:
        c.close()


def count_waiting(url: str) -> int:
    db = Database(url, pool_size=1, max_overflow=0)
    try:
        with db.read() as s:
            return int(
                s.scalar(select(func.count()).select_from(Transaction).where(Transaction.status == "pending_therapist"))
                or 0
            )
    finally:
        db.dispose()


def test_pages_and_health_answer_through_nginx(cluster: Cluster) -> None:
    assert requests.get(f"{cluster.url}/healthz", timeout=5).json()["status"] == "ok"
    assert requests.get(f"{cluster.url}/kiosk", timeout=5).status_code == 200


def test_clients_from_one_address_spread_over_the_processes(
    cluster: Cluster, tokens: dict[str, str], clients: list[Client]
) -> None:
    before = cluster.connections()
    for _ in range(9):
        clients.append(Client(cluster.url, tokens["lobby-1"]).connect())
    wait_until(lambda: sum(cluster.connections()) == sum(before) + 9, 10, what="nine connections")
    added = [now - was for now, was in zip(cluster.connections(), before, strict=True)]
    # All from 127.0.0.1, as a whole spa behind one router: each process has its share.
    assert sorted(added) == [3, 3, 3], added


def test_a_broadcast_through_one_process_reaches_clients_on_the_others(
    cluster: Cluster, tokens: dict[str, str], clients: list[Client]
) -> None:
    lobbies = [Client(s.url, tokens["lobby-1"]).connect() for s in cluster.servers]
    kiosk = Client(cluster.servers[0].url, tokens["kiosk-1"]).connect()
    clients.extend([*lobbies, kiosk])
    for lobby in lobbies:
        lobby.call("monitor_subscribe")
    order = kiosk.call("customer_confirm_selection", {"customer_name": "Across", "items": [{"service_id": 1}]})
    assert order["ok"], order
    for lobby in lobbies:
        seen = lobby.wait_for("monitor_updated", lambda d: d["transaction"]["id"] == order["transaction_id"])
        assert seen["transaction"]["code"] == order["code"]


@pytest.mark.timeout(400)
def test_claims_stay_exclusive_across_processes(cluster: Cluster, database: str, tokens: dict[str, str]) -> None:
    db = Database(database, pool_size=2, max_overflow=0)
    try:
        ids = fill_waiting(db, 1000, clear=True)
    finally:
        db.dispose()
    claimers = [Client(cluster.servers[i % 3].url, tokens["Anna"]) for i in range(32)]
    try:
        for c in claimers:
            c.connect()

        def drain(c: Client) -> list[int]:
            got = []
            while (ack := c.call("therapist_confirm_next", timeout_s=60))["ok"]:
                got.append(ack["transaction"]["id"])
            assert ack["error"]["code"] == "queue_empty", ack
            return got

        with ThreadPoolExecutor(32) as pool:
            claimed = [t for got in pool.map(drain, claimers) for t in got]
    finally:
        for c in claimers:
            c.close()
    assert len(claimed) == len(set(claimed)) == 1000  # none twice
    assert sorted(claimed) == sorted(ids)


def test_a_killed_process_loses_its_clients_to_the_others_and_nothing_is_lost(
    cluster: Cluster, database: str, tokens: dict[str, str], clients: list[Client]
) -> None:
    kiosks = [Client(cluster.url, tokens["kiosk-1"], reconnection=True).connect() for _ in range(6)]
    clients.extend(kiosks)
    waiting = count_waiting(database)
    orders = [
        k.call("customer_confirm_selection", {"customer_name": f"Before {i}", "items": [{"service_id": 1}]})
        for i, k in enumerate(kiosks)
    ]
    assert all(o["ok"] for o in orders)
    victim = max(range(3), key=lambda i: cluster.connections()[i])
    cluster.kill(victim)
    try:
        # Every kiosk is connected again (the victim's through nginx to the other two).
        wait_until(lambda: all(k.sio.connected for k in kiosks), 30, 0.2, "the kiosks to reconnect")
        survivors = [i for i in range(3) if i != victim]
        wait_until(lambda: sum(cluster.connections()[i] for i in survivors) >= 6, 20, 0.2, "connections moved")
        after = [
            k.call("customer_confirm_selection", {"customer_name": f"After {i}", "items": [{"service_id": 1}]})
            for i, k in enumerate(kiosks)
        ]
        assert all(o["ok"] for o in after), after
        assert count_waiting(database) == waiting + 12  # nothing lost, nothing doubled
    finally:
        cluster.restart(victim)


def test_a_redis_restart_is_survived_and_every_process_converges(
    cluster: Cluster, redis: OwnRedis, database: str, tokens: dict[str, str], clients: list[Client]
) -> None:
    """Redis pub/sub delivers at most once: changes published while it is down are gone. Each
    process's broadcaster sees the gap in versions and re-reads the queue, so what its screens
    are shown converges on what the database holds."""
    lobby = Client(cluster.servers[1].url, tokens["lobby-1"]).connect()
    kiosk = Client(cluster.servers[0].url, tokens["kiosk-1"]).connect()
    clients.extend([lobby, kiosk])
    lobby.call("monitor_subscribe")
    redis.stop()
    during = [
        kiosk.call("customer_confirm_selection", {"customer_name": f"Outage {i}", "items": [{"service_id": 1}]})
        for i in range(3)
    ]
    assert all(o["ok"] for o in during), during  # a command never waits for the relay
    redis.start()  # the same port: the processes' Redis clients reconnect by themselves

    def converged() -> bool:
        probe = kiosk.call(
            "customer_confirm_selection", {"customer_name": "After the outage", "items": [{"service_id": 1}]}
        )
        assert probe["ok"], probe
        try:
            seen = lobby.wait_for("monitor_updated", lambda d: d["transaction"]["id"] == probe["transaction_id"], 3)
        except AssertionError:
            return False  # the relay is not back yet
        shown = {e["id"] for e in seen["estimates"]}
        return all(o["transaction_id"] in shown for o in during)

    wait_until(converged, 40, 1.0, "process 1's screens to show what was made during the outage")

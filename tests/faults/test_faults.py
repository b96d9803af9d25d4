"""Faults during a simulated spa day (issue 14): the database away for seconds, the server killed
with SIGKILL, the network between a till's appliance and the server cut for a minute, the till's
printer out of paper while customers pay. Each plays a short day at high speed through the real
protocol (server/simulation), injects its fault once half the customers ordered, and checks at the
end every invariant of the day (paid once or cancelled, claimed once, FIFO, one receipt per payment
read back from the paper, money against the Z reports) and what the fault itself must not break.

Loopback only: the database and the appliance's network go away through a TcpProxy the test owns,
never the machine's shared MariaDB."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from devices.virtual.printer import VirtualNetworkPrinter
from devices.virtual.printer_model import PaperState
from server.db.migrate import upgrade
from server.simulation.link import NO_ACK
from server.simulation.options import Options
from server.simulation.printers import receipt_numbers
from server.simulation.run import Faults, Outcome, Stage, simulate
from server.simulation.stage import OWN_SERVER_ENV
from tests.support import (
    MYSQL_HOST,
    MYSQL_PORT,
    LiveServer,
    TcpProxy,
    load_demo,
    mysql_database,
    sqlite_database,
    wait_until,
)

# Slow, and generous with time: a day with a fault takes 10-70 s on a quiet machine, several
# times that on a busy one.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

CUSTOMERS = 30
SPEED = 20_000  # the whole day in a few seconds of wall time
SEED = 7  # no-shows, customers who give up, appointments, split payments and tips (test_simulation)
DATABASE_AWAY_S = 4.0  # a MariaDB restart: long enough that every actor runs into it
NETWORK_CUT_S = 60.0  # the minute without network between a till and the server


def write_tokens(database_url: str, workdir: Path) -> Path:
    """The demo's people and devices (a kiosk, two rooms with Anna and Ben, a till, Erik at the
    desk), as `python -m server demo --tokens-file` writes them."""
    path = workdir / "tokens.json"
    path.write_text(json.dumps(list(load_demo(database_url).values())))
    return path


def day_options(server: LiveServer, database_url: str, tokens: Path) -> Options:
    return Options(
        url=server.url, database_url=database_url, tokens_file=tokens, kiosks=1, rooms=2, tills=1,
        customers=CUSTOMERS, speed=SPEED, seed=SEED, printers=True,
    )  # fmt: skip


@pytest.fixture
def sqlite_spa(tmp_path: Path) -> Iterator[tuple[LiveServer, str, Path]]:
    """A server on SQLite with the demo data, set up as the simulation sets up its own."""
    url = sqlite_database(tmp_path)
    tokens = write_tokens(url, tmp_path)
    server = LiveServer(url, tmp_path, **OWN_SERVER_ENV).start()
    try:
        yield server, url, tokens
    finally:
        server.stop()


def reopen(proxy: TcpProxy) -> TcpProxy:
    """The connection back: a proxy on the cut one's port (a cut one stopped listening)."""
    again = TcpProxy(*proxy.target)
    again.port = proxy.port
    return again.start()


def health(server: LiveServer) -> int:
    try:
        return server.healthz().status_code
    except requests.RequestException:
        return 0


def printed(stage: Stage) -> int:
    return sum(len(receipt_numbers(p)) for p in stage.printers.values())


def assert_whole_day(outcome: Outcome, *, but: frozenset[str] = frozenset()) -> None:
    """Every invariant held (``but`` those named), everyone who came was settled, and each
    payment's receipt is on the paper exactly once (the receipts invariant reads the paper back)."""
    assert [v for v in outcome.violations if v.invariant not in but] == [], explain(outcome)
    summary = outcome.summary
    assert summary.customers == CUSTOMERS and summary.turned_away == 0
    assert summary.paid + summary.cancelled + summary.no_show == CUSTOMERS
    assert summary.paid > 0 and summary.printed == summary.paid == len(outcome.ledger.payments)


def explain(outcome: Outcome) -> str:
    """The violations, and the audit log of the transactions they name (#id), in id order."""
    named = {int(n) for v in outcome.violations for n in re.findall(r"#(\d+)", v.detail)}
    rows = [
        f"  audit {r.seq}: #{r.transaction_id} {r.action} {r.from_status} → {r.to_status} staff {r.staff_id}"
        for r in outcome.ledger.audit
        if r.transaction_id in named
    ]
    return "\n".join([*map(str, outcome.violations), *rows, f"retried: {dict(outcome.played.retried)}"])


@pytest.mark.mysql
def test_mariadb_restarted_mid_day_answers_busy_and_recovers_without_a_restart(tmp_path: Path) -> None:
    with mysql_database() as direct_url:
        upgrade(direct_url)
        tokens = write_tokens(direct_url, tmp_path)
        proxies = [TcpProxy(MYSQL_HOST, MYSQL_PORT).start()]
        via_proxy = direct_url.replace(f"{MYSQL_HOST}:{MYSQL_PORT}", f"127.0.0.1:{proxies[0].port}")
        server = LiveServer(via_proxy, tmp_path, **OWN_SERVER_ENV).start()
        assert server.proc is not None
        pid = server.proc.pid
        away: dict[str, object] = {}

        def restart_mariadb(stage: Stage) -> None:
            proxies[-1].cut()
            away["payments"] = stage.payments()
            wait_until(lambda: health(server) == 503, 10, what="/healthz to report the database gone")
            away["healthz"] = server.healthz().json()
            time.sleep(DATABASE_AWAY_S)  # the length of the outage, not a wait for something
            proxies.append(reopen(proxies[-1]))
            wait_until(lambda: health(server) == 200, 30, what="/healthz to report the database back")

        try:
            # The checks read the database directly, not through the proxy.
            outcome = simulate(day_options(server, direct_url, tokens), Faults(restart_mariadb))
            assert server.proc.poll() is None and server.proc.pid == pid  # recovered, not restarted
            assert health(server) == 200
        finally:
            server.stop()
            proxies[-1].cut()
    assert away["healthz"] == {**away["healthz"], "status": "unavailable"}  # type: ignore[dict-item]
    # Commands during the outage were answered `busy` and sent again with their keys.
    assert outcome.played.retried["busy"] > 0, outcome.played.retried
    # FIFO holds here too. On MariaDB audit ids follow INSERTs, not COMMITs, so the check excuses
    # a place changed (a recall, a priority) within the day's reorder window before a claim: seen
    # once in CI as #8 recalled at audit 52, #9 claimed at 53 (tests/unit/test_fifo_check.py).
    assert_whole_day(outcome)
    assert int(away["payments"]) < outcome.summary.paid  # type: ignore[call-overload]  # paid after it too


def test_a_server_killed_mid_day_is_started_again_and_nothing_is_lost_or_doubled(
    sqlite_spa: tuple[LiveServer, str, Path],
) -> None:
    server, url, tokens = sqlite_spa
    restarted: dict[str, int] = {}

    def kill_9(stage: Stage) -> None:
        assert server.proc is not None
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait(10)
        restarted["payments"] = stage.payments()
        restarted["printed"] = printed(stage)
        server.start()  # the same port: clients and the till's appliance find it again

    outcome = simulate(day_options(server, url, tokens), Faults(kill_9))
    # Calls in flight or made while it was down went unanswered and were sent again with their keys.
    assert outcome.played.retried[NO_ACK] > 0, outcome.played.retried
    assert_whole_day(outcome)
    # Payments after the restart printed too, through the appliance's new connection; none twice.
    assert restarted["payments"] < outcome.summary.paid
    assert restarted["printed"] < outcome.summary.paid


def test_a_minute_without_network_between_the_till_and_the_server_loses_and_doubles_nothing(
    sqlite_spa: tuple[LiveServer, str, Path],
) -> None:
    server, url, tokens = sqlite_spa
    network = [TcpProxy("127.0.0.1", server.port).start()]
    seen: dict[str, int] = {}

    def cut_network(stage: Stage) -> None:
        network[-1].cut()
        seen["paid_at_cut"] = stage.payments()
        time.sleep(NETWORK_CUT_S)  # the length of the outage, not a wait for something
        seen["paid_at_restore"], seen["printed_at_restore"] = stage.payments(), printed(stage)
        network.append(reopen(network[-1]))

    try:
        outcome = simulate(
            day_options(server, url, tokens), Faults(cut_network, appliance_url=f"http://127.0.0.1:{network[0].port}")
        )
    finally:
        network[-1].cut()
    # The tills took payments while their appliance was cut off; those receipts waited for the
    # network and then printed, each once.
    assert seen["paid_at_restore"] > seen["paid_at_cut"]
    assert seen["printed_at_restore"] < seen["paid_at_restore"]
    assert_whole_day(outcome)


def test_receipts_print_once_when_paper_runs_out_during_payments_and_comes_back(
    sqlite_spa: tuple[LiveServer, str, Path],
) -> None:
    server, url, tokens = sqlite_spa
    seen: dict[str, int] = {}

    def paper_out(stage: Stage) -> None:
        printers: list[VirtualNetworkPrinter] = list(stage.printers.values())
        for printer in printers:
            printer.set_paper(PaperState.OUT)
        seen["paid_at_out"], seen["printed_at_out"] = stage.payments(), printed(stage)
        wait_until(lambda: stage.payments() >= seen["paid_at_out"] + 3, 30, what="payments while out of paper")
        seen["paid_at_back"], seen["printed_at_back"] = stage.payments(), printed(stage)
        for printer in printers:
            printer.set_paper(PaperState.OK)

    outcome = simulate(day_options(server, url, tokens), Faults(paper_out))
    # Nothing printed without paper; the receipts of the payments meanwhile came once paper was back.
    assert seen["printed_at_back"] == seen["printed_at_out"] < seen["paid_at_back"]
    assert_whole_day(outcome)

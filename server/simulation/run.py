"""`python -m server simulate`: set the stage, plan the day, play it, check it, sum it up."""

from __future__ import annotations

import argparse
import logging
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from devices.virtual.printer import VirtualNetworkPrinter

from ..db.engine import Database
from . import checks, model
from .checks import Violation
from .driver import Cast, Day, Played, play
from .harvest import ledger_of
from .ledger import Ledger
from .link import SimulationError
from .options import Options, options_of, validate
from .printers import TillPrinters
from .stage import Sizes, cast_from_tokens, cast_own, minutes_of_catalog, start_own_server
from .summary import Summary, percentile, utilisation

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    summary: Summary
    violations: list[Violation]
    played: Played
    ledger: Ledger

    @property
    def ok(self) -> bool:
        return not self.violations


@dataclass(frozen=True)
class Stage:
    """What a fault injected mid-day can reach: the server, its database, each till's printer (by
    device id) and how many payments the tills took so far."""

    url: str
    database_url: str
    printers: dict[int, VirtualNetworkPrinter]
    payments: Callable[[], int]


@dataclass(frozen=True)
class Faults:
    """The fault tests' hooks (tests/faults): ``midday`` runs on its own thread once half the
    customers ordered, while the day goes on, and is over before the tills close;
    ``appliance_url`` is where the tills' daemons connect (a proxy the test cuts), by default the
    server's own."""

    midday: Callable[[Stage], None]
    appliance_url: str | None = None


def simulate(opts: Options, faults: Faults | None = None) -> Outcome:
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="spa-sim-")))
        sizes = Sizes(opts.kiosks, opts.rooms, opts.tills)
        if opts.url:
            assert opts.database_url and opts.tokens_file
            url, database_url = opts.url, opts.database_url
            cast = cast_from_tokens(opts.tokens_file, sizes)
        else:
            url, database_url = start_own_server(stack, workdir)
            cast = cast_own(database_url, sizes)
        appliance_url = faults.appliance_url if faults and faults.appliance_url else url
        printers = TillPrinters(stack, workdir, appliance_url, cast.tills) if opts.printers else None
        visits = model.plan_day(
            model.Params(customers=opts.customers, seed=opts.seed), minutes_of_catalog(database_url)
        )
        midday = None
        if faults is not None:
            hook, at_url, at_db = faults.midday, url, database_url

            def midday(day: Day) -> None:
                hook(Stage(at_url, at_db, printers.printers if printers else {}, lambda: day.payments))

        played = play(url, cast, visits, opts.speed, midday)
        if played.errors:
            raise SimulationError("; ".join(played.errors[:5]))
        db = Database(database_url, pool_size=1, max_overflow=0)
        try:
            ledger = ledger_of(
                db, played, claimers=len(cast.rooms), cashiers=len(cast.tills), reorder_window=_reorder_window(db, cast)
            )
        finally:
            db.dispose()
        if printers is not None:
            per_till: dict[int, int] = {}
            for p in ledger.payments:
                if p.device_id is not None:
                    per_till[p.device_id] = per_till.get(p.device_id, 0) + 1
            printers.wait_for(per_till)
            ledger.printed = printers.printed()
        violations = checks.check(ledger)
        statuses = [t.status for t in ledger.transactions.values()]
        summary = Summary(
            customers=len(played.created),
            turned_away=played.turned_away,
            paid=statuses.count("paid"),
            cancelled=statuses.count("cancelled"),
            no_show=statuses.count("no_show"),
            wait_median_min=percentile(played.waits_s, 50) / 60,
            wait_p90_min=percentile(played.waits_s, 90) / 60,
            utilisation=utilisation(played.busy_s, len(cast.rooms), played.day_s),
            day_min=played.day_s / 60,
            wall_s=played.wall_s,
            events=played.events,
            printed=sum(len(n) for n in ledger.printed.values()) if ledger.printed is not None else None,
        )
        return Outcome(summary, violations, played, ledger)


def _reorder_window(db: Database, cast: Cast) -> int:
    """How far a change's audit id may run ahead of its commit (ledger.reorder_window): SQLite
    takes one writer at a time; on MariaDB every client writing at once may have a transaction in
    flight, each writing a row or two before it commits."""
    if db.is_sqlite:
        return 0
    return 2 * (len(cast.kiosks) + len(cast.rooms) + len(cast.tills) + 1)


def main(args: argparse.Namespace) -> int:
    opts = options_of(args)
    problem = validate(opts)
    if problem:
        print(f"error: {problem}")
        return 2
    try:
        outcome = simulate(opts)
    except SimulationError as exc:
        print(f"the simulated day failed: {exc}")
        return 1
    print(report(outcome, opts))
    return 0 if outcome.ok else 1


def report(outcome: Outcome, opts: Options) -> str:
    lines = [
        f"== a simulated day: {opts.customers} customers, {opts.kiosks} kiosks, {opts.rooms} rooms, "
        f"{opts.tills} tills, {opts.speed:g}× real speed, seed {opts.seed}" + (", printers" if opts.printers else ""),
        "== invariants",
    ]
    failed = {v.invariant for v in outcome.violations}
    for name in checks.INVARIANTS:
        lines.append(f"  {'FAIL' if name in failed else 'ok  '} {name}")
    lines += [f"  - {v}" for v in outcome.violations[:30]]
    if len(outcome.violations) > 30:
        lines.append(f"  … and {len(outcome.violations) - 30} more")
    lines.append("== summary")
    lines += [f"  {line}" for line in outcome.summary.lines()]
    return "\n".join(lines)

"""The simulated spa day as a load generator: customers per second through the real protocol with
every invariant holding (issue 14).

    python -m bench.simulate [--customers 300] [--kiosks 4] [--rooms 10] [--tills 3] [--speed 1e6] [--seed 1]

`python -m server simulate` on its own server (SQLite in a temporary directory), at a speed so far
above real time that the model's waits vanish and the server is what the day waits for: every
arrival is due at once, and each room calls, starts and finishes as fast as its acknowledgements
come back. Customers per second is the day's customers over the wall-clock time from the first
arrival to the last till closed. A day whose invariants fail prints them and exits non-zero: its
figure does not count.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys

from server.simulation.options import Options
from server.simulation.run import report, simulate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.simulate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--kiosks", type=int, default=4)
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--tills", type=int, default=3)
    parser.add_argument("--speed", type=float, default=1e6)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--printers", action="store_true")
    args = parser.parse_args(argv)
    opts = Options(
        url=None, database_url=None, tokens_file=None, kiosks=args.kiosks, rooms=args.rooms, tills=args.tills,
        customers=args.customers, speed=args.speed, seed=args.seed, printers=args.printers,
    )  # fmt: skip
    outcome = simulate(opts)
    print(report(outcome, opts))
    print(f"== {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores")
    if not outcome.ok:
        print("== invariants failed: no figure")
        return 1
    s = outcome.summary
    print(f"== {s.customers_per_s:.2f} customers/s with all invariants holding ({s.events / s.wall_s:.0f} events/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

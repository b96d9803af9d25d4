"""The command line of `python -m server simulate` (light: the CLI builds its parser from it
without loading the clients)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Options:
    url: str | None
    database_url: str | None
    tokens_file: Path | None
    kiosks: int
    rooms: int
    tills: int
    customers: int
    speed: float
    seed: int
    printers: bool


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="a running server (default: start one on SQLite in a temporary directory)")
    parser.add_argument("--database-url", help="with --url: its database, read at the end for the checks")
    parser.add_argument("--tokens-file", type=Path, help="with --url: tokens as `python -m server demo` writes them")
    parser.add_argument("--kiosks", type=int, default=2)
    parser.add_argument("--rooms", type=int, default=3)
    parser.add_argument("--tills", type=int, default=1)
    parser.add_argument("--customers", type=int, default=40)
    parser.add_argument(
        "--speed", type=float, default=600.0, help="model time per wall-clock time (600: a minute in 0.1 s)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--printers", action="store_true", help="each till is the appliance daemon with a virtual printer"
    )


def options_of(args: argparse.Namespace) -> Options:
    return Options(
        args.url, args.database_url, args.tokens_file, args.kiosks, args.rooms, args.tills, args.customers,
        args.speed, args.seed, args.printers,
    )  # fmt: skip


def validate(opts: Options) -> str | None:
    if opts.url and not (opts.database_url and opts.tokens_file):
        return "--url needs --database-url (for the checks) and --tokens-file (for the tokens)"
    for name, value, low in (("--kiosks", opts.kiosks, 1), ("--rooms", opts.rooms, 1), ("--tills", opts.tills, 1),
                             ("--customers", opts.customers, 1)):  # fmt: skip
        if value < low:
            return f"{name} = {value}: must be at least {low}"
    if opts.speed <= 0:
        return f"--speed = {opts.speed}: must be more than 0"
    return None

"""``python -m appliance [run] --config PATH`` runs the daemon; ``python -m appliance check --config PATH``
validates the config and reports which devices open.

Exit codes: 0 after a clean stop, 1 when the state directory cannot be used, 2 for a bad config or
bad arguments. Problems at start are one line on stderr, never a traceback.

``SPA_ALLOW_VIRTUAL_DEVICES=1`` in the environment (read once, here) lets the config name the
virtual device kinds of tests and demos; without it a config naming one is refused.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from common.sdnotify import Notifier

from . import logs
from .check import run_check
from .config import ALLOW_VIRTUAL_ENV, load_config
from .daemon import Appliance
from .errors import ConfigError, StateError

logger = logging.getLogger("appliance")

DEFAULT_CONFIG = "/etc/spa/appliance.toml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m appliance", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", choices=("run", "check"), default="run")
    parser.add_argument("--config", default=DEFAULT_CONFIG, help=f"the TOML config (default {DEFAULT_CONFIG})")
    args = parser.parse_args(argv)
    # check talks to a person: only the drivers' warnings, on stderr, between its own lines
    logs.configure("WARNING", sys.stderr) if args.command == "check" else logs.configure()
    allow_virtual = os.environ.get(ALLOW_VIRTUAL_ENV, "") == "1"
    try:
        config = load_config(Path(args.config), allow_virtual=allow_virtual)
    except ConfigError as exc:
        print(f"appliance: config error: {exc}", file=sys.stderr)
        return 2
    if args.command == "check":
        return run_check(config)
    for warning in config.warnings:
        logger.warning(warning)
    if allow_virtual:
        logger.info("%s=1: the virtual device kinds of tests and demos are accepted", ALLOW_VIRTUAL_ENV)
    try:
        return Appliance(config, Notifier.from_env()).run()
    except StateError as exc:
        print(f"appliance: cannot start: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

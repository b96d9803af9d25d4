"""Start a virtual device from the command line, for the demo or for trying the drivers by hand.

    python -m devices.virtual printer [--host 127.0.0.1] [--port 9100]
        An ESC/POS network printer; each receipt it prints is logged as text.
    python -m devices.virtual scanner [--link PATH] [--terminator cr|lf|crlf]
        A serial barcode scanner on a pty; prints the port path on the first line of stdout,
        then sends every line read from stdin as one scan.

Both run until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from devices.virtual.printer import VirtualNetworkPrinter
from devices.virtual.serial_scanner import VirtualSerialScanner

logger = logging.getLogger("devices.virtual")

TERMINATORS = {"cr": b"\r", "lf": b"\n", "crlf": b"\r\n"}


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def run_printer(args: argparse.Namespace) -> int:
    stop = _stop_on_signals()
    with VirtualNetworkPrinter(args.host, args.port) as printer:
        logger.info("virtual ESC/POS printer listening on %s:%d", printer.host, printer.port)
        print(f"{printer.host}:{printer.port}", flush=True)
        stop.wait()
    return 0


def run_scanner(args: argparse.Namespace) -> int:
    stop = _stop_on_signals()
    with VirtualSerialScanner(terminator=TERMINATORS[args.terminator], link=args.link) as scanner:
        logger.info("virtual serial scanner on %s; each line on stdin is a scan", scanner.port)
        print(scanner.port, flush=True)

        def feed_stdin() -> None:
            for line in sys.stdin:
                if text := line.strip():
                    scanner.scan(text)
                    logger.info("scanned %r", text)

        threading.Thread(target=feed_stdin, name="virtual-scanner.stdin", daemon=True).start()
        stop.wait()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devices.virtual", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="device", required=True)
    printer = sub.add_parser("printer", help="a virtual ESC/POS network printer")
    printer.add_argument("--host", default="127.0.0.1")
    printer.add_argument("--port", type=int, default=9100, help="0 picks a free port (default 9100)")
    printer.set_defaults(run=run_printer)
    scanner = sub.add_parser("scanner", help="a virtual serial barcode scanner on a pty")
    scanner.add_argument("--link", help="also make this symlink to the pty, e.g. /tmp/spa-scanner")
    scanner.add_argument("--terminator", choices=sorted(TERMINATORS), default="cr")
    scanner.set_defaults(run=run_scanner)
    args = parser.parse_args(argv)
    # force: importing python-escpos already called logging.basicConfig() (escpos/capabilities.py)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())

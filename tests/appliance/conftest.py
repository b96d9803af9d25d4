"""Fixtures for the appliance tests: the spa's server on loopback, the virtual printer and the
virtual serial scanner (a pty) as the daemon's devices, FIFO-backed evdev buttons and touchscreen,
and the daemons themselves as subprocesses, killed at the end whatever happened.

A till and a room box are one call each: ``appliances.till(scanner=scanner, drawer=False)``,
``room, buttons = appliances.room(number="7")`` (see ``harness.Appliances``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from devices.virtual.printer import VirtualNetworkPrinter
from devices.virtual.serial_scanner import VirtualSerialScanner
from tests.appliance.harness import Appliances, Spa
from tests.support import writable_fifo


@pytest.fixture
def spa(tmp_path: Path) -> Iterator[Spa]:
    server = Spa(tmp_path).start()
    yield server
    server.close()


@pytest.fixture
def printer() -> Iterator[VirtualNetworkPrinter]:
    with VirtualNetworkPrinter() as virtual:
        yield virtual


@pytest.fixture
def scanner(tmp_path: Path) -> Iterator[VirtualSerialScanner]:
    with VirtualSerialScanner(link=tmp_path / "scanner") as virtual:
        yield virtual


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Callable[[str], tuple[Path, int]]]:
    """``fifo(name)``: a FIFO for a ``buttons_fifo``/``touch_fifo`` device and the test's write end
    (``tests.support.writable_fifo``)."""
    with ExitStack() as fds:

        def make(name: str) -> tuple[Path, int]:
            path = tmp_path / name
            return path, fds.enter_context(writable_fifo(path))

        yield make


@pytest.fixture
def appliances(spa: Spa, tmp_path: Path) -> Iterator[Appliances]:
    """The test's daemons: ``.till(…)``, ``.room(…)``, or ``(name, config, env=None)`` for any other
    (not yet started)."""
    made = Appliances(spa, tmp_path)
    yield made
    made.close()

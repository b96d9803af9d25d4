"""Fixtures for the appliance tests: the spa's server on loopback, the virtual printer and the
virtual serial scanner (a pty) as the daemon's devices, FIFO-backed evdev buttons and touchscreen,
and the daemon itself as a subprocess, killed at the end whatever happened."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devices.virtual.evdev_devices import with_syn
from devices.virtual.fifo_input import pack_events
from devices.virtual.printer import VirtualNetworkPrinter
from devices.virtual.serial_scanner import VirtualSerialScanner
from tests.appliance.harness import ApplianceProcess, Spa


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
    (opened read-write, so writes never block on a missing reader and nothing is lost meanwhile)."""
    fds: list[int] = []

    def make(name: str) -> tuple[Path, int]:
        path = tmp_path / name
        os.mkfifo(path)
        fd = os.open(path, os.O_RDWR)
        fds.append(fd)
        return path, fd

    yield make
    for fd in fds:
        os.close(fd)


@pytest.fixture
def appliances(tmp_path: Path) -> Iterator[Callable[..., ApplianceProcess]]:
    """``appliances(name, config, env=None)``: a daemon process, not yet started."""
    made: list[ApplianceProcess] = []

    def make(name: str, config: dict[str, Any], env: dict[str, str] | None = None) -> ApplianceProcess:
        process = ApplianceProcess(tmp_path, name, config, env)
        made.append(process)
        return process

    yield make
    for process in made:
        process.close()


def printer_settings(printer: VirtualNetworkPrinter, **extra: Any) -> dict[str, Any]:
    return {"kind": "printer_network", "host": printer.host, "port": printer.port, **extra}


def scanner_settings(scanner: VirtualSerialScanner) -> dict[str, Any]:
    return {"kind": "scanner_serial", "port": scanner.port}


def buttons_settings(path: Path) -> dict[str, Any]:
    return {"kind": "buttons_fifo", "path": str(path), "keymap": dict(KEYMAP)}


KEYMAP = {"KEY_F1": "next", "KEY_F2": "start", "KEY_F3": "finish"}
KEY_CODES = {"next": 59, "start": 60, "finish": 61}  # evdev KEY_F1, KEY_F2, KEY_F3


class Buttons:
    """The room's key pad behind a FIFO. Presses are stamped on a timeline of their own that starts
    in the past and only moves forward, as the kernel stamps a key's events: each press is key down,
    key up ``held_s`` later, as input_event records in one write (a reader never gets half a press)."""

    GAP_S = 0.05  # between one press's release and the next press: longer than the 30 ms debounce

    def __init__(self, fd: int, presses_ahead: int = 1000) -> None:
        self.fd = fd
        self.clock = time.time() - presses_ahead * 0.2 - 2.0

    def press(self, action: str, held_s: float = 0.05) -> None:
        code = KEY_CODES[action]
        os.write(self.fd, pack_events(with_syn([(code, 1), (code, 0)]), at=self.clock, step_s=held_s / 2))
        self.clock += 1.5 * held_s + self.GAP_S

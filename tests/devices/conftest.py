"""Fixtures for the device driver tests: virtual devices on real protocols.

evdev: the ``input_backend`` fixture runs a test on the pipe-backed virtual bus (always) and on
real kernel devices through ``/dev/uinput`` (only where it exists). Which paths ran is printed in
the terminal summary and recorded in each test's ``user_properties`` as ``evdev_path``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devices.base import Receipt
from devices.virtual.evdev_devices import uinput_available
from devices.virtual.printer import VirtualNetworkPrinter
from tests.devices.helpers import PipeBackend, UInputBackend, make_receipt

_evdev_paths_run: dict[str, int] = {}


@pytest.fixture(params=["pipe", "uinput"])
def input_backend(request: pytest.FixtureRequest) -> Iterator[PipeBackend | UInputBackend]:
    if request.param == "uinput" and not uinput_available():
        pytest.skip("no /dev/uinput on this machine; the pipe-backed run of this test covers the driver code")
    backend = PipeBackend() if request.param == "pipe" else UInputBackend()
    request.node.user_properties.append(("evdev_path", backend.name))
    _evdev_paths_run[backend.name] = _evdev_paths_run.get(backend.name, 0) + 1
    yield backend
    backend.close()


@pytest.fixture
def pipe_backend(request: pytest.FixtureRequest) -> Iterator[PipeBackend]:
    """For tests that set event timestamps (debounce, long press, scan timeout): pipe path only."""
    backend = PipeBackend()
    request.node.user_properties.append(("evdev_path", backend.name))
    _evdev_paths_run[backend.name] = _evdev_paths_run.get(backend.name, 0) + 1
    yield backend
    backend.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _evdev_paths_run:
        return
    runs = ", ".join(f"{name}: {count} tests" for name, count in sorted(_evdev_paths_run.items()))
    uinput = "present" if uinput_available() else "absent, pipe-backed evdev devices used"
    terminalreporter.write_line(f"devices: evdev paths taken: {runs} (/dev/uinput {uinput})")


@pytest.fixture
def virtual_printer() -> Iterator[VirtualNetworkPrinter]:
    with VirtualNetworkPrinter() as printer:
        yield printer


@pytest.fixture
def receipt() -> Receipt:
    return make_receipt()

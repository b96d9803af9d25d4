"""The virtual device kinds, for tests and the demo only.

``buttons_fifo`` and ``touch_fifo`` read kernel input_event records from a FIFO through the real
button and touch drivers (``fifo_input.py``), so a whole appliance daemon runs as a process without
``/dev/uinput``. They are not in ``devices.registry.KINDS``: a production config naming one is
refused, and a caller that wants them (the appliance daemon started with its opt-in, a test) builds
with ``with_virtual_kinds()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from devices.registry import KINDS, DeviceFactory
from devices.virtual.fifo_input import fifo_buttons, fifo_touch

VIRTUAL_KINDS: Mapping[str, DeviceFactory] = MappingProxyType(
    {
        "buttons_fifo": fifo_buttons,
        "touch_fifo": fifo_touch,
    }
)


def with_virtual_kinds(kinds: Mapping[str, DeviceFactory] = KINDS) -> Mapping[str, DeviceFactory]:
    """``kinds`` and the virtual ones beside them."""
    return MappingProxyType({**kinds, **VIRTUAL_KINDS})

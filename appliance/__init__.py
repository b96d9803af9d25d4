"""The appliance daemon: bridges a Raspberry Pi's devices to the central server's Socket.IO events."""

from __future__ import annotations

VERSION = "0.1.0"
SOFTWARE = f"spa-appliance {VERSION}"  # sent in heartbeats (at most 40 characters)

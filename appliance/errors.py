"""The appliance's errors. Device errors come from ``devices.base``; these are the daemon's own."""

from __future__ import annotations


class ApplianceError(Exception):
    """Base of the daemon's errors."""


class ConfigError(ApplianceError):
    """The config file is missing, not TOML, or a key is wrong. The message names the key and what
    was expected; the daemon stops at start with exit code 2."""


class StateError(ApplianceError):
    """The state directory or the outbox database cannot be used (permissions, full disk, corruption)."""


class LinkDown(ApplianceError):
    """The server connection is not up, or dropped while a command waited for its acknowledgement."""


class AckTimeout(ApplianceError):
    """The server did not acknowledge a command in time; it is sent again with the same key."""

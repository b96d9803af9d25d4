"""What the threads tell each other through their bounded queues. Frozen values only.

The network thread's inbox carries hints and reports; nothing in it is the only copy of anything
that matters: commands and print results are in the SQLite store before their hint is queued, so a
full queue (a hint dropped) delays nothing for longer than the next loop of the network thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from devices.base import DeviceHealth


@dataclass(frozen=True)
class OutboxChanged:
    """A device thread added a command to the outbox."""


@dataclass(frozen=True)
class Touched:
    """Someone touched the kiosk's screen."""

    device: str
    at: float


@dataclass(frozen=True)
class HealthChanged:
    device: str
    health: DeviceHealth


@dataclass(frozen=True)
class WorkerNote:
    """The supervisor's word on a device's thread: ``state`` "stalled" or "restarting", or None once
    the thread is well again."""

    device: str
    state: str | None
    detail: str = ""


@dataclass(frozen=True)
class ServerEvent:
    """An event the server sent (e.g. ``print_receipt``), passed on by the Socket.IO client's thread."""

    event: str
    data: Any


@dataclass(frozen=True)
class PrintResultsRecorded:
    """The printer thread recorded job results in the store: there is something to report."""


@dataclass(frozen=True)
class JobsArrived:
    """For the printer thread: the network thread stored new jobs."""


NetMessage = OutboxChanged | Touched | HealthChanged | WorkerNote | ServerEvent | PrintResultsRecorded

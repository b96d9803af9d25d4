"""The contract between device drivers and the appliance daemon.

No hardware library is imported here: the appliance can use these types without evdev,
pyserial or python-escpos installed. Each driver runs in a thread owned by the appliance's
supervisor and exposes one of the two protocols below.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

# The states go on the wire in heartbeats: defined once, with the rest of the wire contract.
from common.wire import DeviceState
from devices.print_jobs import (
    Document,
    DocumentJob,
    DocumentLine,
    DrawerJob,
    JobPart,
    JobResult,
    NoJournal,
    Outcome,
    PrintJob,
    Receipt,
    ReceiptJob,
    ReceiptLine,
    SendJournal,
    TaxLine,
    Tender,
)

__all__ = [
    "ButtonEvent",
    "DeviceError",
    "DeviceHealth",
    "DeviceMisconfigured",
    "DeviceState",
    "DeviceUnavailable",
    "Document",
    "DocumentJob",
    "DocumentLine",
    "DrawerJob",
    "InputDevice",
    "InputEvent",
    "JobPart",
    "JobResult",
    "NoJournal",
    "Outcome",
    "PrintJob",
    "Receipt",
    "ReceiptJob",
    "ReceiptLine",
    "ReceiptPrinterDevice",
    "ScanEvent",
    "SendJournal",
    "TaxLine",
    "Tender",
    "TouchActivity",
]


@dataclass(frozen=True)
class DeviceHealth:
    state: DeviceState
    detail: str = ""
    last_event_at: float | None = None  # unix time of the last scan, press, touch or printed job

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state.value, "detail": self.detail, "last_event_at": self.last_event_at}


class DeviceError(Exception):
    """Base of every error a driver raises."""


class DeviceUnavailable(DeviceError):
    """Transient: the device is missing, unplugged or offline. Call ``open()`` again later, with backoff."""

    def __init__(self, message: str, state: DeviceState = DeviceState.MISSING) -> None:
        super().__init__(message)
        self.state = state


class DeviceMisconfigured(DeviceError):
    """Permanent: the settings are wrong. The message names the key and what was expected."""


@dataclass(frozen=True)
class ScanEvent:
    device: str
    text: str
    at: float  # unix time


@dataclass(frozen=True)
class ButtonEvent:
    device: str
    action: str
    long_press: bool
    at: float  # unix time


@dataclass(frozen=True)
class TouchActivity:
    device: str
    at: float  # unix time


InputEvent = ScanEvent | ButtonEvent | TouchActivity


@runtime_checkable
class InputDevice(Protocol):
    """A scanner, a set of buttons or a touchscreen.

    ``read`` blocks at most ``timeout_s`` and returns ``[]`` on timeout. When the device vanishes,
    ``read`` closes the device, reports MISSING in ``health()`` and raises ``DeviceUnavailable``;
    the caller calls ``open()`` again later (which raises ``DeviceUnavailable`` while it is still gone).
    ``present()`` says cheaply whether it may be back, so it is reopened the moment it is replugged.

    ``fileno()`` is the open device's descriptor, and ``adopt(fd)`` hands one back at the next
    ``open()``: the appliance keeps it in systemd's file descriptor store across a restart, so the
    device stays open (and grabbed) and what arrives meanwhile waits in the kernel.
    """

    name: str

    def open(self) -> None: ...

    def read(self, timeout_s: float) -> Sequence[InputEvent]: ...  # a list, of the device's event type

    def health(self) -> DeviceHealth: ...

    def close(self) -> None: ...

    def present(self) -> bool: ...

    def fileno(self) -> int | None: ...

    def adopt(self, fd: int) -> None: ...


@runtime_checkable
class ReceiptPrinterDevice(Protocol):
    """A receipt printer with its own job queue.

    ``submit`` may be called from any thread. The device thread calls ``work(timeout_s, journal)``
    in a loop; it prints queued jobs (status before, confirmation after, bounded timeouts) and
    returns the results of jobs that finished or newly wait. A job waits only while nothing of its
    receipt was sent; once sent, its outcome is final (``PRINTED`` or ``UNKNOWN``), and ``journal``
    has recorded each part before its first byte left.
    """

    name: str

    def open(self) -> None: ...

    def submit(self, job: PrintJob) -> None: ...

    def work(self, timeout_s: float, journal: SendJournal | None = None) -> list[JobResult]: ...

    def health(self) -> DeviceHealth: ...

    def close(self) -> None: ...

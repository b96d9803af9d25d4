"""What the serial-port drivers (scanner and printer) share: baud rates and open errors."""

from __future__ import annotations

import errno

import serial

from devices.base import DeviceState, DeviceUnavailable

BAUDRATES = (9600, 19200, 38400, 57600, 115200)


def unavailable_for(port: str, exc: serial.SerialException | OSError) -> DeviceUnavailable:
    """Map pyserial's open errors to missing (retry quietly) or error (someone must act)."""
    code = getattr(exc, "errno", None)
    if code in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
        return DeviceUnavailable(f"{port}: not present")
    if code == errno.EACCES:
        return DeviceUnavailable(f"{port}: permission denied (is the user in group 'dialout'?)", DeviceState.ERROR)
    if "lock" in str(exc).lower() or code in (errno.EBUSY, errno.EAGAIN):
        return DeviceUnavailable(f"{port}: in use by another process", DeviceState.ERROR)
    return DeviceUnavailable(f"{port}: {exc}", DeviceState.ERROR)

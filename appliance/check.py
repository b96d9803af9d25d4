"""``python -m appliance check --config PATH``: is the config valid, and which devices open here?

A device that cannot be opened is reported, not fatal: provisioning runs this before the hardware
is plugged in, and a printer may be off. Exit code 0 for a valid config, 2 for an invalid one.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from devices.base import DeviceError, DeviceState, ReceiptPrinterDevice

from .config import ApplianceConfig, DeviceSpec


def check_device(spec: DeviceSpec) -> tuple[bool, str]:
    """Open the device once and close it again: (usable, what was found)."""
    device = spec.factory(spec.name, spec.settings)
    try:
        device.open()
        health = device.health()
    except DeviceError as exc:
        return False, str(exc)
    except Exception as exc:  # noqa: BLE001 - a driver bug must be reported here, not end the check
        return False, f"{type(exc).__name__}: {exc}"
    finally:
        device.close()
    if isinstance(device, ReceiptPrinterDevice) and health.state not in (DeviceState.OK, DeviceState.PAPER_LOW):
        return False, f"{health.state.value}: {health.detail}"
    return True, f"{health.state.value}: {health.detail}" if health.detail else health.state.value


def state_dir_status(config: ApplianceConfig) -> tuple[bool, str]:
    path = config.state_dir
    if path.exists():
        writable = os.access(path, os.W_OK | os.X_OK)
        return writable, f"{path}: {'writable' if writable else 'NOT writable by this user'}"
    parent = next((p for p in path.parents if p.exists()), None)
    creatable = parent is not None and os.access(parent, os.W_OK | os.X_OK)
    outcome = "will be created" if creatable else "cannot be created by this user"
    return creatable, f"{path}: does not exist yet ({outcome})"


def run_check(config: ApplianceConfig, out: Callable[[str], None] = print) -> int:
    out(f"config {config.path}: valid ({config.role.value} appliance for {config.server_url})")
    for warning in config.warnings:
        out(f"  warning: {warning}")
    _, state = state_dir_status(config)
    out(f"  state_dir {state}")
    opened = 0
    for spec in config.devices:
        ok, detail = check_device(spec)
        opened += ok
        out(f"  device {spec.name} ({spec.kind}): {'ok' if ok else 'cannot open'}: {detail}")
    if not config.devices:
        out("  no devices for this role")
    else:
        out(f"{opened} of {len(config.devices)} devices opened")
    return 0

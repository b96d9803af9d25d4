"""Receipt printer on USB (printer class, bulk endpoints), through pyusb.

pyusb directly, not python-escpos's ``Usb``: its ``open()`` resets the device every time
(``_configure_usb`` calls ``reset()``), so a driver reopening a silent printer every few seconds
reset it every few seconds, and its default write ``timeout=0`` means "wait forever" in pyusb.

Here the device is opened as it is: the kernel's ``usblp`` driver detached if it holds the
interface, the configuration set only when none is active. A reset happens only before the open
that follows a real failure (``close(failed=True)``: an I/O error, not a timeout or a silent
printer), and then at most once per backoff interval (5 s, doubling to 5 min, back to 5 s once the
printer answers). Every write has ``timeout_ms``, every read its own timeout.
"""

from __future__ import annotations

import errno
import importlib.util
import logging
import time
from typing import Any

from devices.base import DeviceMisconfigured, DeviceState, DeviceUnavailable

logger = logging.getLogger(__name__)
wire = logging.getLogger("wire.printer")

RESET_FIRST_S = 5.0
RESET_MAX_S = 300.0
_READ_SIZE = 64  # one bulk packet; a status reply is one byte


def pyusb_installed() -> bool:
    """USB printers need pyusb (``python-escpos[usb]`` installs it) and libusb."""
    return importlib.util.find_spec("usb") is not None


PYUSB_MISSING = "needs pyusb, which is not installed (pip install 'python-escpos[usb]')"


class UsbConnection:
    release_when_idle = False

    def __init__(
        self,
        vendor_id: int,
        product_id: int,
        *,
        in_ep: int = 0x82,
        out_ep: int = 0x01,
        timeout_ms: int = 5000,
        interface: int = 0,
    ) -> None:
        if timeout_ms <= 0:
            raise ValueError("timeout_ms must be > 0: pyusb treats 0 as no timeout at all")
        self.vendor_id, self.product_id = vendor_id, product_id
        self.in_ep, self.out_ep = in_ep, out_ep
        self.timeout_ms = timeout_ms
        self.interface = interface
        self.description = f"usb {vendor_id:04x}:{product_id:04x}"
        self._device: Any = None
        self._reset_due = False  # a real failure happened: reset before the next open (if the backoff allows)
        self._reset_not_before = 0.0
        self._reset_backoff_s = RESET_FIRST_S
        self.resets = 0

    @property
    def is_open(self) -> bool:
        return self._device is not None

    def open(self) -> None:
        if self._device is not None:
            return
        if not pyusb_installed():
            raise DeviceMisconfigured(f"{self.description}: printer_usb {PYUSB_MISSING}")
        device = self._find()
        if self._reset_due and time.monotonic() >= self._reset_not_before:
            device = self._reset(device)
        try:
            self._claim(device)
        except OSError as exc:  # usb.core.USBError is an OSError
            raise self._unavailable(exc) from exc
        self._device = device

    def _find(self) -> Any:
        import usb.core

        try:
            device = usb.core.find(idVendor=self.vendor_id, idProduct=self.product_id)
        except ValueError as exc:  # pyusb's NoBackendError: libusb itself is not installed
            if type(exc).__name__ != "NoBackendError":
                raise
            raise DeviceUnavailable(
                f"{self.description}: libusb not found (install libusb-1.0-0)", DeviceState.ERROR
            ) from exc
        if device is None:
            raise DeviceUnavailable(f"{self.description}: not present")
        return device

    def _reset(self, device: Any) -> Any:
        import usb.util

        self._reset_due = False
        self._reset_not_before = time.monotonic() + self._reset_backoff_s
        logger.warning(
            "%s: resetting the printer after a failure (next reset not before %.0f s)",
            self.description,
            self._reset_backoff_s,
        )
        self._reset_backoff_s = min(self._reset_backoff_s * 2, RESET_MAX_S)
        self.resets += 1
        try:
            device.reset()
        except OSError as exc:
            logger.debug("%s: reset failed: %s", self.description, exc)
        usb.util.dispose_resources(device)
        return self._find()  # a reset may re-enumerate the device: look it up again

    def _claim(self, device: Any) -> None:
        import usb.core

        try:
            if device.is_kernel_driver_active(self.interface):
                device.detach_kernel_driver(self.interface)  # usblp holds printer-class interfaces
        except NotImplementedError:  # backends other than libusb 1.0
            pass
        try:
            device.get_active_configuration()
        except usb.core.USBError:  # not configured yet; setting it again on a configured one is not harmless
            device.set_configuration()

    def _unavailable(self, exc: OSError) -> DeviceUnavailable:
        if exc.errno == errno.EACCES:
            return DeviceUnavailable(
                f"{self.description}: permission denied (is the user in group 'lp'?)", DeviceState.ERROR
            )
        if exc.errno in (errno.ENODEV, errno.ENOENT):
            return DeviceUnavailable(f"{self.description}: not present ({exc})")
        return DeviceUnavailable(f"{self.description}: {exc}", DeviceState.ERROR)

    def _dev(self) -> Any:
        if self._device is None:
            raise ConnectionError(f"{self.description}: not open")
        return self._device

    def send(self, data: bytes) -> None:
        import usb.core

        device = self._dev()
        wire.debug("%s > %r", self.description, data)
        try:
            device.write(self.out_ep, data, self.timeout_ms)
        except usb.core.USBTimeoutError as exc:  # the printer takes no data (offline, buffer full): not broken
            raise TimeoutError(f"{self.description}: write timed out after {self.timeout_ms} ms") from exc

    def read(self, timeout_s: float) -> bytes:
        import usb.core

        device = self._dev()
        try:
            data = bytes(device.read(self.in_ep, _READ_SIZE, max(1, round(timeout_s * 1000))))
        except usb.core.USBTimeoutError:
            return b""
        if data:
            wire.debug("%s < %r", self.description, data)
            self._reset_backoff_s = RESET_FIRST_S  # it answers: the next failure starts the backoff afresh
        return data

    def discard_input(self) -> None:
        for _ in range(16):
            if not self.read(0.001):
                return

    def close(self, *, failed: bool = False) -> None:
        device, self._device = self._device, None
        if failed:
            self._reset_due = True
        if device is not None:
            import usb.util

            try:
                usb.util.dispose_resources(device)
            except OSError as exc:
                logger.debug("%s: close failed: %s", self.description, exc)

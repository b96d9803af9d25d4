"""Receipt printer on USB (printer class, bulk endpoints), through python-escpos's ``Usb`` and pyusb.

python-escpos's default write ``timeout=0`` means "wait forever" in pyusb: a stalled printer would
hang the device thread. Here every write has ``timeout_ms`` and every status read the status timeout.
"""

from __future__ import annotations

import errno
import logging

from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Usb
from escpos.printer.usb import is_usable

from devices.base import DeviceMisconfigured, DeviceState, DeviceUnavailable

logger = logging.getLogger(__name__)
wire = logging.getLogger("wire.printer")


def pyusb_installed() -> bool:
    """python-escpos's USB printers need pyusb, an optional extra ("python-escpos[usb]")."""
    return bool(is_usable())


PYUSB_MISSING = "needs pyusb, which is not installed (pip install 'python-escpos[usb]')"


class UsbConnection:
    def __init__(
        self,
        vendor_id: int,
        product_id: int,
        *,
        in_ep: int = 0x82,
        out_ep: int = 0x01,
        timeout_ms: int = 5000,
        status_timeout_s: float = 1.0,
        profile: str,
    ) -> None:
        if timeout_ms <= 0:
            raise ValueError("timeout_ms must be > 0: pyusb treats 0 as no timeout at all")
        self.vendor_id, self.product_id = vendor_id, product_id
        self.in_ep, self.out_ep = in_ep, out_ep
        self.timeout_ms = timeout_ms
        self.status_timeout_ms = max(1, round(status_timeout_s * 1000))
        self.profile = profile
        self.description = f"usb {vendor_id:04x}:{product_id:04x}"
        self._printer: Usb | None = None

    def printer_arguments(self) -> dict[str, int | str]:
        """What python-escpos's ``Usb`` gets: never ``timeout=0``, its wait-forever default."""
        return {
            "idVendor": self.vendor_id,
            "idProduct": self.product_id,
            "timeout": self.timeout_ms,
            "in_ep": self.in_ep,
            "out_ep": self.out_ep,
            "profile": self.profile,
        }

    @property
    def is_open(self) -> bool:
        return self._printer is not None

    def open(self) -> None:
        if self._printer is not None:
            return
        if not pyusb_installed():
            raise DeviceMisconfigured(f"{self.description}: printer_usb {PYUSB_MISSING}")
        printer = Usb(**self.printer_arguments())
        try:
            printer.open()
        except DeviceNotFoundError as exc:
            cause = exc.__context__
            if isinstance(cause, OSError) and cause.errno == errno.EACCES:
                raise DeviceUnavailable(
                    f"{self.description}: permission denied (is the user in group 'lp'?)", DeviceState.ERROR
                ) from exc
            raise DeviceUnavailable(f"{self.description}: not present ({exc})") from exc
        except ValueError as exc:  # pyusb's NoBackendError: libusb itself is not installed
            if type(exc).__name__ != "NoBackendError":
                raise
            raise DeviceUnavailable(
                f"{self.description}: libusb not found (install libusb-1.0-0)", DeviceState.ERROR
            ) from exc
        device = printer.device
        device.default_timeout = self.status_timeout_ms  # bounds python-escpos's status read
        self._printer = printer

    def send(self, data: bytes) -> None:
        if self._printer is None:
            raise ConnectionError(f"{self.description}: not open")
        wire.debug("%s > %r", self.description, data)
        self._printer._raw(data)  # python-escpos's transport primitive: bulk write with timeout_ms

    def query(self, request: bytes) -> bytes:
        if self._printer is None:
            raise ConnectionError(f"{self.description}: not open")
        wire.debug("%s > %r", self.description, request)
        try:
            reply = bytes(self._printer.query_status(request))
        except OSError as exc:  # pyusb's USBTimeoutError is an OSError with errno ETIMEDOUT
            if getattr(exc, "errno", None) != errno.ETIMEDOUT and type(exc).__name__ != "USBTimeoutError":
                raise
            reply = b""
        wire.debug("%s < %r", self.description, reply)
        return reply

    def close(self) -> None:
        printer, self._printer = self._printer, None
        if printer is not None:
            try:
                printer.close()
            except OSError as exc:
                logger.debug("%s: close failed: %s", self.description, exc)

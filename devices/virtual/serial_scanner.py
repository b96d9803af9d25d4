"""A virtual serial barcode scanner: the far side of a pseudo-terminal pair.

The driver opens ``port`` with pyserial as it would /dev/ttyACM0. With ``link`` set, ``port`` is a
symlink (like /dev/serial/by-id/…) that follows the pty across ``unplug()``/``replug()``; unplugging
closes the pty, so the driver's pyserial sees what a pulled USB cable gives ("device reports
readiness to read but returned no data"), and the port path vanishes until ``replug()``.
No thread: ``scan()`` writes straight into the pty.

A pty keeps what is written to it until someone reads it, even while nobody has the port open. A
real port does not (a UART's receiver is off while the port is closed): ``drop_while_closed``
makes the scanner keep no descriptor of the port itself and drop a scan while nobody has it open.
"""

from __future__ import annotations

import os
import select
import termios
import tty
from pathlib import Path


class VirtualSerialScanner:
    def __init__(
        self,
        *,
        terminator: bytes = b"\r",
        link: str | os.PathLike[str] | None = None,
        drop_while_closed: bool = False,
    ) -> None:
        self.terminator = terminator
        self.link = Path(link) if link is not None else None
        self.drop_while_closed = drop_while_closed
        self.dropped: list[bytes] = []  # what was sent while nobody had the port open
        self._master: int | None = None
        self._slave: int | None = None
        self._slave_name = ""

    @property
    def port(self) -> str:
        return str(self.link) if self.link is not None else self._slave_name

    @property
    def plugged_in(self) -> bool:
        return self._master is not None

    def start(self) -> VirtualSerialScanner:
        self.replug()
        return self

    def replug(self) -> None:
        if self._master is not None:
            return
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no CR→LF translation, until pyserial sets its own modes
        self._master, self._slave = master, slave
        self._slave_name = os.ttyname(slave)
        if self.drop_while_closed:
            os.close(slave)  # the port's settings stay; its data is kept only while someone has it open
            self._slave = None
        if self.link is not None:
            tmp = self.link.with_name(self.link.name + ".new")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(self._slave_name)
            tmp.replace(self.link)

    def unplug(self) -> None:
        if self.link is not None:
            self.link.unlink(missing_ok=True)
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None

    def stop(self) -> None:
        self.unplug()

    def __enter__(self) -> VirtualSerialScanner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def write(self, data: bytes) -> None:
        if self._master is None:
            raise OSError("virtual scanner is unplugged")
        if self.drop_while_closed and not self.port_open():
            self.dropped.append(data)
            return
        os.write(self._master, data)

    def port_open(self) -> bool:
        """Does anyone have the port open? (The pty's master sees POLLHUP when nobody does.)"""
        if self._master is None:
            return False
        poll = select.poll()
        poll.register(self._master, select.POLLHUP)
        return not poll.poll(0)

    def scan(self, text: str) -> None:
        """Send one scan: the text and the terminator."""
        self.write(text.encode("utf-8") + self.terminator)

    def line_speed(self) -> int:
        """The baud rate the port is set to now (as the driver configured it through pyserial)."""
        if self._master is None:
            raise OSError("virtual scanner is unplugged")
        speed = termios.tcgetattr(self._slave if self._slave is not None else self._master)[5]
        return {getattr(termios, f"B{b}"): b for b in (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)}[speed]

"""Virtual ESC/POS printers: the printer model behind a TCP port (like port 9100 of a network
printer) or behind a pseudo-terminal (like a serial printer).

Each owns one named thread, started by ``start()`` and joined by ``stop()``. Tests switch the
printer to paper-out, cover open or a mute status and check what it printed; ``wait_for`` waits
with a deadline, never a sleep.
"""

from __future__ import annotations

import logging
import os
import selectors
import socket
import threading
import time
import tty
from collections.abc import Callable
from typing import Any

from devices.printer.connection import PrinterHungUp
from devices.virtual.printer_model import DrawerPulse, Failure, Paper, PaperState, PrinterModel, StatusMode

logger = logging.getLogger(__name__)

_TICK_S = 0.05  # how often the thread looks at its stop flag


class _VirtualPrinterBase:
    thread_name = "virtual-printer"

    def __init__(self, profile: str = "default") -> None:
        self._model = PrinterModel(profile)
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- control, from the test or the CLI -------------------------------------------------------

    def set_paper(self, state: PaperState) -> None:
        with self._changed:
            if state is PaperState.OUT:
                self._model.run_out_of_paper()
            else:
                self._model.paper_state = state
            self._changed.notify_all()

    def set_cover_open(self, cover_open: bool) -> None:
        with self._changed:
            self._model.cover_open = cover_open
            self._changed.notify_all()

    def set_status_mode(self, mode: StatusMode) -> None:
        with self._changed:
            self._model.status_mode = mode

    def run_out_of_paper_after(self, lines: int) -> None:
        """Paper runs out after ``lines`` more printed lines (in the middle of a job)."""
        with self._changed:
            self._model.paper_out_after_lines = lines

    def fail_after(self, nbytes: int, failure: Failure) -> None:
        """Fail once ``nbytes`` more bytes arrived (status requests included; 0: at the next byte)."""
        with self._changed:
            self._model.fail_after(nbytes, failure)

    def recover(self) -> None:
        """Paper in, cover closed, answering again."""
        with self._changed:
            self._model.recover()
            self._changed.notify_all()

    def answer_gs_r(self, answers: bool) -> None:
        """False: behave like a clone that ignores GS r (transmit status)."""
        with self._changed:
            self._model.answers_gs_r = answers

    @property
    def bytes_received(self) -> int:
        with self._lock:
            return self._model.bytes_received

    # --- what it did --------------------------------------------------------------------------------

    @property
    def papers(self) -> list[Paper]:
        """Finished pieces of paper, in order: receipts (cut) and pieces torn when paper ran out."""
        with self._lock:
            return list(self._model.papers)

    @property
    def receipts(self) -> list[Paper]:
        """The pieces that were cut off: complete receipts."""
        return [p for p in self.papers if p.cut is not None]

    @property
    def drawer_pulses(self) -> list[DrawerPulse]:
        with self._lock:
            return list(self._model.drawer_pulses)

    @property
    def status_requests(self) -> list[int]:
        with self._lock:
            return list(self._model.status_requests)

    @property
    def unknown_commands(self) -> list[bytes]:
        with self._lock:
            return list(self._model.unknown)

    def wait_for(self, predicate: Callable[[Any], bool], timeout_s: float) -> bool:
        """Wait until ``predicate(self)`` holds (re-checked whenever the printer received data)."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                if predicate(self):
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(min(remaining, _TICK_S))

    # --- the thread ------------------------------------------------------------------------------

    def _feed(self, data: bytes) -> tuple[bytes, bool]:
        with self._changed:
            before = len(self._model.papers)
            reply, hang_up = self._model.feed(data)
            finished = self._model.papers[before:]
            self._changed.notify_all()
        for paper in finished:
            logger.info("%s printed:\n%s", self.thread_name, paper.render())
        return reply, hang_up

    def start(self) -> Any:
        if self._thread is not None:
            raise RuntimeError("already started")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._close()

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError


class VirtualNetworkPrinter(_VirtualPrinterBase):
    """An ESC/POS printer on a loopback TCP port (0: an ephemeral port, see ``port``).

    ``single_client``: like many network printers, it serves one connection at a time; a second one
    is accepted but not read (its requests go unanswered) until the first is closed."""

    thread_name = "virtual-printer"

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, profile: str = "default", single_client: bool = False
    ) -> None:
        super().__init__(profile)
        self._server = socket.create_server((host, port), reuse_port=False)
        self._server.setblocking(False)
        self.host, self.port = self._server.getsockname()[:2]
        self.single_client = single_client
        self._selector = selectors.DefaultSelector()
        self._clients: list[socket.socket] = []
        self.connections = 0  # accepted so far

    @property
    def connected(self) -> int:
        """Connections open now."""
        with self._lock:
            return len(self._clients)

    def _run(self) -> None:
        self._selector.register(self._server, selectors.EVENT_READ)
        try:
            while not self._stop.is_set():
                for key, _ in self._selector.select(_TICK_S):
                    if key.fileobj is self._server:
                        self._accept()
                    else:
                        self._serve(key.fileobj)  # type: ignore[arg-type]
        except Exception:
            logger.exception("%s crashed", self.thread_name)
            raise

    def _accept(self) -> None:
        try:
            client, _ = self._server.accept()
        except BlockingIOError:
            return
        client.setblocking(False)
        with self._lock:
            self._clients.append(client)
            self.connections += 1
        if not self.single_client or len(self._clients) == 1:
            self._selector.register(client, selectors.EVENT_READ)

    def _serve(self, client: socket.socket) -> None:
        try:
            data = client.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(client)
            return
        reply, hang_up = self._feed(data)
        try:
            if reply:
                client.sendall(reply)
        except OSError:
            hang_up = True
        if hang_up:
            self._drop(client)

    def _drop(self, client: socket.socket) -> None:
        self._selector.unregister(client)
        with self._lock:
            self._clients.remove(client)
        client.close()
        if self.single_client and self._clients:
            self._selector.register(self._clients[0], selectors.EVENT_READ)  # the next one's turn

    def disconnect_clients(self) -> None:
        """Hang up on everyone connected (like a printer being power-cycled)."""
        for client in list(self._clients):
            client.shutdown(socket.SHUT_RDWR)

    def _close(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()
        self._selector.close()
        self._server.close()


class VirtualSerialPrinter(_VirtualPrinterBase):
    """An ESC/POS printer on the far side of a pseudo-terminal; open ``port`` with pyserial."""

    thread_name = "virtual-printer.serial"

    def __init__(self, *, profile: str = "default") -> None:
        super().__init__(profile)
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._master, selectors.EVENT_READ)
        try:
            while not self._stop.is_set():
                if not selector.select(_TICK_S):
                    continue
                try:
                    data = os.read(self._master, 65536)
                except OSError:  # EIO while no one has the port open
                    self._stop.wait(_TICK_S)
                    continue
                reply, _ = self._feed(data)
                if reply:
                    os.write(self._master, reply)
        finally:
            selector.close()

    def _close(self) -> None:
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass


class ModelLink:
    """A printer connection (``devices.printer.connection.PrinterConnection``) straight into a
    ``PrinterModel``, without a socket: the driver's real bytes, the model's real replies.

    For the tests that break a job at every byte boundary (thousands of jobs): a read that finds
    no reply returns at once, as if its timeout had passed. Like a network printer it is released
    after each exchange, and a hang-up ends the connection (the next read raises ``PrinterHungUp``).
    """

    release_when_idle = True

    def __init__(self, model: PrinterModel) -> None:
        self.model = model
        self.description = "virtual printer (in process)"
        self.opened = 0
        self._open = False
        self._hung_up = False
        self._replies = bytearray()

    @property
    def is_open(self) -> bool:
        return self._open

    def open(self) -> None:
        if not self._open:
            self._open, self._hung_up = True, False
            self._replies.clear()
            self.opened += 1

    def send(self, data: bytes) -> None:
        if not self._open:
            raise ConnectionError("not connected")
        if self._hung_up:
            raise BrokenPipeError("the printer closed the connection")
        reply, hang_up = self.model.feed(data)
        self._replies += reply
        self._hung_up = hang_up

    def read(self, timeout_s: float) -> bytes:
        if not self._open:
            raise ConnectionError("not connected")
        if self._replies:
            data = bytes(self._replies)
            self._replies.clear()
            return data
        if self._hung_up:
            raise PrinterHungUp("closed by the printer")
        return b""

    def discard_input(self) -> None:
        self.read(0)

    def close(self, *, failed: bool = False) -> None:
        self._open = False
        self._replies.clear()

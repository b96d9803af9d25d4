"""The ``Appliance``: owns every thread and queue of the daemon, from start to a clean stop.

Threads: one per device (``<device>.reader`` or ``<device>.worker``), ``net.socketio`` for the
server, ``supervisor`` watching them all (python-socketio's own are ``net.eio.*``). Queues, each
bounded and owned by its consumer: the network thread's inbox, and the printer thread's inbox.
The outbox and the print job store are SQLite tables every thread reaches through its own
connection; they are the durable queues between the device threads and the network thread.
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
from collections.abc import Callable
from types import FrameType

from common.sdnotify import Notifier, listen_fds

from . import SOFTWARE
from .clock import TillClock
from .config import ApplianceConfig, DeviceSpec
from .fdstore import DeviceFds
from .messages import JobsArrived, NetMessage
from .network import NetWorker
from .outbox import Outbox
from .printer import PrinterWorker
from .printstore import PrintJobs
from .reader import InputReader
from .store import Store, prepare
from .supervisor import Supervisor, Worker

logger = logging.getLogger(__name__)

WorkerFactory = Callable[[], Worker]
WorkerFilter = Callable[[Worker], bool]

NET_INBOX_SIZE = 1000  # hints and reports; the commands themselves are in the outbox
PRINTER_INBOX_SIZE = 100  # hints; the jobs themselves are in the store
STOP_INPUTS_S = 2.0  # a read blocks at most 0.5 s
STOP_PRINTER_S = 8.0  # a job being printed may finish (its calls are bounded by the printer's timeouts)


class Appliance:
    def __init__(self, config: ApplianceConfig, notifier: Notifier) -> None:
        self.config = config
        self.notifier = notifier
        self._stop = threading.Event()
        self.net_inbox: queue.Queue[NetMessage] = queue.Queue(NET_INBOX_SIZE)
        self.printer_inbox: queue.Queue[JobsArrived] | None = None
        self._epoch = ""
        self._store: Store | None = None
        self.clock = TillClock(config.daemon.time_sync_flag)
        self.fds = DeviceFds(notifier, listen_fds())  # input devices kept open across a restart
        self.fds.drop_unknown(spec.name for spec in config.devices if not spec.is_printer)

    def run(self) -> int:
        self._epoch = prepare(self.config.state_dir, self.config.outbox_path)
        self._store = Store(self.config.outbox_path, batch=self.config.daemon.group_commits)
        self._install_signal_handlers()
        supervisor = Supervisor(self.notifier, self.net_inbox, stall_after_s=self.config.daemon.stall_after_s)
        for factory in self._workers():
            supervisor.add(factory)
        supervisor.start()
        outbox = self._outbox()
        backlog, _ = outbox.backlog()
        outbox.close()
        logger.info(
            "started %s",
            SOFTWARE,
            extra={
                "role": self.config.role.value,
                "threads": supervisor.thread_names,
                "outbox": backlog,
                "clock_synced": self.clock.synced(),
            },
        )
        if not self.clock.synced():
            logger.warning(
                "the clock is not synchronised yet (no %s): copies of receipts say so instead of a time",
                self.clock.flag,
            )
        self.notifier.ready(f"{self.config.role.value}: {len(self.config.devices)} devices, {backlog} commands queued")
        while not self._stop.wait(1.0):
            pass
        logger.info("stopping")
        self.notifier.stopping()
        self._shutdown(supervisor)
        return 0

    def _outbox(self) -> Outbox:
        assert self._store is not None
        return Outbox(self.config.outbox_path, self._epoch, self._store)

    def _jobs(self) -> PrintJobs:
        assert self._store is not None
        return PrintJobs(self.config.outbox_path, self._store)

    def _workers(self) -> list[WorkerFactory]:
        factories: list[WorkerFactory] = []
        for spec in self.config.devices:
            factories.append(self._device_worker(spec))
        prints = self.config.printing is not None  # a till, a kiosk with a printer
        net_inbox, printer_inbox = self.net_inbox, self.printer_inbox
        factories.append(
            lambda: NetWorker(self.config, self._outbox, self._jobs if prints else None, net_inbox, printer_inbox)
        )
        return factories

    def _device_worker(self, spec: DeviceSpec) -> WorkerFactory:
        if spec.is_printer:
            printing = self.config.printing
            assert printing is not None
            inbox: queue.Queue[JobsArrived] = queue.Queue(PRINTER_INBOX_SIZE)
            self.printer_inbox = inbox
            server_url = self.config.server_url
            return lambda: PrinterWorker(
                spec, printing, self._jobs, inbox, self.net_inbox, clock=self.clock, server_url=server_url
            )
        return lambda: InputReader(spec, self.config, self._outbox, self.net_inbox, fds=self.fds)

    def _install_signal_handlers(self) -> None:
        def stop(signum: int, frame: FrameType | None) -> None:
            self._stop.set()

        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, stop)

    def _shutdown(self, supervisor: Supervisor) -> None:
        """Devices first (what they read is in the outbox), then the network thread, which sends
        what it can within ``stop_flush_s``; whatever is left waits in the outbox."""
        supervisor.halt()
        steps: list[tuple[str, float, WorkerFilter]] = [
            ("input devices", STOP_INPUTS_S, lambda w: isinstance(w, InputReader)),
            ("printer", STOP_PRINTER_S, lambda w: isinstance(w, PrinterWorker)),
            ("network", self.config.daemon.stop_flush_s + 3.0, lambda w: isinstance(w, NetWorker)),
        ]
        for what, timeout_s, which in steps:
            left = supervisor.stop_workers(which, timeout_s)
            if left:
                logger.warning("%s did not stop within %.0f s: %s", what, timeout_s, ", ".join(left))
        store = self._store
        if store is None:
            logger.info("stopped")
            return
        logger.info("stopped", extra={"commits": store.commits, "durable_commits": store.durable_commits})
        if not left:  # a thread that did not stop may still write
            store.close()

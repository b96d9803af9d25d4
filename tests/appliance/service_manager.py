"""What systemd does for the appliance's unit, as far as the daemon uses it, for tests on a machine
where systemd does not run the test's processes: the notify socket (``READY=1``, ``WATCHDOG=1``,
``FDSTORE=1`` with descriptors attached, ``FDSTOREREMOVE=1``) and, at the next start, the stored
descriptors passed on as ``$LISTEN_FDS``/``$LISTEN_FDNAMES``/``$LISTEN_PID`` (sd_notify(3),
sd_listen_fds(3), systemd.io/FILE_DESCRIPTOR_STORE).

Like systemd it keeps a duplicate of each stored descriptor (so the device stays open while no
daemon runs), replaces nothing by name on its own (the daemon removes before it stores), and drops a
descriptor that reports POLLHUP or POLLERR (an unplugged device).

``python -m tests.appliance.service_manager FD:NAME … -- ARGV…`` is the start: it puts the given
descriptors at 3, 4, … and execs ARGV with the variables set, its own pid in ``$LISTEN_PID``.
"""

from __future__ import annotations

import array
import fcntl
import os
import select
import socket
import sys
import threading
from pathlib import Path


class ServiceManager:
    thread_name = "service-manager"

    def __init__(self, workdir: Path) -> None:
        self.path = workdir / "notify.sock"
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(self.path))
        self._sock.settimeout(0.1)
        self._lock = threading.Lock()
        self.store: dict[str, list[int]] = {}
        self.messages: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def env(self) -> dict[str, str]:
        return {"NOTIFY_SOCKET": str(self.path)}

    def _run(self) -> None:
        size = socket.CMSG_SPACE(16 * array.array("i").itemsize)
        while not self._stop.is_set():
            try:
                data, ancillary, _, _ = self._sock.recvmsg(4096, size)
            except TimeoutError:
                continue
            except OSError:
                return
            fds = array.array("i")
            for level, kind, payload in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
            self._take(data.decode(), list(fds))

    def _take(self, message: str, fds: list[int]) -> None:
        fields = dict(line.split("=", 1) for line in message.splitlines() if "=" in line)
        with self._lock:
            self.messages.append(message)
            name = fields.get("FDNAME", "stored")
            if fields.get("FDSTOREREMOVE") == "1":
                for fd in self.store.pop(name, []):
                    os.close(fd)
            elif fields.get("FDSTORE") == "1":
                self.store.setdefault(name, []).extend(fds)
                return
            for fd in fds:  # descriptors sent with anything else are not kept
                os.close(fd)

    def stored(self, name: str) -> list[int]:
        with self._lock:
            return list(self.store.get(name, []))

    def passed_on(self) -> tuple[list[str], tuple[int, ...]]:
        """For the next start: the launcher's arguments and the descriptors to pass to it (those
        still healthy; systemd drops one that reports POLLHUP or POLLERR)."""
        with self._lock:
            for name, fds in self.store.items():
                keep = []
                for fd in fds:
                    poll = select.poll()
                    poll.register(fd, select.POLLHUP | select.POLLERR)
                    if poll.poll(0):
                        os.close(fd)
                    else:
                        keep.append(fd)
                self.store[name] = keep
            pairs = [(fd, name) for name, fds in self.store.items() for fd in fds]
        return [f"{fd}:{name}" for fd, name in pairs], tuple(fd for fd, _ in pairs)

    def launcher(self) -> tuple[list[str], tuple[int, ...]]:
        """The command prefix that starts a process the way systemd would, and the descriptors."""
        args, fds = self.passed_on()
        return [sys.executable, "-m", "tests.appliance.service_manager", *args, "--"], fds

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()
        self.path.unlink(missing_ok=True)
        with self._lock:
            for fds in self.store.values():
                for fd in fds:
                    os.close(fd)
            self.store.clear()


def _exec(argv: list[str]) -> None:
    split = argv.index("--")
    pairs = [arg.split(":", 1) for arg in argv[:split]]
    command = argv[split + 1 :]
    # Out of the way first (a passed descriptor may sit where another one must go), then 3, 4, …
    high = [fcntl.fcntl(int(fd), fcntl.F_DUPFD, 100) for fd, _ in pairs]
    for fd, _ in pairs:
        os.close(int(fd))
    for i, fd in enumerate(high):
        os.dup2(fd, 3 + i)  # inheritable
        os.close(fd)
    if pairs:
        os.environ["LISTEN_FDS"] = str(len(pairs))
        os.environ["LISTEN_FDNAMES"] = ":".join(name for _, name in pairs)
        os.environ["LISTEN_PID"] = str(os.getpid())  # exec keeps the pid
    os.execvp(command[0], command)


if __name__ == "__main__":
    _exec(sys.argv[1:])

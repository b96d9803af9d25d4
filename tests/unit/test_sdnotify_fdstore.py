"""systemd's file descriptor store, both halves as the appliance uses them: ``FDSTORE=1`` with the
descriptor attached (SCM_RIGHTS) and ``FDSTOREREMOVE=1``, and ``$LISTEN_FDS`` at the next start."""

from __future__ import annotations

import array
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from common.sdnotify import Notifier, listen_fds
from tests.support import ROOT


def test_a_stored_descriptor_goes_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "notify"
    manager = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    manager.bind(str(path))
    notifier = Notifier.from_env({"NOTIFY_SOCKET": str(path)})
    kept = tmp_path / "port"
    kept.write_text("")
    with open(kept) as port:
        notifier.store_fd("scanner", port.fileno())
        data, ancillary, _, _ = manager.recvmsg(1024, socket.CMSG_SPACE(4))
        assert data == b"FDSTORE=1\nFDNAME=scanner"
        [(level, kind, payload)] = ancillary
        assert (level, kind) == (socket.SOL_SOCKET, socket.SCM_RIGHTS)
        [fd] = array.array("i", payload)
        assert os.path.samestat(os.fstat(fd), os.fstat(port.fileno()))  # a duplicate of the same file
        os.close(fd)
    notifier.remove_fds("scanner")
    assert manager.recv(1024) == b"FDSTOREREMOVE=1\nFDNAME=scanner"
    manager.close()
    notifier.close()


SHOW = (
    "import json, os; from common.sdnotify import listen_fds; got = listen_fds();"
    " print(json.dumps({'fds': {n: [os.readlink(f'/proc/self/fd/{f}') for f in fds] for n, fds in got.items()},"
    " 'left': [k for k in os.environ if k.startswith('LISTEN_')]}))"
)


def test_descriptors_passed_at_start_are_found_by_name(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text(""), b.write_text("")
    with open(a) as fa, open(b) as fb:
        pairs = [f"{fa.fileno()}:scanner", f"{fb.fileno()}:buttons"]
        result = subprocess.run(
            [sys.executable, "-m", "tests.appliance.service_manager", *pairs, "--", sys.executable, "-c", SHOW],
            cwd=ROOT,
            pass_fds=(fa.fileno(), fb.fileno()),
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    shown = json.loads(result.stdout)
    assert shown == {"fds": {"scanner": [str(a)], "buttons": [str(b)]}, "left": []}


def test_descriptors_meant_for_another_process_are_not_taken() -> None:
    env = {"LISTEN_FDS": "1", "LISTEN_PID": "1", "LISTEN_FDNAMES": "scanner"}
    assert listen_fds(env) == {} and env == {}  # not ours, and the variables gone

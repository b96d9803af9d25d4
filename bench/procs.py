"""A process and its children, read from /proc: what the benchmarks measure a server by."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path


def tree(pid: int) -> Iterator[int]:
    """The process and every descendant (gunicorn's master and its worker; uvicorn has none)."""
    pids = [pid]
    while pids:
        p = pids.pop()
        yield p
        try:
            pids += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except OSError:
            continue


def status_sum(pid: int, field: str) -> int:
    """A /proc/PID/status field (`VmRSS` in KiB, `Threads`) summed over the process tree."""
    total = 0
    for p in tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of the process tree."""
    total = 0.0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            continue
    return total

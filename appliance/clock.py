"""Is the Pi's clock right? A Raspberry Pi has no real-time clock: after a power cut it starts at
the time it last saved (systemd-timesyncd keeps it in /var/lib/systemd/timesync/clock) until NTP
corrects it. systemd-timesyncd creates ``/run/systemd/timesync/synchronized`` once it has
synchronised the clock (systemd-time-wait-sync.service(8) waits for the same file), and the unit
is ordered after ``time-sync.target`` so the daemon normally starts synchronised; this covers a
boot without a time server (the wait is bounded, see provisioning) and a clock lost later.

Only a copy's "Printed" line comes from this clock; a receipt's payment time is the server's."""

from __future__ import annotations

import os
from datetime import UTC, datetime

TIMESYNCD_FLAG = "/run/systemd/timesync/synchronized"


class TillClock:
    """``flag``: the file whose presence means synchronised; "" to trust the clock without asking
    (a machine whose time comes from elsewhere, such as chrony, or the demo)."""

    def __init__(self, flag: str = TIMESYNCD_FLAG) -> None:
        self.flag = flag

    def synced(self) -> bool:
        return not self.flag or os.path.exists(self.flag)

    def now(self) -> datetime | None:
        """The time, or None while the clock is not synchronised."""
        return datetime.now(UTC) if self.synced() else None

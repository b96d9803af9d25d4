"""What a committed command tells the broadcaster."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Change:
    """One committed change to the queue: the new version and the transaction as it now is."""

    version: int
    reason: str  # "created", "claimed", "started", "service_added", "finished", "cashier_claimed", "paid", …
    transaction_id: int
    staff_view: dict[str, Any]
    public_view: dict[str, Any]

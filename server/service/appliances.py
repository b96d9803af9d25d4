"""Appliance health: the latest heartbeat of each device box, and which ones went silent."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from ..db.engine import Database
from ..db.models import Device
from ..domain.actors import Principal
from .commands import Heartbeat
from .views import iso


def record_heartbeat(db: Database, device: Principal, beat: Heartbeat, now: datetime) -> None:
    health = {"devices": beat.devices, "software": beat.software, "prints": beat.prints}
    with db.write() as s:
        s.execute(
            update(Device)
            .where(Device.id == device.id)
            .values(last_heartbeat_at=now, health_json=json.dumps(health, sort_keys=True))
        )


def appliance_status(db: Database, now: datetime, silent_after_s: float) -> list[dict[str, Any]]:
    """Every active device: 'ok', 'degraded' (a device reports a problem), 'silent' or 'never_seen'."""
    silent_before = now - timedelta(seconds=silent_after_s)
    with db.read() as s:
        rows = s.scalars(select(Device).where(Device.active.is_(True)).order_by(Device.name)).all()
    status = []
    for d in rows:
        health = json.loads(d.health_json) if d.health_json else {}
        devices = health.get("devices", {})
        if d.last_heartbeat_at is None:
            state = "never_seen"
        elif d.last_heartbeat_at < silent_before:
            state = "silent"
        elif any(v.get("state") not in ("ok", "closed") for v in devices.values()):
            state = "degraded"
        else:
            state = "ok"
        status.append(
            {
                "name": d.name,
                "role": d.role,
                "state": state,
                "last_heartbeat_at": iso(d.last_heartbeat_at),
                "devices": devices,
                "software": health.get("software"),
            }
        )
    return status

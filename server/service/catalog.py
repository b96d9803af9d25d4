"""The service catalog: what a customer can choose at the kiosk."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from ..db.engine import Database
from ..db.models import Service
from ..domain.money import format_cents


def list_services(db: Database, include_inactive: bool = False) -> list[dict[str, Any]]:
    with db.read() as s:
        query = select(Service).order_by(Service.name)
        if not include_inactive:
            query = query.where(Service.active.is_(True))
        return [service_view(svc) for svc in s.scalars(query)]


def service_view(svc: Service) -> dict[str, Any]:
    return {
        "id": svc.id,
        "name": svc.name,
        "price": format_cents(svc.price_cents),
        "duration_min": svc.duration_min,
        "active": svc.active,
    }


def add_service(db: Database, name: str, price_cents: int, minutes: int, now: datetime) -> dict[str, Any]:
    with db.write() as s:
        svc = Service(name=name, price_cents=price_cents, duration_min=minutes, active=True, created_at=now)
        s.add(svc)
        s.flush()
        return service_view(svc)

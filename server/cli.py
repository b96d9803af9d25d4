"""`python -m server …`: database, demo data, staff/services/devices, and the production server."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .config import ConfigError, load_settings, retired_settings
from .db.engine import Database
from .db.migrate import current_revision, head_revision, upgrade
from .domain.actors import DeviceRole, StaffRole
from .domain.errors import CommandError
from .domain.money import parse_amount
from .logs import configure as configure_logging
from .service import admin

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m server", description="The spa's central queue server.")
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="run the Alembic migrations up to the latest")
    db_sub.add_parser("current", help="print the schema's revision")

    demo = sub.add_parser("demo", help="load a demo catalog, staff and devices and print their tokens")
    demo.add_argument(
        "--tokens-file", type=Path, help="write the tokens as JSON to this file (keeping those in it that still hold)"
    )

    staff = sub.add_parser("staff", help="staff members")
    staff_sub = staff.add_subparsers(dest="staff_command", required=True)
    staff_add = staff_sub.add_parser("add", help="add a staff member and print their token")
    staff_add.add_argument("--role", required=True, choices=[r.value for r in StaffRole])
    staff_add.add_argument("--name", required=True)
    staff_add.add_argument("--pin", help="a PIN for signing in on a screen: 4-8 digits, an admin's 6-8")
    staff_sub.add_parser("list", help="list staff")

    service = sub.add_parser("service", help="the service catalog")
    service_sub = service.add_subparsers(dest="service_command", required=True)
    service_add = service_sub.add_parser("add", help="add a service and print its id")
    service_add.add_argument("--name", required=True)
    service_add.add_argument("--price", required=True, help="e.g. 45.00")
    service_add.add_argument("--minutes", required=True, type=int)
    service_sub.add_parser("list", help="list services")

    device = sub.add_parser("device", help="appliances and screens")
    device_sub = device.add_subparsers(dest="device_command", required=True)
    device_add = device_sub.add_parser("add", help="add a device and print its token")
    device_add.add_argument("--role", required=True, choices=[r.value for r in DeviceRole])
    device_add.add_argument("--name", required=True)
    device_sub.add_parser("list", help="list devices")

    room = sub.add_parser("room", help="treatment rooms")
    room_sub = room.add_subparsers(dest="room_command", required=True)
    room_add = room_sub.add_parser("add", help="add a room and print its id")
    room_add.add_argument("--name", required=True)
    room_sub.add_parser("list", help="list rooms")

    contract = sub.add_parser("contract", help="print the wire contract (AsyncAPI 3.0, JSON Schemas) from the code")
    contract.add_argument("--out", type=Path, help="write it to this file instead (docs/asyncapi.json is checked in)")

    run = sub.add_parser("run", help="serve HTTP and Socket.IO (uvicorn: one process, one event loop)")
    run.add_argument("--host")
    run.add_argument("--port", type=int)

    from .simulation.options import add_arguments as simulate_arguments

    simulate_arguments(sub.add_parser("simulate", help="play a simulated spa day through the protocol and check it"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "contract":
        return _contract(args.out)  # pure: needs no settings, database or logging
    if args.command == "simulate":
        return _simulate(args)  # its own server, or the one at --url: not this process's settings
    try:
        overrides: dict[str, Any] = {}
        if args.command == "run":
            if args.host:
                overrides["host"] = args.host
            if args.port:
                overrides["port"] = args.port
        settings = load_settings(overrides)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format if args.command == "run" else "text", settings.log_level)
    for warning in retired_settings():
        logging.getLogger("server").warning(warning)
    try:
        return _dispatch(args, settings)
    except (CommandError, admin.AdminError) as exc:
        print(f"error: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 1


def _kept_tokens(path: Path) -> dict[str, str]:
    """The tokens a previous `demo --tokens-file` wrote (name → token); none when unreadable."""
    try:
        rows = json.loads(path.read_text())
        return {str(r["name"]): str(r["token"]) for r in rows}
    except (OSError, ValueError, TypeError, KeyError):
        return {}


def _dispatch(args: argparse.Namespace, settings: Any) -> int:
    url = settings.database_url
    if args.command == "db":
        if args.db_command == "upgrade":
            upgrade(url)
            print(f"database at revision {current_revision(url)}")
        else:
            print(f"current {current_revision(url)}, latest {head_revision()}")
        return 0
    if args.command == "run":
        from .serve import serve

        return serve(settings)
    _require_schema(url)
    db = Database(url, pool_size=2, max_overflow=0)
    try:
        if args.command == "demo":
            keep = _kept_tokens(args.tokens_file) if args.tokens_file else {}
            tokens = admin.load_demo(db, keep)
            for row in tokens:
                print(f"{row['kind']:7} {row['role']:9} {row['name']:14} {row['token']}")
            if args.tokens_file:
                args.tokens_file.write_text(json.dumps(tokens, indent=2) + "\n")
                args.tokens_file.chmod(0o600)
            return 0
        if args.command == "staff":
            if args.staff_command == "add":
                print(admin.add_staff(db, args.role, args.name, args.pin)["token"])
            else:
                _table(admin.list_staff(db))
            return 0
        if args.command == "service":
            if args.service_command == "add":
                svc = admin.add_catalog_service(db, args.name, parse_amount(args.price, "--price"), args.minutes)
                print(f"{svc['name']}: {svc['price']} for {svc['duration_min']} min")
                print(svc["id"])
            else:
                _table(admin.list_catalog(db))
            return 0
        if args.command == "device":
            if args.device_command == "add":
                print(admin.add_device(db, args.role, args.name)["token"])
            else:
                _table(admin.list_devices(db))
            return 0
        if args.command == "room":
            if args.room_command == "add":
                print(admin.add_room(db, args.name)["id"])
            else:
                _table(admin.list_rooms(db))
            return 0
    finally:
        db.dispose()
    return 2


def _contract(out: Path | None) -> int:
    from .protocol.contract import render

    text = render()
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out}")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from .simulation.options import options_of, validate

    problem = validate(options_of(args))
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    from .simulation.run import main as simulate

    configure_logging("text", "WARNING")
    return simulate(args)


def _require_schema(url: str) -> None:
    if current_revision(url) != head_revision():
        raise admin.AdminError("the database schema is not current: run `python -m server db upgrade` first")


def _table(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        print("  ".join(f"{k}={v}" for k, v in row.items()))

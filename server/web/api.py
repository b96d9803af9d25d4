"""GET /healthz, and read-only JSON of the queue and of one transaction, behind the same tokens."""

from __future__ import annotations

import threading
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from ..domain.actors import Capability, Principal
from ..domain.errors import CommandError, ErrorCode
from ..service import appliances, sessions
from ..service.catalog import list_services

bp = Blueprint("api", __name__)


def runtime() -> Any:
    return current_app.extensions["spa"]


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    rt = runtime()
    problem = rt.db.ping()
    workers = rt.health()
    # A dead background thread is as bad as a lost database: broadcasts or claim releases stop.
    dead = [name for name, alive in workers.items() if not alive]
    if problem is None and dead:
        problem = f"thread {', '.join(dead)} is not running"
    body: dict[str, Any] = {
        "status": "ok" if problem is None else "unavailable",
        "workers": workers,
        "database": "ok" if problem is None or dead else problem,
        "process": rt.presence.process,
        "connections": rt.protocol.connection_count,
        "max_connections": rt.settings.max_sockets,
        "threads": threading.active_count(),
        "broadcast_backlog": rt.broadcaster.backlog(),
    }
    if dead:
        body["problem"] = problem
    if problem is None and request.args.get("details") == "1":
        body["appliances"] = appliances.appliance_status(
            rt.db, rt.service.clock(), rt.settings.appliance_silent_after_s
        )
    return jsonify(body), 200 if problem is None else 503


def _caller(capability: Capability) -> Principal:
    header = request.headers.get("Authorization", "")
    token = header[7:] if header.startswith("Bearer ") else None
    principal = runtime().tokens.resolve(runtime().db.read, token)
    if principal is None or not principal.can(capability):
        raise CommandError(ErrorCode.FORBIDDEN, "a valid token with access is needed (Authorization: Bearer …)")
    return principal


@bp.get("/api/queue")
def queue_snapshot() -> Response:
    return jsonify(runtime().service.snapshot(_caller(Capability.VIEW_PUBLIC)))


@bp.get("/api/transactions/<int:transaction_id>")
def transaction(transaction_id: int) -> Response:
    actor = _caller(Capability.VIEW_PUBLIC)
    return jsonify(runtime().service.get_transaction(actor, transaction_id))


@bp.get("/api/services")
def services() -> Response:
    _caller(Capability.VIEW_PUBLIC)
    return jsonify({"services": list_services(runtime().db)})


@bp.get("/api/staff")
def staff_list() -> Response:
    """Names for a screen's sign-in list (only staff who have a PIN)."""
    return jsonify({"staff": sessions.staff_for_sign_in(runtime().db)})


@bp.post("/api/sign-in")
def sign_in() -> Response:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or set(body) != {"staff_id", "pin"}:
        raise CommandError(ErrorCode.INVALID_PAYLOAD, "send {staff_id, pin}")
    staff_id, pin = body["staff_id"], body["pin"]
    if isinstance(staff_id, bool) or not isinstance(staff_id, int) or not isinstance(pin, str) or len(pin) > 16:
        raise CommandError(ErrorCode.INVALID_PAYLOAD, "staff_id must be an integer and pin a string")
    rt = runtime()
    result = sessions.sign_in(rt.db, rt.sign_in_limiter, staff_id, pin, rt.service.clock(), rt.settings.session_ttl_s)
    return jsonify({"ok": True, **result})


@bp.post("/api/sign-out")
def sign_out() -> Response:
    header = request.headers.get("Authorization", "")
    token = header[7:] if header.startswith("Bearer ") else ""
    rt = runtime()
    signed_out = sessions.sign_out(rt.db, token)
    rt.tokens.forget(token)
    return jsonify({"ok": signed_out})


@bp.errorhandler(CommandError)
def command_error(exc: CommandError) -> tuple[Response, int]:
    status = {ErrorCode.FORBIDDEN: 401, ErrorCode.NOT_FOUND: 404, ErrorCode.BUSY: 429}.get(exc.code, 400)
    return jsonify({"ok": False, "error": exc.to_dict()}), status

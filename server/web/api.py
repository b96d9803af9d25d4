"""GET /healthz, read-only JSON of the queue and of one transaction behind the same tokens, and
PIN sign-in. Every error, from any view of the app, is answered as JSON."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError

from common.wire import PUBLIC_ID_RE, Limits

from ..domain.actors import Capability, Principal, StaffRole
from ..domain.errors import CommandError, ErrorCode
from ..service import appliances, sessions, tickets
from ..service.catalog import list_services
from . import security

logger = logging.getLogger(__name__)

bp = Blueprint("api", __name__)

# {"staff_id": 2147483647, "pin": "12345678"} is 42 bytes; room for spaces, nothing for abuse.
MAX_SIGN_IN_BODY_BYTES = 1024
_ROLES = frozenset(r.value for r in StaffRole)


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
        "process": rt.housekeeping.process,
        "connections": rt.protocol.connection_count,
        "max_connections": rt.settings.max_connections,
        # Sockets open but not signed in yet (closed at their deadline), and in all.
        "pending_connections": rt.protocol.limits.pending,
        "sockets": rt.protocol.limits.count_of(),
        "threads": threading.active_count(),
        "broadcast_backlog": rt.broadcaster.backlog(),
        "outbound_backlog": rt.outbound.backlog(),
        # The spa's zone: provisioning sets each appliance's clock to it (provision.sh appliance).
        "timezone": rt.settings.timezone,
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


@bp.get("/api/tickets/<public_id>")
def ticket(public_id: str) -> Response:
    """A customer's ticket (the phone page polls it): public fields, no sign-in; the unguessable
    id is the only key."""
    if not PUBLIC_ID_RE.fullmatch(public_id):
        raise CommandError(ErrorCode.NOT_FOUND, "no such ticket")
    rt = runtime()
    view = tickets.ticket_view(rt.db, public_id, rt.service.clock())
    if view is None:
        raise CommandError(ErrorCode.NOT_FOUND, "no such ticket")
    response = jsonify(view)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/staff")
def staff_list() -> Response:
    """Ids and first names for a screen's sign-in list (staff with a PIN), `?roles=a,b` to narrow.

    A screen sends its device token; a token that is sent must be valid. A therapist's own tablet
    opens /therapist without one (docs/SCREENS.md) and must still be able to sign in, so the list
    is also given without a token: ids and first names only, which the throttle makes harmless
    (docs/SECURITY.md)."""
    if "Authorization" in request.headers:
        _caller(Capability.VIEW_PUBLIC)
    roles: frozenset[str] | None = None
    if "roles" in request.args:
        roles = frozenset(r for r in request.args["roles"].split(",") if r)
        if not roles <= _ROLES:
            raise CommandError(ErrorCode.INVALID_PAYLOAD, f"roles: each one of {', '.join(sorted(_ROLES))}")
    return jsonify({"staff": sessions.staff_for_sign_in(runtime().db, roles)})


def _sign_in_body() -> tuple[int, str]:
    if request.content_length is not None and request.content_length > MAX_SIGN_IN_BODY_BYTES:
        raise CommandError(ErrorCode.INVALID_PAYLOAD, f"the body is larger than {MAX_SIGN_IN_BODY_BYTES} bytes")
    raw = request.stream.read(MAX_SIGN_IN_BODY_BYTES + 1)
    if len(raw) > MAX_SIGN_IN_BODY_BYTES:
        raise CommandError(ErrorCode.INVALID_PAYLOAD, f"the body is larger than {MAX_SIGN_IN_BODY_BYTES} bytes")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        body = None
    if not isinstance(body, dict) or set(body) != {"staff_id", "pin"}:
        raise CommandError(ErrorCode.INVALID_PAYLOAD, "send {staff_id, pin}")
    staff_id, pin = body["staff_id"], body["pin"]
    if isinstance(staff_id, bool) or not isinstance(staff_id, int) or not 1 <= staff_id <= Limits.MAX_ID:
        raise CommandError(ErrorCode.INVALID_PAYLOAD, f"staff_id must be an integer 1-{Limits.MAX_ID}")
    if not isinstance(pin, str) or not (
        Limits.MIN_PIN <= len(pin) <= Limits.MAX_PIN and pin.isascii() and pin.isdigit()
    ):
        raise CommandError(ErrorCode.INVALID_PAYLOAD, f"pin must be {Limits.MIN_PIN}-{Limits.MAX_PIN} digits")
    return staff_id, pin


@bp.post("/api/sign-in")
def sign_in() -> Response:
    staff_id, pin = _sign_in_body()
    rt = runtime()
    result = sessions.sign_in(
        rt.db,
        runtime().sign_in_limiter,
        staff_id,
        pin,
        rt.service.clock,
        rt.settings.session_ttl_s,
        address=security.client_address(request.environ, frozenset(rt.settings.trusted_proxies)),
        policy=sessions.SignInPolicy.from_settings(rt.settings),
    )
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
    response = jsonify({"ok": False, "error": exc.to_dict()})
    if isinstance(exc, sessions.SignInThrottled):
        response.headers["Retry-After"] = str(exc.retry_after_s)
    return response, status


@bp.app_errorhandler(HTTPException)
def http_error(exc: HTTPException) -> tuple[Response, int]:
    """Any view's 4xx (a malformed body, a wrong method, no such page) as a JSON error."""
    status = exc.code or 500
    if status >= 500:
        return internal_error(exc)
    code = ErrorCode.NOT_FOUND if status == 404 else ErrorCode.INVALID_PAYLOAD
    response = jsonify({"ok": False, "error": {"code": code.value, "message": exc.description or exc.name}})
    for name, value in exc.get_headers():
        if name.lower() == "allow":
            response.headers[name] = value
    return response, status


@bp.app_errorhandler(InternalServerError)
def internal_error(exc: HTTPException) -> tuple[Response, int]:
    # Flask has logged the traceback already; the client learns nothing of it.
    error = {"code": ErrorCode.INTERNAL_ERROR.value, "message": "an internal error; nothing was changed"}
    return jsonify({"ok": False, "error": error}), 500

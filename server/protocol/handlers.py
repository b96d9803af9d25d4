"""Socket.IO event handlers. Each reads like a short recipe: who is calling, may they,
is the payload well-formed, run the command, acknowledge. Broadcasting happens elsewhere."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import request
from flask_socketio import ConnectionRefusedError, SocketIO, emit, join_room
from sqlalchemy.orm.exc import StaleDataError

from ..db.engine import DatabaseUnavailable
from ..domain.errors import CommandError, ErrorCode
from ..service import appliances, desks, printing
from ..service.catalog import list_services
from ..service.principals import Capability, Principal
from . import schema
from .broadcaster import CASHIER_ROOM, MONITOR_ROOM, THERAPIST_ROOM, customer_update, txn_room

logger = logging.getLogger(__name__)
C = Capability


@dataclass(frozen=True)
class EventSpec:
    any_of: tuple[Capability, ...]  # the caller needs one of these
    run: Callable[[Principal, object], dict[str, Any]]
    after: Callable[[Principal, dict[str, Any]], None] | None = None  # side effects once acknowledged


def ok(result: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"ok": True, **(result or {})}


def fail(code: ErrorCode, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code.value, "message": message}}


class SocketProtocol:
    """Owns the live connections of this process and the table of events."""

    def __init__(self, socketio: SocketIO, runtime: Any) -> None:
        self.socketio = socketio
        self.rt = runtime
        self._sessions: dict[str, Principal] = {}
        self._lock = threading.Lock()
        self.events = self._event_table()

    def register(self) -> None:
        self.socketio.on_event("connect", self.on_connect)
        self.socketio.on_event("disconnect", self.on_disconnect)
        for name, spec in self.events.items():
            self.socketio.on_event(name, self._handler(name, spec))

    @property
    def connection_count(self) -> int:
        return len(self._sessions)

    # ---- connections ------------------------------------------------------------------------

    def on_connect(self, auth: object = None) -> bool:
        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            principal = self.rt.tokens.resolve(self.rt.db.read, token)
        except Exception:  # noqa: BLE001 - an unreachable database must refuse, not crash the handshake
            logger.warning("cannot check a token: database unavailable", exc_info=True)
            raise ConnectionRefusedError("the server cannot reach its database", {"code": "busy"}) from None
        if principal is None:
            raise ConnectionRefusedError("a valid staff or device token is needed", {"code": "forbidden"})
        with self._lock:
            if len(self._sessions) >= self.rt.settings.max_sockets:
                # Keep threads free for /healthz and pages: refuse rather than starve HTTP.
                raise ConnectionRefusedError("the server is at its connection limit", {"code": "busy"})
            self._sessions[request.sid] = principal
        self.rt.presence.connected(request.sid, principal.key)
        join_room(f"{principal.kind}_{principal.id}")
        if principal.kind == "device" and principal.role == "cashier":
            # Receipts that did not print before this till went away: it dedupes by job_id.
            for job in printing.pending_jobs(self.rt.db, principal.id):
                emit("print_receipt", job, to=request.sid)
        logger.info("connected %s (%s %s)", principal.key, principal.role, principal.name)
        return True

    def on_disconnect(self, reason: object = None) -> None:
        with self._lock:
            principal = self._sessions.pop(request.sid, None)
        if principal is None:
            return
        try:
            self.rt.presence.disconnected(request.sid)
        except Exception:  # noqa: BLE001 - the row goes stale by itself; never fail a disconnect
            logger.warning("could not record disconnect of %s", principal.key, exc_info=True)
        logger.info("disconnected %s (%s)", principal.key, reason)

    # ---- events -----------------------------------------------------------------------------

    def _handler(self, name: str, spec: EventSpec) -> Callable[..., dict[str, Any]]:
        def handle(*args: object) -> dict[str, Any]:
            started = time.perf_counter()
            sid = request.sid
            ack = self._dispatch(name, spec, sid, args)
            principal = self._sessions.get(sid)
            if spec.after is not None and principal is not None:
                try:
                    spec.after(principal, ack)
                except Exception:  # noqa: BLE001 - the command is committed; its ack must still go out
                    logger.exception("after-%s hook failed", name)
            logger.debug(
                "%s ok=%s %.1f ms",
                name,
                ack["ok"],
                (time.perf_counter() - started) * 1000,
                extra={"event": name, "sid": sid},
            )
            return ack

        handle.__name__ = f"on_{name}"
        return handle

    def _dispatch(self, name: str, spec: EventSpec, sid: str, args: tuple[object, ...]) -> dict[str, Any]:
        principal = self._sessions.get(sid)
        if principal is None:
            return fail(ErrorCode.FORBIDDEN, "not signed in")
        if spec.any_of and not any(principal.can(c) for c in spec.any_of):
            return fail(ErrorCode.FORBIDDEN, f"a {principal.role} may not {name.replace('_', ' ')}")
        if len(args) > 1:
            return fail(ErrorCode.INVALID_PAYLOAD, "send one payload object")
        try:
            return ok(spec.run(principal, args[0] if args else None))
        except CommandError as exc:
            return {"ok": False, "error": exc.to_dict()}
        except StaleDataError:
            return fail(ErrorCode.CONFLICT, "the transaction kept changing underneath; try again")
        except DatabaseUnavailable:
            logger.error("database unavailable during %s", name)
            return fail(ErrorCode.BUSY, "the database is not answering; try again")
        except Exception:
            logger.exception("%s failed", name)
            return fail(ErrorCode.INTERNAL_ERROR, "something went wrong on the server; nothing was changed")

    def _event_table(self) -> dict[str, EventSpec]:
        q = self.rt.service
        S = schema
        return {
            "customer_confirm_selection": EventSpec(
                (C.ORDER,), lambda p, d: q.confirm_selection(p, S.parse_confirm_selection(d)), self._after_selection
            ),
            "therapist_confirm_next": EventSpec(
                (C.THERAPIST,), lambda p, d: q.claim_for_therapist(p, S.parse_therapist_claim(d))
            ),
            "therapist_start_service": EventSpec(
                (C.THERAPIST,), lambda p, d: q.start_service(p, S.parse_txn_action(d, "therapist_token"))
            ),
            "therapist_add_service": EventSpec((C.THERAPIST,), lambda p, d: q.add_service(p, S.parse_add_service(d))),
            "therapist_finish_service": EventSpec(
                (C.THERAPIST,), lambda p, d: q.finish_service(p, S.parse_txn_action(d, "therapist_token"))
            ),
            "therapist_release": EventSpec(
                (C.THERAPIST,), lambda p, d: q.release_by_therapist(p, S.parse_txn_action(d, "therapist_token"))
            ),
            "cashier_claim_next": EventSpec(
                (C.CASHIER,), lambda p, d: q.claim_for_cashier(p, S.parse_cashier_claim(d))
            ),
            "cashier_lookup": EventSpec(
                (C.CASHIER,), lambda p, d: q.lookup_for_cashier(p, S.parse_lookup(d)), self._after_lookup
            ),
            "cashier_pay": EventSpec((C.CASHIER,), lambda p, d: q.pay(p, S.parse_pay(d)), self._after_pay),
            "cashier_release": EventSpec(
                (C.CASHIER,), lambda p, d: q.release_by_cashier(p, S.parse_txn_action(d, "cashier_token"))
            ),
            "cancel_transaction": EventSpec(
                (C.CANCEL, C.CANCEL_OWN), lambda p, d: q.cancel(p, S.parse_txn_action(d, None))
            ),
            "queue_snapshot": EventSpec((C.VIEW_PUBLIC,), self._snapshot),
            "get_transaction": EventSpec(
                (C.VIEW_PUBLIC,),
                lambda p, d: {"transaction": q.get_transaction(p, S.parse_txn_ref(d).transaction_id)},
            ),
            "service_catalog": EventSpec((C.VIEW_PUBLIC,), self._catalog),
            "therapist_subscribe": EventSpec((C.THERAPIST,), self._subscribe(THERAPIST_ROOM)),
            "cashier_subscribe": EventSpec((C.CASHIER,), self._subscribe(CASHIER_ROOM)),
            "monitor_subscribe": EventSpec((C.VIEW_PUBLIC,), self._subscribe(MONITOR_ROOM)),
            "customer_subscribe": EventSpec((C.ORDER, C.VIEW_STAFF), self._customer_subscribe),
            "appliance_heartbeat": EventSpec((C.REPORT_HEALTH,), self._heartbeat),
            "receipt_reprint": EventSpec((C.CASHIER,), self._reprint),
            "receipt_status": EventSpec((C.CASHIER,), self._receipt_status),
            "print_jobs_pending": EventSpec((C.CASHIER,), self._pending_jobs),
            "desk_sign_in": EventSpec((C.CASHIER, C.THERAPIST), self._desk_sign_in),
            "desk_sign_out": EventSpec((C.CASHIER, C.THERAPIST), self._desk_sign_out),
            "device_activity": EventSpec((C.REPORT_HEALTH,), self._device_activity),
            "appliances_snapshot": EventSpec((C.VIEW_PUBLIC,), self._appliances),
        }

    # ---- after-hooks and small events ---------------------------------------------------------

    def _after_selection(self, principal: Principal, ack: dict[str, Any]) -> None:
        if ack["ok"]:
            join_room(txn_room(ack["transaction_id"]))
            emit("customer_selection_received", {"transaction_id": ack["transaction_id"]}, to=request.sid)

    def _after_pay(self, principal: Principal, ack: dict[str, Any]) -> None:
        # The original design's cashier screens listen for this instead of using the ack.
        result: dict[str, Any] = {"ok": ack["ok"]}
        if ack["ok"]:
            result.update(transaction_id=ack["transaction"]["id"], change=ack["change"])
        else:
            result["error"] = ack["error"]
        emit("cashier_pay_result", result, to=request.sid)
        if ack["ok"] and ack.get("print_job") and not ack.get("replayed"):
            self._send_print_job(principal.id, ack["print_job"])

    def _after_lookup(self, principal: Principal, ack: dict[str, Any]) -> None:
        # A code scanned at a till's appliance shows on that till's screen (same device token).
        if principal.kind == "device":
            self._to_device(principal, "cashier_lookup_result", ack)

    def _to_device(self, principal: Principal, event: str, data: Any) -> None:
        """To every connection of this device: its appliance daemon and its browser page."""
        self.socketio.emit(event, data, to=f"device_{principal.id}", namespace="/")

    def _desk_sign_in(self, principal: Principal, payload: object) -> dict[str, Any]:
        cmd = schema.parse_desk_sign_in(payload)
        result = desks.sign_in(self.rt.db, principal, cmd.staff_token, self.rt.service.clock())
        self._to_device(principal, "desk_signed_in", result)
        return result

    def _desk_sign_out(self, principal: Principal, payload: object) -> dict[str, Any]:
        schema.parse_empty(payload)
        result = desks.sign_out(self.rt.db, principal, self.rt.service.clock())
        self._to_device(principal, "desk_signed_out", result)
        return result

    def _device_activity(self, principal: Principal, payload: object) -> dict[str, Any]:
        schema.parse_empty(payload)
        if principal.kind != "device":
            raise CommandError(ErrorCode.FORBIDDEN, "only appliances report activity")
        self._to_device(principal, "device_activity", {"at": self.rt.service.clock().isoformat() + "Z"})
        return {}

    def _appliances(self, principal: Principal, payload: object) -> dict[str, Any]:
        schema.parse_empty(payload)
        rt = self.rt
        return {
            "appliances": appliances.appliance_status(rt.db, rt.service.clock(), rt.settings.appliance_silent_after_s)
        }

    def _send_print_job(self, device_id: int, job: dict[str, Any]) -> None:
        self.socketio.emit("print_receipt", job, to=f"device_{device_id}", namespace="/")

    def _reprint(self, principal: Principal, payload: object) -> dict[str, Any]:
        ref = schema.parse_txn_ref(payload)
        rt = self.rt
        device_id, job = printing.reprint(
            rt.db, rt.service.receipt_header, principal, ref.transaction_id, rt.service.clock()
        )
        self._send_print_job(device_id, job)
        return {"job_id": job["job_id"]}

    def _receipt_status(self, principal: Principal, payload: object) -> dict[str, Any]:
        if principal.kind != "device":
            raise CommandError(ErrorCode.FORBIDDEN, "only a till's appliance reports print results")
        status = printing.record_status(
            self.rt.db, principal, schema.parse_print_status(payload), self.rt.service.clock()
        )
        self.socketio.emit("receipt_status", status, to=CASHIER_ROOM, namespace="/")
        self.socketio.emit("receipt_status", status, to=f"device_{principal.id}", namespace="/")
        return {}

    def _pending_jobs(self, principal: Principal, payload: object) -> dict[str, Any]:
        schema.parse_empty(payload)
        if principal.kind != "device":
            raise CommandError(ErrorCode.FORBIDDEN, "only a till's appliance prints")
        return {"jobs": printing.pending_jobs(self.rt.db, principal.id)}

    def _snapshot(self, principal: Principal, payload: object) -> dict[str, Any]:
        schema.parse_empty(payload)
        return self.rt.service.snapshot(principal)

    def _catalog(self, principal: Principal, payload: object) -> dict[str, Any]:
        schema.parse_empty(payload)
        return {"services": list_services(self.rt.db)}

    def _subscribe(self, room: str) -> Callable[[Principal, object], dict[str, Any]]:
        def subscribe(principal: Principal, payload: object) -> dict[str, Any]:
            schema.parse_empty(payload)
            join_room(room)
            return {"room": room}

        return subscribe

    def _customer_subscribe(self, principal: Principal, payload: object) -> dict[str, Any]:
        ref = schema.parse_txn_ref(payload)
        view = self.rt.service.get_transaction(principal, ref.transaction_id)
        snapshot = self.rt.service.snapshot(principal)
        position = next(
            (
                {"position": w["position"], "estimated_wait_min": w["estimated_wait_min"]}
                for w in snapshot["waiting"]
                if w["id"] == ref.transaction_id
            ),
            None,
        )
        join_room(txn_room(ref.transaction_id))
        return {"room": txn_room(ref.transaction_id), **customer_update(snapshot["version"], view, position)}

    def _heartbeat(self, principal: Principal, payload: object) -> dict[str, Any]:
        if principal.kind != "device":
            raise CommandError(ErrorCode.FORBIDDEN, "only appliances send heartbeats")
        beat = schema.parse_heartbeat(payload)
        appliances.record_heartbeat(self.rt.db, principal, beat, self.rt.service.clock())
        self._to_device(principal, "appliance_status", {"device": principal.name, "devices": beat.devices})
        return {}

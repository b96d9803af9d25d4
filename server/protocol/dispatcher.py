"""One event from one connection, start to acknowledgement: caller → parse → authorise → run →
error mapping → acknowledgement. No Flask, no Socket.IO: the adapter hands it a connection's
sid and token, the table of events and the outbound port; tests drive it with plain values.

The caller is resolved again on every event (through the token cache, at most `TokenCache`'s
ttl stale), so a revoked token or an expired or signed-out PIN session stops working on an
open connection: the event is refused, the connection told why and closed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from ..db.engine import DatabaseUnavailable
from ..domain.actors import Capability, Principal
from ..domain.errors import CommandError, ErrorCode
from ..service.outbound import Outbound

logger = logging.getLogger(__name__)

SIGNED_OUT_EVENT = "signed_out"  # to a connection whose caller may no longer act, before it is closed


@dataclass(frozen=True)
class Call:
    """Who sent an event, on which connection."""

    sid: str
    principal: Principal


@dataclass(frozen=True)
class EventSpec:
    """One row of the event table: the wire event, its parser, who may send it, its use case."""

    parse: Callable[[object], Any]
    needs: tuple[Capability, ...]  # the caller needs one of these
    run: Callable[[Call, Any], dict[str, Any]]
    devices_only: bool = False
    after: Callable[[Call, dict[str, Any]], None] | None = None  # once acknowledged, success or not


def ok(result: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"ok": True, **(result or {})}


def fail(code: ErrorCode, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code.value, "message": message}}


class Dispatcher:
    def __init__(
        self,
        events: Mapping[str, EventSpec],
        resolve: Callable[[str | None], Principal | None],
        outbound: Outbound,
    ) -> None:
        self.events = events
        self._resolve = resolve
        self._outbound = outbound

    def dispatch(self, event: str, sid: str, token: str | None, args: tuple[object, ...]) -> dict[str, Any]:
        spec = self.events.get(event)
        if spec is None:
            return fail(ErrorCode.INVALID_PAYLOAD, f"no event {event[:40]!r}")
        try:
            principal = self._resolve(token)
        except DatabaseUnavailable:
            return fail(ErrorCode.BUSY, "the database is not answering; try again")
        if principal is None:
            self._end(sid)
            return fail(ErrorCode.FORBIDDEN, "this sign-in has ended or the token was revoked")
        call = Call(sid, principal)
        ack = self._run(event, spec, call, args)
        if spec.after is not None:
            try:
                spec.after(call, ack)
            except Exception:  # noqa: BLE001 - the command is committed; its ack must still go out
                logger.exception("after-%s hook failed", event)
        return ack

    def _run(self, event: str, spec: EventSpec, call: Call, args: tuple[object, ...]) -> dict[str, Any]:
        principal = call.principal
        if spec.needs and not any(principal.can(c) for c in spec.needs):
            return fail(ErrorCode.FORBIDDEN, f"a {principal.role.value} may not {event.replace('_', ' ')}")
        if spec.devices_only and not principal.is_device:
            return fail(ErrorCode.FORBIDDEN, f"only an appliance may {event.replace('_', ' ')}")
        if len(args) > 1:
            return fail(ErrorCode.INVALID_PAYLOAD, "send one payload object")
        try:
            command = spec.parse(args[0] if args else None)
            return ok(spec.run(call, command))
        except CommandError as exc:
            return {"ok": False, "error": exc.to_dict()}
        except StaleDataError:
            return fail(ErrorCode.CONFLICT, "the transaction kept changing underneath; try again")
        except DatabaseUnavailable:
            logger.error("database unavailable during %s", event)
            return fail(ErrorCode.BUSY, "the database is not answering; try again")
        except Exception:
            logger.exception("%s failed", event)
            return fail(ErrorCode.INTERNAL_ERROR, "something went wrong on the server; nothing was changed")

    def _end(self, sid: str) -> None:
        self._outbound.emit(
            SIGNED_OUT_EVENT,
            {"code": ErrorCode.FORBIDDEN.value, "message": "this sign-in has ended or the token was revoked"},
            to=sid,
        )
        self._outbound.close(sid)

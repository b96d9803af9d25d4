"""One event from one connection, start to acknowledgement: caller → parse → authorise → run →
error mapping → acknowledgement. No Flask, no Socket.IO: the adapter hands it a connection's
sid and token, the table of events and the outbound port; tests drive it with plain values.

The caller is resolved again on every event (through the token cache, at most `TokenCache`'s
ttl stale), so a revoked token or an expired or signed-out PIN session stops working on an
open connection: the event is refused, the connection told why and closed.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from ..db.engine import DatabaseUnavailable
from ..domain.actors import Capability, Principal
from ..domain.errors import CommandError, ErrorCode
from ..service.outbound import Outbound
from .schema import check_json

logger = logging.getLogger(__name__)

SIGNED_OUT_EVENT = "signed_out"  # to a connection whose caller may no longer act, before it is closed
MAX_EVENT_NAME = 64  # longer than any event in the table; a longer name is unknown, echoed cut short
ECHO_NAME = 40
# What the Socket.IO adapter hands over in place of an event name when the packet itself was
# refused while decoding (server/protocol/socketio_adapter.py `WirePacket`). The NUL keeps them
# apart from the table's names.
MALFORMED_EVENT = "\x00malformed"  # not JSON, nested too deep, not an [event, ...] list
BINARY_EVENT = "\x00binary"  # binary attachments: refused, never buffered
BAD_NAME_EVENT = "\x00bad_name"  # an event name that is not a string, or too long
# Names python-socketio keeps for itself: an event a client sends by one of them would reach the
# connect or disconnect handler (or the catch-all without its name).
RESERVED_EVENT = "\x00reserved"
RESERVED_NAMES = frozenset({"connect", "disconnect", "*"})
# A failure inside a command is logged with its traceback the first time per kind and connection,
# then one line at each power of ten (`Dispatcher._log_failure`): garbage costs a bounded
# (logarithmic) amount of log. The counts of this many connections are kept, the oldest dropped.
LOGGED_CONNECTIONS = 4096


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


def refusal(event: object) -> dict[str, Any] | None:
    """The answer to an event the adapter could not hand over as a name from the table, if so."""
    if event == MALFORMED_EVENT:
        return fail(ErrorCode.INVALID_PAYLOAD, "the message is not a JSON [event, payload] list, or nests too deep")
    if event == BINARY_EVENT:
        return fail(ErrorCode.INVALID_PAYLOAD, "binary attachments are not accepted")
    if event == RESERVED_EVENT:
        return fail(ErrorCode.UNKNOWN_EVENT, "connect, disconnect and * are not events a client sends")
    if event == BAD_NAME_EVENT or not isinstance(event, str) or len(event) > MAX_EVENT_NAME:
        return fail(ErrorCode.UNKNOWN_EVENT, f"an event name is a string of at most {MAX_EVENT_NAME} characters")
    return None


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
        self._failures: dict[str, dict[str, int]] = {}  # sid → kind → count (see `_log_failure`)
        self._failures_lock = threading.Lock()

    def dispatch(self, event: object, sid: str, token: str | None, args: tuple[object, ...]) -> dict[str, Any]:
        refused = refusal(event)
        if refused is not None:
            return refused
        assert isinstance(event, str)
        spec = self.events.get(event)
        if spec is None:
            return fail(ErrorCode.UNKNOWN_EVENT, f"no event {event[:ECHO_NAME]!r}")
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
            check_json(args[0] if args else None)
            command = spec.parse(args[0] if args else None)
            return ok(spec.run(call, command))
        except CommandError as exc:
            return {"ok": False, "error": exc.to_dict()}
        except StaleDataError:
            return fail(ErrorCode.CONFLICT, "the transaction kept changing underneath; try again")
        except DatabaseUnavailable:
            logger.error("database unavailable during %s", event)
            return fail(ErrorCode.BUSY, "the database is not answering; try again")
        except Exception as exc:
            self._log_failure(call.sid, event, exc)
            return fail(ErrorCode.INTERNAL_ERROR, "something went wrong on the server; nothing was changed")

    def _log_failure(self, sid: str, event: str, exc: Exception) -> None:
        """Once per kind (event and exception type) per connection with the traceback, then counted."""
        kind = f"{event}:{type(exc).__name__}"
        with self._failures_lock:
            kinds = self._failures.setdefault(sid, {})
            while len(self._failures) > LOGGED_CONNECTIONS:
                del self._failures[next(iter(self._failures))]  # the oldest connection's counts
            seen = kinds[kind] = kinds.get(kind, 0) + 1
        if seen == 1:
            logger.exception("%s failed", event)
        elif math.log10(seen).is_integer():
            logger.error("%s failed again (%s), %d times on connection %s", event, type(exc).__name__, seen, sid)

    def _end(self, sid: str) -> None:
        self._outbound.emit(
            SIGNED_OUT_EVENT,
            {"code": ErrorCode.FORBIDDEN.value, "message": "this sign-in has ended or the token was revoked"},
            to=sid,
        )
        self._outbound.close(sid)

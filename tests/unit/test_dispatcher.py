"""The dispatcher without a server: caller → parse → authorise → run → error mapping → ack."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm.exc import StaleDataError

from server.db.engine import DatabaseUnavailable
from server.domain.actors import Capability, Principal, PrincipalKind
from server.domain.errors import CommandError, ErrorCode
from server.protocol.dispatcher import (
    BAD_NAME_EVENT,
    BINARY_EVENT,
    MALFORMED_EVENT,
    SIGNED_OUT_EVENT,
    Call,
    Dispatcher,
    EventSpec,
)
from server.service.changes import Change

KIOSK = Principal(PrincipalKind.DEVICE, 1, "kiosk", "kiosk-1")
ANNA = Principal(PrincipalKind.STAFF, 2, "therapist", "Anna")
TOKENS = {"kiosk": KIOSK, "anna": ANNA}


class RecordingOutbound:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Any, str]] = []
        self.closed: list[str] = []

    def queue_changed(self, change: Change) -> None:
        raise AssertionError("the dispatcher publishes nothing itself")

    def emit(self, event: str, data: Any, *, to: str) -> None:
        self.sent.append((event, data, to))

    def join(self, sid: str, room: str) -> None:
        self.sent.append(("join", room, sid))

    def close(self, sid: str) -> None:
        self.closed.append(sid)


def parse_number(payload: object) -> int:
    if not isinstance(payload, dict) or not isinstance(payload.get("n"), int):
        raise CommandError(ErrorCode.INVALID_PAYLOAD, "n must be an integer")
    return int(payload["n"])


def explode(exc: Exception) -> Any:
    def run(call: Call, cmd: Any) -> dict[str, Any]:
        raise exc

    return run


RAN: list[tuple[str, int]] = []


def double(call: Call, n: int) -> dict[str, Any]:
    RAN.append((call.principal.name, n))
    return {"twice": 2 * n}


TABLE = {
    "double": EventSpec(parse_number, (Capability.ORDER, Capability.THERAPIST), double),
    "kiosk_only": EventSpec(parse_number, (Capability.ORDER,), double),
    "device_only": EventSpec(parse_number, (), double, devices_only=True),
    "refuses": EventSpec(parse_number, (), explode(CommandError(ErrorCode.QUEUE_EMPTY, "nobody waits"))),
    "stale": EventSpec(parse_number, (), explode(StaleDataError("row moved"))),
    "db_down": EventSpec(parse_number, (), explode(DatabaseUnavailable("gone"))),
    "bug": EventSpec(parse_number, (), explode(ZeroDivisionError())),
}


def dispatcher(outbound: RecordingOutbound) -> Dispatcher:
    return Dispatcher(TABLE, lambda token: TOKENS.get(token or ""), outbound)


CASES: list[tuple[str, str | None, tuple[object, ...], dict[str, Any]]] = [
    ("double", "kiosk", ({"n": 2},), {"ok": True, "twice": 4}),
    ("double", "anna", ({"n": 3},), {"ok": True, "twice": 6}),
    ("kiosk_only", "anna", ({"n": 1},), {"code": "forbidden", "message": "a therapist may not kiosk only"}),
    ("device_only", "anna", ({"n": 1},), {"code": "forbidden", "message": "only an appliance may device only"}),
    ("device_only", "kiosk", ({"n": 1},), {"ok": True, "twice": 2}),
    ("double", "kiosk", ({"n": "x"},), {"code": "invalid_payload", "message": "n must be an integer"}),
    ("double", "kiosk", ({"n": 1}, {"n": 2}), {"code": "invalid_payload", "message": "send one payload object"}),
    ("double", "kiosk", (), {"code": "invalid_payload", "message": "n must be an integer"}),
    ("refuses", "kiosk", ({"n": 1},), {"code": "queue_empty", "message": "nobody waits"}),
    ("stale", "kiosk", ({"n": 1},), {"code": "conflict"}),
    ("db_down", "kiosk", ({"n": 1},), {"code": "busy"}),
    ("bug", "kiosk", ({"n": 1},), {"code": "internal_error"}),
    ("no_such_event", "kiosk", ({"n": 1},), {"code": "unknown_event", "message": "no event 'no_such_event'"}),
    ("x" * 64, None, (), {"code": "unknown_event", "message": f"no event {'x' * 40!r}"}),  # echo cut short
    ("x" * 65, "kiosk", (), {"code": "unknown_event"}),
    (MALFORMED_EVENT, "kiosk", (), {"code": "invalid_payload"}),
    (BINARY_EVENT, "kiosk", (), {"code": "invalid_payload", "message": "binary attachments are not accepted"}),
    (BAD_NAME_EVENT, "kiosk", (), {"code": "unknown_event"}),
    ("double", "kiosk", ({"n": 1, "x": [[[[[[[[[]]]]]]]]]},), {"code": "invalid_payload"}),  # too deep
    ("double", "kiosk", ({"n": 1, "x": [b"\x00" * 10]},), {"code": "invalid_payload"}),  # bytes
]


@pytest.mark.parametrize("event", [1, None, ["a"], {"a": 1}, 2.5, True])
def test_an_event_name_that_is_not_a_string_is_unknown(event: object) -> None:
    ack = dispatcher(RecordingOutbound()).dispatch(event, "sid-1", "kiosk", ())
    assert ack["error"]["code"] == "unknown_event"


def test_a_failure_is_logged_once_per_kind_and_connection_then_counted(caplog: pytest.LogCaptureFixture) -> None:
    d = dispatcher(RecordingOutbound())
    for _ in range(200):
        assert d.dispatch("bug", "sid-1", "kiosk", ({"n": 1},))["error"]["code"] == "internal_error"
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1
    assert [r.getMessage().split(" times")[0][-3:] for r in caplog.records if not r.exc_info] == [" 10", "100"]
    d.dispatch("bug", "sid-2", "kiosk", ({"n": 1},))  # another connection: its own first traceback
    assert len([r for r in caplog.records if r.exc_info]) == 2


@pytest.mark.parametrize(("event", "token", "args", "expected"), CASES)
def test_each_step_maps_to_its_acknowledgement(
    event: str, token: str | None, args: tuple[object, ...], expected: dict[str, Any]
) -> None:
    RAN.clear()
    outbound = RecordingOutbound()
    ack = dispatcher(outbound).dispatch(event, "sid-1", token, args)
    if expected.get("ok"):
        assert ack == expected
        assert RAN == [(TOKENS[token or ""].name, args[0]["n"])]  # type: ignore[index]
    else:
        assert ack["ok"] is False
        assert {k: ack["error"][k] for k in expected} == expected
        assert RAN == []
    assert outbound.closed == []


@pytest.mark.parametrize("token", [None, "revoked"])
def test_a_caller_that_no_longer_resolves_is_refused_told_and_closed(token: str | None) -> None:
    outbound = RecordingOutbound()
    RAN.clear()
    ack = dispatcher(outbound).dispatch("double", "sid-9", token, ({"n": 1},))
    assert ack["ok"] is False and ack["error"]["code"] == "forbidden"
    assert RAN == []
    assert [(e, to) for e, _, to in outbound.sent] == [(SIGNED_OUT_EVENT, "sid-9")]
    assert outbound.closed == ["sid-9"]


def test_the_caller_is_resolved_on_every_event() -> None:
    outbound = RecordingOutbound()
    live = dict(TOKENS)
    d = Dispatcher(TABLE, lambda token: live.get(token or ""), outbound)
    assert d.dispatch("double", "sid-1", "kiosk", ({"n": 1},))["ok"] is True
    del live["kiosk"]  # revoked between two events on the same connection
    assert d.dispatch("double", "sid-1", "kiosk", ({"n": 1},))["error"]["code"] == "forbidden"
    assert outbound.closed == ["sid-1"]


def test_an_unreachable_database_while_resolving_is_busy_not_a_sign_out() -> None:
    def down(token: str | None) -> Principal | None:
        raise DatabaseUnavailable("gone")

    outbound = RecordingOutbound()
    ack = Dispatcher(TABLE, down, outbound).dispatch("double", "sid-1", "kiosk", ({"n": 1},))
    assert ack["error"]["code"] == "busy" and outbound.closed == []


def test_after_hooks_see_the_ack_and_their_failure_does_not_lose_it() -> None:
    seen: list[dict[str, Any]] = []

    def after(call: Call, ack: dict[str, Any]) -> None:
        seen.append(ack)
        raise RuntimeError("hook broke")

    table = {"double": EventSpec(parse_number, (), double, after=after)}
    ack = Dispatcher(table, lambda t: KIOSK, RecordingOutbound()).dispatch("double", "s", "kiosk", ({"n": 5},))
    assert ack == {"ok": True, "twice": 10} and seen == [ack]


def test_the_real_event_table_names_a_parser_capabilities_and_use_case_for_every_event() -> None:
    from server.protocol.events import event_table

    class Nothing:
        """Stands for every service: the table is built, never run, here."""

        def __getattr__(self, name: str) -> Any:
            return Nothing()

        def __call__(self, *args: Any, **kwargs: Any) -> None:
            return None

    table = event_table(Nothing())  # type: ignore[arg-type]
    devices_only = {name for name, spec in table.items() if spec.devices_only}
    assert devices_only == {"appliance_heartbeat", "receipt_status", "print_jobs_pending", "device_activity"}
    for name, spec in table.items():
        assert callable(spec.parse) and callable(spec.run), name
        assert spec.needs, f"{name} names no capability"

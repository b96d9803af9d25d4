"""One log format for the server and the appliance (``common/logs.py``): JSON lines with ``ts`` in
ISO-8601 UTC with milliseconds and ``Z``, ``level`` in lower case, the thread, the logger, the
message, the ``extra=`` fields and the traceback; both entry points' ``configure`` give it."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

import appliance.logs
import server.logs
from common import logs

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    others = {name: logging.getLogger(name).level for name in (*logs.QUIET, "wire")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in others.items():
        logging.getLogger(name).setLevel(old)


def record(level: int = logging.WARNING, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("appliance.network", level, __file__, 1, "refused %s", ("cashier_lookup",), None)
    made.created = datetime(2026, 11, 29, 7, 21, 37, 212_345, tzinfo=UTC).timestamp()
    made.threadName = "net.socketio"
    made.__dict__.update(extra)
    return made


@pytest.mark.parametrize(
    ("created", "expected"),
    [
        (datetime(2026, 11, 29, 7, 21, 37, 212_345, tzinfo=UTC).timestamp(), "2026-11-29T07:21:37.212Z"),
        (0.0, "1970-01-01T00:00:00.000Z"),
        (1_796_000_000.9999, "2026-11-30T00:53:20.999Z"),  # truncated, never rounded into the next second
    ],
)
def test_timestamps_are_iso_utc_with_milliseconds_and_z(created: float, expected: str) -> None:
    assert logs.timestamp(created) == expected


def test_a_json_line() -> None:
    line = json.loads(logs.JsonFormatter().format(record(key="e1-7", latency_ms=41.2, payload={"code": "A-042"})))
    assert line == {
        "ts": "2026-11-29T07:21:37.212Z",
        "level": "warning",
        "logger": "appliance.network",
        "thread": "net.socketio",
        "msg": "refused cashier_lookup",
        "key": "e1-7",
        "latency_ms": 41.2,
        "payload": {"code": "A-042"},
    }
    assert list(line)[:5] == ["ts", "level", "logger", "thread", "msg"]


@pytest.mark.parametrize(
    ("level", "name"),
    [(logging.DEBUG, "debug"), (logging.INFO, "info"), (logging.ERROR, "error"), (logging.CRITICAL, "critical")],
)
def test_levels_are_lower_case(level: int, name: str) -> None:
    assert json.loads(logs.JsonFormatter().format(record(level)))["level"] == name


def test_an_extra_field_never_hides_a_fixed_one_and_odd_values_are_text() -> None:
    line = json.loads(logs.JsonFormatter().format(record(thread_obj=threading.Lock(), ts_local="x", _private=1)))
    assert line["ts"] == "2026-11-29T07:21:37.212Z" and line["ts_local"] == "x" and "_private" not in line
    assert line["thread_obj"].startswith("<unlocked _thread.lock")


def test_a_traceback_goes_in_exc() -> None:
    try:
        raise OSError(5, "Input/output error")
    except OSError:
        made = record(logging.ERROR)
        made.exc_info = sys.exc_info()
    line = json.loads(logs.JsonFormatter().format(made))
    assert line["exc"].startswith("Traceback") and "OSError: [Errno 5] Input/output error" in line["exc"]


def test_text_for_people_carries_the_same_fields() -> None:
    assert logs.TextFormatter().format(record()) == (
        "2026-11-29T07:21:37.212Z warning net.socketio appliance.network: refused cashier_lookup"
    )


def emit_one(logger_name: str) -> None:
    logging.getLogger(logger_name).info("hello %s", "spa", extra={"key": "k1"})


def test_server_and_appliance_write_the_same_line(capsys: pytest.CaptureFixture[str]) -> None:
    server.logs.configure("json", "INFO")
    emit_one("one.logger")
    from_server = json.loads(capsys.readouterr().out)
    stream = io.StringIO()
    appliance.logs.configure("INFO", stream)
    emit_one("one.logger")
    from_appliance = json.loads(stream.getvalue())
    assert TS.match(from_server["ts"]) and TS.match(from_appliance["ts"])
    for line in (from_server, from_appliance):
        del line["ts"]
    assert (
        from_server
        == from_appliance
        == {
            "level": "info",
            "logger": "one.logger",
            "thread": "MainThread",
            "msg": "hello spa",
            "key": "k1",
        }
    )


def test_configure_replaces_the_handlers_and_quiets_the_socketio_libraries() -> None:
    logging.basicConfig()  # what importing python-escpos does
    stream = io.StringIO()
    handler = logs.configure("json", "warning", stream=stream)
    root = logging.getLogger()
    assert root.handlers == [handler] and root.level == logging.WARNING
    assert all(logging.getLogger(name).level == logging.WARNING for name in logs.QUIET)
    logging.getLogger("x").info("not shown")
    logging.getLogger("x").warning("shown")
    assert [json.loads(line)["msg"] for line in stream.getvalue().splitlines()] == ["shown"]
    logs.configure("text", "nonsense", stream=stream)
    assert root.level == logging.INFO  # an unknown level name falls back to INFO
    with pytest.raises(ValueError, match="log format 'xml': must be one of json, text"):
        logs.configure("xml")

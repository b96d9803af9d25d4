"""Garbage from one client costs a bounded amount of log: a token-less socket sending 200 broken
Socket.IO packets made the server write about 557× its input as tracebacks."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import simple_websocket

from tests.support import Client, LiveServer, demo_tokens, sqlite_database, wait_until

MESSAGES = 200
LOG_BOUND = 8 * 1024  # bytes of log for all 200 messages: a handful of lines, never a traceback each

# Engine.io messages ("4…") carrying broken Socket.IO packets, and frames engine.io cannot read.
GARBAGE: list[str | bytes] = [
    "4garbage",
    '42["service_catalog"',
    "42[not json",
    "421" + "[" * 3000 + "]" * 3000,
    '451-["service_catalog",{"_placeholder":true,"num":0}]',
    "49",
    "44{}",
    '42[["unhashable"],{}]',
    "40{not json",
    b"\x04\x00\xff binary",
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(sqlite_database(tmp_path), tmp_path).start()
    yield live
    live.stop()


def log_size(server: LiveServer) -> int:
    return server.log_path.stat().st_size


def garbage_socket(url: str, count: int, garbage: list[str | bytes] | None = None) -> int:
    """One token-less WebSocket sending `count` garbage messages; the bytes it sent."""
    ws = simple_websocket.Client(url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket")
    sent = 0
    try:
        ws.receive(timeout=5)  # engine.io's open packet
        for i in range(count):
            message = (garbage or GARBAGE)[i % len(garbage or GARBAGE)]
            ws.send(message)
            sent += len(message)
        ws.send("3")  # a pong: an answer to it shows the server read everything before it
        ws.send("2probe")
        ws.receive(timeout=5)
    except (simple_websocket.ConnectionClosed, OSError):
        pass  # the server may close a socket that sends garbage; that is fine
    finally:
        try:
            ws.close()
        except simple_websocket.ConnectionClosed:
            pass
    return sent


def test_garbage_from_a_token_less_socket_costs_a_bounded_amount_of_log(server: LiveServer) -> None:
    before = log_size(server)
    sent = garbage_socket(server.url, MESSAGES)
    wait_until(lambda: server.healthz().status_code == 200, 10, what="/healthz")
    written = log_size(server) - before
    log = server.log_path.read_text(errors="replace")
    assert written < LOG_BOUND, f"{written} bytes of log for {sent} bytes of garbage:\n{log[-3000:]}"
    assert "Traceback" not in log


# Frames engine.io itself cannot decode: each used to end its socket with a logged traceback.
ENGINEIO_GARBAGE: list[str | bytes] = [
    "zzz",
    "",
    "4[" + "[" * 3000 + "]" * 3001,  # engine.io parses a message's JSON itself: RecursionError
    "2" + "[" * 3000,
    "7",
    "4x",
    "b!!notbase64",
    "0{}",
]
SOCKETS = 30


def test_frames_engineio_cannot_read_close_their_socket_without_a_traceback(server: LiveServer) -> None:
    before = log_size(server)
    for i in range(SOCKETS):
        garbage_socket(server.url, 1, [ENGINEIO_GARBAGE[i % len(ENGINEIO_GARBAGE)]])
    wait_until(lambda: server.healthz().status_code == 200, 10, what="/healthz")
    written = log_size(server) - before
    log = server.log_path.read_text(errors="replace")
    assert written < LOG_BOUND, f"{written} bytes of log for {SOCKETS} sockets:\n{log[-3000:]}"
    assert "Traceback" not in log


def test_garbage_from_a_signed_in_client_costs_a_bounded_amount_of_log(server: LiveServer) -> None:
    kiosk = Client(server.url, demo_tokens(server.database_url)["kiosk-1"]).connect()
    try:
        before = log_size(server)
        acks: list[object] = []
        done = threading.Event()

        def answered(*data: object) -> None:
            acks.append(data)
            if len(acks) == MESSAGES:
                done.set()

        for i in range(MESSAGES):
            ack_id = kiosk.sio._generate_ack_id("/", answered)
            bodies = ["[1,{}]", "[not json", json.dumps(["x" * 100]), "[" * 2000 + "]" * 2000, '["nope",{}]']
            kiosk.sio.eio.send(f"2{ack_id}{bodies[i % len(bodies)]}")
        assert done.wait(30), f"{len(acks)} of {MESSAGES} acknowledged"
        assert kiosk.call("service_catalog")["ok"] is True
        written = log_size(server) - before
        assert written < LOG_BOUND, f"{written} bytes of log"
        assert "Traceback" not in server.log_path.read_text(errors="replace")
    finally:
        kiosk.close()


def test_a_flood_of_refused_sockets_costs_a_bounded_amount_of_log(server: LiveServer) -> None:
    """Each refusal is counted; the journal gets the first of each kind and then every power of
    ten, not a line (or uvicorn's two) per socket."""
    from tests.security.sockets import engineio_socket, shut

    held = [engineio_socket(server, "127.0.6.1") for _ in range(8)]  # the address's pending cap
    try:
        assert all(held)
        before = log_size(server)
        refused = [engineio_socket(server, "127.0.6.1") for _ in range(150)]
        assert not any(refused)
        written = server.log_path.read_text(errors="replace")[-(log_size(server) - before) :]
        lines = [line for line in written.splitlines() if "refused" in line or "403" in line]
        assert 1 <= len(lines) <= 4, lines  # the 1st, 10th and 100th
        assert "(100 so far)" in written
    finally:
        for ws in held:
            shut(ws)
